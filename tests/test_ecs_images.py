"""ECS images on alicloud (issue 11): ``distribute`` copies with CopyImage and waits with
DescribeImages; permissions follow the catalog through ModifyImageSharePermission; ``audit``
reports and fixes drift. Every call goes through Alibaba's official SDK to the protocol double
in ``ecs_double.py``, which checks each request's ACS3-HMAC-SHA256 signature; its docstring says
what that proves and what it does not."""

from __future__ import annotations

import json
from pathlib import Path

from catalog_testing import CatalogEnv, make_env
from ecs_double import ACCOUNT, EcsDouble
from helpers import run_cli

SOURCE = "cn-hangzhou"
REGIONS = ("cn-beijing", "cn-shanghai")
CUSTOMER = "1111222233334444"
OTHER = "5555666677778888"
FAST = ("--poll", "0.05", "--wait", "30")


def _catalog(tmp_path: Path, ecs: EcsDouble, package: str = "web-image") -> tuple[CatalogEnv, str]:
    env = make_env("local", tmp_path)
    assert env.cli("init", "--provider", "alicloud", "--bucket-pattern", env.bucket_pattern).exit_code == 0
    source = ecs.add_image(SOURCE, f"{package}-source")
    published = env.cli(
        "publish", package, "1.0.0", "--type", "ecs-image", "--image", f"{SOURCE}={source}", "--owner", ACCOUNT
    )
    assert published.exit_code == 0, published.stderr
    return env, source


def _distribute(env: CatalogEnv, *regions: str, package: str = "web-image") -> tuple[int, str, str]:
    args = [arg for region in regions for arg in ("--region", region)]
    result = env.cli("distribute", package, "1.0.0", *args, *FAST)
    return result.exit_code, result.stdout, result.stderr


def _copies(env: CatalogEnv, package: str = "web-image") -> dict[str, str]:
    shown = env.show(package, "1.0.0")
    return {r: d["image_id"] for r, d in shown["distributions"].items() if r != SOURCE}


def test_distribute_copies_tags_waits_and_records_each_region(tmp_path: Path, ecs: EcsDouble) -> None:
    ecs.step = 25
    env, source = _catalog(tmp_path, ecs)
    code, _, err = _distribute(env, *REGIONS)
    assert code == 0, err
    copies = _copies(env)
    assert sorted(copies) == sorted(REGIONS)
    for region, image_id in copies.items():
        image = ecs.image(image_id)
        assert (image.region, image.status, image.owner) == (region, "Available", ACCOUNT)
        assert image.tags == {"deploypkg:package": "web-image", "deploypkg:version": "1.0.0"}
        assert image.name == "web-image-1.0.0"
        # the piped reporter shows the copy's state and progress from DescribeImages
        assert f"{region}: Creating 25%" in err and f"{region}: Creating 75%" in err
        assert f"{region}: Available 100%" in err
    copy_calls = ecs.actions("CopyImage")
    assert sorted(c["DestinationRegionId"] for c in copy_calls) == sorted(REGIONS)
    assert all(c["RegionId"] == SOURCE and c["ImageId"] == source for c in copy_calls)
    assert ecs.rejected == [], "every request the SDK sent had a valid signature"

    again = env.cli("distribute", "web-image", "1.0.0", "--region", REGIONS[0], *FAST)
    assert again.exit_code == 0, again.stderr
    assert len(ecs.actions("CopyImage")) == 2, "a rerun copies nothing again"


def test_a_copy_started_before_a_crash_is_found_by_its_tags(tmp_path: Path, ecs: EcsDouble) -> None:
    from providers.alicloud_images import ECSImageCopier

    env, source = _catalog(tmp_path, ecs)
    started = ECSImageCopier().copy_image("web-image", "1.0.0", SOURCE, source, REGIONS[0])  # never recorded
    code, _, err = _distribute(env, REGIONS[0])
    assert code == 0, err
    assert _copies(env) == {REGIONS[0]: started}
    assert len(ecs.actions("CopyImage")) == 1, "the copy in progress was found again, not started twice"


