"""``deploypkg validate``: exit codes, --fail-on, --config, --output, overrides, suppressions."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import REPO, run_cli

ALICLOUD_CONFIG = "provider: alicloud\nassociations:\n  m-bp1g7004ksh0oeuc1234: web-image\n"
PLAIN_CONFIG = "provider: alicloud\n"

PUBLIC_IMAGE = """ROSTemplateFormatVersion: '2015-09-01'
Resources:
  Web:
    Type: ALIYUN::ECS::Instance
    Properties:
      ImageId: ubuntu_22_04_x64_20G_alibase_20230907.vhd
"""

CLEAN = """ROSTemplateFormatVersion: '2015-09-01'
Resources:
  Web:
    Type: ALIYUN::ECS::Instance
    Properties:
      ImageId: m-bp1g7004ksh0oeuc1234
"""


def _project(tmp_path: Path, config: str = ALICLOUD_CONFIG, **templates: str) -> Path:
    (tmp_path / "deploypkg.yaml").write_text(config, encoding="utf-8")
    for name, text in templates.items():
        (tmp_path / name.replace("_", ".", 1)).write_text(text, encoding="utf-8", newline="")
    return tmp_path


def test_clean_project_exits_0(tmp_path: Path) -> None:
    _project(tmp_path, web_yaml=CLEAN)
    result = run_cli("validate", ".", cwd=tmp_path)
    assert (result.exit_code, result.stdout) == (0, "no problems found\n")


def test_warnings_fail_only_with_fail_on_warning(tmp_path: Path) -> None:
    _project(tmp_path, config=PLAIN_CONFIG, web_yaml=PUBLIC_IMAGE)
    assert run_cli("validate", ".", cwd=tmp_path).exit_code == 0
    assert run_cli("validate", "--fail-on", "warning", ".", cwd=tmp_path).exit_code == 1
    assert run_cli("validate", "--fail-on", "info", ".", cwd=tmp_path).exit_code == 1


def test_rule_severity_overrides_and_off(tmp_path: Path) -> None:
    _project(tmp_path, config=PLAIN_CONFIG + "rules:\n  DPK103: error\n", web_yaml=PUBLIC_IMAGE)
    result = run_cli("validate", "--format", "json", ".", cwd=tmp_path)
    found = json.loads(result.stdout)
    assert [(d["rule_id"], d["severity"]) for d in found] == [("DPK103", "error")]
    assert result.exit_code == 1
    (tmp_path / "deploypkg.yaml").write_text(PLAIN_CONFIG + "rules:\n  DPK103: off\n", encoding="utf-8")
    result = run_cli("validate", "--fail-on", "info", ".", cwd=tmp_path)
    assert (result.exit_code, result.stdout) == (0, "no problems found\n")


def test_suppression_applies_to_its_line_and_the_line_after_a_comment_line(tmp_path: Path) -> None:
    template = PUBLIC_IMAGE.replace(
        "      ImageId: ubuntu", "      # deploypkg: ignore=DPK101, DPK103\n      ImageId: ubuntu"
    )
    template += "  Db:\n    Type: ALIYUN::ECS::Instance\n    Properties:\n      ImageId: centos_7\n"
    _project(tmp_path, config=PLAIN_CONFIG, web_yaml=template)
    found = json.loads(run_cli("validate", "--format", "json", ".", cwd=tmp_path).stdout)
    assert [(d["rule_id"], d["line"]) for d in found] == [("DPK104", 11)]


def test_a_code_line_with_a_directive_does_not_silence_the_next_line(tmp_path: Path) -> None:
    template = (
        CLEAN.replace("m-bp1g7004ksh0oeuc1234", "centos_7 # deploypkg: ignore=DPK104")
        + "  Db:\n    Type: ALIYUN::ECS::Instance\n    Properties:\n      ImageId: centos_8\n"
    )
    _project(tmp_path, config=PLAIN_CONFIG, web_yaml=template)
    found = json.loads(run_cli("validate", "--format", "json", ".", cwd=tmp_path).stdout)
    assert [(d["rule_id"], d["line"]) for d in found] == [("DPK104", 10)]


def test_unused_association_only_when_the_whole_project_is_scanned(tmp_path: Path) -> None:
    config = ALICLOUD_CONFIG + "  m-bp1oldoldoldoldold00: old-image\n"
    _project(tmp_path, config=config, web_yaml=CLEAN)
    whole = json.loads(run_cli("validate", "--format", "json", ".", cwd=tmp_path).stdout)
    assert [(d["file"], d["line"], d["rule_id"]) for d in whole] == [("deploypkg.yaml", 4, "DPK202")]
    one_file = run_cli("validate", "web.yaml", cwd=tmp_path)
    assert (one_file.exit_code, one_file.stdout) == (0, "no problems found\n")
    # and a suppression comment in deploypkg.yaml silences it
    (tmp_path / "deploypkg.yaml").write_text(config.rstrip("\n") + "  # deploypkg: ignore=DPK202\n", encoding="utf-8")
    assert run_cli("validate", ".", cwd=tmp_path).stdout == "no problems found\n"


def test_config_option_forces_one_config(tmp_path: Path) -> None:
    _project(tmp_path, config="provider: alicloud\n", web_yaml=CLEAN)
    assert run_cli("validate", ".", cwd=tmp_path).exit_code == 1
    (tmp_path / "other.yml").write_text(ALICLOUD_CONFIG, encoding="utf-8")
    assert run_cli("validate", "--config", "other.yml", "web.yaml", cwd=tmp_path).exit_code == 0


def test_nearest_config_wins_per_template(tmp_path: Path) -> None:
    _project(tmp_path, config="provider: alicloud\n")
    sub = tmp_path / "sub"
    sub.mkdir()
    _project(sub, web_yaml=CLEAN)
    (tmp_path / "top.yaml").write_text(CLEAN, encoding="utf-8")
    found = json.loads(run_cli("validate", "--format", "json", ".", cwd=tmp_path).stdout)
    assert [(d["file"], d["rule_id"]) for d in found] == [("top.yaml", "DPK102")]


def test_output_file_is_written_whole(tmp_path: Path) -> None:
    _project(tmp_path, config=PLAIN_CONFIG, web_yaml=PUBLIC_IMAGE)
    result = run_cli("validate", "--format", "json", "--output", "report.json", ".", cwd=tmp_path)
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))[0]["rule_id"] == "DPK103"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report")] == []


def test_bad_usage_and_bad_config_exit_2_without_traceback(tmp_path: Path) -> None:
    missing = run_cli("validate", "no-such-dir", cwd=tmp_path)
    assert missing.exit_code == 2 and "does not exist" in missing.stderr
    assert run_cli("validate", "--format", "xml", ".", cwd=tmp_path).exit_code == 2
    _project(tmp_path, config="provider: alicloud\nrules:\n  DPK999: off\n", web_yaml=CLEAN)
    bad = run_cli("validate", ".", cwd=tmp_path)
    assert bad.exit_code == 2
    assert "deploypkg.yaml:3:3: DPK010 unknown rule 'DPK999'" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_one_broken_file_does_not_hide_the_others(tmp_path: Path) -> None:
    broken = "ROSTemplateFormatVersion: '2015-09-01'\nResources: [\n"
    _project(tmp_path, config=PLAIN_CONFIG, web_yaml=PUBLIC_IMAGE, broken_yaml=broken)
    result = run_cli("validate", "--format", "json", ".", cwd=tmp_path)
    assert [(d["file"], d["rule_id"]) for d in json.loads(result.stdout)] == [
        ("broken.yaml", "DPK001"),
        ("web.yaml", "DPK103"),
    ]
    assert result.exit_code == 2, "a file that does not parse is bad input"


def test_help_lists_the_options() -> None:
    result = run_cli("validate", "--help", cwd=REPO)
    for option in ("--format", "--fail-on", "--config", "--output-file"):
        assert option in result.stdout


def test_template_metadata_suppresses_for_the_whole_yaml_file(tmp_path: Path) -> None:
    template = PUBLIC_IMAGE.replace("Resources:", "Metadata:\n  deploypkg:\n    ignore: [DPK103]\nResources:")
    _project(tmp_path, config=PLAIN_CONFIG, web_yaml=template)
    result = run_cli("validate", "--fail-on", "info", ".", cwd=tmp_path)
    assert (result.exit_code, result.stdout) == (0, "no problems found\n")


def test_a_file_named_twice_is_checked_once(tmp_path: Path) -> None:
    _project(tmp_path, config=PLAIN_CONFIG, web_yaml=PUBLIC_IMAGE)
    result = run_cli("validate", "--format", "json", ".", "web.yaml", "./web.yaml", cwd=tmp_path)
    assert [(d["file"], d["rule_id"]) for d in json.loads(result.stdout)] == [("web.yaml", "DPK103")]


def test_a_ref_to_an_ssm_parameter_type_is_a_dynamic_reference_not_a_non_literal(tmp_path: Path) -> None:
    """CloudFormation resolves an AWS::SSM::Parameter::Value<…> parameter per region when it deploys:
    the same thing as {{resolve:ssm:…}} (DPK106, a warning), not an expression deploypkg cannot map."""
    (tmp_path / "stack.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\n"
        "Parameters:\n"
        "  LatestAmiId:\n"
        "    Type: 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>'\n"
        "    Default: /aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2\n"
        "  PlainAmi:\n"
        "    Type: AWS::EC2::Image::Id\n"
        "Resources:\n"
        "  Resolved:\n"
        "    Type: AWS::EC2::Instance\n"
        "    Properties:\n"
        "      ImageId: !Ref LatestAmiId\n"
        "  Long:\n"
        "    Type: AWS::EC2::Instance\n"
        '    Properties: {ImageId: {"Ref": "LatestAmiId"}}\n'
        "  Parameter:\n"
        "    Type: AWS::EC2::Instance\n"
        "    Properties:\n"
        "      ImageId: !Ref PlainAmi\n",
        encoding="utf-8",
    )
    result = run_cli("validate", "--format", "json", "stack.yaml", cwd=tmp_path)
    found = [(d["line"], d["rule_id"]) for d in json.loads(result.stdout)]
    assert found == [(12, "DPK106"), (15, "DPK106"), (19, "DPK101")]
    assert result.exit_code == 1
