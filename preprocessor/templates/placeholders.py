"""Compute Nest artifact placeholders (``{{ computenest::TYPE::NAME }}``) in raw string text.

Every placeholder-shaped text is recorded, including unknown types and empty names (validate
reports those as DPK203); ``{{resolve:…}}`` dynamic references are not placeholders.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from preprocessor.model import LineIndex, Placeholder

PLACEHOLDER = re.compile(r"\{\{\s*computenest::(?P<type>[^:{}\s]*)(?:::(?P<name>[^{}\s]*))?\s*\}\}")


def find_placeholders(
    text: str,
    start: int,
    end: int,
    lines: LineIndex,
    file: str,
    resource: str | None = None,
    resource_type: str | None = None,
    prop: str | None = None,
) -> Iterator[Placeholder]:
    """Placeholders in ``text[start:end]`` (the raw source of one string value)."""
    if text.find("computenest::", start, end) == -1:
        return
    for match in PLACEHOLDER.finditer(text, start, end):
        yield Placeholder(
            file,
            lines.span(match.start(), match.end()),
            match.group("type"),
            match.group("name") or "",
            resource,
            resource_type,
            prop,
        )