def test_a_copy_still_creating_at_the_deadline_is_resumed_by_a_rerun(tmp_path: Path, ecs: EcsDouble) -> None:
    ecs.step = 1
    env, _ = _catalog(tmp_path, ecs)
    result = env.cli("distribute", "web-image", "1.0.0", "--region", REGIONS[0], "--poll", "0.05", "--wait", "0.2")
    assert result.exit_code == 1
    assert "still pending; rerun distribute" in result.stdout + result.stderr
    pending = env.show("web-image", "1.0.0")["distributions"][REGIONS[0]]
    assert pending["status"] == "delivering"
    ecs.step = 50
    code, _, err = _distribute(env, REGIONS[0])
    assert code == 0, err
    assert _copies(env) == {REGIONS[0]: pending["image_id"]}
    assert len(ecs.actions("CopyImage")) == 1


def test_a_copy_that_fails_in_one_region_is_failed_and_a_rerun_starts_a_new_one(tmp_path: Path, ecs: EcsDouble) -> None:
    ecs.fail_copies_to = {"cn-shanghai"}
    env, _ = _catalog(tmp_path, ecs)
    code, out, err = _distribute(env, *REGIONS)
    assert code == 1
    assert "ECS CopyImage to cn-shanghai ended failed: the copy is CreateFailed" in out + err
    shown = env.show("web-image", "1.0.0")["distributions"]
    assert shown["cn-beijing"]["status"] == "available"
    assert shown["cn-shanghai"]["status"] == "failed" and "CreateFailed" in shown["cn-shanghai"]["error"]

    ecs.fail_copies_to = set()
    code, _, err = _distribute(env, *REGIONS)
    assert code == 0, err
    tokens = [c["ClientToken"] for c in ecs.actions("CopyImage") if c["DestinationRegionId"] == "cn-shanghai"]
    assert len(tokens) == 2 and tokens[0] != tokens[1], "a new attempt, not the failed copy returned by its token"
    assert ecs.image(_copies(env)["cn-shanghai"]).status == "Available"


def test_throttling_is_retried_a_bounded_number_of_times(tmp_path: Path, ecs: EcsDouble) -> None:
    env, _ = _catalog(tmp_path, ecs)
    ecs.throttle = {"CopyImage": 2, "DescribeImages": 2}
    code, _, err = _distribute(env, REGIONS[0])
    assert code == 0, err
    assert len(ecs.actions("CopyImage")) == 3, "two throttled attempts, then the copy"

    ecs.throttle = {"CopyImage": 100}
    code, out, err = _distribute(env, REGIONS[1])
    assert code == 1
    assert "ECS CopyImage in cn-hangzhou: Throttling.User" in out + err
    assert len(ecs.actions("CopyImage")) == 3 + 5, "at most 5 attempts per call"


def test_a_wrong_secret_and_a_replayed_or_altered_request_are_refused(tmp_path: Path, ecs: EcsDouble) -> None:
    env, _ = _catalog(tmp_path, ecs)
    wrong = run_cli(
        "catalog", "--catalog", env.url, "distribute", "web-image", "1.0.0", "--region", REGIONS[0], *FAST,
        env={"ALIBABA_CLOUD_ACCESS_KEY_SECRET": "not-the-secret"},
    )  # fmt: skip
    assert wrong.exit_code == 1
    assert "DescribeImages in cn-beijing: SignatureDoesNotMatch" in wrong.stdout + wrong.stderr
    assert "Specified signature is not matched with our calculation" in wrong.stderr
    # one refusal per call (the copy lookup, then the permission read of the source), none retried
    assert ecs.rejected == ["SignatureDoesNotMatch"] * 2

    recorded: list[tuple[str, str, dict[str, str], bytes]] = []
    handle = ecs.handle

    def recording(method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, object]]:
        recorded.append((method, target, dict(headers), body))
        return handle(method, target, headers, body)

    ecs.handle = recording  # type: ignore[method-assign]
    code, _, err = _distribute(env, REGIONS[0])
    assert code == 0, err
    method, target, headers, body = recorded[0]
    ecs.rejected.clear()
    status, document = handle(method, target, headers, body)
    assert (status, document["Code"]) == (400, "SignatureNonceUsed")
    altered = target.replace("RegionId=cn-beijing", "RegionId=cn-qingdao")
    assert altered != target
    status, document = handle(method, altered, headers, body)
    assert (status, document["Code"]) == (400, "SignatureDoesNotMatch"), "one changed parameter breaks the signature"


def _shares(ecs: EcsDouble, image_id: str) -> tuple[bool, set[str]]:
    image = ecs.image(image_id)
    return image.public, set(image.shared)


