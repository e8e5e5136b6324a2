"""The access rules, table-driven: every service setup × every kind of account, then the
version-status and region rules, with allowed and refused cases."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from preprocessor.catalog import access, keys
from preprocessor.catalog.catalog import Catalog
from preprocessor.catalog.local import LocalStore
from preprocessor.catalog.model import (
    CatalogInfo,
    Distribution,
    DistributionStatus,
    Package,
    PackageType,
    PackageVersion,
    Service,
    Source,
    VersionStatus,
    Visibility,
)
from preprocessor.errors import PolicyError

OWNER = "owner1"
ACCOUNTS = (OWNER, "w1", "w2", "stranger", None)


class Setup(NamedTuple):
    services: tuple[Service, ...]
    allowed: frozenset[str | None]
    refusal: str
    """The rule that refuses everybody else."""


def _svc(
    name: str, visibility: Visibility, whitelist: tuple[str, ...] = (), packages: tuple[str, ...] = ("p",)
) -> Service:
    return Service(name=name, visibility=visibility, whitelist=whitelist, packages=packages, owner=OWNER)


PUBLIC, PRIVATE = Visibility.PUBLIC, Visibility.PRIVATE
EVERYONE = frozenset(ACCOUNTS)

SETUPS: dict[str, Setup] = {
    "no service": Setup((), frozenset({OWNER}), "DPK305"),
    "public, empty whitelist": Setup((_svc("s1", PUBLIC),), EVERYONE, ""),
    "public, whitelist": Setup((_svc("s1", PUBLIC, ("w1",)),), frozenset({OWNER, "w1"}), "DPK304"),
    "private, empty whitelist": Setup((_svc("s1", PRIVATE),), frozenset({OWNER}), "DPK305"),
    "private, whitelist": Setup((_svc("s1", PRIVATE, ("w1",)),), frozenset({OWNER, "w1"}), "DPK305"),
    "public whitelist + private whitelist": Setup(
        (_svc("s1", PUBLIC, ("w1",)), _svc("s2", PRIVATE, ("w2",))), frozenset({OWNER, "w1", "w2"}), "DPK304"
    ),
    "public open + private whitelist": Setup((_svc("s1", PUBLIC), _svc("s2", PRIVATE, ("w2",))), EVERYONE, ""),
    "public service of another package": Setup(
        (_svc("s1", PUBLIC, packages=("other",)),), frozenset({OWNER}), "DPK305"
    ),
    "private whitelist of another package": Setup(
        (_svc("s1", PRIVATE, ("w1",), packages=("other",)),), frozenset({OWNER}), "DPK305"
    ),
}


def _version(status: VersionStatus = VersionStatus.PUBLISHED, **extra: str) -> PackageVersion:
    def dist(region: str, state: DistributionStatus, error: str | None = None) -> Distribution:
        return Distribution(region=region, status=state, image_id=f"m-{region}", error=error)

    return PackageVersion(
        package="p",
        version="1.0.0",
        status=status,
        source=Source(region="r-one", image_id="m-r-one"),
        distributions={
            "r-one": dist("r-one", DistributionStatus.AVAILABLE),
            "r-two": dist("r-two", DistributionStatus.AVAILABLE),
            "r-three": dist("r-three", DistributionStatus.DELIVERING),
            "r-four": dist("r-four", DistributionStatus.FAILED, "quota exceeded"),
        },
        revoked_reason=extra.get("reason"),
        revoked_at=extra.get("at"),
    )


def _catalog(tmp_path: Path, services: tuple[Service, ...], version: PackageVersion | None = None) -> Catalog:
    store = LocalStore(tmp_path / "catalog")
    store.write_document(keys.CATALOG, CatalogInfo("alicloud", "b-{region}").to_json())
    store.write_document(keys.package_key("p"), Package("p", PackageType.ECS_IMAGE, owner=OWNER).to_json())
    store.write_document(keys.version_key("p", "1.0.0"), (version or _version()).to_json())
    for service in services:
        store.write_document(keys.service_key(service.name), service.to_json())
    return Catalog(store)


@pytest.mark.parametrize("setup_name", sorted(SETUPS))
@pytest.mark.parametrize("account", ACCOUNTS, ids=lambda a: str(a))
def test_visibility_and_whitelists(tmp_path: Path, setup_name: str, account: str | None) -> None:
    setup = SETUPS[setup_name]
    catalog = _catalog(tmp_path, setup.services)
    version = catalog.version("p", "1.0.0")
    if account in setup.allowed:
        access.check(catalog, version, "r-one", account)
        return
    with pytest.raises(PolicyError) as caught:
        access.check(catalog, version, "r-one", account)
    error = caught.value
    assert error.rule == setup.refusal
    assert error.exit_code == 1
    assert "p@1.0.0" in error.message
    assert error.hint
    if account is None:
        assert "--account" in error.hint and "anonymous" in error.message
    else:
        assert account in error.message and f"--allow {account}" in error.hint


def test_audience_summary() -> None:
    package = Package("p", PackageType.FILE, owner=OWNER)
    services = [_svc("s1", PUBLIC, ("w1",)), _svc("s2", PRIVATE, ("w2",)), _svc("s3", PUBLIC, packages=("q",))]
    who = access.audience(package, services)
    assert who == access.Audience(public=True, everyone=False, accounts=frozenset({"w1", "w2"}), services=("s1", "s2"))


OPEN = (_svc("s1", PUBLIC),)


class RegionCase(NamedTuple):
    status: VersionStatus
    region: str
    account: str | None
    rule: str | None
    says: tuple[str, ...] = ()


REGION_CASES = {
    "published, available": RegionCase(VersionStatus.PUBLISHED, "r-two", None, None),
    "published, delivering": RegionCase(
        VersionStatus.PUBLISHED, "r-three", None, "DPK301", ("delivering", "available in: r-one, r-two")
    ),
    "published, failed": RegionCase(VersionStatus.PUBLISHED, "r-four", OWNER, "DPK301", ("failed", "quota exceeded")),
    "published, no copy": RegionCase(VersionStatus.PUBLISHED, "r-five", OWNER, "DPK301", ("no copy", "r-one, r-two")),
    "draft, source region": RegionCase(VersionStatus.DRAFT, "r-one", None, None),
    "draft, other region with a copy": RegionCase(
        VersionStatus.DRAFT, "r-two", OWNER, "DPK302", ("draft", "source region r-one")
    ),
    "revoked, owner": RegionCase(VersionStatus.REVOKED, "r-one", OWNER, "DPK303", ("revoked", "CVE-2026-0001")),
    "revoked, anyone": RegionCase(VersionStatus.REVOKED, "r-two", None, "DPK303", ("2026-02-01",)),
}


@pytest.mark.parametrize("case_name", sorted(REGION_CASES))
def test_status_and_region_rules(tmp_path: Path, case_name: str) -> None:
    case = REGION_CASES[case_name]
    version = _version(case.status, reason="CVE-2026-0001 in openssl", at="2026-02-01T00:00:00Z")
    catalog = _catalog(tmp_path, OPEN, version)
    if case.rule is None:
        access.check(catalog, version, case.region, case.account)
        return
    with pytest.raises(PolicyError) as caught:
        access.check(catalog, version, case.region, case.account)
    assert caught.value.rule == case.rule
    assert "p@1.0.0" in caught.value.message
    for words in case.says:
        assert words in caught.value.message
    assert caught.value.hint


def test_revoked_beats_private_and_private_beats_draft(tmp_path: Path) -> None:
    revoked = _version(VersionStatus.REVOKED, reason="broken")
    catalog = _catalog(tmp_path / "a", (), revoked)
    with pytest.raises(PolicyError) as caught:
        access.check(catalog, revoked, "r-one", "stranger")
    assert caught.value.rule == "DPK303"
    draft = _version(VersionStatus.DRAFT)
    catalog = _catalog(tmp_path / "b", (), draft)
    with pytest.raises(PolicyError) as caught:
        access.check(catalog, draft, "r-two", "stranger")
    assert caught.value.rule == "DPK305"
    with pytest.raises(PolicyError) as caught:
        access.check(catalog, draft, "r-two", OWNER)
    assert caught.value.rule == "DPK302"


def test_fixture_catalog_rules(tmp_path: Path) -> None:
    from conftest import FIXTURES

    catalog = Catalog(LocalStore(FIXTURES / "alicloud" / "catalog"))
    worker = catalog.version("worker-image", "2.0.0")
    access.check(catalog, worker, "cn-beijing", None)
    with pytest.raises(PolicyError) as caught:
        access.check(catalog, worker, "cn-shanghai", "1234567890123456")
    assert caught.value.rule == "DPK301"
    assert "available in: cn-beijing, cn-hangzhou" in caught.value.message
    draft = catalog.version("web-image", "1.1.0")
    access.check(catalog, draft, "cn-hangzhou", "1234567890123456")
    with pytest.raises(PolicyError) as caught:
        access.check(catalog, draft, "cn-beijing", "1234567890123456")
    assert caught.value.rule == "DPK302"
