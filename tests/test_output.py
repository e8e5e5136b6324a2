"""One owner of diagnostics output (preprocessor/output.py): validate, refs, render and plan
print a finding as the same line and record it as the same JSON, escaped the same way."""

from __future__ import annotations

import json
import re
from pathlib import Path

from helpers import FIXTURES, run_cli

from preprocessor.diagnostics import Diagnostic
from preprocessor.errors import InputError
from preprocessor.output import FORMATS, diagnostic_line, diagnostic_record, formatter, location
from preprocessor.rules import Severity

HOSTILE = "we\rb.tf"
SHOWN = "we\\x0db.tf"
MODULE = """\
resource "terraform_data" "web" {
  input = "{{ computenest::file::no-such-bundle }}"
}
"""
LINE = re.compile(r"^(?P<where>[^ ]+:\d+:\d+): (?P<severity>error|warning|info) (?P<rule>DPK\d{3}) (?P<message>.+)$")


def _module(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    catalog = (FIXTURES / "alicloud" / "catalog").as_uri()
    (project / "deploypkg.yaml").write_text(f"provider: alicloud\ncatalog: {catalog}\n")
    (project / HOSTILE).write_text(MODULE)
    return project


def _finding_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if LINE.match(line)]


def test_every_command_prints_a_finding_as_the_same_escaped_line(tmp_path: Path) -> None:
    project = _module(tmp_path)
    validated = run_cli("validate", ".", cwd=project)
    rendered = run_cli("render", ".", "--region", "cn-beijing", "--out", str(tmp_path / "out"), cwd=project)
    planned = run_cli("plan", ".", "--region", "cn-beijing", cwd=project)
    assert (validated.exit_code, rendered.exit_code, planned.exit_code) == (1, 1, 1)
    expected = _finding_lines(validated.stdout)
    assert len(expected) == 1 and expected[0].startswith(f"{SHOWN}:2:12: error DPK201 placeholder file::no-such-bundle")
    assert _finding_lines(rendered.stderr) == expected
    assert _finding_lines(planned.stderr) == expected
    for result in (validated, rendered, planned):
        assert "\r" not in result.stdout + result.stderr


def test_refs_prints_a_file_it_cannot_read_as_the_same_line(tmp_path: Path) -> None:
    project = _module(tmp_path)
    (project / HOSTILE).write_text('resource "terraform_data" "web" {\n  input = \n')
    validated = run_cli("validate", ".", cwd=project)
    listed = run_cli("refs", ".", cwd=project)
    assert (validated.exit_code, listed.exit_code) == (2, 2)
    (line,) = _finding_lines(validated.stdout)
    assert line.startswith(f"{SHOWN}:") and " error DPK001 " in line
    assert _finding_lines(listed.stderr) == [line]


def test_validate_and_render_record_a_finding_as_the_same_json(tmp_path: Path) -> None:
    project = _module(tmp_path)
    validated = run_cli("validate", ".", "--format", "json", cwd=project)
    rendered = run_cli(
        "render", ".", "--region", "cn-beijing", "--out", str(tmp_path / "out"), "--format", "json", cwd=project
    )
    findings = json.loads(validated.stdout)
    refusal = json.loads(rendered.stdout)
    assert refusal["rendered"] is False
    assert refusal["diagnostics"] == findings
    assert findings[0]["file"] == HOSTILE  # JSON carries the real name; only terminals get escapes
    assert set(refusal["error"]) <= set(findings[0]) and "rule_id" in findings[0]


def test_render_warnings_use_the_same_line_and_record(tmp_path: Path) -> None:
    project = FIXTURES / "computenest" / "dify-helm"
    text = run_cli("render", ".", "--region", "cn-beijing", "--out", str(tmp_path / "a"), cwd=project)
    as_json = run_cli(
        "render", ".", "--region", "cn-beijing", "--out", str(tmp_path / "b"), "--format", "json", cwd=project
    )
    assert text.exit_code == 0 and as_json.exit_code == 0, text.stderr + as_json.stderr
    (warning_line,) = _finding_lines(text.stderr)
    (warning,) = json.loads(as_json.stdout)["warnings"]
    assert (
        warning_line == f"{warning['file']}:{warning['line']}:{warning['column']}: warning DPK206 {warning['message']}"
    )
    assert warning["rule_name"] == "computenest-credential-placeholder" and warning["severity"] == "warning"


def test_a_finding_about_the_whole_run_has_no_location() -> None:
    finding = Diagnostic("DPK309", Severity.WARNING, "the credentials expire first", None, hint="use longer ones")
    assert diagnostic_line(finding) == "warning DPK309 the credentials expire first; use longer ones"
    assert diagnostic_record(finding)["file"] is None
    assert location(None, 3, 4) == "" and location("a\x1bb", 3, 0) == "a\\x1bb:3"


def test_an_error_escapes_through_the_same_location() -> None:
    error = InputError("bad \x1b[2Jthing", file="x\ry.yaml", line=2, column=5, hint="fix\u202e it", rule="DPK003")
    assert error.render() == "x\\x0dy.yaml:2:5: DPK003 bad \\x1b[2Jthing\n  hint: fix\\u202e it"
    assert error.record() == {
        "file": "x\ry.yaml",
        "line": 2,
        "column": 5,
        "rule_id": "DPK003",
        "message": "bad \x1b[2Jthing",
        "hint": "fix\u202e it",
    }


def test_every_report_format_is_reachable_from_the_table() -> None:
    finding = Diagnostic("DPK103", Severity.WARNING, "public image", "t.yaml", 1, 2, 1, 9, "build one")
    for name in FORMATS:
        assert formatter(name)([finding]).strip(), name
