"""Errors the CLI turns into a clear message and an exit code, never a traceback."""

from __future__ import annotations

from typing import TYPE_CHECKING

from preprocessor.output import location, printable

if TYPE_CHECKING:
    from preprocessor.diagnostics import Diagnostic

__all__ = ["ConfigError", "DeploypkgError", "InputError"]


class DeploypkgError(Exception):
    """Base of every expected failure.

    ``exit_code`` follows the project convention: 1 policy failure / findings,
    2 bad input or usage.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
        rule: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.hint = hint
        self.rule = rule

    def location(self) -> str:
        return location(self.file, self.line, self.column)

    def render(self) -> str:
        """``file:line:col: [RULE] message`` plus the hint on its own line."""
        head = self.location()
        rule = f"{self.rule} " if self.rule else ""
        message = printable(self.message)
        text = f"{head}: {rule}{message}" if head else f"{rule}{message}"
        if self.hint:
            text += f"\n  hint: {printable(self.hint)}"
        return text

    def record(self) -> dict[str, object]:
        """The JSON shape of a refusal: the keys of a finding's record that it has."""
        found = {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "rule_id": self.rule,
            "message": self.message,
            "hint": self.hint,
        }
        return {key: value for key, value in found.items() if value is not None}


class InputError(DeploypkgError):
    """Bad input: a file that cannot be read or parsed, a malformed config, bad usage."""

    exit_code = 2

    @classmethod
    def of(cls, diagnostic: Diagnostic) -> InputError:
        """A finding that stops the run, as the error that reports it."""
        return cls(
            diagnostic.message,
            file=diagnostic.file,
            line=diagnostic.line or None,
            column=diagnostic.column or None,
            hint=diagnostic.hint,
            rule=diagnostic.rule_id,
        )


class TemplateParseError(InputError):
    """A template that does not parse; carries the parser's position."""


class ConfigError(InputError):
    """The project config (deploypkg.yaml / .computenest/config.yaml) is malformed."""


class CatalogError(DeploypkgError):
    """The catalog is missing a document, is malformed, or refuses an operation."""

    exit_code = 2


class ConflictError(CatalogError):
    """A conditional write lost: somebody else wrote the document first."""

    exit_code = 1


class PolicyError(DeploypkgError):
    """An access rule or availability check refused: exit 1, with a stable rule ID."""

    exit_code = 1
