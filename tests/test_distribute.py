"""distribute: files into every regional bucket (local store; S3 on the moto server, streamed for
alicloud and server-side for aws), a failed region and the resuming rerun, concurrent distributions
merged into one version document, EC2 CopyImage via moto, recorded alicloud images (container images
and charts: tests/test_distribute_registry.py)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from catalog_testing import CatalogEnv, make_env

PAYLOAD = bytes(range(256)) * 4096 + b"tail"  # 1 MiB and a bit: more than one read chunk


def _init(env: CatalogEnv, provider: str) -> None:
    result = env.cli("init", "--provider", provider, "--bucket-pattern", env.bucket_pattern)
    assert result.exit_code == 0, result.stderr


def _publish_file(env: CatalogEnv, tmp_path: Path, region: str) -> str:
    path = tmp_path / "app-bundle.tar.gz"
    path.write_bytes(PAYLOAD)
    result = env.cli("publish", "app-bundle", "1.0.0", "--type", "file", "--file", str(path), "--region", region)
    assert result.exit_code == 0, result.stderr
    return f"files/sha256/{hashlib.sha256(PAYLOAD).hexdigest()}/app-bundle.tar.gz"


@pytest.mark.parametrize(
    ("kind", "provider", "regions"),
    [
        ("local", "alicloud", ("cn-hangzhou", "cn-beijing", "cn-shanghai", "cn-shenzhen")),
        ("s3", "alicloud", ("cn-hangzhou", "cn-beijing", "cn-shanghai", "cn-shenzhen")),  # streamed copies
        ("s3", "aws", ("us-east-1", "us-west-2", "eu-west-1", "ap-southeast-1")),  # server-side copies
    ],
)
def test_failed_region_then_rerun_resumes(
    request: pytest.FixtureRequest, tmp_path: Path, kind: str, provider: str, regions: tuple[str, ...]
) -> None:
    if kind == "s3":
        request.getfixturevalue("aws_env")
    env = make_env(kind, tmp_path)
    _init(env, provider)
    source, *targets = regions
    missing = targets[-1]
    for region in (source, *targets[:-1]):
        env.create_bucket(region)
    key = _publish_file(env, tmp_path, source)

    region_args = [arg for region in targets for arg in ("--region", region)]
    first = env.cli("distribute", "app-bundle", "1.0.0", *region_args)
    assert first.exit_code == 1, first
    assert f"{missing}: failed:" in first.stdout
    assert "rerun the same command" in first.stderr
    assert "Traceback" not in first.stderr
    version = env.show("app-bundle", "1.0.0")
    assert version["distributions"][missing]["status"] == "failed"
    assert env.bucket(missing) in version["distributions"][missing]["error"]
    stamps = {}
    for region in targets[:-1]:
        assert version["distributions"][region]["status"] == "available"
        assert env.object_bytes(region, key) == PAYLOAD
        stamps[region] = env.object_stamp(region, key)

    refused = env.cli("release", "app-bundle", "1.0.0")
    assert refused.exit_code == 1
    assert f"not available in {missing} (failed" in refused.stderr

    env.create_bucket(missing)
    if kind == "s3":
        time.sleep(1.1)  # LastModified has 1 s resolution: a copy made now would show a new one
    second = env.cli("distribute", "app-bundle", "1.0.0", *region_args)
    assert second.exit_code == 0, second
    for region in targets[:-1]:
        assert f"{region}: available {key} (already there)" in second.stdout
        assert env.object_stamp(region, key) == stamps[region], f"{region} was copied again"
    assert env.object_bytes(missing, key) == PAYLOAD
    version = env.show("app-bundle", "1.0.0")
    assert {r: d["status"] for r, d in version["distributions"].items()} == dict.fromkeys(regions, "available")
    assert "error" not in version["distributions"][missing]
    assert env.cli("release", "app-bundle", "1.0.0").exit_code == 0


def test_concurrent_distributions_keep_each_others_regions(tmp_path: Path) -> None:
    env = make_env("local", tmp_path)
    _init(env, "alicloud")
    regions = ["cn-hangzhou", "cn-beijing", "cn-shanghai", "cn-shenzhen", "cn-qingdao", "cn-chengdu", "cn-guangzhou"]
    for region in regions:
        env.create_bucket(region)
    _publish_file(env, tmp_path, regions[0])
    command = [
        sys.executable,
        "-m",
        "preprocessor",
        "catalog",
        "--catalog",
        env.url,
        "distribute",
        "app-bundle",
        "1.0.0",
    ]
    processes = [
        subprocess.Popen(
            [*command, "--region", region, "--parallel", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for region in regions[1:]
    ]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    version = env.show("app-bundle", "1.0.0")
    assert sorted(version["distributions"]) == sorted(regions)
    assert all(d["status"] == "available" for d in version["distributions"].values())


def test_a_provider_without_an_image_copier_records_copies_made_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A provider whose ``image_copier`` is ``None`` (a third-party cloud deploypkg cannot copy
    on): each region's copy is given with ``--image REGION=ID`` and recorded, never changed."""
    import dataclasses

    import providers
    from preprocessor.catalog import operations
    from preprocessor.catalog.model import PackageType
    from preprocessor.catalog.writes import read_version
    from preprocessor.errors import CatalogError, InputError

    recorded = dataclasses.replace(
        providers.get_provider("alicloud"), image_copier=None, image_sharer=None, record_images_help="copy it by hand"
    )
    monkeypatch.setattr(providers, "_PROVIDERS", {**providers.all_providers(), "alicloud": recorded})
    env = make_env("local", tmp_path)
    store = env.store()
    operations.init(store, "alicloud", env.bucket_pattern)
    operations.publish(
        store,
        operations.PublishRequest(
            "web-image", "1.0.0", PackageType.ECS_IMAGE, {"cn-hangzhou": "m-bp1g7004ksh0oeuc1234"}
        ),
    )

    def distribute(images: dict[str, str], *regions: str) -> None:
        operations.distribute(store, "web-image", "1.0.0", regions, operations.DistributeOptions(images=images))

    with pytest.raises(InputError) as missing:
        distribute({}, "cn-beijing")
    assert "no image given for cn-beijing" in missing.value.message and missing.value.hint == "copy it by hand"
    with pytest.raises(InputError) as bad:
        distribute({"cn-beijing": "ami-0123456789abcdef0"}, "cn-beijing")
    assert "not a alicloud image ID" in bad.value.message
    distribute(
        {"cn-beijing": "m-2zeb3kq6nfv9wd8x1234", "cn-shanghai": "m-uf6e5t0rlw3pq2vn1234"}, "cn-beijing", "cn-shanghai"
    )
    found = read_version(store, "web-image", "1.0.0")
    assert found is not None
    dists = found.value.distributions
    assert {r: d.image_id for r, d in dists.items()} == {
        "cn-hangzhou": "m-bp1g7004ksh0oeuc1234",
        "cn-beijing": "m-2zeb3kq6nfv9wd8x1234",
        "cn-shanghai": "m-uf6e5t0rlw3pq2vn1234",
    }
    operations.release(store, "web-image", "1.0.0")
    with pytest.raises(CatalogError) as changed:
        distribute({"cn-beijing": "m-2zeaaaaaaaaaaaaaaaaa"}, "cn-beijing")
    assert "never change" in (changed.value.hint or "")


