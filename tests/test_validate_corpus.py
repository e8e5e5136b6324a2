"""The diagnostic corpus (fixtures/validate): every finding, exactly, through the real CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

from helpers import FIXTURES, REPO, run_cli

from preprocessor.validate.checks import VALIDATE_RULE_IDS

CORPUS = FIXTURES / "validate"

# (file under fixtures/validate, line, column, rule) for the whole corpus, in output order.
EXPECTED = [
    ("aws/cfn-containers.yaml", 12, 18, "DPK112"),  # public.ecr.aws: outside the aws registries
    ("aws/cfn-containers.yaml", 19, 19, "DPK111"),  # ECR in us-east-1 (the associated one has no finding)
    ("aws/cfn-instance.yaml", 18, 16, "DPK101"),  # !Ref ImageId
    ("aws/cfn-instance.yaml", 22, 17, "DPK106"),  # '{{resolve:ssm:...}}'
    ("aws/cfn-instance.yaml", 28, 18, "DPK102"),  # LaunchTemplateData.ImageId, not associated
    ("aws/cfn-instance.yaml", 33, 16, "DPK101"),  # !FindInMap
    ("aws/cfn-instance.yaml", 37, 16, "DPK107"),  # ami-12345
    ("aws/cfn-stack.json", 12, 33, "DPK101"),  # Fn::Sub (Unmapped's DPK102 suppressed by Metadata)
    ("aws/cfn-stack.json", 20, 33, "DPK101"),  # Fn::Join
    ("aws/legacy.template", 6, 16, "DPK102"),  # 8-hex AMI in a .template file
    ("aws/tf-aws/asg.tf.json", 5, 22, "DPK107"),  # 18 hex digits
    ("aws/tf-aws/asg.tf.json", 11, 22, "DPK102"),
    ("aws/tf-aws/asg.tf.json", 12, 23, "DPK201"),  # publicfile::setup-script
    ("aws/tf-aws/main.tf", 17, 9, "DPK101"),  # data.aws_ami.al2023.id
    ("aws/tf-aws/main.tf", 21, 9, "DPK101"),  # conditional expression
    ("aws/tf-aws/main.tf", 25, 10, "DPK106"),  # resolve:ssm:
    ("aws/tf-aws/main.tf", 29, 15, "DPK107"),  # ami-XYZ
    ("computenest-list/.computenest/config.yaml", 7, 9, "DPK207"),  # a list, not a mapping (centos_7 still related)
    ("computenest/.computenest/config.yaml", 8, 23, "DPK204"),  # literal artifact ID, not mapped
    ("computenest/.computenest/config.yaml", 10, 23, "DPK205"),  # ${Artifact.Artifact_1.ArtifactId}: undefined
    ("computenest/.computenest/config.yaml", 11, 9, "DPK202"),  # a relation no template uses
    # acrimage::shop: 'shop' is related as a file only (relation sections are namespaces); the relation-keyed
    # ImageIds, the acr::dockerconfigjson credential and code_generation/ get no finding
    ("computenest/.computenest/ros_templates/template.yaml", 8, 71, "DPK201"),
    ("deploypkg.yaml", 10, 3, "DPK202"),  # m-bp1oldoldoldoldold00 used by nothing
    ("ros-bom-crlf.yaml", 8, 16, "DPK102"),  # BOM + CRLF: columns count characters
    ("ros-bom.json", 6, 34, "DPK107"),  # uppercase m- ID, BOM not counted
    ("ros-broken.yaml", 7, 19, "DPK001"),  # unclosed flow sequence
    ("ros-built-image.yaml", 16, 16, "DPK108"),  # !GetAtt of an ALIYUN::ECS::CustomImage of the stack (info)
    ("ros-containers.yaml", 17, 18, "DPK112"),  # nginx:1.25, Docker Hub
    ("ros-containers.yaml", 19, 18, "DPK101"),  # !Ref SidecarImage
    ("ros-containers.yaml", 21, 18, "DPK113"),  # :latest
    ("ros-containers.yaml", 24, 19, "DPK111"),  # an InitContainer in the cn-hangzhou registry
    ("ros-containers.yaml", 31, 11, "DPK114"),  # one of ImageCache's list of images, not a reference
    ("ros-expressions.yaml", 16, 16, "DPK101"),  # !Ref (the one after the comment is suppressed)
    ("ros-expressions.yaml", 20, 16, "DPK101"),  # !FindInMap
    ("ros-expressions.yaml", 25, 9, "DPK101"),  # Fn::Sub block
    ("ros-expressions.yaml", 29, 16, "DPK101"),  # !If
    ("ros-invalid.yaml", 3, 3, "DPK003"),  # Resources is a list
    ("ros-latin1.yaml", 2, 18, "DPK002"),  # not UTF-8: the loader names the offending byte's column
    ("ros-literals.yaml", 15, 17, "DPK102"),  # quoted, unassociated
    ("ros-literals.yaml", 19, 16, "DPK103"),  # public image name
    ("ros-literals.yaml", 20, 20, "DPK105"),  # ImageFamily
    ("ros-literals.yaml", 26, 17, "DPK104"),  # 'centos_7' (centos_8 below is suppressed inline)
    ("ros-literals.yaml", 30, 16, "DPK107"),  # m-123
    ("ros-placeholders.json", 15, 26, "DPK201"),  # file::missing-bundle (DPK103 suppressed by Metadata)
    ("ros-placeholders.json", 16, 20, "DPK203"),  # bogus type
    ("ros-placeholders.json", 16, 54, "DPK203"),  # empty name
    ("tf-alicloud/broken.tf", 3, 19, "DPK001"),  # missing value
    ("tf-alicloud/eci.tf", 14, 14, "DPK113"),  # no tag (the associated web:1.4.0 block has no finding)
    ("tf-alicloud/golden.tf", 9, 19, "DPK108"),  # alicloud_image.golden.id: built in the module (info)
    ("tf-alicloud/launch.tf.json", 5, 22, "DPK102"),
    ("tf-alicloud/launch.tf.json", 11, 21, "DPK101"),  # "${var.image_id}" ("//" comment silences the next one)
    ("tf-alicloud/launch.tf.json", 21, 23, "DPK201"),  # acrimage::web-frontend
    ("tf-alicloud/main.tf", 22, 14, "DPK101"),  # var.image_id
    ("tf-alicloud/main.tf", 26, 14, "DPK101"),  # lookup()
    ("tf-alicloud/main.tf", 30, 14, "DPK101"),  # "m-${var.suffix}"
    ("tf-alicloud/main.tf", 35, 23, "DPK103"),
    ("tf-alicloud/main.tf", 39, 15, "DPK107"),  # name prefix in Terraform
    ("tf-alicloud/main.tf", 45, 19, "DPK102"),  # nested manager.manager_node.image_id
]


def _found(stdout: str, prefix: str = "fixtures/validate/") -> list[tuple[str, int, int, str]]:
    return [(d["file"].removeprefix(prefix), d["line"], d["column"], d["rule_id"]) for d in json.loads(stdout)]


def test_corpus_diagnostics_are_exactly_the_expected_ones() -> None:
    result = run_cli("validate", "--format", "json", "fixtures/validate", cwd=REPO)
    assert _found(result.stdout) == EXPECTED, result.stderr
    # an unreadable file (ros-latin1.yaml) makes the exit code 2; everything else is still reported
    assert result.exit_code == 2


def test_every_validate_rule_fires_in_the_corpus() -> None:
    assert {rule for *_, rule in EXPECTED} == set(VALIDATE_RULE_IDS)


def test_text_format_is_path_line_col_severity_id_message() -> None:
    result = run_cli("validate", "fixtures/validate", cwd=REPO)
    lines = result.stdout.splitlines()
    assert len(lines) == len(EXPECTED) + 1
    pattern = re.compile(r"(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<sev>error|warning|info) (?P<id>DPK\d{3}) .+")
    parsed = []
    for line in lines[:-1]:
        match = pattern.fullmatch(line)
        assert match, line
        parsed.append(
            (match["file"].removeprefix("fixtures/validate/"), int(match["line"]), int(match["col"]), match["id"])
        )
    assert parsed == EXPECTED
    assert lines[-1] == "found 42 errors, 14 warnings, 2 infos"
    assert lines[2] == (
        "fixtures/validate/aws/cfn-instance.yaml:18:16: error DPK101 ImageId of FromParameter (AWS::EC2::Instance)"
        " is a reference (!Ref ImageId), not a literal image ID; only literals can be mapped per region; write the"
        " source region's image ID literally and associate it with a package in deploypkg.yaml"
    )


def test_paths_are_relative_to_the_working_directory() -> None:
    result = run_cli("validate", "--format", "json", ".", cwd=CORPUS)
    assert _found(result.stdout, prefix="") == EXPECTED


def test_paths_outside_the_working_directory_are_absolute(tmp_path: Path) -> None:
    result = run_cli("validate", "--format", "json", str(CORPUS / "aws" / "legacy.template"), cwd=tmp_path)
    found = json.loads(result.stdout)
    assert [d["file"] for d in found] == [str(CORPUS / "aws" / "legacy.template")]
    assert result.exit_code == 1


def test_clean_fixture_projects_have_no_errors() -> None:
    result = run_cli("validate", "fixtures/alicloud", "fixtures/aws", cwd=REPO)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert " error " not in result.stdout
