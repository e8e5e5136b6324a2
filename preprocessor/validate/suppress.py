"""Inline suppressions and severity overrides.

``# deploypkg: ignore=DPK101[,DPK102]`` (or ``//`` in HCL; a Terraform JSON ``"//"`` comment
property works too) silences the listed rules on its own line, or on the next line when the
comment stands alone on its line. JSON templates have no comments: their ``Metadata`` key
lists rule IDs for the whole file (``Template.metadata_suppressions``). Severity overrides
come from the project config's ``rules:`` (``off`` drops the rule).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from preprocessor.diagnostics import Diagnostic
from preprocessor.rules import Severity

_DIRECTIVE = re.compile(r"(?:#|//)[^\n]*?\bdeploypkg:\s*ignore\s*=\s*([A-Za-z]+\d+(?:\s*,\s*[A-Za-z]+\d+)*)")
_COMMENT_ONLY = re.compile(r'\s*(?:#|//|"//")')


def line_suppressions(text: str) -> dict[int, frozenset[str]]:
    """1-based line → rule IDs suppressed on it."""
    if "deploypkg" not in text:
        return {}  # no directive can match: most files have none, and reading line by line is slow
    found: dict[int, set[str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = _DIRECTIVE.search(line)
        if match is None:
            continue
        ids = {part.strip().upper() for part in match.group(1).split(",") if part.strip()}
        found.setdefault(number, set()).update(ids)
        if _COMMENT_ONLY.match(line):
            found.setdefault(number + 1, set()).update(ids)
    return {number: frozenset(ids) for number, ids in found.items()}


class Suppressions:
    """Answers "is this diagnostic suppressed?" from the texts already read (display name →
    text), each file's comments parsed once. A file without a text here (one that could not
    be read) has no suppressions: nothing is read from disk, so a pipe or a device named by a
    diagnostic is never opened again."""

    def __init__(self, texts: Mapping[str, str], file_wide: Mapping[str, frozenset[str]]) -> None:
        self._texts = texts
        self._file_wide = file_wide
        self._lines: dict[str, dict[int, frozenset[str]]] = {}

    def _for(self, file: str) -> dict[int, frozenset[str]]:
        lines = self._lines.get(file)
        if lines is None:
            text = self._texts.get(file)
            lines = line_suppressions(text) if text is not None else {}
            self._lines[file] = lines
        return lines

    def suppressed(self, diagnostic: Diagnostic) -> bool:
        if diagnostic.file is None:
            return False  # about the whole run: no file can suppress it
        if diagnostic.rule_id in self._file_wide.get(diagnostic.file, frozenset()):
            return True
        return diagnostic.rule_id in self._for(diagnostic.file).get(diagnostic.line, frozenset())


def apply_overrides(diagnostics: Iterable[Diagnostic], overrides: Mapping[str, Severity | None]) -> list[Diagnostic]:
    """Diagnostics with the config's severities; rules set to ``off`` dropped."""
    result = []
    for diagnostic in diagnostics:
        if diagnostic.rule_id in overrides:
            severity = overrides[diagnostic.rule_id]
            if severity is None:
                continue
            diagnostic = diagnostic._replace(severity=severity)
        result.append(diagnostic)
    return result
