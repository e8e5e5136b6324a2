"""What a render writes besides the templates: ``<region>/artifacts.json`` and ``manifest.json``
(per region every substitution, and the catalog documents used with their ETag or digest).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from preprocessor.render.resolve import Artifact, ArtifactResolver

MANIFEST_FORMAT = 1


@dataclass
class RegionOutput:
    """One region's render, held in memory until every region has succeeded."""

    name: str
    files: dict[PurePosixPath, bytes] = field(default_factory=dict)
    """Rendered templates: output path → bytes."""
    copies: dict[PurePosixPath, Path] = field(default_factory=dict)
    """Other files of the input tree, copied along: output path → source file."""
    substitutions: list[dict[str, Any]] = field(default_factory=list)
    """The manifest's records of what changed, from what, to what, and from which package
    (fields that do not apply are left out, never null)."""
    artifacts: dict[tuple[str, str, str], Artifact] = field(default_factory=dict)
    """(package, version, kind) → the artifact the region's files use."""
    credential_files: set[PurePosixPath] = field(default_factory=set)
    """Rendered files holding a registry pull token: written 0600, listed in the manifest."""


def artifacts_document(region: RegionOutput) -> dict[str, Any]:
    return {
        "region": region.name,
        "artifacts": [artifact.to_json() for artifact in sorted(region.artifacts.values())],
    }


def manifest_document(
    resolvers: Mapping[tuple[str, str | None], ArtifactResolver],
    rendered: list[RegionOutput],
    excluded: dict[str, str],
    expires: int,
    endpoint: str,
) -> dict[str, Any]:
    catalogs = [
        {"url": url, "account": account, "documents": dict(sorted(resolver.catalog.documents_read().items()))}
        for (url, account), resolver in sorted(resolvers.items(), key=lambda item: (item[0][0], item[0][1] or ""))
    ]
    return {
        "format_version": MANIFEST_FORMAT,
        "expires": expires,
        "endpoint": endpoint,
        "catalogs": catalogs,
        "regions": {
            region.name: {
                "files": sorted(p.as_posix() for p in (*region.files, *region.copies)),
                **(
                    {"credential_files": sorted(p.as_posix() for p in region.credential_files)}
                    if region.credential_files
                    else {}
                ),
                "substitutions": sorted(
                    region.substitutions,
                    key=lambda sub: (sub["file"], sub.get("line", 0), sub.get("column", 0), sub["kind"]),
                ),
            }
            for region in rendered
        },
        "excluded_regions": excluded,
    }
