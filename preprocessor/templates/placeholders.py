"""Compute Nest artifact placeholders (``{{ computenest::TYPE::NAME }}``) in raw string text.

Every placeholder-shaped text is recorded, including unknown types and empty names (validate
reports those as DPK203); ``{{resolve:…}}`` dynamic references are not placeholders.
"""

from __future__ import annotations

import re
from bisect import bisect_left
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


class Marks:
    """Where ``computenest::`` occurs in a text: a walk for placeholders need only enter the
    values whose span holds one (and so need not build a lazy node that holds none)."""

    __slots__ = ("_offsets",)

    def __init__(self, text: str) -> None:
        offsets = []
        found = text.find("computenest::")
        while found != -1:
            offsets.append(found)
            found = text.find("computenest::", found + 1)
        self._offsets = offsets

    def __bool__(self) -> bool:
        return bool(self._offsets)

    def within(self, start: int, end: int) -> bool:
        index = bisect_left(self._offsets, start)
        return index < len(self._offsets) and self._offsets[index] < end
