"""What each reference becomes in a region: package version → access check → regional value.

One :class:`ArtifactResolver` per catalog and account. Everything is cached: a package spec is
resolved once, a (version, region) access decision is made once, a regional object is HEADed
and signed once, however many templates and regions use it. Signing is local (botocore); the
regions' HEAD requests are sent in parallel while the render goes on (:meth:`ArtifactResolver.prefetch`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from preprocessor.catalog.model import Package, PackageType, PackageVersion
from preprocessor.catalog.store import Endpoint, Store
from preprocessor.errors import CatalogError, DeploypkgError, InputError, PolicyError
from preprocessor.names import PackageSpec
from preprocessor.render.presign import url_lifetime, utc_text

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

    from preprocessor.catalog.catalog import Catalog
    from providers import Provider

# What each kind of reference needs from the package, and which distribution field it uses.
KIND_PACKAGE_TYPE: dict[str, PackageType] = {
    "image": PackageType.ECS_IMAGE,
    "file": PackageType.FILE,
    "publicfile": PackageType.FILE,
    "acrimage": PackageType.CONTAINER_IMAGE,
    "helmchart": PackageType.HELM_CHART,
    "container": PackageType.CONTAINER_IMAGE,
}
"""Reference kind → the package type it needs: ``image`` and ``container`` for template
properties (machine and container images), the others for Compute Nest placeholders."""

# Errors that mean "this package cannot be used in this region" (a region is excluded under
# --all-regions) rather than "the input is wrong".
REGION_RULES = frozenset({"DPK301", "DPK302", "DPK303", "DPK304", "DPK305", "DPK307"})


class Artifact(NamedTuple):
    package: str
    version: str
    channel: str | None
    package_type: str
    kind: str
    region: str
    value: str
    """The regional image ID, URL or registry reference written into the template."""
    bucket: str | None = None
    key: str | None = None
    sha256: str | None = None
    expires_at: str | None = None
    """Absolute UTC time a presigned URL dies (the earlier of --expires and the credentials)."""
    digest: str | None = None
    """The manifest digest of an image or chart, as the regional registry served it after the copy."""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "package": self.package,
            "version": self.version,
            "channel": self.channel,
            "type": self.package_type,
            "kind": self.kind,
            "region": self.region,
            "url" if self.kind in ("file", "publicfile") else "id": self.value,
            "bucket": self.bucket,
            "key": self.key,
            "sha256": self.sha256,
            "expires_at": self.expires_at,
            "digest": self.digest,
        }
        return {key: value for key, value in data.items() if value is not None}


class Resolved(NamedTuple):
    package: Package
    version: PackageVersion
    channel: str | None


@dataclass
class ArtifactResolver:
    catalog: Catalog
    store: Store
    account: str | None
    expires: int
    endpoint: Endpoint
    signed_at: datetime
    credentials_expiry: Callable[[], datetime | None] = lambda: None
    provider: Provider | None = None
    """The catalog's provider (its in-VPC registry hosts)."""
    """When the signing credentials expire; asked once, when the first URL is signed."""
    cut_short: bool = False
    """Set when some presigned URL dies before the requested expiry (DPK309)."""
    _specs: dict[PackageSpec, Resolved] = field(default_factory=dict)
    _access: dict[tuple[str, str, str], DeploypkgError | None] = field(default_factory=dict)
    _artifacts: dict[tuple[PackageSpec, str, str], Artifact] = field(default_factory=dict)
    _refusals: dict[tuple[PackageSpec, str, str], Exception] = field(default_factory=dict)
    """Why a prefetched artifact could not be built, raised when the render asks for it."""
    _credentials_checked: bool = False
    _credentials_lock: threading.Lock = field(default_factory=threading.Lock)
    credentials_expire_at: datetime | None = None
    _pool: ThreadPoolExecutor | None = None
    _building: dict[str, Future[None]] = field(default_factory=dict)
    """Region → its prefetch, run by ``_pool`` while the render goes on."""

    def resolve(self, spec: PackageSpec) -> Resolved:
        known = self._specs.get(spec)
        if known is None:
            version, channel = self.catalog.resolve(spec)
            known = Resolved(self.catalog.package(spec.package), version, channel)
            self._specs[spec] = known
        return known

    def _refusal(self, version: PackageVersion, region: str) -> DeploypkgError | None:
        """Why ``version`` cannot be used in ``region`` by the account, or None (cached)."""
        key = (version.package, version.version, region)
        if key not in self._access:
            from preprocessor.catalog import access

            refusal: DeploypkgError | None = None
            try:
                access.check(self.catalog, version, region, self.account)
            except PolicyError as error:
                refusal = error
            self._access[key] = refusal
        return self._access[key]

    def usable_regions(self, version: PackageVersion) -> list[str]:
        return [region for region in version.available_regions() if self._refusal(version, region) is None]

    def check_usable(self, spec: PackageSpec, region: str) -> Resolved:
        self._wait_for(region)
        return self._usable(spec, region)

    def _usable(self, spec: PackageSpec, region: str) -> Resolved:
        resolved = self.resolve(spec)
        refusal = self._refusal(resolved.version, region)
        if refusal is not None:
            usable = self.usable_regions(resolved.version)
            who = f"account {self.account}" if self.account else "an anonymous caller"
            hint = f"{resolved.version.package}@{resolved.version.version} is usable by {who} in: "
            hint += ", ".join(usable) if usable else "no region"
            raise PolicyError(
                f"in {region}: {refusal.message}",
                rule=refusal.rule or "DPK301",
                hint=f"{hint}; {refusal.hint}" if refusal.hint else hint,
            )
        return resolved

    def artifact(self, spec: PackageSpec, kind: str, region: str) -> Artifact:
        key = (spec, kind, region)
        known = self._artifacts.get(key)
        if known is None:
            self._wait_for(region)
            known = self._artifacts.get(key)
        if known is None:
            refusal = self._refusals.get(key)
            if refusal is not None:
                raise refusal
            known = self._build(spec, kind, region)
            self._artifacts[key] = known
        return known

    def prefetch(self, wanted: Sequence[tuple[PackageSpec, str]], regions: Sequence[str], workers: int = 8) -> None:
        """Build every (spec, kind) artifact of every region ahead of the render: each file
        artifact costs a HEAD round trip (signing is local), and those need not wait for each
        other nor for the render. The first region is built before this returns, alone, so the
        catalog documents all regions share are read once; the other regions are built by a
        thread pool while the render goes on (asking for a region's artifact waits until that
        region is built; :meth:`close` stops the pool). Whatever goes wrong building an artifact
        is kept and raised when the render asks for that artifact, so errors surface in the
        render's own order. Called once per render."""
        if not wanted or not regions:
            return
        self._prefetch_region(wanted, regions[0])
        rest = regions[1:]
        if rest:
            from concurrent.futures import ThreadPoolExecutor

            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=min(workers, len(rest)))
            for region in rest:
                self._building[region] = self._pool.submit(self._prefetch_region, wanted, region)

    def close(self) -> None:
        """Stop building ahead: regions not started are dropped, those being built finish."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._building.clear()  # from now on an artifact not built is built when asked for

    def _wait_for(self, region: str) -> None:
        """Return once the region's prefetch (if any) is done; never from a prefetch worker."""
        building = self._building.get(region)
        if building is not None:
            building.result()  # _prefetch_region keeps every error for artifact() to raise

    def _prefetch_region(self, wanted: Sequence[tuple[PackageSpec, str]], region: str) -> None:
        for spec, kind in wanted:
            key = (spec, kind, region)
            if key in self._artifacts or key in self._refusals:
                continue
            try:
                self._artifacts[key] = self._build(spec, kind, region)
            except Exception as error:  # deferred, not handled: raised again by artifact()
                self._refusals[key] = error

    def _build(self, spec: PackageSpec, kind: str, region: str) -> Artifact:
        resolved = self._usable(spec, region)
        package, version = resolved.package, resolved.version
        wanted = KIND_PACKAGE_TYPE[kind]
        if package.type is not wanted:
            raise InputError(
                f"{spec} is a {package.type.value} package; a {kind} reference needs a {wanted.value} package",
                hint="fix the association in deploypkg.yaml or .computenest/config.yaml",
                rule="DPK310",
            )
        distribution = version.distributions[region]
        base = Artifact(
            package=package.name,
            version=version.version,
            channel=resolved.channel,
            package_type=package.type.value,
            kind=kind,
            region=region,
            value="",
            sha256=distribution.sha256,
        )
        where = f"{package.name}@{version.version} in {region}"
        if kind == "image":
            return base._replace(value=_required(distribution.image_id, "image ID", where))
        if kind in ("acrimage", "container"):
            ref = _required(distribution.image_ref, "image reference", where)
            return base._replace(value=self._registry_reference(ref, distribution.digest), digest=distribution.digest)
        if kind == "helmchart":  # a chart keeps its version (helm pulls by tag); the digest is recorded
            ref = _required(distribution.chart_ref, "chart reference", where)
            return base._replace(value=self._registry_reference(ref, None), digest=distribution.digest)
        return self._file(base, distribution.bucket, distribution.object_key, where)

    def _registry_reference(self, ref: str, digest: str | None) -> str:
        """``ref`` pinned by ``digest``, on the registry's in-VPC host for ``--url-endpoint internal``."""
        from preprocessor.oci.reference import parse_reference

        parsed = parse_reference(ref)
        if digest is not None:
            parsed = parsed.pinned(digest)
        if self.endpoint == "internal" and self.provider is not None:
            parsed = parsed._replace(registry=self.provider.internal_registry(parsed.registry))
        return str(parsed)

    def _file(self, base: Artifact, bucket: str | None, key: str | None, where: str) -> Artifact:
        region = base.region
        bucket = bucket or self.catalog.info().bucket(region)
        key = _required(key, "object key", where)
        found = self.store.head_object(region, bucket, key)
        if found is None:
            raise CatalogError(
                f"the catalog lists {where} at {bucket}/{key}, but the object is not in the store",
                rule="DPK307",
                hint="rerun `deploypkg catalog distribute` for this region, or fix the catalog",
            )
        if base.sha256 and found.sha256 and found.sha256 != base.sha256:
            raise CatalogError(
                f"the object {bucket}/{key} for {where} has SHA-256 {found.sha256}, the catalog says {base.sha256}",
                rule="DPK307",
                hint="the regional copy differs from the published file; redistribute it",
            )
        if base.kind == "publicfile":
            self._check_public(base, bucket, key, where)
            url = self.store.object_url(region, bucket, key, presign=False, endpoint=self.endpoint)
            return base._replace(value=url, bucket=bucket, key=key)
        url = self.store.object_url(region, bucket, key, presign=True, expires=self.expires, endpoint=self.endpoint)
        if url.startswith("file:"):
            return base._replace(value=url, bucket=bucket, key=key)  # a local store's file never expires
        with self._credentials_lock:
            if not self._credentials_checked:
                self.credentials_expire_at = self.credentials_expiry()
                self._credentials_checked = True
        dies_at, cut = url_lifetime(self.expires, self.signed_at, self.credentials_expire_at)
        if cut:  # only ever set, so parallel prefetches cannot lose it
            self.cut_short = True
        return base._replace(value=url, bucket=bucket, key=key, expires_at=utc_text(dies_at))

    def _check_public(self, base: Artifact, bucket: str, key: str, where: str) -> None:
        """A publicfile URL carries no signature: refuse one whose object anonymous readers
        cannot read (asked through the public endpoint, whichever endpoint is written)."""
        if self.store.object_is_public(base.region, bucket, key) is not False:
            return
        if self.catalog.package(base.package).public:
            hint = "the package is public but this object is not: run deploypkg catalog audit --fix"
        else:
            hint = (
                f"publish the file as a public package (catalog publish … --public), "
                f"or write computenest::file::{base.package} for a presigned URL"
            )
        raise PolicyError(
            f"{where}: {bucket}/{key} in {base.region} is not readable without credentials, "
            "and a publicfile URL is not signed",
            rule="DPK312",
            hint=hint,
        )


def _required(value: str | None, what: str, where: str) -> str:
    if not value:
        raise CatalogError(f"the catalog has no {what} for {where}", rule="DPK307", hint="fix the catalog entry")
    return value
