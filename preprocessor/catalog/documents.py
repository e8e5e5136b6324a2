"""How a catalog document is stored, the same in every store: UTF-8 JSON, one object per key."""

from __future__ import annotations

import json
from typing import Any

from preprocessor.errors import CatalogError


def encode_document(data: dict[str, Any]) -> bytes:
    """The bytes a document is stored as: indented JSON, keys in model order, a final newline."""
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def decode_document(raw: bytes, key: str, where: str) -> dict[str, Any]:
    """A document's bytes as a JSON object, or :class:`CatalogError` with the position."""
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise CatalogError(f"catalog document {key} is not UTF-8: {exc.reason}", file=where) from None
    except json.JSONDecodeError as exc:
        raise CatalogError(
            f"catalog document {key} is not valid JSON: {exc.msg}", file=where, line=exc.lineno, column=exc.colno
        ) from None
    if not isinstance(data, dict):
        raise CatalogError(f"catalog document {key} must be a JSON object", file=where)
    return data
