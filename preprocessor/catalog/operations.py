"""The provider's catalog operations, one module each; this module is their single entry point.

- :func:`init`, :func:`release`, :func:`revoke`, :func:`promote`, :func:`service` (lifecycle.py)
- :func:`publish` (publish.py), :func:`distribute` (distribute.py)
- :func:`describe_package`, :func:`list_catalog`: what ``list`` and ``show`` print

Every write is conditional (If-None-Match to create, If-Match to change), so published versions
stay immutable and racing writers never lose each other's updates.
"""

from __future__ import annotations

from typing import NamedTuple

from preprocessor import names
from preprocessor.catalog.distribute import DistributeOptions, RegionOutcome, Reporter, distribute
from preprocessor.catalog.keys import SERVICES, name_from_key
from preprocessor.catalog.lifecycle import init, promote, release, revoke, service
from preprocessor.catalog.model import CatalogInfo, Channel, Package, PackageVersion, Service
from preprocessor.catalog.publish import PublishRequest, PublishResult, publish
from preprocessor.catalog.store import Store
from preprocessor.catalog.writes import (
    list_channels,
    list_packages,
    list_versions,
    read_channel,
    read_info,
    read_service,
    require_package,
    require_version,
)

__all__ = [
    "CatalogListing",
    "DistributeOptions",
    "PackageDetails",
    "PublishRequest",
    "PublishResult",
    "RegionOutcome",
    "Reporter",
    "describe_package",
    "distribute",
    "init",
    "list_catalog",
    "promote",
    "publish",
    "release",
    "revoke",
    "service",
]


class PackageDetails(NamedTuple):
    package: Package
    versions: list[PackageVersion]
    channels: list[Channel]


class CatalogListing(NamedTuple):
    info: CatalogInfo
    packages: list[PackageDetails]
    services: list[Service]


def describe_package(store: Store, name: str, version: str | None = None) -> PackageDetails:
    """The package with all its versions (or just ``version``) and its channels."""
    names.check("package", name)
    package = require_package(store, name)
    if version is not None:
        versions = [require_version(store, name, names.check("version", version)).value]
    else:
        versions = [require_version(store, name, v).value for v in list_versions(store, name)]
    channels = []
    for channel in list_channels(store, name):
        found = read_channel(store, name, channel)
        if found is not None:
            channels.append(found.value)
    return PackageDetails(package, versions, channels)


def list_catalog(store: Store) -> CatalogListing:
    info = read_info(store)
    order = {channel: index for index, channel in enumerate(info.promotion_order)}
    packages = []
    for name in list_packages(store):
        details = describe_package(store, name)
        details.channels.sort(key=lambda c: (order.get(c.name, len(order)), c.name))
        packages.append(details)
    services = []
    for key in store.list_keys(SERVICES):
        service_name = name_from_key(key, SERVICES, ".json")
        found = read_service(store, service_name) if service_name else None
        if found is not None:
            services.append(found.value)
    return CatalogListing(info, packages, services)