def _register_ami(region: str) -> str:
    import boto3

    ec2 = boto3.session.Session().client("ec2", region_name=region)
    image: str = ec2.register_image(
        Name="web-ami-source",
        Architecture="x86_64",
        RootDeviceName="/dev/xvda",
        VirtualizationType="hvm",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8}}],
    )["ImageId"]
    return image


def _own_images(region: str) -> list[dict[str, Any]]:
    import boto3

    ec2 = boto3.session.Session().client("ec2", region_name=region)
    images: list[dict[str, Any]] = ec2.describe_images(Owners=["self"])["Images"]
    return images


def test_aws_images_copied_with_ec2_copy_image(aws_env: Any, tmp_path: Path) -> None:
    aws_env.reset()
    env = make_env("s3", tmp_path)
    _init(env, "aws")
    source = _register_ami("us-east-1")
    assert (
        env.cli("publish", "web-ami", "1.0.0", "--type", "ecs-image", "--image", f"us-east-1={source}").exit_code == 0
    )
    regions = ("--region", "us-west-2", "--region", "eu-west-1", "--region", "ap-southeast-1")
    done = env.cli("distribute", "web-ami", "1.0.0", *regions, "--wait", "30")
    assert done.exit_code == 0, done
    dists = env.show("web-ami", "1.0.0")["distributions"]
    for region in ("us-west-2", "eu-west-1", "ap-southeast-1"):
        assert dists[region]["status"] == "available"
        copies = [i for i in _own_images(region) if i["ImageId"] == dists[region]["image_id"]]
        assert len(copies) == 1, f"{region}: the recorded AMI is not in EC2"
        assert copies[0]["State"] == "available"
        assert copies[0]["Name"] == "web-ami-1.0.0"
    # A rerun copies nothing again.
    before = {r: len(_own_images(r)) for r in ("us-west-2", "eu-west-1")}
    again = env.cli("distribute", "web-ami", "1.0.0", *regions)
    assert again.exit_code == 0
    assert again.stdout.count("(already there)") == 3
    assert {r: len(_own_images(r)) for r in before} == before
    # A source AMI that does not exist: the region fails with EC2's error, recorded.
    ghost = env.cli("publish", "web-ami", "1.0.1", "--type", "ecs-image", "--image", "us-east-1=ami-0123456789abcdef0")
    assert ghost.exit_code == 0, ghost.stderr
    failed = env.cli("distribute", "web-ami", "1.0.1", "--region", "us-west-2")
    assert failed.exit_code == 1
    assert env.show("web-ami", "1.0.1")["distributions"]["us-west-2"]["status"] == "failed"
