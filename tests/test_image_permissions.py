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


def _source_ami(name: str) -> str:
    """An AMI with one EBS snapshot, registered in us-east-1."""
    image: str = _ec2("us-east-1").register_image(
        Name=name,
        Architecture="x86_64",
        RootDeviceName="/dev/xvda",
        VirtualizationType="hvm",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8}}],
    )["ImageId"]
    return image


def _published_ami(tmp_path: Path) -> tuple[CatalogEnv, dict[str, str]]:
    env = make_env("s3", tmp_path)
    assert env.cli("init", "--provider", "aws", "--bucket-pattern", env.bucket_pattern).exit_code == 0
    source = _source_ami("web-ami-source")
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


def _snapshot_users(region: str, image_id: str) -> list[set[str]]:
    ec2 = _ec2(region)
    mappings = ec2.describe_images(ImageIds=[image_id])["Images"][0]["BlockDeviceMappings"]
    snapshots = [m["Ebs"]["SnapshotId"] for m in mappings if m.get("Ebs", {}).get("SnapshotId")]
    assert snapshots, "moto's AMI copies have their own snapshots"
    found = []
    for snapshot in snapshots:
        permissions = ec2.describe_snapshot_attribute(SnapshotId=snapshot, Attribute="createVolumePermission")
        found.append({p["UserId"] for p in permissions.get("CreateVolumePermissions", []) if "UserId" in p})
    return found


def test_a_copyable_package_lets_its_accounts_read_the_snapshots_and_no_one_else(aws_env: Any, tmp_path: Path) -> None:
    aws_env.reset()
    env = make_env("s3", tmp_path)
    assert env.cli("init", "--provider", "aws", "--bucket-pattern", env.bucket_pattern).exit_code == 0
    source = _source_ami("db-ami-source")
    args = ("publish", "db-ami", "1.0.0", "--type", "ecs-image", "--image", f"us-east-1={source}")
    assert env.cli(*args, "--owner", OWNER, "--copyable").exit_code == 0
    assert env.cli("distribute", "db-ami", "1.0.0", "--region", "us-west-2", "--wait", "30").exit_code == 0
    image = env.show("db-ami", "1.0.0")["distributions"]["us-west-2"]["image_id"]
    assert env.cli("release", "db-ami", "1.0.0").exit_code == 0
    service = env.cli("service", "shop", "--visibility", "private", "--allow", CUSTOMER, "--package", "db-ami")
    assert service.exit_code == 0, service.stderr
    assert f"+{CUSTOMER} +copy:{CUSTOMER}" in service.stdout
    assert _snapshot_users("us-west-2", image) == [{CUSTOMER}]
    # a public service with no whitelist lets everyone launch it, never everyone copy it
    assert env.cli("service", "open", "--visibility", "public", "--package", "db-ami").exit_code == 0
    assert _launch("us-west-2", image)[0] is True
    assert _snapshot_users("us-west-2", image) == [{CUSTOMER}]
    # behind the catalog's back: another account may read the snapshot
    (snapshot,) = [
        m["Ebs"]["SnapshotId"]
        for m in _ec2("us-west-2").describe_images(ImageIds=[image])["Images"][0]["BlockDeviceMappings"]
    ]
    _ec2("us-west-2").modify_snapshot_attribute(
        SnapshotId=snapshot, Attribute="createVolumePermission", OperationType="add", UserIds=[OTHER]
    )
    drift = env.cli("audit", "db-ami")
    assert drift.exit_code == 1 and f"-copy:{OTHER}" in drift.stdout
    assert env.cli("audit", "db-ami", "--fix").exit_code == 0
    assert _snapshot_users("us-west-2", image) == [{CUSTOMER}]
    assert env.cli("revoke", "db-ami", "1.0.0", "--reason", "end of life").exit_code == 0
    assert _snapshot_users("us-west-2", image) == [set()], "a revoked image can be copied by nobody"


def test_copyable_is_refused_where_the_cloud_has_no_copy_permission(tmp_path: Path) -> None:
    env = make_env("local", tmp_path)
    assert env.cli("init", "--provider", "alicloud", "--bucket-pattern", env.bucket_pattern).exit_code == 0
    refused = env.cli(
        "publish", "web", "1.0", "--type", "ecs-image", "--image", "cn-hangzhou=m-bp1g7004ksh0oeuc1234", "--copyable"
    )
    assert refused.exit_code == 2 and "cannot let customers copy alicloud images" in refused.stderr
