"""The local-directory store, ``file://DIR``: the embedded default.

On disk::

    DIR/catalog.json, DIR/packages/…, DIR/services/…   the catalog documents (keys.py layout)
    DIR/buckets/<bucket>/<key>                         regional buckets, one directory each
    DIR/.deploypkg.lock                                the lock that serialises writes

Every write goes to a temporary file in the destination directory and is moved into place with
``os.replace``, so a reader sees the old or the new document, never half of one. Writes hold an
exclusive ``fcntl`` lock on ``DIR/.deploypkg.lock`` across the condition check and the replace, so
``if_none_match`` / ``if_match`` are race-free between processes (POSIX hosts). A document's ETag is
the SHA-256 of its bytes. ``object_url`` returns a ``file://`` URI: there is nothing to sign on a
local disk, so ``presign``, ``expires`` and ``endpoint`` do not apply.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from preprocessor.catalog.documents import decode_document, encode_document
from preprocessor.catalog.keys import check_bucket, check_key
from preprocessor.catalog.store import Document, Endpoint, ObjectInfo, ProgressCallback
from preprocessor.errors import CatalogError, ConflictError, InputError

BUCKETS_DIR = "buckets"
LOCK_NAME = ".deploypkg.lock"
_CHUNK = 1024 * 1024


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class LocalStore:
    """A catalog in a directory. Options meant for object stores (region, endpoint…) are ignored."""

    def __init__(self, root: Path, url: str | None = None) -> None:
        self.root = root
        self.url = url or f"file://{root}"

    needs_provider = False

    def why_no_catalog(self) -> str:
        if not self.root.is_dir():
            return f"the directory {self.root} does not exist"
        return "catalog.json is missing"

    @classmethod
    def from_url(cls, url: str, **_options: Any) -> LocalStore:
        """``file://DIR`` (or a bare path); a relative DIR is resolved against the working directory."""
        raw = url[len("file://") :] if url.startswith("file://") else url
        if not raw or "\x00" in raw:
            raise InputError(f"invalid catalog URL {url!r}", hint="use file://DIR with a directory path")
        return cls(Path(raw).expanduser().resolve(), url)

    # --- paths

    def _document_path(self, key: str) -> Path:
        check_key(key)
        parts = key.split("/")
        if parts[0] == BUCKETS_DIR or any(part.startswith(".") for part in parts):
            raise InputError(
                f"invalid document key {key!r}: the name is reserved by the local store",
                hint=f"document keys may not start with {BUCKETS_DIR}/ and no part may start with '.'",
            )
        return self._inside(self.root.joinpath(*parts), f"catalog document {key}")

    def object_path(self, bucket: str, key: str) -> Path:
        """Where a regional object lives on disk."""
        check_key(key)
        return self._inside(
            self.root / BUCKETS_DIR / check_bucket(bucket) / Path(*key.split("/")), f"object {bucket}/{key}"
        )

    def _inside(self, path: Path, what: str) -> Path:
        """``path``, unless a symbolic link on the way leads out of the catalog directory: the keys
        are checked, but a link planted in the directory would still carry reads and writes elsewhere."""
        root = os.path.realpath(self.root)
        real = os.path.realpath(path)
        if os.path.commonpath([root, real]) != root:
            raise CatalogError(
                f"{what} leads outside the catalog directory {self.root} (a symbolic link resolves it to {real})",
                file=str(path),
                hint="remove the link; everything a file:// catalog holds must be inside its directory",
            )
        return path

    def _bucket_path(self, bucket: str) -> Path:
        return self.root / BUCKETS_DIR / check_bucket(bucket)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        import fcntl

        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK_NAME, "a+b") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    # --- documents

    def read_document(self, key: str) -> Document | None:
        path = self._document_path(key)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CatalogError(f"cannot read catalog document {key}: {exc.strerror}", file=str(path)) from None
        return Document(decode_document(raw, key, str(path)), hashlib.sha256(raw).hexdigest())

    def write_document(
        self, key: str, data: dict[str, Any], *, if_none_match: bool = False, if_match: str | None = None
    ) -> str:
        path = self._document_path(key)
        raw = encode_document(data)
        with self._locked():
            if if_none_match or if_match is not None:
                current = _digest_or_none(path)
                if if_none_match and current is not None:
                    raise ConflictError(
                        f"catalog document {key} already exists in {self.url}",
                        hint="somebody else wrote it first; read it again and decide whether to retry",
                    )
                if if_match is not None and current != if_match:
                    state = "was deleted" if current is None else "was changed by another writer"
                    raise ConflictError(
                        f"catalog document {key} {state} since it was read (in {self.url})",
                        hint="read it again and retry the operation",
                    )
            path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(path, lambda handle: handle.write(raw))
        return hashlib.sha256(raw).hexdigest()

    def list_keys(self, prefix: str) -> list[str]:
        """Document keys starting with ``prefix`` (sorted); buckets, temp and lock files excluded."""
        base_dir = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = self.root.joinpath(*base_dir.split("/")) if base_dir else self.root
        if base_dir:
            check_key(base_dir)
        found: list[str] = []
        for directory, dirnames, filenames in os.walk(start):
            rel_dir = Path(directory).relative_to(self.root).as_posix()
            if rel_dir == ".":
                rel_dir = ""
                dirnames[:] = [d for d in dirnames if d != BUCKETS_DIR]
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in filenames:
                if name.startswith("."):
                    continue
                key = f"{rel_dir}/{name}" if rel_dir else name
                if key.startswith(prefix):
                    found.append(key)
        return sorted(found)

    # --- regional objects

    def create_bucket(self, region: str, bucket: str) -> None:
        self._bucket_path(bucket).mkdir(parents=True, exist_ok=True)

    def head_object(self, region: str, bucket: str, key: str) -> ObjectInfo | None:
        path = self.object_path(bucket, key)
        if not path.is_file():
            return None
        digest = sha256_file(path)
        return ObjectInfo(bucket, key, path.stat().st_size, digest, digest)

    def put_object(
        self, region: str, bucket: str, key: str, path: Path, sha256: str, progress: ProgressCallback | None = None
    ) -> ObjectInfo:
        try:
            with open(path, "rb") as source:
                return self._write_object(source, bucket, key, sha256, progress, f"upload {path}")
        except FileNotFoundError:
            raise InputError(f"file to upload does not exist: {path}", file=str(path)) from None

    def copy_object(
        self,
        source: ObjectInfo,
        source_region: str,
        region: str,
        bucket: str,
        key: str,
        progress: ProgressCallback | None = None,
    ) -> ObjectInfo:
        source_path = self.object_path(source.bucket, source.key)
        try:
            handle = open(source_path, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            raise CatalogError(
                f"copy {source.bucket}/{source.key} → {bucket}/{key}: the source object does not exist",
                hint="publish the file again (deploypkg catalog publish … --file)",
                rule="DPK307",
            ) from None
        with handle:
            return self._write_object(
                handle, bucket, key, source.sha256, progress, f"copy {source.bucket}/{source.key} → {bucket}/{key}"
            )

    def _write_object(
        self,
        source: IO[bytes],
        bucket: str,
        key: str,
        sha256: str | None,
        progress: ProgressCallback | None,
        operation: str,
    ) -> ObjectInfo:
        target = self.object_path(bucket, key)
        if not self._bucket_path(bucket).is_dir():
            raise CatalogError(
                f"{operation}: bucket {bucket} does not exist in {self.url}",
                hint=f"create it: deploypkg catalog init makes regional buckets (or mkdir {self._bucket_path(bucket)})",
            )
        digest = hashlib.sha256()
        size = 0

        def copy(handle: IO[bytes]) -> None:
            nonlocal size
            for chunk in iter(lambda: source.read(_CHUNK), b""):
                handle.write(chunk)
                digest.update(chunk)
                size += len(chunk)
                if progress is not None:
                    progress(len(chunk))

        target.parent.mkdir(parents=True, exist_ok=True)

        def verify() -> None:
            if sha256 is not None and digest.hexdigest() != sha256:
                raise CatalogError(
                    f"{operation}: the bytes have SHA-256 {digest.hexdigest()}, expected {sha256}",
                    hint="the source changed while it was read; publish it again",
                )

        _atomic_write(target, copy, verify)
        return ObjectInfo(bucket, key, size, digest.hexdigest(), digest.hexdigest())

    def object_is_public(self, region: str, bucket: str, key: str) -> bool | None:
        return None  # a file on this machine: there is no anonymous reader to ask

    def set_object_public(self, region: str, bucket: str, key: str, public: bool) -> None:
        pass

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
        return self.object_path(bucket, key).as_uri()


def _digest_or_none(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def _atomic_write(
    target: Path, write: Callable[[IO[bytes]], object], before_replace: Callable[[], None] | None = None
) -> None:
    """Write through ``write(handle)`` into a temp file beside ``target``, fsync, then replace."""
    fd, temp_name = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        if before_replace is not None:
            before_replace()
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
