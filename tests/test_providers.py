"""Image-ID classes of real values (Alibaba Cloud's own aliyun/ros-templates, provider docs)."""

from __future__ import annotations

import pytest

from providers import ImageIdClass, get_provider


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("m-bp1g7004ksh0oeuc1234", ImageIdClass.CUSTOM),
        ("ubuntu_22_04_x64_20G_alibase_20230907.vhd", ImageIdClass.PUBLIC),
        ("centos_7", ImageIdClass.NAME_PREFIX),
        ("ubuntu_22_04_x64", ImageIdClass.NAME_PREFIX),
        # ros-templates: documents/solution/...-multimedia-data.yml, resources/sae/application-case3.yml
        ("aliyun_3_9_x64_20G_alibase_", ImageIdClass.NAME_PREFIX),
        ("aliyun_3_x64_20G_alibase_", ImageIdClass.NAME_PREFIX),
        ("m-123", ImageIdClass.MALFORMED),
        ("Centos_7", ImageIdClass.MALFORMED),
        ("centos__7", ImageIdClass.MALFORMED),
    ],
)
def test_alicloud_image_values_are_classified_as_ros_reads_them(value: str, expected: ImageIdClass) -> None:
    assert get_provider("alicloud").classify_image(value) is expected


def test_every_ami_input_of_the_cloudformation_schemas_is_in_the_aws_table() -> None:
    """tests/data/aws-ami-properties.json was derived from the CloudFormation resource schemas
    (cfn-lint's copy): a schema type with an AMI-ID input missing from the table fails here."""
    import json

    from helpers import REPO

    derived = json.loads((REPO / "tests" / "data" / "aws-ami-properties.json").read_text(encoding="utf-8"))
    table = {spec.resource_type: {p.dotted for p in spec.properties} for spec in get_provider("aws").resources}
    missing = [
        f"{resource_type} {path}"
        for resource_type, paths in derived["properties"].items()
        for path in paths
        if path not in table.get(resource_type, set())
    ]
    assert missing == []
    for resource_type, paths in derived["excluded"].items():  # left out on purpose, each with its reason
        assert all(reason for reason in paths.values())
        assert not set(paths) & table.get(resource_type, set()), resource_type


def test_every_ecs_image_input_of_alibaba_clouds_schemas_is_in_the_alicloud_table() -> None:
    """tests/data/alicloud-image-properties.json lists the ECS image-ID inputs of the alicloud
    Terraform provider's schemas and of ROS (its CDK's generated code, the ROS docs)."""
    import json

    from helpers import REPO

    derived = json.loads((REPO / "tests" / "data" / "alicloud-image-properties.json").read_text(encoding="utf-8"))
    table = {spec.resource_type: {p.dotted for p in spec.properties} for spec in get_provider("alicloud").resources}
    missing = [
        f"{resource_type} {path}"
        for language in ("ros", "terraform")
        for resource_type, paths in derived[language].items()
        for path in paths
        if path not in table.get(resource_type, set())
    ]
    assert missing == []
    other_services = {t for language in derived["not_ecs_images"].values() for t in language}
    assert not other_services & set(table), "another service's image IDs are not ECS image IDs"
