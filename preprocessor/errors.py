"""Errors the CLI turns into a clear message and an exit code, never a traceback."""

from __future__ import annotations

import unicodedata


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
        if self.file is None:
            return ""
        parts = [printable(self.file)]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def render(self) -> str:
        """``file:line:col: [RULE] message`` plus the hint on its own line."""
        head = self.location()
        rule = f"{self.rule} " if self.rule else ""
        message = printable(self.message)
        text = f"{head}: {rule}{message}" if head else f"{rule}{message}"
        if self.hint:
            text += f"\n  hint: {printable(self.hint)}"
        return text


class InputError(DeploypkgError):
    """Bad input: a file that cannot be read or parsed, a malformed config, bad usage."""

    exit_code = 2


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
