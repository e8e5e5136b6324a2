"""Keys of the catalog documents and the conditional read-modify-write every operation uses.

Writers never overwrite blindly: a new document is created with If-None-Match, an existing one
is replaced with If-Match on the ETag that was read. :func:`update_version` re-reads and re-applies
its change when another writer got there first, so concurrent distributions of different regions
never lose each other's status.
Keys come from :mod:`preprocessor.catalog.keys`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, NamedTuple

from preprocessor.catalog.keys import (
    CATALOG,
    channel_key,
    channels_prefix,
    name_from_key,
    package_key,
    service_key,
    version_key,
    versions_prefix,
)
from preprocessor.catalog.model import CatalogInfo, Channel, Package, PackageVersion, Service
from preprocessor.catalog.store import Store
from preprocessor.errors import CatalogError, ConflictError

MAX_MERGE_ATTEMPTS = 12


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


class Versioned(NamedTuple):
    """A parsed document and the ETag it was read with (the If-Match of the next write)."""

    value: Any
    etag: str


def read_info(store: Store) -> CatalogInfo:
    doc = store.read_document(CATALOG)
    if doc is None:
        raise missing_catalog(store)
    return CatalogInfo.from_json(doc.data, f"{store.url} {CATALOG}")


def missing_catalog(store: Store) -> CatalogError:
    """No ``catalog.json``: say what the store found instead, and how to create a catalog."""
    from providers import all_providers

    return CatalogError(
        f"no catalog at {store.url} ({store.why_no_catalog()})",
        hint="check the catalog URL, or create one: deploypkg catalog init --catalog URL"
        f" --provider {'|'.join(sorted(all_providers()))} --bucket-pattern NAME-{{region}}",
    )


def read_package(store: Store, name: str) -> Versioned | None:
    doc = store.read_document(package_key(name))
    if doc is None:
        return None
    return Versioned(Package.from_json(doc.data, package_key(name)), doc.etag)


def require_package(store: Store, name: str) -> Package:
    found = read_package(store, name)
    if found is None:
        read_info(store)  # no catalog at all says so, rather than "no such package"
        raise CatalogError(
            f"package {name!r} does not exist in {store.url}",
            hint=f"publish a first version with: deploypkg catalog publish {name} VERSION --type …",
            rule="DPK306",
        )
    package: Package = found.value
    return package


def read_version(store: Store, name: str, version: str) -> Versioned | None:
    doc = store.read_document(version_key(name, version))
    if doc is None:
        return None
    return Versioned(PackageVersion.from_json(doc.data, version_key(name, version)), doc.etag)


def require_version(store: Store, name: str, version: str) -> Versioned:
    found = read_version(store, name, version)
    if found is None:
        read_info(store)
        raise CatalogError(
            f"{name} {version} does not exist in {store.url}",
            hint=f"list the versions with: deploypkg catalog show {name}",
            rule="DPK306",
        )
    return found


def read_channel(store: Store, name: str, channel: str) -> Versioned | None:
    doc = store.read_document(channel_key(name, channel))
    if doc is None:
        return None
    return Versioned(Channel.from_json(doc.data, channel_key(name, channel)), doc.etag)


def read_service(store: Store, name: str) -> Versioned | None:
    doc = store.read_document(service_key(name))
    if doc is None:
        return None
    return Versioned(Service.from_json(doc.data, service_key(name)), doc.etag)


def list_packages(store: Store) -> list[str]:
    found = (name_from_key(key, "packages/", "/package.json") for key in store.list_keys("packages/"))
    return sorted({name for name in found if name})


def list_versions(store: Store, name: str) -> list[str]:
    prefix = versions_prefix(name)
    return sorted({v for v in (name_from_key(k, prefix, ".json") for k in store.list_keys(prefix)) if v})


def list_channels(store: Store, name: str) -> list[str]:
    prefix = channels_prefix(name)
    return sorted({c for c in (name_from_key(k, prefix, ".json") for k in store.list_keys(prefix)) if c})


def update_version(
    store: Store,
    name: str,
    version: str,
    change: Callable[[PackageVersion], None],
    *,
    first: Versioned | None = None,
) -> PackageVersion:
    """Apply ``change`` to the version document and write it with If-Match.

    On a lost condition the document is re-read and ``change`` applied again to the fresh copy,
    so whatever the other writer recorded is kept. ``change`` may raise to refuse.
    """
    current = first or require_version(store, name, version)
    for attempt in range(MAX_MERGE_ATTEMPTS):
        document: PackageVersion = current.value
        change(document)
        try:
            store.write_document(version_key(name, version), document.to_json(), if_match=current.etag)
            return document
        except ConflictError:
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
            current = require_version(store, name, version)
    raise ConflictError(
        f"{name} {version}: the version document kept changing under us ({MAX_MERGE_ATTEMPTS} attempts)",
        hint="another writer is updating it continuously; rerun the command",
    )
