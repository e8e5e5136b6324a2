"""GitLab Code Quality (a subset of the Code Climate issue format): what a merge request's
Code Quality widget shows. ``fingerprint`` is the line-text identity SARIF uses too, so a
finding keeps it when lines are inserted above."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from preprocessor.diagnostics import Diagnostic
from preprocessor.rules import Severity
from preprocessor.validate.fingerprints import line_fingerprints

_SEVERITY = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}
NO_FILE = "deploypkg.yaml"
"""A finding about no file is shown against the project's config."""


def format_gitlab(diagnostics: Sequence[Diagnostic], files: Sequence[str] = ()) -> str:
    issues = []
    for d, identity in zip(diagnostics, line_fingerprints(diagnostics), strict=True):
        issues.append(
            {
                "type": "issue",
                "description": f"{d.message}. {d.hint}" if d.hint else d.message,
                "check_name": f"{d.rule_id} {d.rule_name}",
                "fingerprint": hashlib.md5(identity.encode("utf-8"), usedforsecurity=False).hexdigest(),
                "severity": _SEVERITY[d.severity],
                "categories": ["Bug Risk"],
                "location": {"path": d.file or NO_FILE, "lines": {"begin": max(1, d.line)}},
            }
        )
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
