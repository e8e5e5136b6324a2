"""What a render writes besides the templates: ``<region>/artifacts.json`` and ``manifest.json``
(per region every substitution, and the catalog documents used with their ETag or digest).

``manifest.json`` is compact JSON with sorted keys. Its ``regions`` member sorts last, so the
file is the head (:func:`manifest_head`, known once every region is done) followed by each
region's entry (:func:`region_entry`, encoded when that region is done): a region's records are
held only while that region renders.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import PurePosixPath
from typing import Any

from preprocessor.render.resolve import Artifact, ArtifactResolver

MANIFEST_FORMAT = 1
REGIONS_KEY = "regions"

SubstitutionOrder = tuple[str, int, int, str]
"""(file, line, column, kind): the order of a region's substitutions in the manifest."""


@dataclass
class RegionOutput:
    """One region's render as the manifest and the report see it; the files themselves are in
    the staging directory as soon as they are rendered."""

    name: str
    files: list[str] = field(default_factory=list)
    """Output paths (POSIX, relative to the region directory) of rendered and copied files."""
    substitutions: list[tuple[SubstitutionOrder, str]] = field(default_factory=list)
    """The manifest's records of what changed, from what, to what, and from which package
    (fields that do not apply are left out, never null), each encoded (:func:`compact_json`)
    with its place in the manifest; emptied once the region's entry is encoded."""
    substitution_count: int = 0
    artifacts: dict[tuple[str, str, str], Artifact] = field(default_factory=dict)
    """(package, version, kind) → the artifact the region's files use."""
    credential_files: set[PurePosixPath] = field(default_factory=set)
    """Rendered files holding a registry pull token: written 0600, listed in the manifest."""


def compact_json(data: Any) -> str:
    """How the manifest is encoded: sorted keys, no whitespace (json's C encoder)."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def artifacts_document(region: RegionOutput) -> dict[str, Any]:
    return {
        "region": region.name,
        "artifacts": [artifact.to_json() for artifact in sorted(region.artifacts.values())],
    }


def substitution_order(record: Mapping[str, Any]) -> SubstitutionOrder:
    """A record's place among a region's substitutions: by file, line, column and kind (a
    record without a position, from a ``.j2`` file, first in its file)."""
    return (record["file"], record.get("line", 0), record.get("column", 0), record["kind"])


def region_entry(region: RegionOutput) -> str:
    """``"<region>":{…}``, the region's member of the manifest's ``regions`` object (sorted
    keys: ``credential_files``, ``files``, ``substitutions``)."""
    members = []
    if region.credential_files:
        members.append('"credential_files":' + compact_json(sorted(p.as_posix() for p in region.credential_files)))
    members.append('"files":' + compact_json(sorted(region.files)))
    records = sorted(region.substitutions, key=itemgetter(0))  # stable: ties keep their render order
    members.append('"substitutions":[' + ",".join(encoded for _, encoded in records) + "]")
    return compact_json(region.name) + ":{" + ",".join(members) + "}"


def manifest_head(
    resolvers: Mapping[tuple[str, str | None], ArtifactResolver],
    excluded: dict[str, str],
    expires: int,
    endpoint: str,
) -> dict[str, Any]:
    """Every member of the manifest but ``regions``."""
    catalogs = [
        {"url": url, "account": account, "documents": dict(sorted(resolver.catalog.documents_read().items()))}
        for (url, account), resolver in sorted(resolvers.items(), key=lambda item: (item[0][0], item[0][1] or ""))
    ]
    return {
        "format_version": MANIFEST_FORMAT,
        "expires": expires,
        "endpoint": endpoint,
        "catalogs": catalogs,
        "excluded_regions": excluded,
    }


def manifest_prefix(head: dict[str, Any]) -> str:
    """The manifest's text up to the first region's entry."""
    if REGIONS_KEY in head or any(key > REGIONS_KEY for key in head):
        raise ValueError(f"{REGIONS_KEY!r} must be the last member of the manifest")
    encoded = compact_json(head)
    return encoded[:-1] + ("," if head else "") + f'"{REGIONS_KEY}":{{'


MANIFEST_SUFFIX = "}}\n"
"""The manifest's text after the last region's entry."""
