"""The catalog reader: every document read at most once per :class:`Catalog`, and resolution of
``package``, ``package@version`` and ``package#channel`` to a :class:`PackageVersion`.

One ``Catalog`` lives for one command: reads are cached (absent documents and key listings too),
so a render of many templates for many regions asks the store for each document once, and
:meth:`Catalog.documents_read` gives the ETag of everything the command's output depends on.

Version order (newest = greatest), numeric-aware: build metadata (``+…``) is ignored except as
a final tie-break; the release part is compared as a sequence of numbers and words split on
``.``, ``-``, ``_`` and digit/letter boundaries (numbers compare as numbers, before words at the
same place); a pre-release (``1.0.0-rc.1``) sorts before its release (``1.0.0``). So
``1.10.0 > 1.9.2 > 1.9.2-rc.2 > 1.9.2-rc.1 > 1.9``.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from preprocessor.catalog import keys
from preprocessor.catalog.model import CatalogInfo, Channel, Package, PackageVersion, Service, VersionStatus
from preprocessor.catalog.store import Document, Store
from preprocessor.errors import CatalogError
from preprocessor.names import PackageSpec

_TOKEN = re.compile(r"\d+|[A-Za-z]+")


def _tokens(text: str) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, int(t), "") if t.isdigit() else (1, 0, t.lower()) for t in _TOKEN.findall(text))


def version_sort_key(version: str) -> tuple[Any, ...]:
    """Sort key implementing the documented version order (ascending: oldest first)."""
    core, _, build = version.partition("+")
    release, dash, pre = core.partition("-")
    # A release without a pre-release sorts after any of its pre-releases.
    pre_key = (1, ()) if not dash else (0, _tokens(pre))
    return (_tokens(release), pre_key, build, version)


class Catalog:
    """Cached, read-only view of one catalog store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._documents: dict[str, Document | None] = {}
        self._listings: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self._info: CatalogInfo | None = None

    # --- raw cached access

    def remember(self, key: str, document: Document | None) -> None:
        """Take ``document`` as what ``key`` holds (read by whoever opened the store)."""
        with self._lock:
            self._documents.setdefault(key, document)

    def _read(self, key: str) -> Document | None:
        with self._lock:
            if key in self._documents:
                return self._documents[key]
        document = self.store.read_document(key)
        with self._lock:
            return self._documents.setdefault(key, document)

    def _list(self, prefix: str) -> list[str]:
        with self._lock:
            if prefix in self._listings:
                return self._listings[prefix]
        listing = self.store.list_keys(prefix)
        with self._lock:
            return self._listings.setdefault(prefix, listing)

    def documents_read(self) -> dict[str, str]:
        """Key → ETag of every document this catalog read that exists (manifest provenance)."""
        with self._lock:
            return {key: doc.etag for key, doc in sorted(self._documents.items()) if doc is not None}

    # --- documents

    def info(self) -> CatalogInfo:
        if self._info is None:
            document = self._read(keys.CATALOG)
            if document is None:
                from preprocessor.catalog.writes import missing_catalog

                raise missing_catalog(self.store)
            self._info = CatalogInfo.from_json(document.data, f"{self.store.url} {keys.CATALOG}")
        return self._info

    def list_packages(self) -> list[str]:
        names = (keys.name_from_key(key, keys.PACKAGES, "/package.json") for key in self._list(keys.PACKAGES))
        return sorted(name for name in names if name is not None)

    def package(self, name: str) -> Package:
        key = keys.package_key(name)
        document = self._read(key)
        if document is None:
            self.info()  # no catalog at all is said as such, not as "no packages yet"
            known = self.list_packages()
            raise CatalogError(
                f"package {name!r} does not exist in the catalog {self.store.url}",
                hint=f"known packages: {', '.join(known)}" if known else "the catalog has no packages yet",
                rule="DPK306",
            )
        package = Package.from_json(document.data, key)
        _check_names(key, ("name", package.name, name))
        return package

    def version_names(self, name: str) -> list[str]:
        """The version names of a package, oldest first (version order)."""
        prefix = keys.versions_prefix(name)
        found = (keys.name_from_key(key, prefix, ".json") for key in self._list(prefix))
        return sorted((v for v in found if v is not None), key=version_sort_key)

    def version(self, name: str, version: str) -> PackageVersion:
        key = keys.version_key(name, version)
        document = self._read(key)
        if document is None:
            self.package(name)  # an unknown package is the better message
            known = self.version_names(name)
            raise CatalogError(
                f"package {name!r} has no version {version!r} in the catalog {self.store.url}",
                hint=f"known versions: {', '.join(known)}" if known else f"{name} has no versions yet",
                rule="DPK306",
            )
        found = PackageVersion.from_json(document.data, key)
        _check_names(key, ("package", found.package, name), ("version", found.version, version))
        return found

    def versions(self, name: str) -> list[PackageVersion]:
        """Every version of a package, oldest first."""
        self.package(name)
        return [self.version(name, v) for v in self.version_names(name)]

    def channel_names(self, name: str) -> list[str]:
        prefix = keys.channels_prefix(name)
        found = (keys.name_from_key(key, prefix, ".json") for key in self._list(prefix))
        return sorted(c for c in found if c is not None)

    def channel(self, name: str, channel: str) -> Channel:
        key = keys.channel_key(name, channel)
        document = self._read(key)
        if document is None:
            self.package(name)
            known = self.channel_names(name)
            raise CatalogError(
                f"package {name!r} has no channel {channel!r} in the catalog {self.store.url}",
                hint=f"known channels: {', '.join(known)}"
                if known
                else f"promote a version first: deploypkg catalog promote {name} VERSION --channel {channel}",
                rule="DPK306",
            )
        found = Channel.from_json(document.data, key)
        _check_names(key, ("package", found.package, name), ("channel", found.name, channel))
        return found

    def channels(self, name: str) -> list[Channel]:
        return [self.channel(name, c) for c in self.channel_names(name)]

    def services(self) -> list[Service]:
        found = []
        for key in self._list(keys.SERVICES):
            name = keys.name_from_key(key, keys.SERVICES, ".json")
            if name is None:
                continue
            document = self._read(key)
            if document is not None:
                service = Service.from_json(document.data, key)
                _check_names(key, ("name", service.name, name))
                found.append(service)
        return sorted(found, key=lambda s: s.name)

    def services_of(self, package: str) -> list[Service]:
        """The services whose ``packages`` include this package."""
        return [service for service in self.services() if package in service.packages]

    # --- resolution

    def resolve(self, spec: PackageSpec) -> tuple[PackageVersion, str | None]:
        """(the version the spec names, the channel used or None).

        A pinned version may be in any status (access rules decide later); a channel points at
        its version; a bare name means the newest published version (DPK308 if there is none).
        """
        if spec.version is not None:
            return self.version(spec.package, spec.version), None
        if spec.channel is not None:
            channel = self.channel(spec.package, spec.channel)
            return self.version(spec.package, channel.version), spec.channel
        versions = self.versions(spec.package)
        published = [v for v in versions if v.status is VersionStatus.PUBLISHED]
        if not published:
            states = ", ".join(f"{v.version} ({v.status.value})" for v in versions) or "none"
            raise CatalogError(
                f"package {spec.package!r} has no published version to default to (versions: {states})",
                hint=f"release a version (deploypkg catalog release {spec.package} VERSION) "
                f"or pin one: {spec.package}@VERSION",
                rule="DPK308",
            )
        return published[-1], None


def _check_names(key: str, *fields: tuple[str, str, str]) -> None:
    """A document must say it is what its key says: a copied or hand-edited document that names
    another package, version, channel or service would be trusted for the wrong thing."""
    for field, found, expected in fields:
        if found != expected:
            raise CatalogError(
                f"catalog document {key} says its {field} is {found!r}, but its key says {expected!r}",
                hint="the document was copied or edited by hand: restore it from the catalog's history",
            )
