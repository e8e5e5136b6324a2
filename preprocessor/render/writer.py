"""A render's output, streamed into the staging directory: each file as soon as it is rendered,
each region's ``artifacts.json`` and manifest entry when the region is done, ``manifest.json``
at the end. What stays in memory is one region's manifest records at a time; the entries of
finished regions wait on disk, in the staging directory, until the manifest is assembled.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from preprocessor.render.manifest import (
    MANIFEST_SUFFIX,
    RegionOutput,
    artifacts_document,
    manifest_head,
    manifest_prefix,
    region_entry,
)
from preprocessor.render.output import ARTIFACTS_NAME, MANIFEST_NAME, StagedDirectory, json_bytes
from preprocessor.render.resolve import ArtifactResolver

ENTRIES = ".manifest-entries"
"""Staging subdirectory of finished regions' manifest entries (no region name starts with a dot);
removed before the output is published."""


class RenderWriter:
    def __init__(self, staged: StagedDirectory) -> None:
        self.staged = staged
        self.seconds = {"manifest": 0.0, "write": 0.0}
        """Seconds spent encoding (manifest entries, ``artifacts.json``) and writing."""
        self._entries: set[str] = set()
        """Regions whose manifest entry is staged."""

    def write(self, region: str, output: str, data: bytes, *, private: bool = False) -> None:
        started = time.perf_counter()
        self.staged.write_file(f"{region}/{output}", data, private=private)
        self.seconds["write"] += time.perf_counter() - started

    def copy(self, region: str, output: str, source: Path) -> None:
        started = time.perf_counter()
        self.staged.copy_file(f"{region}/{output}", source)
        self.seconds["write"] += time.perf_counter() - started

    def finish(self, region: RegionOutput) -> None:
        """Write the region's ``artifacts.json`` and stage its manifest entry; its records are
        then dropped from memory (their count is kept)."""
        started = time.perf_counter()
        artifacts = json_bytes(artifacts_document(region))
        entry = region_entry(region).encode("utf-8")
        region.substitution_count = len(region.substitutions)
        region.substitutions = []
        encoded = time.perf_counter()
        self.staged.write_file(f"{region.name}/{ARTIFACTS_NAME}", artifacts)
        self.staged.write_file(f"{ENTRIES}/{region.name}", entry)
        self._entries.add(region.name)
        self.seconds["manifest"] += encoded - started
        self.seconds["write"] += time.perf_counter() - encoded

    def drop(self, region: str) -> None:
        """Remove whatever a region left out after it started has staged."""
        started = time.perf_counter()
        self.staged.remove(region)
        if region in self._entries:
            self.staged.remove(f"{ENTRIES}/{region}")
            self._entries.discard(region)
        self.seconds["write"] += time.perf_counter() - started

    def write_manifest(
        self,
        resolvers: dict[tuple[str, str | None], ArtifactResolver],
        excluded: dict[str, str],
        expires: int,
        endpoint: str,
    ) -> None:
        """``manifest.json``: the head, then the staged region entries in name order, copied
        through (no region's records are read back into memory as objects)."""
        started = time.perf_counter()
        prefix = manifest_prefix(manifest_head(resolvers, excluded, expires, endpoint)).encode("utf-8")
        self.seconds["manifest"] += time.perf_counter() - started
        started = time.perf_counter()
        entries = self.staged.root / ENTRIES
        with open(self.staged.root / MANIFEST_NAME, "xb") as manifest:
            manifest.write(prefix)
            for index, name in enumerate(sorted(self._entries)):
                if index:
                    manifest.write(b",")
                with open(entries / name, "rb") as entry:
                    shutil.copyfileobj(entry, manifest)
            manifest.write(MANIFEST_SUFFIX.encode("ascii"))
        if self._entries:
            shutil.rmtree(entries)
        self.seconds["write"] += time.perf_counter() - started
