"""AMI launch permissions follow the catalog (issue 11, §2 on AWS), on the moto server: the
audience render's access check uses (services' visibility and whitelists, the owner) becomes
each regional copy's launch permissions on service, distribute, release and revoke; a change
made behind the catalog's back is drift that ``audit`` reports (exit 1) and ``audit --fix``
repairs. What moto proves: the EC2 calls and their parameters as moto implements the API; not
real IAM, organisations or snapshot permissions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from catalog_testing import CatalogEnv, make_env

OWNER = "123456789012"  # moto's account: the AMIs' owner
CUSTOMER = "111122223333"
OTHER = "444455556666"
REGIONS = ("us-west-2", "eu-west-1")


def _ec2(region: str) -> Any:
    import boto3

    return boto3.session.Session().client("ec2", region_name=region)


def _launch(region: str, image_id: str) -> tuple[bool, set[str]]:
    found = _ec2(region).describe_image_attribute(ImageId=image_id, Attribute="launchPermission")
    permissions = found.get("LaunchPermissions", [])
    return any(p.get("Group") == "all" for p in permissions), {p["UserId"] for p in permissions if "UserId" in p}


def _published_ami(tmp_path: Path) -> tuple[CatalogEnv, dict[str, str]]:
    env = make_env("s3", tmp_path)
    assert env.cli("init", "--provider", "aws", "--bucket-pattern", env.bucket_pattern).exit_code == 0
    source = _ec2("us-east-1").register_image(
        Name="web-ami-source",
        Architecture="x86_64",
        RootDeviceName="/dev/xvda",
        VirtualizationType="hvm",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8}}],
    )["ImageId"]
    published = env.cli(
        "publish", "web-ami", "1.0.0", "--type", "ecs-image", "--image", f"us-east-1={source}", "--owner", OWNER
    )
    assert published.exit_code == 0, published.stderr
    regions = [arg for region in REGIONS for arg in ("--region", region)]
    distributed = env.cli("distribute", "web-ami", "1.0.0", *regions, "--wait", "30")
    assert distributed.exit_code == 0, distributed.stderr
    shown = env.show("web-ami", "1.0.0")
    return env, {region: d["image_id"] for region, d in shown["distributions"].items()}


def test_permissions_follow_services_release_and_revoke(aws_env: Any, tmp_path: Path) -> None:
    aws_env.reset()
    env, images = _published_ami(tmp_path)
    for region, image in images.items():
        assert _launch(region, image) == (False, set()), "a draft is shared with nobody but its owner"
    assert env.cli("release", "web-ami", "1.0.0").exit_code == 0
    service = env.cli("service", "shop", "--visibility", "private", "--allow", CUSTOMER, "--package", "web-ami")
    assert service.exit_code == 0, service.stderr
    for region, image in images.items():
        assert _launch(region, image) == (False, {CUSTOMER}), region
        assert f"permissions web-ami 1.0.0 {region} {image}: +{CUSTOMER}" in service.stdout
    public = env.cli("service", "shop", "--visibility", "public", "--allow", OTHER)
    assert public.exit_code == 0, public.stderr
    for region, image in images.items():
        assert _launch(region, image) == (False, {OTHER}), "a public service with a whitelist is not 'all'"
    # a public service with no whitelist: launchable by all
    assert env.cli("service", "open", "--visibility", "public", "--package", "web-ami").exit_code == 0
    for region, image in images.items():
        assert _launch(region, image) == (True, {OTHER})
    revoked = env.cli("revoke", "web-ami", "1.0.0", "--reason", "CVE-2026-0001")
    assert revoked.exit_code == 0, revoked.stderr
    for region, image in images.items():
        assert _launch(region, image) == (False, set()), "a revoked image can be launched by nobody"


def test_drift_behind_the_catalogs_back_is_audited_and_fixed(aws_env: Any, tmp_path: Path) -> None:
    aws_env.reset()
    env, images = _published_ami(tmp_path)
    assert env.cli("release", "web-ami", "1.0.0").exit_code == 0
    assert (
        env.cli("service", "shop", "--visibility", "private", "--allow", CUSTOMER, "--package", "web-ami").exit_code
        == 0
    )
    clean = env.cli("audit")
    assert clean.exit_code == 0 and "every image copy's permissions are what the catalog says" in clean.stdout
    region, image = next(iter(images.items()))
    _ec2(region).modify_image_attribute(
        ImageId=image, Attribute="launchPermission", LaunchPermission={"Add": [{"UserId": OTHER}, {"Group": "all"}]}
    )
    drift = env.cli("audit", "--format", "json")
    assert drift.exit_code == 1
    (found,) = json.loads(drift.stdout)["drift"]
    assert (found["region"], found["image_id"]) == (region, image)
    assert found["wanted"] == {"public": False, "accounts": [CUSTOMER]}
    assert found["actual"] == {"public": True, "accounts": sorted([CUSTOMER, OTHER])}
    fixed = env.cli("audit", "--fix")
    assert fixed.exit_code == 0 and f"-{OTHER} -public (fixed)" in fixed.stdout
    assert _launch(region, image) == (False, {CUSTOMER})
    assert env.cli("audit").exit_code == 0
