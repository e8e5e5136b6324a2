"""Copy an image or chart by digest from one registry to another (or within one).

Everything the manifest references is copied before the manifest, children before their index:
blobs already in the target are skipped (HEAD), blobs within one registry are mounted from the
source repository, others are streamed chunk by chunk from the source's GET into the target's
upload (never a whole layer in memory, never a file on disk). Manifests are put with their exact
bytes by digest, then the tag; the target's digest for the tag is checked at the end, so a copy
that reports success is one the target serves.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import NamedTuple

from preprocessor.oci.client import INDEX_TYPES, Manifest, RegistryClient, RegistryError
from preprocessor.oci.reference import Reference

ClientFor = Callable[[str], RegistryClient]
"""The client of a registry host (shared between copies, so tokens and connections are reused)."""


class CopyResult(NamedTuple):
    digest: str
    manifests: int
    blobs_copied: int
    blobs_mounted: int
    blobs_present: int


class _Copy:
    def __init__(self, source: Reference, target: Reference, client_for: ClientFor) -> None:
        self.source = source
        self.target = target
        self.src = client_for(source.registry)
        self.dst = client_for(target.registry)
        self.same_registry = source.registry == target.registry
        self.manifests = self.copied = self.mounted = self.present = 0

    def blob(self, digest: str) -> None:
        repo = self.target.repository
        if self.dst.has_blob(repo, digest):
            self.present += 1
        elif self.same_registry and self.dst.mount_blob(repo, digest, self.source.repository):
            self.mounted += 1
        else:
            self.dst.push_blob(repo, digest, self.src.blob_chunks(self.source.repository, digest))
            self.copied += 1

    def manifest(self, manifest: Manifest) -> None:
        """Copy what ``manifest`` references, then the manifest itself by digest."""
        try:
            document = json.loads(manifest.body)
        except ValueError:
            raise RegistryError(f"{self.source}: manifest {manifest.digest} is not JSON") from None
        media_type = manifest.media_type or str(document.get("mediaType", ""))
        if media_type in INDEX_TYPES or "manifests" in document:
            for child in document.get("manifests") or []:
                digest = str(child.get("digest", ""))
                if self.dst.manifest_digest(self.target.repository, digest) == digest:
                    self.manifests += 1
                    continue
                found = self.src.get_manifest(self.source.repository, digest)
                if found is None:
                    raise RegistryError(f"{self.source}: the index names {digest}, which the registry does not have")
                self.manifest(found)
        else:
            config = document.get("config") or {}
            blobs = [config.get("digest")] + [layer.get("digest") for layer in document.get("layers") or []]
            for blob in blobs:
                if isinstance(blob, str) and blob:
                    self.blob(blob)
        self.dst.put_manifest(self.target.repository, manifest.digest, manifest)
        self.manifests += 1


def copy_reference(source: Reference, target: Reference, client_for: ClientFor) -> CopyResult:
    """Copy ``source`` (by its digest if pinned, else its tag) to ``target``'s repository, tagged
    with ``target.tag``; the result names the digest the target now serves."""
    job = _Copy(source, target, client_for)
    manifest = job.src.get_manifest(source.repository, source.lookup)
    if manifest is None:
        raise RegistryError(f"{source} is not in its registry", hint="push it there first, then publish")
    if source.digest and manifest.digest != source.digest:
        raise RegistryError(f"{source} is {manifest.digest} in its registry")
    job.manifest(manifest)
    if target.tag:
        job.dst.put_manifest(target.repository, target.tag, manifest)
    served = job.dst.manifest_digest(target.repository, target.tag or manifest.digest)
    if served != manifest.digest:
        raise RegistryError(f"{target} serves {served}, not the copied {manifest.digest}")
    return CopyResult(manifest.digest, job.manifests, job.copied, job.mounted, job.present)
