"""The one owner of what deploypkg prints about findings and errors: the terminal-safe escaping,
the ``file:line:col`` location, the text line and the JSON record of a finding, and the table of
report formats (``validate --format``). Every command prints through here.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from importlib import import_module

from preprocessor.diagnostics import Diagnostic


def printable(text: str) -> str:
    """``text`` with control and invisible formatting characters escaped (``\\x7f``, ``\\u202e``),
    so a hostile file name cannot move the cursor or rewrite a terminal line. Newlines stay."""
    if text.isprintable():
        return text
    out = []
    for char in text:
        if char != "\n" and unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def location(file: str | None, line: int | None = None, column: int | None = None) -> str:
    """``file:line:col`` (as much as is known), escaped; empty without a file."""
    if file is None:
        return ""
    parts = [file]
    if line:
        parts.append(str(line))
        if column:
            parts.append(str(column))
    return printable(":".join(parts))


def diagnostic_line(d: Diagnostic) -> str:
    """``file:line:col: severity ID message; hint`` — the one text line of a finding."""
    where = location(d.file, d.line, d.column)
    advice = f"; {d.hint}" if d.hint else ""
    body = printable(f"{d.severity.value} {d.rule_id} {d.message}{advice}")
    return f"{where}: {body}" if where else body


def diagnostic_record(d: Diagnostic) -> dict[str, object]:
    """The one JSON shape of a finding (``validate``, ``render``, ``plan`` alike)."""
    return {
        "file": d.file,
        "line": d.line,
        "column": d.column,
        "end_line": d.end_line,
        "end_column": d.end_column,
        "rule_id": d.rule_id,
        "rule_name": d.rule_name,
        "severity": d.severity.value,
        "message": d.message,
        "hint": d.hint,
    }


def summary(diagnostics: Sequence[Diagnostic]) -> str:
    if not diagnostics:
        return "no problems found"
    counts = {"error": 0, "warning": 0, "info": 0}
    for d in diagnostics:
        counts[d.severity.value] += 1
    parts = [f"{n} {name}{'s' if n != 1 else ''}" for name, n in counts.items() if n]
    return "found " + ", ".join(parts)


def format_text(diagnostics: Sequence[Diagnostic], files: Sequence[str] = ()) -> str:
    """A line per finding, then the summary line."""
    return "\n".join([*(diagnostic_line(d) for d in diagnostics), summary(diagnostics)]) + "\n"


def format_json(diagnostics: Sequence[Diagnostic], files: Sequence[str] = ()) -> str:
    return json.dumps([diagnostic_record(d) for d in diagnostics], indent=2, ensure_ascii=False) + "\n"


FORMATS: Mapping[str, str] = {
    "text": "preprocessor.output:format_text",
    "json": "preprocessor.output:format_json",
    "sarif": "preprocessor.validate.sarif:format_sarif",
    "junit": "preprocessor.validate.junit:format_junit",
    "gitlab": "preprocessor.validate.gitlab:format_gitlab",
}
"""Report format → ``module:function(findings, files)`` turning the findings (and the files
checked, for formats that list passing files too) into the report's text; a format's module is
imported only when it is asked for."""

Formatter = Callable[[Sequence[Diagnostic], Sequence[str]], str]


def formatter(name: str) -> Formatter:
    module, _, function = FORMATS[name].partition(":")
    found: Formatter = getattr(import_module(module), function)
    return found