def _distributed(tmp_path: Path, ecs: EcsDouble) -> tuple[CatalogEnv, dict[str, str]]:
    env, _ = _catalog(tmp_path, ecs)
    code, _, err = _distribute(env, *REGIONS)
    assert code == 0, err
    return env, _copies(env)


def test_share_permissions_follow_services_release_and_revoke(tmp_path: Path, ecs: EcsDouble) -> None:
    env, copies = _distributed(tmp_path, ecs)
    for image_id in copies.values():
        assert _shares(ecs, image_id) == (False, set()), "a draft is shared with nobody but its owner"
    assert env.cli("release", "web-image", "1.0.0").exit_code == 0
    service = env.cli("service", "shop", "--visibility", "private", "--allow", CUSTOMER, "--package", "web-image")
    assert service.exit_code == 0, service.stderr
    for region, image_id in copies.items():
        assert _shares(ecs, image_id) == (False, {CUSTOMER}), region
        assert f"permissions web-image 1.0.0 {region} {image_id}: +{CUSTOMER}" in service.stdout
    assert env.cli("service", "shop", "--allow-add", OTHER).exit_code == 0
    for image_id in copies.values():
        assert _shares(ecs, image_id) == (False, {CUSTOMER, OTHER})
    assert env.cli("service", "shop", "--allow-remove", CUSTOMER).exit_code == 0
    for image_id in copies.values():
        assert _shares(ecs, image_id) == (False, {OTHER})
    # a public service with no whitelist: a community image, launchable by every account
    assert env.cli("service", "open", "--visibility", "public", "--package", "web-image").exit_code == 0
    for image_id in copies.values():
        assert _shares(ecs, image_id) == (True, {OTHER})
    revoked = env.cli("revoke", "web-image", "1.0.0", "--reason", "CVE-2026-0001")
    assert revoked.exit_code == 0, revoked.stderr
    for image_id in copies.values():
        assert _shares(ecs, image_id) == (False, set()), "a revoked image can be launched by nobody"
    assert ecs.rejected == []


def test_a_whitelist_of_25_is_shared_10_accounts_per_call(tmp_path: Path, ecs: EcsDouble) -> None:
    env, copies = _distributed(tmp_path, ecs)
    assert env.cli("release", "web-image", "1.0.0").exit_code == 0
    accounts = [f"{2000000000000000 + n}" for n in range(25)]
    allow = [arg for account in accounts for arg in ("--allow", account)]
    service = env.cli("service", "big", "--visibility", "private", *allow, "--package", "web-image")
    assert service.exit_code == 0, service.stderr
    for image_id in copies.values():
        assert _shares(ecs, image_id) == (False, set(accounts))
    sizes = [
        sum(1 for key in call if key.startswith("AddAccount.")) for call in ecs.actions("ModifyImageSharePermission")
    ]
    # three calls in each of the three regions (the source's image too): 10, 10 and 5 accounts
    assert sorted(sizes) == [5] * 3 + [10] * 6


def test_drift_behind_the_catalogs_back_is_audited_and_fixed(tmp_path: Path, ecs: EcsDouble) -> None:
    env, copies = _distributed(tmp_path, ecs)
    assert env.cli("release", "web-image", "1.0.0").exit_code == 0
    assert (
        env.cli("service", "shop", "--visibility", "private", "--allow", CUSTOMER, "--package", "web-image").exit_code
        == 0
    )
    clean = env.cli("audit")
    assert clean.exit_code == 0 and "every image copy's permissions are what the catalog says" in clean.stdout
    beijing, shanghai = copies["cn-beijing"], copies["cn-shanghai"]
    ecs.image(beijing).shared.pop(CUSTOMER)  # changed in the console, behind the catalog's back
    ecs.image(shanghai).shared[OTHER] = "2026-12-01T00:00:00Z"
    ecs.image(shanghai).public = True
    drift = env.cli("audit", "--format", "json")
    assert drift.exit_code == 1
    found = {d["region"]: d for d in json.loads(drift.stdout)["drift"]}
    assert found["cn-beijing"]["actual"] == {"public": False, "accounts": []}
    assert found["cn-beijing"]["wanted"] == {"public": False, "accounts": [CUSTOMER]}
    assert found["cn-shanghai"]["actual"] == {"public": True, "accounts": sorted([CUSTOMER, OTHER])}
    text = env.cli("audit")
    assert f"web-image 1.0.0 cn-shanghai {shanghai}: -{OTHER} -public" in text.stdout
    fixed = env.cli("audit", "--fix")
    assert fixed.exit_code == 0, fixed.stderr
    for image_id in copies.values():
        assert _shares(ecs, image_id) == (False, {CUSTOMER})
    assert env.cli("audit").exit_code == 0


