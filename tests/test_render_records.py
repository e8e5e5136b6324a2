"""A manifest record encoded from its fixed part and a region's fields is byte for byte the
compact sorted-key JSON of the whole record."""

from __future__ import annotations

from typing import Any

import pytest

from preprocessor.render.manifest import compact_json, substitution_order
from preprocessor.render.records import RecordShape, RegionFields

FIXED: dict[str, Any] = {
    "file": "a/{b}/web.yaml",
    "line": 12,
    "column": 30,
    "end_line": 12,
    "end_column": 64,
    "kind": "file",
    "resource": None,
    "property": "UserData",
    "old": "{{ computenest::file::app-bundle }}",
}


@pytest.mark.parametrize(
    "region",
    [
        {"new": "https://b.example/k?X-Amz-Signature=ab%7Bcd&x={0}", "package": "app@1.0", "channel": None},
        {"new": "ami-0123456789abcdef0", "package": "web@2", "channel": "prod"},
        {"new": "docker config JSON (base64) with pull tokens for ümlaut.example"},
    ],
)
def test_an_encoded_record_is_the_whole_records_json(region: dict[str, Any]) -> None:
    shape = RecordShape(FIXED)
    whole = {key: value for key, value in {**FIXED, **region}.items() if value is not None}
    assert shape.encode(RegionFields.of(region)) == compact_json(whole)
    assert shape.encode(RegionFields.of(region)) == compact_json(whole)  # the cached layout, again
    assert shape.order == substitution_order(whole) == ("a/{b}/web.yaml", 12, 30, "file")


def test_a_field_cannot_be_both_fixed_and_per_region() -> None:
    with pytest.raises(ValueError, match="old"):
        RecordShape(FIXED).encode(RegionFields.of({"old": "x", "new": "y"}))
