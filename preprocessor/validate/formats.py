"""Text and JSON output of diagnostics (SARIF is in :mod:`preprocessor.validate.sarif`)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from preprocessor.errors import printable
from preprocessor.rules import RULES
from preprocessor.validate.diagnostic import Diagnostic


def format_text(diagnostics: Sequence[Diagnostic]) -> str:
    """``path:line:col: severity ID message; hint`` per line, then a summary line."""
    lines = []
    for d in diagnostics:
        advice = f"; {d.hint}" if d.hint else ""
        # A file name or a value quoted from a template may hold control characters: never raw on a terminal.
        lines.append(printable(f"{d.file}:{d.line}:{d.column}: {d.severity.value} {d.rule_id} {d.message}{advice}"))
    lines.append(summary(diagnostics))
    return "\n".join(lines) + "\n"


def summary(diagnostics: Sequence[Diagnostic]) -> str:
    if not diagnostics:
        return "no problems found"
    counts = {"error": 0, "warning": 0, "info": 0}
    for d in diagnostics:
        counts[d.severity.value] += 1
    parts = [f"{n} {name}{'s' if n != 1 else ''}" for name, n in counts.items() if n]
    return "found " + ", ".join(parts)


def as_dict(d: Diagnostic) -> dict[str, object]:
    return {
        "file": d.file,
        "line": d.line,
        "column": d.column,
        "end_line": d.end_line,
        "end_column": d.end_column,
        "rule_id": d.rule_id,
        "rule_name": RULES[d.rule_id].name,
        "severity": d.severity.value,
        "message": d.message,
        "hint": d.hint,
    }


def format_json(diagnostics: Sequence[Diagnostic]) -> str:
    return json.dumps([as_dict(d) for d in diagnostics], indent=2, ensure_ascii=False) + "\n"
