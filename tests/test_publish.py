"""publish: drafts, the content-addressed upload, replace-draft rules, validation, and 8 racing
publishers of one version (exactly one wins) — on the local store and on S3 (moto server)."""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from catalog_testing import CatalogEnv, make_env
from ecs_double import EcsDouble

DRAFT_ID = "m-bp1hq9xw0dnk2c7r5678"
HZ_IMAGE = "cn-hangzhou=" + DRAFT_ID
WEB_ID = "m-bp1g7004ksh0oeuc1234"
WEB_SOURCE = {"region": "cn-hangzhou", "image_id": WEB_ID}


@pytest.fixture(params=["local", "s3"])
def env(request: pytest.FixtureRequest, tmp_path: Path, ecs: EcsDouble) -> CatalogEnv:
    if request.param == "s3":
        request.getfixturevalue("aws_env")
    for image_id in (DRAFT_ID, WEB_ID):  # release shares them on ECS
        ecs.add_image("cn-hangzhou", image_id, image_id=image_id)
    made = make_env(request.param, tmp_path)
    result = made.cli("init", "--provider", "alicloud", "--bucket-pattern", made.bucket_pattern)
    assert result.exit_code == 0, result.stderr
    return made


def _version(env: CatalogEnv, name: str, version: str) -> dict[str, object]:
    shown = env.cli("show", name, version, "--format", "json")
    assert shown.exit_code == 0, shown.stderr
    data: dict[str, object] = json.loads(shown.stdout)
    return data


def test_file_upload_is_content_addressed_and_skipped_when_there(env: CatalogEnv, tmp_path: Path) -> None:
    env.create_bucket("cn-hangzhou")
    payload = tmp_path / "app-bundle.tar.gz"
    payload.write_bytes(b"bundle bytes " * 1000)
    digest = hashlib.sha256(payload.read_bytes()).hexdigest()
    first = env.cli(
        "publish", "app-bundle", "1.0.0", "--type", "file", "--file", str(payload), "--region", "cn-hangzhou"
    )
    assert first.exit_code == 0, first.stderr
    assert "uploaded" in first.stdout
    key = f"files/sha256/{digest}/app-bundle.tar.gz"
    assert env.object_bytes("cn-hangzhou", key) == payload.read_bytes()
    stamp = env.object_stamp("cn-hangzhou", key)
    version = _version(env, "app-bundle", "1.0.0")
    assert version["status"] == "draft"
    assert version["source"] == {
        "region": "cn-hangzhou",
        "bucket": env.bucket("cn-hangzhou"),
        "object_key": key,
        "sha256": digest,
        "size": len(payload.read_bytes()),
    }
    # The same bytes as another version: not uploaded again.
    again = env.cli(
        "publish", "app-bundle", "1.0.1", "--type", "file", "--file", str(payload), "--region", "cn-hangzhou"
    )
    assert again.exit_code == 0, again.stderr
    assert "already there, not uploaded again" in again.stdout
    assert env.object_stamp("cn-hangzhou", key) == stamp


def test_replace_draft_rules(env: CatalogEnv) -> None:
    base = ("publish", "web-image", "1.1.0", "--type", "ecs-image")
    assert env.cli(*base, "--image", HZ_IMAGE).exit_code == 0
    refused = env.cli(*base, "--image", "cn-hangzhou=" + WEB_ID)
    assert refused.exit_code == 1
    assert "already exists as a draft" in refused.stderr and "--replace-draft" in refused.stderr
    replaced = env.cli(*base, "--image", "cn-hangzhou=" + WEB_ID, "--replace-draft")
    assert replaced.exit_code == 0, replaced.stderr
    assert "replaced draft" in replaced.stdout
    assert _version(env, "web-image", "1.1.0")["source"] == {
        "region": "cn-hangzhou",
        "image_id": "m-bp1g7004ksh0oeuc1234",
    }
    assert env.cli("release", "web-image", "1.1.0").exit_code == 0
    never = env.cli(*base, "--image", HZ_IMAGE, "--replace-draft")
    assert never.exit_code == 1
    assert "already published; a published version is never replaced" in never.stderr
    assert _version(env, "web-image", "1.1.0")["source"] == {
        "region": "cn-hangzhou",
        "image_id": "m-bp1g7004ksh0oeuc1234",
    }


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ("bad..name", "1.0.0", "--type", "ecs-image", "--image", HZ_IMAGE),
            "invalid package",
        ),
        (("web", "1/0", "--type", "ecs-image", "--image", HZ_IMAGE), "invalid version"),
        (
            ("web", "1.0", "--type", "ecs-image", "--image", "cn-hangzhou=ami-0123456789abcdef0"),
            "not a alicloud image ID",
        ),
        (
            ("web", "1.0", "--type", "ecs-image", "--image", "eu-north-1=" + DRAFT_ID),
            "not an alicloud region",
        ),
        (("web", "1.0", "--type", "ecs-image", "--image", "cn-hangzhou"), "is not REGION=ID"),
        (("web", "1.0", "--type", "ecs-image"), "needs its image"),
        (("web", "1.0", "--image", HZ_IMAGE), "--type"),
        (("web", "1.0", "--type", "file", "--file", "/nonexistent/x.tgz", "--region", "cn-hangzhou"), "does not exist"),
        (("web", "1.0", "--type", "container-image", "--image-ref", "not a ref"), "not a valid reference"),
        (("web", "1.0", "--type", "container-image", "--image-ref", "docker.io/library/nginx:1.25"), "--region"),
        (("web", "1.0", "--type", "helm-chart", "--chart", "oci://x/../y"), "not a valid reference"),
        (("web", "1.0", "--type", "helm-chart", "--image", HZ_IMAGE), "--image/--from-packer does not apply"),
    ],
)
def test_bad_input_is_exit_2_without_traceback(tmp_path: Path, args: tuple[str, ...], words: str) -> None:
    env = make_env("local", tmp_path)  # validation happens before the store is touched: one store suffices
    assert env.cli("init", "--provider", "alicloud", "--bucket-pattern", env.bucket_pattern).exit_code == 0
    result = env.cli("publish", *args)
    assert result.exit_code == 2, result
    assert words in result.stderr
    assert "Traceback" not in result.stderr


def test_package_type_is_fixed(env: CatalogEnv) -> None:
    assert env.cli("publish", "web", "1.0", "--type", "ecs-image", "--image", HZ_IMAGE).exit_code == 0
    other = env.cli(
        "publish", "web", "2.0", "--type", "container-image",
        "--image-ref", "registry.cn-hangzhou.aliyuncs.com/demo/web:2.0",
    )  # fmt: skip
    assert other.exit_code == 2
    assert "holds ecs-image versions" in other.stderr


def test_eight_concurrent_publishers_exactly_one_wins(env: CatalogEnv) -> None:
    images = [f"m-bp1race{n:02d}0000000000{n:02d}" for n in range(8)]

    def publish(image: str) -> tuple[int, str, str]:
        result = env.cli("publish", "raced", "1.0.0", "--type", "ecs-image", "--image", f"cn-hangzhou={image}")
        return result.exit_code, result.stderr, image

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(publish, images))
    winners = [image for code, _, image in results if code == 0]
    losers = [(code, err) for code, err, _ in results if code != 0]
    assert len(winners) == 1, results
    assert len(losers) == 7
    for code, err in losers:
        assert code == 1
        assert "Traceback" not in err
        assert "already exists" in err or "written by another publisher first" in err
    assert _version(env, "raced", "1.0.0")["source"] == {"region": "cn-hangzhou", "image_id": winners[0]}
