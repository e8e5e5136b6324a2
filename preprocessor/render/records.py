"""Manifest substitution records, encoded with their region-independent part done once.

A use's record is the same in every region but for a few fields (``new``, ``package``,
``channel``). :class:`RecordShape` encodes the rest once, as compact sorted-key JSON with a slot
per region field; a region then fills the slots with its values, each encoded once per region
and artifact. The result is byte for byte what :func:`~preprocessor.render.manifest.compact_json`
gives for the whole record.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from preprocessor.render.manifest import compact_json, substitution_order


def record(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A manifest record: absent fields are left out, not null."""
    return {key: value for key, value in fields.items() if value is not None}


class RegionFields(NamedTuple):
    """The region's fields of a record: names (sorted) and their encoded values."""

    names: tuple[str, ...]
    encoded: tuple[str, ...]

    @classmethod
    def of(cls, fields: Mapping[str, Any]) -> RegionFields:
        present = sorted(record(fields).items())
        return cls(tuple(name for name, _ in present), tuple(compact_json(value) for _, value in present))


def _escaped(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


class RecordShape:
    """One use's record: its fixed fields encoded once, per set of region field names."""

    def __init__(self, fixed: Mapping[str, Any]) -> None:
        self.fixed = record(fixed)
        self.order = substitution_order(self.fixed)
        """Where the record goes in the manifest (its fixed fields decide)."""
        self._formats: dict[tuple[str, ...], str] = {}

    def encode(self, region: RegionFields) -> str:
        """The record with the region's fields, as compact sorted-key JSON."""
        layout = self._formats.get(region.names)
        if layout is None:
            layout = self._layout(region.names)
            self._formats[region.names] = layout
        return layout.format(*region.encoded)

    def _layout(self, names: tuple[str, ...]) -> str:
        overlap = set(names) & set(self.fixed)
        if overlap:
            raise ValueError(f"record fields {sorted(overlap)} are both fixed and per region")
        slots = {name: index for index, name in enumerate(names)}
        members = []
        for name in sorted({*self.fixed, *names}):
            value = f"{{{slots[name]}}}" if name in slots else _escaped(compact_json(self.fixed[name]))
            members.append(_escaped(compact_json(name)) + ":" + value)
        return "{{" + ",".join(members) + "}}"
