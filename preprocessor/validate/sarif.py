"""SARIF 2.1.0 output, as GitHub code scanning reads it.

Paths shown relative to the working directory become relative URIs against ``%SRCROOT%``
(the working directory); columns count Unicode code points, as our positions do.
``partialFingerprints`` hash the rule, the file and the text of the flagged line (not its
number), so a finding keeps its identity when lines are inserted above it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from preprocessor import __version__
from preprocessor.diagnostics import Diagnostic
from preprocessor.rules import RULES, Severity
from preprocessor.validate.checks import VALIDATE_RULE_IDS
from preprocessor.validate.fingerprints import line_fingerprints

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
# No helpUri/informationUri: deploypkg has no published home page yet, and a guessed URL would
# send code-scanning users to a dead link. The help text names the rules document instead.
FINGERPRINT_KEY = "deploypkgLineHash/v1"

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _rule_descriptor(rule_id: str) -> dict[str, object]:
    rule = RULES[rule_id]
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.summary},
        "help": {
            "text": f"{rule.summary} See '{rule.id} {rule.name}' in deploypkg's docs/rules.md for how to fix it;"
            f" suppress one line with '# deploypkg: ignore={rule.id}'."
        },
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
    }


def _locations(d: Diagnostic) -> list[dict[str, object]]:
    if d.file is None:
        return []
    path = Path(d.file)
    artifact: dict[str, object]
    if path.is_absolute():
        artifact = {"uri": path.as_uri()}
    else:
        artifact = {"uri": quote(path.as_posix()), "uriBaseId": "%SRCROOT%"}
    region = {"startLine": d.line, "startColumn": d.column}
    if (d.end_line, d.end_column) > (d.line, d.column):
        region.update(endLine=d.end_line, endColumn=d.end_column)
    return [{"physicalLocation": {"artifactLocation": artifact, "region": region}}]


def to_sarif(diagnostics: Sequence[Diagnostic], cwd: Path | None = None) -> dict[str, object]:
    rule_ids = sorted(set(VALIDATE_RULE_IDS) | {d.rule_id for d in diagnostics})
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    results = []
    for d, fingerprint in zip(diagnostics, line_fingerprints(diagnostics), strict=True):
        text = f"{d.message}. {d.hint}" if d.hint else d.message
        results.append(
            {
                "ruleId": d.rule_id,
                "ruleIndex": index[d.rule_id],
                "level": _LEVEL[d.severity],
                "message": {"text": text},
                "locations": _locations(d),
                "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
            }
        )
    root = (cwd or Path.cwd()).resolve().as_uri().rstrip("/") + "/"
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "deploypkg",
                        "version": __version__,
                        "rules": [_rule_descriptor(rule_id) for rule_id in rule_ids],
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": root}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def format_sarif(diagnostics: Sequence[Diagnostic], files: Sequence[str] = ()) -> str:
    return json.dumps(to_sarif(diagnostics), indent=2, ensure_ascii=False) + "\n"
