"""release, revoke, promote and service: the state rules, the promotion order, channel history,
and the If-Match merge that keeps concurrent writers' changes (library calls on the local store;
the CLI path is covered in test_catalog_cli.py)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from preprocessor.catalog import operations
from preprocessor.catalog.local import LocalStore
from preprocessor.catalog.model import (
    Distribution,
    DistributionStatus,
    PackageType,
    PackageVersion,
    VersionStatus,
    Visibility,
)
from preprocessor.catalog.store import Store
from preprocessor.catalog.writes import read_channel, require_version, update_version
from preprocessor.errors import CatalogError, ConflictError, InputError, PolicyError

HZ = "m-bp1g7004ksh0oeuc1234"
BJ = "m-2zeb3kq6nfv9wd8x1234"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    local = LocalStore(tmp_path / "catalog")
    operations.init(local, "alicloud", "demo-{region}")
    return local


def _publish(store: Store, version: str, images: dict[str, str] | None = None) -> None:
    request = operations.PublishRequest("web-image", version, PackageType.ECS_IMAGE, images or {"cn-hangzhou": HZ})
    operations.publish(store, request)


def _mark(store: Store, version: str, region: str, status: DistributionStatus) -> None:
    def change(document: PackageVersion) -> None:
        document.distributions[region] = Distribution(region, status, image_id=BJ)

    update_version(store, "web-image", version, change)


def test_init_is_refused_twice_and_checks_the_pattern(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ConflictError, match="already holds a catalog"):
        operations.init(store, "alicloud", "other-{region}")
    other = LocalStore(tmp_path / "other")
    for pattern in ("no-region", "{region}-{region}", "UPPER-{region}", "a-{zone}"):
        with pytest.raises(InputError):
            operations.init(other, "alicloud", pattern)
    with pytest.raises(InputError, match="twice"):
        operations.init(other, "aws", "b-{region}", ["dev", "dev"])


def test_release_requires_every_requested_region_available(store: Store) -> None:
    _publish(store, "1.0.0")
    _mark(store, "1.0.0", "cn-beijing", DistributionStatus.DELIVERING)
    with pytest.raises(PolicyError, match=r"not available in cn-beijing \(delivering\)") as caught:
        operations.release(store, "web-image", "1.0.0")
    assert caught.value.rule == "DPK301"
    with pytest.raises(PolicyError, match=r"cn-shanghai \(not distributed\)"):
        operations.release(store, "web-image", "1.0.0", ["cn-hangzhou", "cn-shanghai"])
    assert require_version(store, "web-image", "1.0.0").value.status is VersionStatus.DRAFT
    released = operations.release(store, "web-image", "1.0.0", ["cn-hangzhou"])
    assert released.status is VersionStatus.PUBLISHED and released.published_at
    with pytest.raises(CatalogError, match="not a draft"):
        operations.release(store, "web-image", "1.0.0")


def test_revoke(store: Store) -> None:
    _publish(store, "1.0.0")
    operations.release(store, "web-image", "1.0.0")
    with pytest.raises(InputError, match="reason"):
        operations.revoke(store, "web-image", "1.0.0", "  ")
    revoked = operations.revoke(store, "web-image", "1.0.0", "CVE-2026-0001 in openssl")
    assert revoked.status is VersionStatus.REVOKED
    assert revoked.revoked_reason == "CVE-2026-0001 in openssl" and revoked.revoked_at
    with pytest.raises(CatalogError, match="already revoked"):
        operations.revoke(store, "web-image", "1.0.0", "again")
    with pytest.raises(CatalogError, match="not a draft"):
        operations.release(store, "web-image", "1.0.0")
    with pytest.raises(PolicyError, match="only a published version is promoted"):
        operations.promote(store, "web-image", "1.0.0", "dev")
    with pytest.raises(CatalogError, match="revoked"):
        operations.distribute(store, "web-image", "1.0.0", ["cn-beijing"])


def test_promotion_order_and_history(store: Store) -> None:
    _publish(store, "1.0.0")
    with pytest.raises(PolicyError, match="only a published version is promoted") as caught:
        operations.promote(store, "web-image", "1.0.0", "dev")
    assert "release it first" in (caught.value.hint or "")
    operations.release(store, "web-image", "1.0.0")
    with pytest.raises(PolicyError, match="never on 'dev'"):
        operations.promote(store, "web-image", "1.0.0", "test")
    with pytest.raises(InputError, match="promotion order"):
        operations.promote(store, "web-image", "1.0.0", "beta")
    for channel in ("dev", "test", "prod"):
        assert operations.promote(store, "web-image", "1.0.0", channel).version == "1.0.0"
    _publish(store, "1.1.0")
    operations.release(store, "web-image", "1.1.0")
    operations.promote(store, "web-image", "1.1.0", "dev")
    with pytest.raises(PolicyError, match="never on 'test'"):
        operations.promote(store, "web-image", "1.1.0", "prod")
    # Rolling prod back to a version that was on test before is allowed: it passed test.
    operations.promote(store, "web-image", "1.0.0", "prod")
    dev = read_channel(store, "web-image", "dev")
    assert dev is not None
    assert dev.value.version == "1.1.0"
    assert [e.version for e in dev.value.history] == ["1.0.0", "1.1.0"]


def test_custom_promotion_order(tmp_path: Path) -> None:
    local = LocalStore(tmp_path / "c")
    operations.init(local, "alicloud", "demo-{region}", ["sandbox", "trusted"])
    operations.publish(local, operations.PublishRequest("w", "1", PackageType.ECS_IMAGE, {"cn-hangzhou": HZ}))
    operations.release(local, "w", "1")
    with pytest.raises(PolicyError, match="never on 'sandbox'"):
        operations.promote(local, "w", "1", "trusted")
    operations.promote(local, "w", "1", "sandbox")
    assert operations.promote(local, "w", "1", "trusted").name == "trusted"


def test_service_create_and_update(store: Store) -> None:
    _publish(store, "1.0.0")
    with pytest.raises(InputError, match="--visibility"):
        operations.service(store, "demo-service", None)
    with pytest.raises(CatalogError, match="does not exist"):
        operations.service(store, "demo-service", Visibility.PUBLIC, packages=["nope"])
    created = operations.service(store, "demo-service", Visibility.PRIVATE, ["1234567890123456"], ["web-image"])
    assert created.whitelist == ("1234567890123456",) and created.packages == ("web-image",)
    updated = operations.service(store, "demo-service", Visibility.PUBLIC, owner="1234567890123456")
    assert updated.visibility is Visibility.PUBLIC
    assert updated.whitelist == ("1234567890123456",) and updated.packages == ("web-image",)
    assert updated.owner == "1234567890123456"
    with pytest.raises(InputError, match="invalid account"):
        operations.service(store, "demo-service", None, allow=["../x"])


def test_concurrent_updates_merge_instead_of_losing(store: Store) -> None:
    """Many writers change different regions of one version at once: every change survives."""
    _publish(store, "1.0.0")
    regions = ["cn-beijing", "cn-shanghai", "cn-shenzhen", "cn-qingdao", "cn-chengdu", "cn-guangzhou"]
    start = threading.Barrier(len(regions))

    def write(region: str) -> None:
        start.wait()
        _mark(store, "1.0.0", region, DistributionStatus.AVAILABLE)

    threads = [threading.Thread(target=write, args=(r,)) for r in regions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    recorded = require_version(store, "web-image", "1.0.0").value.distributions
    assert sorted(recorded) == sorted(["cn-hangzhou", *regions])


def test_a_whitelist_is_edited_one_account_at_a_time_and_can_be_emptied(tmp_path: Path) -> None:
    from catalog_testing import make_env

    env = make_env("local", tmp_path)
    assert env.cli("init", "--provider", "alicloud", "--bucket-pattern", env.bucket_pattern).exit_code == 0
    base = ("service", "shop")
    assert env.cli(*base, "--visibility", "private", "--allow", "1111", "--allow", "2222").exit_code == 0
    added = env.cli(*base, "--allow-add", "3333", "--allow-remove", "1111")
    assert added.exit_code == 0 and "whitelist 2222, 3333" in added.stdout
    both = env.cli(*base, "--allow-add", "4444", "--allow-remove", "4444")
    assert both.exit_code == 2 and "both name 4444" in both.stderr
    emptied = env.cli(*base, "--allow", "")
    assert emptied.exit_code == 0 and "whitelist" not in emptied.stdout.split(";")[0]
    assert env.cli(*base, "--allow", "not an account").exit_code == 2
