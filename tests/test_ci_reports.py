"""``validate --format junit`` and ``--format gitlab`` (issue 13, §1), checked against their
schemas: the Jenkins xUnit plugin's published JUnit XSD, and a JSON schema written from GitLab's
documented Code Quality format (GitLab publishes no schema file; see its ``$comment``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from xml.etree import ElementTree

import jsonschema
import pytest
import xmlschema
from helpers import FIXTURES, run_cli

SCHEMAS = Path(__file__).parent / "data" / "schemas"


@pytest.fixture(scope="module")
def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMAS / "junit-10.xsd"))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The validate fixtures (findings of most rules, a file that does not parse) and one clean file."""
    shutil.copytree(FIXTURES / "validate", tmp_path / "validate")
    (tmp_path / "validate" / "clean.yaml").write_text(
        "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  Vpc:\n    Type: ALIYUN::ECS::VPC\n"
        "    Properties:\n      CidrBlock: 192.168.0.0/16\n"
    )
    return tmp_path


def test_junit_has_a_testcase_per_file_and_a_failure_per_finding(
    project: Path, junit_schema: xmlschema.XMLSchema
) -> None:
    findings = json.loads(run_cli("validate", "validate", "--format", "json", cwd=project).stdout)
    report = run_cli("validate", "validate", "--format", "junit", cwd=project)
    assert report.exit_code == 2  # ros-broken.yaml does not parse, as with any format
    junit_schema.validate(report.stdout)
    root = ElementTree.fromstring(report.stdout)
    cases = {case.get("name"): case for case in root.iter("testcase")}
    assert "validate/clean.yaml" in cases and cases["validate/clean.yaml"].find("failure") is None
    failing = {d["file"] for d in findings}
    assert {name for name, case in cases.items() if case.find("failure") is not None} == failing
    failures = [f for case in cases.values() for f in case.iter("failure")]
    assert len(failures) == len(findings)
    assert sorted(f.get("type") or "" for f in failures) == sorted(d["rule_id"] for d in findings)
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == (str(len(cases)), str(len(failing)))
    broken = cases["validate/ros-broken.yaml"].find("failure")
    assert broken is not None and broken.get("type") == "DPK001" and "validate/ros-broken.yaml:" in (broken.text or "")


def test_the_junit_schema_check_can_fail(junit_schema: xmlschema.XMLSchema) -> None:
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        junit_schema.validate(
            '<testsuites><testsuite name="x" tests="1" failures="0" errors="0"><testcase/></testsuite></testsuites>'
        )


def test_control_characters_in_a_finding_still_give_well_formed_xml(
    tmp_path: Path, junit_schema: xmlschema.XMLSchema
) -> None:
    (tmp_path / "web.json").write_text(
        '{"ROSTemplateFormatVersion": "2015-09-01", "Resources": {"Web": {"Type": "ALIYUN::ECS::Instance",'
        ' "Properties": {"ImageId": "m-\\u001b[31mbp1\\u0000"}}}}\n'
    )
    report = run_cli("validate", "web.json", "--format", "junit", cwd=tmp_path)
    assert report.exit_code == 1
    junit_schema.validate(report.stdout)


def test_gitlab_code_quality_matches_its_schema_and_the_findings(project: Path) -> None:
    schema = json.loads((SCHEMAS / "gitlab-code-quality.schema.json").read_text())
    findings = json.loads(run_cli("validate", "validate", "--format", "json", cwd=project).stdout)
    report = run_cli("validate", "validate", "--format", "gitlab", cwd=project)
    issues = json.loads(report.stdout)
    jsonschema.validate(issues, schema)
    assert len(issues) == len(findings)
    assert len({i["fingerprint"] for i in issues}) == len(issues), "GitLab shows one issue per fingerprint"
    severity = {"error": "major", "warning": "minor", "info": "info"}
    for issue, finding in zip(issues, findings, strict=True):
        assert issue["location"] == {"path": finding["file"], "lines": {"begin": finding["line"]}}
        assert issue["check_name"] == f"{finding['rule_id']} {finding['rule_name']}"
        assert issue["severity"] == severity[finding["severity"]]
        assert issue["description"].startswith(finding["message"])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate([{**issues[0], "severity": "fatal"}], schema)


def test_a_fingerprint_survives_lines_inserted_above(tmp_path: Path) -> None:
    template = (
        "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  Web:\n    Type: ALIYUN::ECS::Instance\n"
        "    Properties:\n      ImageId: m-bp1g7004ksh0oeuc1234\n"
    )
    (tmp_path / "web.yaml").write_text(template)
    before = json.loads(run_cli("validate", "web.yaml", "--format", "gitlab", cwd=tmp_path).stdout)
    (tmp_path / "web.yaml").write_text("# a comment\n# and another\n" + template)
    after = json.loads(run_cli("validate", "web.yaml", "--format", "gitlab", cwd=tmp_path).stdout)
    assert [i["location"]["lines"]["begin"] for i in before] == [6]
    assert [i["location"]["lines"]["begin"] for i in after] == [8]
    assert [i["fingerprint"] for i in before] == [i["fingerprint"] for i in after]


def test_output_file_is_written_atomically_with_text_on_the_terminal_if_asked(
    project: Path, junit_schema: xmlschema.XMLSchema
) -> None:
    target = project / "reports" / "deploypkg.xml"
    target.parent.mkdir()
    both = run_cli(
        "validate", "validate", "--format", "junit", "--output-file", str(target), "--also-text", cwd=project
    )
    assert both.exit_code == 2
    junit_schema.validate(target.read_text())
    assert "validate/ros-broken.yaml:" in both.stdout and both.stdout.splitlines()[-1].startswith("found ")
    assert not [p for p in target.parent.iterdir() if p != target], "no temporary file left beside it"
    quiet = run_cli("validate", "validate", "--format", "gitlab", "--output-file", str(target), cwd=project)
    assert quiet.stdout == "" and json.loads(target.read_text())
    alone = run_cli("validate", "validate", "--also-text", cwd=project)
    assert alone.exit_code == 2 and "--also-text" in alone.stderr
