"""The shared fixture templates load to exactly these references, with spans that cut exactly
the values out of the files' text (CRLF and BOM included)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from preprocessor.model import RefKind, TemplateFormat
from preprocessor.templates import discover, iter_files, load_template
from providers import resource_table

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TABLE = resource_table()

WEB, DB, AMI = "m-bp1g7004ksh0oeuc1234", "m-bp1ab5ek0o5xqa1y9abc", "ami-0123456789abcdef0"
WORKER = "m-bp1dbcw2zx04ke8o5678"

# file -> (format, provider, bom, CRLF, image refs (resource, property, value, line, column),
#          placeholders (type, name, resource, property, line, column))
EXPECTED = {
    "alicloud/templates/ros-web.json": (
        TemplateFormat.ROS_JSON,
        "alicloud",
        False,
        False,
        [("WebServer", "ImageId", WEB, 20, 21)],
        [
            ("file", "app-bundle", "WebServer", "UserData", 28, 45),
            ("publicfile", "install-script", "WebServer", "UserData", 29, 26),
        ],
    ),
    "alicloud/templates/ros-app.yaml": (
        TemplateFormat.ROS_YAML,
        "alicloud",
        False,
        True,
        [("DbScalingConfiguration", "ImageId", DB, 26, 16)],
        [
            ("file", "app-bundle", "DbScalingConfiguration", "UserData", 32, 40),
            ("acrimage", "web-frontend", "WebFrontend", "YamlContent", 52, 26),
            ("helmchart", "web-chart", "WebChart", "ChartUrl", 58, 18),
        ],
    ),
    "alicloud/templates/ros-launch-bom.yaml": (
        TemplateFormat.ROS_YAML,
        "alicloud",
        True,
        False,
        [("WebLaunchTemplate", "ImageId", WEB, 13, 17)],
        [("publicfile", "install-script", "WebLaunchTemplate", "UserData", 20, 23)],
    ),
    "alicloud/templates/ros-workers.yaml": (
        TemplateFormat.ROS_YAML,
        "alicloud",
        False,
        False,
        [("Workers", "ImageId", WORKER, 17, 16)],
        [("file", "app-bundle", "Workers", "UserData", 26, 47)],
    ),
    "alicloud/templates/main.tf": (
        TemplateFormat.TERRAFORM_HCL,
        None,
        False,
        False,
        [
            ("alicloud_instance.web", "image_id", WEB, 24, 22),
            ("alicloud_ess_scaling_configuration.db", "image_id", DB, 43, 24),
        ],
        [
            ("file", "app-bundle", "alicloud_instance.web", "user_data", 31, 36),
            ("publicfile", "install-script", "alicloud_instance.web", "user_data", 32, 17),
        ],
    ),
    "alicloud/templates/variables.tf": (TemplateFormat.TERRAFORM_HCL, None, False, False, [], []),
    "alicloud/templates/cluster.tf.json": (
        TemplateFormat.TERRAFORM_JSON,
        None,
        False,
        False,
        [
            ("alicloud_instance.batch", "image_id", WEB, 6, 22),
            ("alicloud_ehpc_cluster_v2.hpc", "manager.manager_node.image_id", DB, 19, 28),
        ],
        [("file", "app-bundle", "alicloud_instance.batch", "user_data", 10, 66)],
    ),
    "aws/templates/cfn-web.yaml": (
        TemplateFormat.CFN_YAML,
        "aws",
        False,
        False,
        [("WebServer", "ImageId", AMI, 21, 16), ("WebLaunchTemplate", "LaunchTemplateData.ImageId", AMI, 37, 19)],
        [
            ("file", "app-bundle", "WebServer", "UserData", 29, 42),
            ("file", "app-bundle", "WebLaunchTemplate", "LaunchTemplateData.UserData", 41, 42),
        ],
    ),
    "aws/templates/cfn-fleet.json": (
        TemplateFormat.CFN_JSON,
        "aws",
        False,
        False,
        [
            ("FleetLaunchConfiguration", "ImageId", AMI, 12, 21),
            ("FleetLaunchTemplate", "LaunchTemplateData.ImageId", AMI, 37, 23),
        ],
        [("file", "app-bundle", "FleetLaunchConfiguration", "UserData", 18, 47)],
    ),
    "aws/templates/main.tf": (
        TemplateFormat.TERRAFORM_HCL,
        None,
        False,
        False,
        [("aws_instance.web", "ami", AMI, 17, 20), ("aws_launch_template.web", "image_id", AMI, 33, 20)],
        [
            ("file", "app-bundle", "aws_instance.web", "user_data", 23, 36),
            ("file", "app-bundle", "aws_launch_template.web", "user_data", 35, 64),
        ],
    ),
    "aws/templates/variables.tf": (TemplateFormat.TERRAFORM_HCL, None, False, False, [], []),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_loads_exactly(name: str) -> None:
    path = FIXTURES / name
    fmt, provider, bom, crlf, refs, placeholders = EXPECTED[name]
    template = load_template(path, TABLE)
    assert template is not None
    assert (template.format, template.provider, template.bom) == (fmt, provider, bom)
    assert ("\r\n" in template.text) is crlf
    if crlf:
        assert template.text.count("\n") == template.text.count("\r\n")
    assert template.encoded() == path.read_bytes()
    assert [(r.resource, r.property, r.value, r.span.line, r.span.column) for r in template.image_refs] == refs
    assert all(r.kind is RefKind.LITERAL for r in template.image_refs), "clean fixtures hold literals only"
    got = [
        (p.placeholder_type, p.name, p.resource, p.property, p.span.line, p.span.column) for p in template.placeholders
    ]
    assert got == placeholders
    lines = template.text.splitlines()
    for ref in template.image_refs:
        assert template.text[ref.span.start : ref.span.end] == ref.value
        assert lines[ref.span.line - 1][ref.span.column - 1 : ref.span.end_column - 1] == ref.value
    for placeholder in template.placeholders:
        source = template.text[placeholder.span.start : placeholder.span.end]
        assert source == f"{{{{ computenest::{placeholder.placeholder_type}::{placeholder.name} }}}}"


def test_discover_finds_every_fixture_template_and_skips_the_rest() -> None:
    found = [
        path.relative_to(FIXTURES).as_posix()
        for path in discover([FIXTURES / "alicloud" / "templates", FIXTURES / "aws" / "templates"])
    ]
    assert found == sorted(name for name in EXPECTED if name.startswith("alicloud")) + sorted(
        name for name in EXPECTED if name.startswith("aws")
    )
    everything = [path.name for path in iter_files([FIXTURES / "alicloud" / "templates"])]
    assert "README.md" in everything and "main.tf" in everything


def test_fixture_load_times() -> None:
    """Every fixture (hcl2 already imported) loads in well under a second."""
    load_template(FIXTURES / "aws/templates/variables.tf", TABLE)
    for name in EXPECTED:
        started = time.perf_counter()
        load_template(FIXTURES / name, TABLE)
        assert time.perf_counter() - started < 1, name


@pytest.mark.parametrize("project", ["alicloud", "aws"])
def test_clean_projects_use_only_associated_images_and_placeholders(project: str) -> None:
    """What makes the clean projects render: every image ID is a literal of the project's provider
    with an association, and every placeholder names an associated package."""
    from preprocessor.project import project_for

    root = FIXTURES / project
    context = project_for(root / "templates")
    used: set[str] = set()
    keys = {a.key for a in context.all_associations()}
    for path in discover([root / "templates"]):
        template = load_template(path, context.table)
        assert template is not None
        for ref in template.image_refs:
            assert ref.provider == project and ref.kind is RefKind.LITERAL
            assert context.image_association(ref.value), f"{path.name}: {ref.value} is not associated"
            used.add(ref.value)
        for placeholder in template.placeholders:
            assert placeholder.placeholder_type in ("file", "publicfile", "acrimage", "helmchart")
            found = context.placeholder_association(placeholder.placeholder_type, placeholder.name)
            assert found, f"{path.name}: {placeholder.name} is not associated"
            used.add(placeholder.name)
    assert keys - used == set()
