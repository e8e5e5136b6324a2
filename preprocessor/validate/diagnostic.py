"""One finding of ``deploypkg validate``."""

from __future__ import annotations

from typing import NamedTuple

from preprocessor.rules import Severity


class Diagnostic(NamedTuple):
    rule_id: str
    severity: Severity
    message: str
    """What is wrong."""
    file: str
    """The path as shown to the user."""
    line: int
    column: int
    end_line: int
    end_column: int
    hint: str | None = None
    """What to do about it."""

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file, self.line, self.column, self.rule_id)
