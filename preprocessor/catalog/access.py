"""The access rules: may ``account`` use this package version in this region? One function,
:func:`check`, used by render and plan.

Checked in this order; the first refusal raises :class:`PolicyError` with its rule:

1. DPK303 — a revoked version is usable by nobody.
2. DPK305 / DPK304 — who may use the package (below).
3. DPK302 — a draft is usable only in its source region.
4. DPK301 — the version must have an ``available`` copy in the region.

Who may use a package. Its services are those whose ``packages`` list it; the package is usable
through any one of them (union), and always by its owner account:

| service                      | usable by                                  |
|------------------------------|--------------------------------------------|
| public, empty whitelist      | every account, and no account (``None``)   |
| public, whitelist W          | the accounts in W                          |
| private, whitelist W (maybe empty) | the accounts in W                    |
| (package owner)              | always, whatever its services say          |

A package is *public* when at least one of its services is public, else *private* (no service at
all: private). A refused account gets DPK304 (account-not-whitelisted) when the package is
public — it is restricted by whitelists — and DPK305 (private-package) when it is private.
Without an account (``None``: no ``--account`` and none in the config) only packages with a public,
unrestricted service are usable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from preprocessor.catalog.model import DistributionStatus, Package, PackageVersion, Service, VersionStatus, Visibility
from preprocessor.errors import PolicyError

if TYPE_CHECKING:
    from preprocessor.catalog.catalog import Catalog


class Audience(NamedTuple):
    """Who may use a package, from its services."""

    public: bool
    """At least one associated service is public."""
    everyone: bool
    """A public service with an empty whitelist: any account, or none."""
    accounts: frozenset[str]
    """Accounts on the whitelist of an associated service (public or private)."""
    services: tuple[str, ...]


def audience(package: Package, services: list[Service]) -> Audience:
    mine = [s for s in services if package.name in s.packages]
    public = [s for s in mine if s.visibility is Visibility.PUBLIC]
    return Audience(
        public=bool(public),
        everyone=any(not s.whitelist for s in public),
        accounts=frozenset(a for s in mine for a in s.whitelist),
        services=tuple(s.name for s in mine),
    )


def may_use(package: Package, who: Audience, account: str | None) -> bool:
    if who.everyone:
        return True
    if account is None:
        return False
    return account == package.owner or account in who.accounts


def check(catalog: Catalog, version: PackageVersion, region: str, account: str | None) -> None:
    """Return if ``account`` may use ``version`` in ``region``; else raise :class:`PolicyError`."""
    package = catalog.package(version.package)
    name = f"{version.package}@{version.version}"
    if version.status is VersionStatus.REVOKED:
        reason = version.revoked_reason or "no reason recorded"
        when = f" on {version.revoked_at}" if version.revoked_at else ""
        raise PolicyError(
            f"{name} was revoked{when}: {reason}",
            rule="DPK303",
            hint=f"use another version of {version.package} (a revoked version is never usable)",
        )
    _check_audience(package, catalog.services(), name, account)
    if version.status is VersionStatus.DRAFT and region != version.source.region:
        raise PolicyError(
            f"{name} is a draft, usable only in its source region {version.source.region or '(unknown)'}, not {region}",
            rule="DPK302",
            hint=f"release it first (deploypkg catalog release {version.package} {version.version}) "
            f"or render only {version.source.region}",
        )
    distribution = version.distributions.get(region)
    if distribution is None or distribution.status is not DistributionStatus.AVAILABLE:
        state = "it has no copy there" if distribution is None else f"its copy there is {distribution.status.value}"
        if distribution is not None and distribution.error:
            state += f" ({distribution.error})"
        available = version.available_regions()
        raise PolicyError(
            f"{name} is not available in {region}: {state}; available in: {', '.join(available) or 'no region'}",
            rule="DPK301",
            hint=f"distribute it: deploypkg catalog distribute {version.package} {version.version} --region {region}",
        )


def _check_audience(package: Package, services: list[Service], name: str, account: str | None) -> None:
    who = audience(package, services)
    if may_use(package, who, account):
        return
    allow = (
        f"add the account to a service's whitelist (deploypkg catalog service NAME --allow {account})"
        if account is not None
        else "give an account (--account or `account:` in deploypkg.yaml) that may use it"
    )
    whom = f"account {account}" if account is not None else "an anonymous caller (no account given)"
    via = f"service(s) {', '.join(who.services)}" if who.services else "no service"
    if who.public:
        raise PolicyError(
            f"{name}: {whom} is not on the whitelist of any public service of the package ({via} restrict it)",
            rule="DPK304",
            hint=allow,
        )
    owner = package.owner or "(none recorded)"
    raise PolicyError(
        f"{name} is private (associated with {via}); usable only by its owner {owner} and whitelisted accounts, "
        f"not {whom}",
        rule="DPK305",
        hint=f"{allow}, or make a service of the package public",
    )
