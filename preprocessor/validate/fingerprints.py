"""Finding identities that survive edits above them: the rule, the file and the text of the
flagged line (not its number), and which of the same on that line it is. SARIF's
``partialFingerprints`` and GitLab Code Quality's ``fingerprint`` are both these."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from preprocessor.diagnostics import Diagnostic


class _LineTexts:
    def __init__(self) -> None:
        self._files: dict[str, list[str]] = {}

    def get(self, file: str, line: int) -> str:
        lines = self._files.get(file)
        if lines is None:
            try:
                lines = Path(file).read_text(encoding="utf-8-sig").splitlines()
            except (OSError, UnicodeDecodeError):
                lines = []
            self._files[file] = lines
        return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def line_fingerprints(diagnostics: Sequence[Diagnostic]) -> list[str]:
    """``digest:occurrence`` for each finding, in order."""
    texts = _LineTexts()
    seen: dict[str, int] = {}
    found = []
    for d in diagnostics:
        basis = f"{d.rule_id}\0{d.file}\0{texts.get(d.file, d.line) if d.file else ''}"
        occurrence = seen.get(basis, 0) + 1
        seen[basis] = occurrence
        found.append(f"{hashlib.sha256(basis.encode('utf-8')).hexdigest()[:32]}:{occurrence}")
    return found
