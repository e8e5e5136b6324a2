"""One finding, whoever reports it (validate, render, plan): the rule, where, what, what to do."""

from __future__ import annotations

from typing import NamedTuple

from preprocessor.model import Span
from preprocessor.rules import RULES, Severity


class Diagnostic(NamedTuple):
    rule_id: str
    severity: Severity
    message: str
    """What is wrong."""
    file: str | None
    """The path as shown to the user; ``None`` for a finding about the whole run."""
    line: int = 0
    column: int = 0
    end_line: int = 0
    end_column: int = 0
    hint: str | None = None
    """What to do about it."""

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file or "", self.line, self.column, self.rule_id)

    @property
    def rule_name(self) -> str:
        return RULES[self.rule_id].name


def finding(rule_id: str, file: str | None, span: Span | None, message: str, hint: str | None = None) -> Diagnostic:
    """A finding of ``rule_id`` at its default severity (overrides are applied later)."""
    severity = RULES[rule_id].severity
    if span is None:
        return Diagnostic(rule_id, severity, message, file, hint=hint)
    return Diagnostic(rule_id, severity, message, file, span.line, span.column, span.end_line, span.end_column, hint)
