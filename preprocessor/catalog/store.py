"""The object-store interface behind the catalog: JSON documents under one prefix, plus the
regional buckets that hold file artifacts.

Implementations: :mod:`preprocessor.catalog.local` (``file://DIR``, the embedded default) and
:mod:`preprocessor.catalog.s3` (``s3://BUCKET/PREFIX``: Amazon S3, Alibaba OSS's S3-compatible
endpoint, MinIO, moto). :func:`open_store` picks one from a URL.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, NamedTuple, Protocol

Endpoint = Literal["public", "internal"]
ProgressCallback = Callable[[int], None]
"""Called with the number of bytes just transferred or copied."""


class Document(NamedTuple):
    data: dict[str, Any]
    etag: str
    """The store's ETag (S3) or a SHA-256 digest of the bytes (local): provenance and If-Match."""


class ObjectInfo(NamedTuple):
    bucket: str
    key: str
    size: int
    etag: str
    sha256: str | None
    """From the object's metadata (``x-amz-meta-sha256``) when the writer recorded it."""


class Store(Protocol):
    url: str
    """The catalog URL this store was opened with, credentials never included."""

    def why_no_catalog(self) -> str:
        """Why no ``catalog.json`` was found, in the store's own terms (a missing directory…)."""
        ...

    @property
    def needs_provider(self) -> bool:
        """Whether endpoints depend on a provider the store was not given (then the catalog is
        opened again with the one ``catalog.json`` records)."""
        ...

    # --- catalog documents (keys relative to the catalog prefix, e.g. "packages/web/package.json")
    def read_document(self, key: str) -> Document | None: ...

    def write_document(
        self, key: str, data: dict[str, Any], *, if_none_match: bool = False, if_match: str | None = None
    ) -> str:
        """Write atomically; return the new ETag. ``if_none_match`` creates only; ``if_match``
        replaces only that ETag. A lost condition raises :class:`ConflictError`."""
        ...

    def list_keys(self, prefix: str) -> list[str]: ...

    # --- artifact objects in regional buckets
    def create_bucket(self, region: str, bucket: str) -> None:
        """Create a regional bucket if it does not exist (a directory for the local store)."""
        ...

    def head_object(self, region: str, bucket: str, key: str) -> ObjectInfo | None: ...

    def put_object(
        self, region: str, bucket: str, key: str, path: Path, sha256: str, progress: ProgressCallback | None = None
    ) -> ObjectInfo: ...

    def copy_object(
        self,
        source: ObjectInfo,
        source_region: str,
        region: str,
        bucket: str,
        key: str,
        progress: ProgressCallback | None = None,
    ) -> ObjectInfo:
        """Copy into another region's bucket: server-side where the store allows it."""
        ...

    def object_url(
        self,
        region: str,
        bucket: str,
        key: str,
        *,
        presign: bool,
        expires: int = 3600,
        endpoint: Endpoint = "public",
    ) -> str:
        """A presigned GET URL (``presign``), or the plain object URL (public files)."""
        ...

    def object_is_public(self, region: str, bucket: str, key: str) -> bool | None:
        """Whether anyone may read the object without credentials (an anonymous HEAD of its
        public URL); ``None`` where that does not apply (a local directory)."""
        ...

    def set_object_public(self, region: str, bucket: str, key: str, public: bool) -> None:
        """Make the object readable by anyone (``public-read``), or by its owner only."""
        ...
