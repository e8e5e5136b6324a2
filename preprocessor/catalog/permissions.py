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

A ``copyable`` package's launching accounts (never "everyone") may also copy its copies into
their own accounts, where the provider's sharer has such a permission (EC2: create-volume on
every snapshot); any other package's snapshots are shared with nobody.

The image's own account never needs a permission and is never listed. A file package's
objects are public (``public-read``, for ``computenest::publicfile``) exactly when the package is
``public`` and the version is not revoked. :func:`sync` applies the
wanted permissions through the provider's :class:`~providers.ImageSharer` (aws: EC2 launch
permissions) in every region with an available copy; :func:`audit` reads them and reports the
drift. A provider without a sharer has nothing to apply. Marketplace images are left alone: the
marketplace lets its buyers launch them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
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
        """``+ACCOUNT`` / ``-ACCOUNT`` (launch), ``±public``, ``+copy:ACCOUNT`` / ``-copy:ACCOUNT``."""
        parts = [f"+{a}" for a in sorted(self.missing)] + [f"-{a}" for a in sorted(self.extra)]
        if self.wanted.public != self.actual.public:
            parts.append("+public" if self.wanted.public else "-public")
        copiers = self.actual.copiers | self.actual.copiers_partial
        parts += [f"+copy:{a}" for a in sorted(self.wanted.copiers - self.actual.copiers)]
        parts += [f"-copy:{a}" for a in sorted(copiers - self.wanted.copiers)]
        return " ".join(parts)


def wanted_permissions(package: Package, version: PackageVersion, catalog: Catalog) -> ImagePermissions:
    """Who may launch ``version``'s copies, by the table above."""
    if version.status is VersionStatus.REVOKED:
        return NOBODY
    owner = frozenset({package.owner}) if package.owner else frozenset()
    if version.status is VersionStatus.DRAFT:
        return ImagePermissions(False, owner, owner if package.copyable else frozenset())
    who = audience(package, catalog.services())
    accounts = who.accounts | owner
    return ImagePermissions(who.everyone, accounts, accounts if package.copyable else frozenset())


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


class Failure(NamedTuple):
    """A copy whose permissions could not be read or changed."""

    package: str
    version: str
    region: str
    image_id: str
    reason: str
    kind: str = "image"


class Result(NamedTuple):
    drift: list[Drift]
    """Differences found (``audit``) or changed (``sync``)."""
    failed: list[Failure]
    """Copies the cloud refused to show or change (``sync``: maybe after part of the change was
    made); the next ``audit`` shows what is left, and a rerun finishes it."""


def _image_drift(
    catalog: Catalog, sharer: ImageSharer, package: Package, version: PackageVersion, region: str, image_id: str
) -> Drift | None:
    wanted = wanted_permissions(package, version, catalog)
    actual = sharer.read(region, image_id)
    owner = sharer.image_owner(region, image_id)
    copiers = wanted.copiers - {owner} if sharer.copy_permissions else frozenset()
    wanted = wanted._replace(accounts=wanted.accounts - {owner}, copiers=copiers)
    return Drift(package.name, version.version, region, image_id, wanted, actual) if actual != wanted else None


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


def _public_objects(catalog: Catalog) -> dict[tuple[str, str, str], bool]:
    """Every file object (region, bucket, key) → whether it must be public. Objects are content
    addressed, so versions and packages with the same bytes share one: it is public when any
    non-revoked version of a public package uses it."""
    wanted: dict[tuple[str, str, str], bool] = {}
    for package, version, region, bucket, key in _objects(catalog, None):
        public = package.public and version.status is not VersionStatus.REVOKED
        wanted[(region, bucket, key)] = wanted.get((region, bucket, key), False) or public
    return wanted


def _object_drift(
    store: Store, package: Package, version: PackageVersion, region: str, bucket: str, key: str, wanted: bool
) -> Drift | None:
    """A public package's objects must be readable without credentials (``publicfile``); any
    other file's must not be, nor a revoked version's (unless a public one shares the object)."""
    public = store.object_is_public(region, bucket, key)
    if public is None or public == wanted:
        return None
    return Drift(
        package.name,
        version.version,
        region,
        f"{bucket}/{key}",
        ImagePermissions(wanted, frozenset()),
        ImagePermissions(public, frozenset()),
        kind="object",
    )


def _walk(store: Store, names: Iterable[str] | None, fix: bool) -> Result:
    """Every copy's drift, each read (and with ``fix`` changed) on its own: one copy the cloud
    refuses does not stop the others."""
    catalog = Catalog(store)
    sharer = _sharer(catalog)
    chosen = list(names) if names is not None else None
    found: list[Drift] = []
    failed: list[Failure] = []

    def visit(kind: str, where: tuple[str, str, str, str], check: Callable[[], Drift | None]) -> None:
        try:
            drift = check()
            if drift is not None and fix:
                _apply(store, sharer, drift)
        except DeploypkgError as error:
            reason = f"{error.message} ({error.hint})" if error.hint else error.message
            failed.append(Failure(*where, reason, kind=kind))
            return
        if drift is not None:
            found.append(drift)

    if sharer is not None:
        for package, version, region, image_id in _copies(catalog, chosen):
            visit(
                "image",
                (package.name, version.version, region, image_id),
                functools.partial(_image_drift, catalog, sharer, package, version, region, image_id),
            )
    objects = list(_objects(catalog, chosen))
    public = _public_objects(catalog) if objects else {}
    seen: set[tuple[str, str, str]] = set()
    for package, version, region, bucket, key in objects:
        if (region, bucket, key) in seen:
            continue  # one object, however many versions share it
        seen.add((region, bucket, key))
        visit(
            "object",
            (package.name, version.version, region, f"{bucket}/{key}"),
            functools.partial(
                _object_drift, store, package, version, region, bucket, key, public[(region, bucket, key)]
            ),
        )
    return Result(found, failed)


def _apply(store: Store, sharer: ImageSharer | None, drift: Drift) -> None:
    if drift.kind == "object":
        bucket, key = drift.image_id.split("/", 1)
        store.set_object_public(drift.region, bucket, key, drift.wanted.public)
    elif sharer is not None:
        sharer.apply(drift.region, drift.image_id, drift.actual, drift.wanted)


def audit(store: Store, names: Iterable[str] | None = None) -> Result:
    """Every regional copy whose permissions differ from what the catalog says: images' launch
    (and copy) permissions, and whether files' objects are public."""
    return _walk(store, names, fix=False)


def sync(store: Store, names: Iterable[str] | None = None) -> Result:
    """Make every regional copy's permissions what the catalog says; the changes made."""
    return _walk(store, names, fix=True)
