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
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

from preprocessor.oci.client import INDEX_TYPES, Manifest, RegistryClient, RegistryError
from preprocessor.oci.reference import DIGEST, Reference

ClientFor = Callable[[str], RegistryClient]
"""The client of a registry host (shared between copies, so tokens and connections are reused)."""

BLOBS_AT_ONCE = 4
"""Blobs of one image copied at the same time."""
READ_AHEAD = 2
"""Chunks read from the source ahead of the upload, per blob (so reading and writing overlap)."""


def _read_ahead(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """``chunks``, read by a thread of its own at most :data:`READ_AHEAD` chunks ahead, so the
    download and the upload of one blob overlap; an error in reading is raised to the reader."""
    done = object()
    buffer: queue.Queue[object] = queue.Queue(maxsize=READ_AHEAD)
    stop = threading.Event()

    def offer(item: object) -> bool:
        """Hand ``item`` over unless the consumer has gone (then False)."""
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def fill() -> None:
        try:
            for chunk in chunks:
                if not offer(chunk):
                    return
            offer(done)
        except BaseException as error:  # handed to the consumer, which raises it
            offer(error)

    reader = threading.Thread(target=fill, name="oci-read", daemon=True)
    reader.start()
    try:
        while True:
            item = buffer.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, bytes)
            yield item
    finally:
        stop.set()
        reader.join(timeout=5)


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
        self._lock = threading.Lock()
        self._blobs: dict[str, threading.Event] = {}
        self._failed: set[str] = set()

    def blob(self, digest: str, size: int | None = None) -> None:
        """One blob into the target, once per copy (platforms of an index share layers)."""
        with self._lock:
            started = self._blobs.get(digest)
            if started is None:
                self._blobs[digest] = started = threading.Event()
                mine = True
            else:
                mine = False
        if not mine:
            started.wait()
            if digest in self._failed:
                raise RegistryError(f"{self.target}: blob {digest} could not be copied")
            return
        try:
            self._blob(digest, size)
        except BaseException:
            with self._lock:
                self._failed.add(digest)
            raise
        finally:
            started.set()

    def _blob(self, digest: str, size: int | None) -> None:
        repo = self.target.repository
        if self.dst.has_blob(repo, digest):
            outcome = "present"
        elif self.same_registry and self.dst.mount_blob(repo, digest, self.source.repository):
            outcome = "mounted"
        else:
            chunks = _read_ahead(self.src.blob_chunks(self.source.repository, digest))
            self.dst.push_blob(repo, digest, chunks, size)
            outcome = "copied"
        with self._lock:
            setattr(self, outcome, getattr(self, outcome) + 1)

    def blobs(self, descriptors: list[dict[str, object]]) -> None:
        """Copy a manifest's config and layers, :data:`BLOBS_AT_ONCE` at a time."""
        unique: dict[str, int | None] = {}
        for descriptor in descriptors:
            digest, size = descriptor.get("digest"), descriptor.get("size")
            if isinstance(digest, str) and digest:
                unique[digest] = size if isinstance(size, int) and size >= 0 else None
        with ThreadPoolExecutor(max(1, min(BLOBS_AT_ONCE, len(unique))), thread_name_prefix="oci-blob") as pool:
            for future in [pool.submit(self.blob, digest, size) for digest, size in unique.items()]:
                future.result()

    def _digest(self, descriptor: object, manifest: Manifest) -> str:
        """A descriptor's digest, checked: it goes into request paths."""
        digest = descriptor.get("digest") if isinstance(descriptor, dict) else None
        if not isinstance(digest, str) or not DIGEST.fullmatch(digest):
            raise RegistryError(
                f"{self.source}: manifest {manifest.digest} has a descriptor without a sha256 digest ({digest!r})"
            )
        return digest

    def child(self, digest: str) -> None:
        """One manifest of an index (every platform), unless the target has it already."""
        if self.dst.manifest_digest(self.target.repository, digest) == digest:
            with self._lock:
                self.manifests += 1
            return
        found = self.src.get_manifest(self.source.repository, digest)
        if found is None:
            raise RegistryError(f"{self.source}: the index names {digest}, which the registry does not have")
        self.manifest(found)

    def manifest(self, manifest: Manifest) -> None:
        """Copy what ``manifest`` references, then the manifest itself by digest."""
        try:
            document = json.loads(manifest.body)
        except ValueError:
            raise RegistryError(f"{self.source}: manifest {manifest.digest} is not JSON") from None
        media_type = manifest.media_type or str(document.get("mediaType", ""))
        if not isinstance(document, dict):
            raise RegistryError(f"{self.source}: manifest {manifest.digest} is not a JSON object")
        if media_type in INDEX_TYPES or "manifests" in document:
            children = [self._digest(child, manifest) for child in document.get("manifests") or []]
            with ThreadPoolExecutor(max(1, min(BLOBS_AT_ONCE, len(children))), thread_name_prefix="oci-child") as pool:
                for future in [pool.submit(self.child, digest) for digest in children]:
                    future.result()
        else:
            descriptors = [document.get("config"), *(document.get("layers") or [])]
            self.blobs([{"digest": self._digest(d, manifest), "size": d.get("size")} for d in descriptors if d])
        self.dst.put_manifest(self.target.repository, manifest.digest, manifest)
        with self._lock:
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
