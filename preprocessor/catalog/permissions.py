"""Machine-image permissions that follow the catalog: who may launch each regional copy of an
``ecs-image`` package is what :func:`~preprocessor.catalog.access.audience` says, the same
description render's access check uses.

Wanted permissions of one version's copies:

| version   | launch permissions                                                    |
|-----------|-----------------------------------------------------------------------|
| published | its services' whitelisted accounts and its owner; ``all`` (public)    |
|           | only when a public service has no whitelist                           |
| draft     | its owner only                                                        |
| revoked   | nobody                                                                |

The image's own account never needs a permission and is never listed. A file package's
objects are public (``public-read``, for ``computenest::publicfile``) exactly when the package is
``public`` and the version is not revoked. :func:`sync` applies the
wanted permissions through the provider's :class:`~providers.ImageSharer` (aws: EC2 launch
permissions) in every region with an available copy; :func:`audit` reads them and reports the
drift. A provider without a sharer has nothing to apply. Marketplace images are left alone: the
marketplace lets its buyers launch them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from preprocessor.catalog.access import audience
from preprocessor.catalog.catalog import Catalog
from preprocessor.catalog.model import DistributionStatus, Package, PackageType, PackageVersion, VersionStatus
from preprocessor.catalog.store import Store
from preprocessor.errors import DeploypkgError
from providers import ImagePermissions, ImageSharer, get_provider

NOBODY = ImagePermissions(False, frozenset())


class Drift(NamedTuple):
    package: str
    version: str
    region: str
    image_id: str
    """The image ID, or ``bucket/key`` of a file's object."""
    wanted: ImagePermissions
    actual: ImagePermissions
    kind: str = "image"
    """``image`` (launch permissions) or ``object`` (a file's object: public or not, no accounts)."""

    @property
    def missing(self) -> frozenset[str]:
        return self.wanted.accounts - self.actual.accounts

    @property
    def extra(self) -> frozenset[str]:
        return self.actual.accounts - self.wanted.accounts

    def describe(self) -> str:
        parts = [f"+{a}" for a in sorted(self.missing)] + [f"-{a}" for a in sorted(self.extra)]
        if self.wanted.public != self.actual.public:
            parts.append("+public" if self.wanted.public else "-public")
        return " ".join(parts)


def wanted_permissions(package: Package, version: PackageVersion, catalog: Catalog) -> ImagePermissions:
    """Who may launch ``version``'s copies, by the table above."""
    if version.status is VersionStatus.REVOKED:
        return NOBODY
    owner = frozenset({package.owner}) if package.owner else frozenset()
    if version.status is VersionStatus.DRAFT:
        return ImagePermissions(False, owner)
    who = audience(package, catalog.services())
    return ImagePermissions(who.everyone, who.accounts | owner)


def _copies(catalog: Catalog, names: Iterable[str] | None) -> Iterable[tuple[Package, PackageVersion, str, str]]:
    for name in names if names is not None else catalog.list_packages():
        package = catalog.package(name)
        if package.type is not PackageType.ECS_IMAGE:
            continue
        for version in catalog.versions(name):
            if version.source.marketplace is not None:
                continue  # buyers launch it: the marketplace decides, not a share list
            for region, distribution in sorted(version.distributions.items()):
                if distribution.status is DistributionStatus.AVAILABLE and distribution.image_id:
                    yield package, version, region, distribution.image_id


def _sharer(catalog: Catalog) -> ImageSharer | None:
    provider = get_provider(catalog.info().provider)
    return provider.image_sharer() if provider.image_sharer is not None else None


def _drifts(catalog: Catalog, sharer: ImageSharer, names: Iterable[str] | None) -> list[Drift]:
    drifts = []
    for package, version, region, image_id in _copies(catalog, names):
        wanted = wanted_permissions(package, version, catalog)
        actual = sharer.read(region, image_id)
        owner = sharer.image_owner(region, image_id)
        wanted = wanted._replace(accounts=wanted.accounts - {owner})
        if actual != wanted:
            drifts.append(Drift(package.name, version.version, region, image_id, wanted, actual))
    return drifts


def _objects(catalog: Catalog, names: Iterable[str] | None) -> Iterable[tuple[Package, PackageVersion, str, str, str]]:
    for name in names if names is not None else catalog.list_packages():
        package = catalog.package(name)
        if package.type is not PackageType.FILE:
            continue
        for version in catalog.versions(name):
            for region, distribution in sorted(version.distributions.items()):
                if (
                    distribution.status is DistributionStatus.AVAILABLE
                    and distribution.bucket
                    and distribution.object_key
                ):
                    yield package, version, region, distribution.bucket, distribution.object_key


def _object_drifts(catalog: Catalog, store: Store, names: Iterable[str] | None) -> list[Drift]:
    """A public package's objects must be readable without credentials (``publicfile``); any
    other file's must not be, nor a revoked version's."""
    drifts = []
    for package, version, region, bucket, key in _objects(catalog, names):
        public = store.object_is_public(region, bucket, key)
        if public is None:
            continue
        wanted = package.public and version.status is not VersionStatus.REVOKED
        if public != wanted:
            drifts.append(
                Drift(
                    package.name,
                    version.version,
                    region,
                    f"{bucket}/{key}",
                    ImagePermissions(wanted, frozenset()),
                    ImagePermissions(public, frozenset()),
                    kind="object",
                )
            )
    return drifts


def _all_drifts(catalog: Catalog, store: Store, sharer: ImageSharer | None, names: list[str] | None) -> list[Drift]:
    images = _drifts(catalog, sharer, names) if sharer is not None else []
    return images + _object_drifts(catalog, store, names)


def audit(store: Store, names: Iterable[str] | None = None) -> list[Drift]:
    """Every regional copy whose permissions differ from what the catalog says: images' launch
    permissions, and whether files' objects are public."""
    catalog = Catalog(store)
    return _all_drifts(catalog, store, _sharer(catalog), list(names) if names is not None else None)


class Failure(NamedTuple):
    drift: Drift
    reason: str


class Synced(NamedTuple):
    changed: list[Drift]
    failed: list[Failure]
    """Copies whose change the cloud refused (maybe after part of it was made): the next
    ``audit`` shows what is left, and a rerun finishes it."""


def sync(store: Store, names: Iterable[str] | None = None) -> Synced:
    """Make every regional copy's launch permissions what the catalog says. One copy the cloud
    refuses does not stop the others."""
    catalog = Catalog(store)
    sharer = _sharer(catalog)
    changed, failed = [], []
    for drift in _all_drifts(catalog, store, sharer, list(names) if names is not None else None):
        try:
            if drift.kind == "object":
                bucket, key = drift.image_id.split("/", 1)
                store.set_object_public(drift.region, bucket, key, drift.wanted.public)
            elif sharer is not None:
                sharer.apply(drift.region, drift.image_id, drift.actual, drift.wanted)
        except DeploypkgError as error:
            failed.append(Failure(drift, error.message))
        else:
            changed.append(drift)
    return Synced(changed, failed)
