"""Where each catalog document and artifact object lives: the key layout as functions.

Document keys are relative to the catalog prefix (``s3://BUCKET/PREFIX`` or the ``file://DIR``
directory); object keys are relative to a regional bucket. Every name that goes into a key has
passed :func:`preprocessor.names.check`, and every key passes :func:`check_key`, so no key can
climb out of the prefix or the bucket.

```
catalog.json
packages/<name>/package.json
packages/<name>/versions/<version>.json
packages/<name>/channels/<channel>.json
services/<name>.json
```
File artifacts are content-addressed in each regional bucket: ``files/sha256/<hex>/<filename>``.
The same bytes always get the same key, so an upload or a copy whose key already holds an object
with that checksum can be skipped, and a rerun after a failure resumes where it stopped.
"""

from __future__ import annotations

import re
import unicodedata

from preprocessor.errors import InputError
from preprocessor.names import check

CATALOG = "catalog.json"
PACKAGES = "packages/"
SERVICES = "services/"
FILES = "files/sha256/"

_SHA256 = re.compile(r"[0-9a-f]{64}")
_FILENAME = re.compile(r"[A-Za-z0-9._+-]{1,255}")
# S3 bucket naming (also valid for OSS): lowercase letters, digits, dots and hyphens.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_MAX_KEY_BYTES = 1024


def package_key(name: str) -> str:
    return f"{PACKAGES}{check('package', name)}/package.json"


def versions_prefix(name: str) -> str:
    return f"{PACKAGES}{check('package', name)}/versions/"


def version_key(name: str, version: str) -> str:
    return f"{versions_prefix(name)}{check('version', version)}.json"


def channels_prefix(name: str) -> str:
    return f"{PACKAGES}{check('package', name)}/channels/"


def channel_key(name: str, channel: str) -> str:
    return f"{channels_prefix(name)}{check('channel', channel)}.json"


def service_key(name: str) -> str:
    return f"{SERVICES}{check('service', name)}.json"


def object_key(sha256: str, filename: str) -> str:
    """The content-addressed key of a file artifact in a regional bucket."""
    if not _SHA256.fullmatch(sha256):
        raise InputError(f"invalid SHA-256 digest {sha256!r}", hint="expected 64 lowercase hexadecimal digits")
    if not _FILENAME.fullmatch(filename) or filename in (".", ".."):
        raise InputError(
            f"invalid artifact file name {filename!r}",
            hint="a file name uses letters, digits, '.', '_', '+' and '-' (no directories)",
        )
    return f"{FILES}{sha256}/{filename}"


def name_from_key(key: str, prefix: str, suffix: str) -> str | None:
    """``packages/web/versions/1.0.json`` → ``1.0`` for prefix ``packages/web/versions/``; None
    for keys of another shape (nested deeper, other suffix)."""
    if not key.startswith(prefix) or not key.endswith(suffix):
        return None
    middle = key[len(prefix) : len(key) - len(suffix)]
    return middle if middle and "/" not in middle else None


def check_key(key: str) -> str:
    """Return ``key`` if it is a safe relative key, else raise :class:`InputError`.

    Refused: empty keys, absolute paths, backslashes, empty, ``.`` or ``..`` segments, NUL and
    other control characters (C0, DEL, C1), invisible formatting characters (bidi overrides,
    zero-width), keys longer than 1024 bytes (S3's limit).
    """
    problem = None
    if not isinstance(key, str) or not key:
        problem = "it is empty"
    elif key.startswith("/"):
        problem = "it is an absolute path"
    elif "\\" in key:
        problem = "it contains a backslash"
    elif any(unicodedata.category(ch) in ("Cc", "Cf") for ch in key):
        # Cc: C0, DEL and C1 controls; Cf: invisible format characters (bidi overrides, zero-width)
        problem = "it contains a control or invisible formatting character"
    elif any(part in ("", ".", "..") for part in key.split("/")):
        problem = "it has an empty, '.' or '..' segment"
    elif len(key.encode("utf-8")) > _MAX_KEY_BYTES:
        problem = f"it is longer than {_MAX_KEY_BYTES} bytes"
    if problem:
        raise InputError(f"invalid object key {key!r}: {problem}", hint="keys are relative paths like a/b/c.json")
    return key


def check_bucket(bucket: str) -> str:
    if not isinstance(bucket, str) or not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise InputError(
            f"invalid bucket name {bucket!r}",
            hint="a bucket name has 3 to 63 lowercase letters, digits, '.' and '-' (see catalog.json bucket_pattern)",
        )
    return bucket
