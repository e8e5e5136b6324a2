"""SARIF 2.1.0 output: valid against the OASIS schema (tests/data), usable by GitHub code scanning."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from helpers import FIXTURES, REPO, run_cli

from preprocessor.rules import RULES

SCHEMA = json.loads((REPO / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def corpus_sarif() -> dict[str, Any]:
    result = run_cli("validate", "--format", "sarif", "fixtures/validate", cwd=REPO)
    assert result.exit_code == 2, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_sarif_is_valid_against_the_published_schema(corpus_sarif: dict[str, Any]) -> None:
    validator = jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(corpus_sarif), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_schema_rejects_a_broken_log(corpus_sarif: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(corpus_sarif))
    broken["runs"][0]["results"][0]["level"] = "fatal"
    assert not jsonschema.Draft7Validator(SCHEMA).is_valid(broken)


def test_sarif_carries_rule_metadata_and_locations(corpus_sarif: dict[str, Any]) -> None:
    run = corpus_sarif["runs"][0]
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == REPO.as_uri() + "/"
    rules = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        rule = rules[result["ruleIndex"]]
        assert rule["id"] == result["ruleId"]
        assert rule["name"] == RULES[rule["id"]].name
        assert f"'{rule['id']} {rule['name']}' in deploypkg's docs/rules.md" in rule["help"]["text"]
        assert "helpUri" not in rule, "no guessed links: deploypkg has no published documentation URL"
        assert result["partialFingerprints"]
    first = next(r for r in run["results"] if r["ruleId"] == "DPK101")
    assert first["level"] == "error"
    assert first["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "fixtures/validate/aws/cfn-instance.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 18, "startColumn": 16, "endLine": 18, "endColumn": 28},
    }
    levels = {result["ruleId"]: result["level"] for result in run["results"]}
    assert levels["DPK103"] == "warning" and levels["DPK202"] == "warning"


def test_fingerprints_survive_inserted_lines(tmp_path: Any) -> None:
    """A finding keeps its fingerprint when lines are added above it (GitHub tracks alerts by it)."""
    source = (FIXTURES / "validate" / "aws" / "legacy.template").read_text(encoding="utf-8")
    (tmp_path / "a.template").write_text(source, encoding="utf-8")
    before = json.loads(run_cli("validate", "--format", "sarif", "a.template", cwd=tmp_path).stdout)
    (tmp_path / "a.template").write_text("# a comment\n# another\n" + source, encoding="utf-8")
    after = json.loads(run_cli("validate", "--format", "sarif", "a.template", cwd=tmp_path).stdout)
    old, new = before["runs"][0]["results"][0], after["runs"][0]["results"][0]
    assert new["locations"][0]["physicalLocation"]["region"]["startLine"] == 8
    assert old["partialFingerprints"] == new["partialFingerprints"]