def test_a_permission_change_refused_half_way_shows_in_audit_and_a_rerun_fixes_it(
    tmp_path: Path, ecs: EcsDouble
) -> None:
    env, copies = _distributed(tmp_path, ecs)
    assert env.cli("release", "web-image", "1.0.0").exit_code == 0
    ecs.refuse_modify_after, ecs.refuse_modify_times = 1, 1  # the second call of the batch is refused
    accounts = [f"{3000000000000000 + n}" for n in range(25)]
    allow = [arg for account in accounts for arg in ("--allow", account)]
    service = env.cli("service", "big", "--visibility", "private", *allow, "--package", "web-image")
    assert service.exit_code == 1
    assert "the catalog changed, but setting image permissions failed" in service.stderr
    assert "Forbidden.RAM" in service.stderr and "catalog audit --fix" in service.stderr
    audit = env.cli("audit", "--format", "json")
    assert audit.exit_code == 1
    missing = {
        d["region"]: set(d["wanted"]["accounts"]) - set(d["actual"]["accounts"])
        for d in json.loads(audit.stdout)["drift"]
    }
    # the other two regions' images were shared in full; in the one refused, its first call's
    # 10 accounts were shared, and the refused call's 10 and the 5 after it are missing
    assert sorted(len(m) for m in missing.values()) == [15]
    fixed = env.cli("audit", "--fix")
    assert fixed.exit_code == 0, fixed.stderr
    for image_id in copies.values():
        assert _shares(ecs, image_id) == (False, set(accounts))


def test_a_marketplace_image_is_recorded_never_copied_nor_shared(tmp_path: Path, ecs: EcsDouble) -> None:
    env = make_env("local", tmp_path)
    assert env.cli("init", "--provider", "alicloud", "--bucket-pattern", env.bucket_pattern).exit_code == 0
    sold = {"cn-hangzhou": "m-bp1market0000000001", "cn-beijing": "m-2zemarket0000000001"}
    images = [arg for region, image_id in sold.items() for arg in ("--image", f"{region}={image_id}")]
    published = env.cli("publish", "db-image", "5.7", "--type", "ecs-image", "--marketplace", "cmjj00abcd", *images)
    assert published.exit_code == 0, published.stderr
    assert "(marketplace cmjj00abcd)" in published.stdout
    here = env.cli("distribute", "db-image", "5.7", "--region", "cn-beijing", *FAST)
    assert here.exit_code == 0, here.stderr
    elsewhere = env.cli("distribute", "db-image", "5.7", "--region", "cn-shanghai", *FAST)
    assert elsewhere.exit_code == 2
    assert "marketplace image cmjj00abcd, recorded for cn-beijing, cn-hangzhou" in elsewhere.stderr
    assert "cannot be distributed to cn-shanghai" in elsewhere.stderr
    assert env.cli("release", "db-image", "5.7").exit_code == 0
    service = env.cli("service", "shop", "--visibility", "private", "--allow", CUSTOMER, "--package", "db-image")
    assert service.exit_code == 0, service.stderr
    assert env.cli("audit").exit_code == 0
    assert ecs.calls == [], "nothing is copied, and buyers' access is the marketplace's business"
    assert env.show("db-image", "5.7")["source"]["marketplace"] == "cmjj00abcd"
    bad = env.cli("publish", "db-image", "5.8", "--type", "ecs-image", "--marketplace", "cm jj", *images)
    assert bad.exit_code == 2 and "is not a commodity code" in bad.stderr


def test_without_credentials_the_error_says_how_to_give_them(tmp_path: Path, ecs: EcsDouble) -> None:
    env, _ = _catalog(tmp_path, ecs)
    result = run_cli(
        "catalog", "--catalog", env.url, "distribute", "web-image", "1.0.0", "--region", "cn-beijing", *FAST,
        env={"ALIBABA_CLOUD_ACCESS_KEY_ID": "", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "", "HOME": str(tmp_path)},
    )  # fmt: skip
    assert result.exit_code == 1
    assert "no Alibaba Cloud credentials" in result.stderr and "ALIBABA_CLOUD_ACCESS_KEY_ID" in result.stderr
    assert "Traceback" not in result.stderr
