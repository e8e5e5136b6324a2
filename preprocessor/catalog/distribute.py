"""``distribute``: make a version available in more regions, one worker per region.

- files: ``Store.copy_object`` from the source bucket into each regional bucket (server-side on
  S3; streamed in parts where the store cannot copy across regions); an object already there with
  the same SHA-256 is skipped, so a rerun after a failure resumes;
- machine images: copied by the provider's :class:`~providers.ImageCopier` (AWS: EC2 CopyImage),
  then waited for; a provider without one has its copies made elsewhere and recorded from
  ``--image REGION=ID``;
- container images and charts: copied by digest into each region's registry (the catalog's
  ``registries`` / ``registry_pattern``, else the provider's registry host), every platform and
  blob, then the digest the target serves is checked before the region is recorded ``available``
  (:mod:`preprocessor.oci.copy`).

A region that fails is recorded as ``failed`` with its error; the others still complete. Each
outcome is merged into the version document with If-Match (see :func:`update_version`).
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple, Protocol

from preprocessor import names
from preprocessor.catalog.model import (
    CatalogInfo,
    Distribution,
    DistributionStatus,
    Package,
    PackageType,
    PackageVersion,
    VersionStatus,
)
from preprocessor.catalog.publish import IMAGE_REF, check_image_id, registry_pattern
from preprocessor.catalog.store import ObjectInfo, Store
from preprocessor.catalog.writes import (
    Versioned,
    now,
    read_info,
    require_package,
    require_version,
    update_version,
)
from preprocessor.errors import CatalogError, DeploypkgError, InputError
from preprocessor.oci.copy import copy_reference
from preprocessor.oci.reference import Reference, parse_reference
from preprocessor.oci.registries import Registries
from providers import ImageCopier, Provider, get_provider

DEFAULT_PARALLEL = 4


class RegionOutcome(NamedTuple):
    region: str
    status: DistributionStatus
    value: str | None
    """The regional image ID, object key or reference."""
    skipped: bool
    """Already there before this run (nothing copied)."""
    error: str | None = None
    seconds: float = 0.0


class Reporter(Protocol):
    def start(self, region: str, total: int | None) -> None: ...

    def advance(self, region: str, amount: int) -> None: ...

    def status(self, region: str, state: str, percent: int | None) -> None:
        """A cloud-side copy's state (``Creating``, ``pending`` …) and percentage, after each poll."""
        ...

    def finish(self, region: str, outcome: RegionOutcome) -> None: ...


class SilentReporter:
    def start(self, region: str, total: int | None) -> None:
        pass

    def advance(self, region: str, amount: int) -> None:
        pass

    def status(self, region: str, state: str, percent: int | None) -> None:
        pass

    def finish(self, region: str, outcome: RegionOutcome) -> None:
        pass


class DistributeOptions(NamedTuple):
    parallel: int = DEFAULT_PARALLEL
    images: Mapping[str, str] = {}
    """Region → image ID copied outside deploypkg (providers without an image copier)."""
    image_ref_pattern: str | None = None
    """Container images / charts: ``{region}``, ``{path}`` (the source reference after its host),
    ``{account}``; default: the provider's registry host followed by ``/{path}``."""
    image_wait_seconds: float = 1800.0
    image_poll_seconds: float = 5.0


class _Job(NamedTuple):
    store: Store
    info: CatalogInfo
    provider: Provider
    package: Package
    version: PackageVersion
    options: DistributeOptions
    reporter: Reporter
    record: Callable[[Distribution], None]
    source: _SourceObject
    stop: threading.Event
    registries: Registries


def distribute(
    store: Store,
    name: str,
    version: str,
    regions: Sequence[str],
    options: DistributeOptions | None = None,
    reporter: Reporter | None = None,
) -> list[RegionOutcome]:
    """Distribute ``name`` ``version`` to ``regions``; one outcome per region, in the given order."""
    options = options or DistributeOptions()
    info = read_info(store)
    provider = get_provider(info.provider)
    names.check("package", name)
    names.check("version", version)
    if not regions:
        raise InputError("name at least one region with --region")
    wanted = list(dict.fromkeys(names.check("region", r) for r in regions))
    for region in wanted:
        provider.check_region(region)
    if options.parallel < 1:
        raise InputError("--parallel must be at least 1")
    package = require_package(store, name)
    first = require_version(store, name, version)
    current: PackageVersion = first.value
    if current.status is VersionStatus.REVOKED:
        raise CatalogError(f"{name} {version} was revoked ({current.revoked_reason}); it is not distributed any more")
    records_images = package.type is PackageType.ECS_IMAGE and provider.image_copier is None
    if options.images and not records_images and current.source.marketplace is None:
        raise InputError(
            f"--image records image copies made outside deploypkg; {name} is {package.type.value} "
            f"in a {provider.name} catalog, which deploypkg copies itself",
            hint="leave out --image",
        )
    if options.image_ref_pattern and package.type not in (PackageType.CONTAINER_IMAGE, PackageType.HELM_CHART):
        raise InputError(f"--image-ref-pattern applies to container images and charts, not {package.type.value}")
    if current.source.marketplace is not None:
        _check_marketplace_regions(current, wanted, options.images)
    elif records_images:
        _check_recorded_images(provider, current, wanted, options.images)

    if package.type in (PackageType.CONTAINER_IMAGE, PackageType.HELM_CHART):
        for region in wanted:  # a bad pattern is bad input: refused before any region is touched
            target_reference(info, provider, package, current, region, options.image_ref_pattern)

    recorder = _Recorder(store, first)
    job = _Job(
        store,
        info,
        provider,
        package,
        current,
        options,
        reporter or SilentReporter(),
        recorder.record,
        _SourceObject(),
        threading.Event(),
        Registries(provider.registry_credentials),
    )
    workers = min(options.parallel, len(wanted))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="distribute")
    try:
        futures = [pool.submit(_run_region, job, region) for region in wanted]
        return [future.result() for future in futures]
    except BaseException:
        # Ctrl-C: regions not started are dropped, image waits stop; a copy in flight ends by itself.
        job.stop.set()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)


class _Recorder:
    """Merges each region's outcome into the version document (If-Match, re-read on conflict).

    The first write reuses the document read at the start (a copy: workers keep reading theirs);
    later writes read it afresh. One write at a time per process; other processes are merged by
    :func:`update_version`.
    """

    def __init__(self, store: Store, first: Versioned) -> None:
        self.store = store
        self.package = first.value.package
        self.version = first.value.version
        self._lock = threading.Lock()
        self._first: Versioned | None = Versioned(copy.deepcopy(first.value), first.etag)

    def record(self, distribution: Distribution) -> None:
        def change(document: PackageVersion) -> None:
            if document.status is VersionStatus.REVOKED:
                raise CatalogError(f"{self.package} {self.version} was revoked while distributing")
            earlier = document.distributions.get(distribution.region)
            if (
                earlier is not None
                and earlier.status is DistributionStatus.AVAILABLE
                and distribution.status is not DistributionStatus.AVAILABLE
            ):
                return  # a copy that is available stays recorded: a later failure never hides it
            document.distributions[distribution.region] = distribution

        with self._lock:
            first, self._first = self._first, None
            update_version(self.store, self.package, self.version, change, first=first)


def _check_marketplace_regions(version: PackageVersion, regions: Sequence[str], images: Mapping[str, str]) -> None:
    """A marketplace image is never copied: only the regions recorded at publish can have it."""
    code = version.source.marketplace
    if images:
        raise InputError(
            f"{version.package} {version.version} is marketplace image {code}: its regional IDs are recorded "
            "when it is published, not by distribute",
            hint="leave out --image; publish a new version with every region's --image",
        )
    recorded = sorted(version.distributions)
    for region in regions:
        if region not in version.distributions:
            raise InputError(
                f"{version.package} {version.version} is marketplace image {code}, recorded for "
                f"{', '.join(recorded)}; it is not copied, so it cannot be distributed to {region}",
                hint=f"distribute to {', '.join(recorded)}, or publish a version that records {region}'s image",
            )


def _check_recorded_images(
    provider: Provider, version: PackageVersion, regions: Sequence[str], images: Mapping[str, str]
) -> None:
    """Images recorded, not copied: every new region needs its image ID up front."""
    for region in regions:
        existing = version.distributions.get(region)
        available = existing is not None and existing.status is DistributionStatus.AVAILABLE
        if available and region not in images:
            continue
        if region not in images:
            raise InputError(
                f"{version.package} {version.version}: no image given for {region}; "
                f"deploypkg records {provider.name} image copies",
                hint=provider.record_images_help or "copy the image to the region, then give --image REGION=ID",
            )
        image_id = check_image_id(provider, region, images[region])
        published = version.status is not VersionStatus.DRAFT
        if existing is not None and available and published and existing.image_id != image_id:
            raise CatalogError(
                f"{region} already has {existing.image_id} in {version.status.value} "
                f"{version.package} {version.version}",
                hint="a published version's regional images never change; publish a new version",
            )


def _run_region(job: _Job, region: str) -> RegionOutcome:
    started = time.monotonic()
    try:
        outcome = _distribute_region(job, region)
    except Exception as exc:  # one region's failure is recorded, the others go on
        if isinstance(exc, DeploypkgError):
            message = f"{exc.message} (hint: {exc.hint})" if exc.hint else exc.message
        else:
            message = f"{type(exc).__name__}: {exc}"
        outcome = RegionOutcome(region, DistributionStatus.FAILED, None, False, message)
        try:
            job.record(Distribution(region, DistributionStatus.FAILED, updated_at=now(), error=message))
        except DeploypkgError as record_error:
            outcome = outcome._replace(error=f"{message}; could not record it: {record_error.message}")
    outcome = outcome._replace(seconds=time.monotonic() - started)
    job.reporter.finish(region, outcome)
    return outcome


def _distribute_region(job: _Job, region: str) -> RegionOutcome:
    kind = job.package.type
    if kind is PackageType.FILE:
        return _file_region(job, region)
    if kind is PackageType.ECS_IMAGE:
        if job.provider.image_copier is not None and job.version.source.marketplace is None:
            return _copied_image_region(job, region, job.provider.image_copier())
        return _recorded_image_region(job, region)  # copies made elsewhere, or a marketplace's
    return _reference_region(job, region)


def _already(job: _Job, region: str) -> Distribution | None:
    existing = job.version.distributions.get(region)
    if existing is not None and existing.status is DistributionStatus.AVAILABLE:
        return existing
    return None


class _SourceObject:
    """The source object, looked up once per run (by the first region that needs to copy)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._found: ObjectInfo | None = None

    def get(self, job: _Job) -> ObjectInfo:
        with self._lock:
            if self._found is None:
                self._found = _head_source(job)
            return self._found


def _head_source(job: _Job) -> ObjectInfo:
    source = job.version.source
    if not (source.region and source.bucket and source.object_key):
        raise CatalogError(f"{job.version.package} {job.version.version}: the source has no object key")
    found = job.store.head_object(source.region, source.bucket, source.object_key)
    if found is None:
        raise CatalogError(
            f"the source object {source.bucket}/{source.object_key} ({source.region}) is missing",
            hint="publish the file again: deploypkg catalog publish … --replace-draft",
            rule="DPK307",
        )
    if source.sha256 and found.sha256 not in (None, source.sha256):
        raise CatalogError(f"the source object {source.bucket}/{source.object_key} changed (SHA-256 differs)")
    return found


def _file_region(job: _Job, region: str) -> RegionOutcome:
    source = job.version.source
    if source.object_key is None or source.region is None:
        raise CatalogError(f"{job.version.package} {job.version.version}: the source has no region or object key")
    bucket = job.info.bucket(region)
    present = job.store.head_object(region, bucket, source.object_key)
    if present is not None and source.sha256 is not None and present.sha256 == source.sha256:
        job.reporter.start(region, present.size)
        job.reporter.advance(region, present.size)
        skipped = True
    else:
        origin = job.source.get(job)
        job.reporter.start(region, origin.size)
        present = job.store.copy_object(
            origin, source.region, region, bucket, source.object_key, lambda n: job.reporter.advance(region, n)
        )
        if source.sha256 is not None and present.sha256 not in (None, source.sha256):
            raise CatalogError(f"the copy in {bucket} has a different SHA-256 than the source")
        skipped = False
    earlier = job.version.distributions.get(region)
    if not (skipped and earlier is not None and earlier.status is DistributionStatus.AVAILABLE):
        job.record(
            Distribution(
                region,
                DistributionStatus.AVAILABLE,
                bucket=bucket,
                object_key=source.object_key,
                sha256=source.sha256,
                size=present.size,
                updated_at=now(),
            )
        )
    return RegionOutcome(region, DistributionStatus.AVAILABLE, source.object_key, skipped)


def _copied_image_region(job: _Job, region: str, copier: ImageCopier) -> RegionOutcome:
    job.reporter.start(region, None)
    done = _already(job, region)
    if done is not None:
        return RegionOutcome(region, DistributionStatus.AVAILABLE, done.image_id, True)
    source = job.version.source
    if not (source.region and source.image_id):
        raise CatalogError(f"{job.version.package} {job.version.version}: the source has no image ID")
    earlier = job.version.distributions.get(region)
    if earlier is not None and earlier.status is DistributionStatus.DELIVERING and earlier.image_id:
        image_id = earlier.image_id  # a copy started by an earlier run: wait for it, do not copy again
    else:
        image_id = copier.copy_image(job.version.package, job.version.version, source.region, source.image_id, region)
        job.record(Distribution(region, DistributionStatus.DELIVERING, image_id=image_id, updated_at=now()))
    result = copier.wait_available(
        region,
        image_id,
        job.options.image_wait_seconds,
        job.options.image_poll_seconds,
        job.stop,
        lambda state, percent: job.reporter.status(region, state, percent),
    )
    if result.state == "available":
        job.record(Distribution(region, DistributionStatus.AVAILABLE, image_id=image_id, updated_at=now()))
        return RegionOutcome(region, DistributionStatus.AVAILABLE, image_id, False)
    if result.state in ("timeout", "interrupted"):
        return RegionOutcome(
            region,
            DistributionStatus.DELIVERING,
            image_id,
            False,
            f"{image_id} is still pending; rerun distribute to wait for it",
        )
    raise CatalogError(f"{copier.service} to {region} ended {result.state}: {result.reason or 'no reason given'}")


def _recorded_image_region(job: _Job, region: str) -> RegionOutcome:
    job.reporter.start(region, None)
    image_id = job.options.images.get(region)
    done = _already(job, region)
    if done is not None and image_id in (None, done.image_id):
        return RegionOutcome(region, DistributionStatus.AVAILABLE, done.image_id, True)
    assert image_id is not None  # checked up front by _check_recorded_images
    job.record(Distribution(region, DistributionStatus.AVAILABLE, image_id=image_id, updated_at=now()))
    return RegionOutcome(region, DistributionStatus.AVAILABLE, image_id, False)


def regional_reference(provider: Provider, package: Package, source_ref: str, region: str, pattern: str | None) -> str:
    """The reference of ``source_ref`` in ``region``'s registry.

    ``{account}`` is the account in the source reference's registry host (ECR), else the owner.
    """
    scheme = "oci://" if source_ref.startswith("oci://") else ""
    path = source_ref[len(scheme) :].split("/", 1)[1]
    template = pattern or f"{scheme}{provider.registry_host}/{{path}}"
    match = registry_pattern(provider).fullmatch(source_ref)
    account = (match.groupdict().get("account") if match else None) or package.owner
    if "{account}" in template and not account:
        raise InputError(
            f"the registry pattern {template!r} needs an account, and package {package.name!r} has no owner",
            hint="give --image-ref-pattern with the account written out, or publish with --owner ACCOUNT",
        )
    try:
        ref = template.format(region=region, path=path, account=account or "")
    except (KeyError, IndexError, ValueError) as exc:
        raise InputError(
            f"bad --image-ref-pattern {template!r}: {exc}", hint="placeholders: {region}, {path}, {account}"
        ) from None
    bare_ref = ref[len("oci://") :] if ref.startswith("oci://") else ref
    if not IMAGE_REF.fullmatch(bare_ref):
        raise InputError(f"the pattern {template!r} gives {ref!r} in {region}, which is not a valid reference")
    return ref


def target_reference(
    info: CatalogInfo, provider: Provider, package: Package, version: PackageVersion, region: str, pattern: str | None
) -> Reference:
    """Where ``version``'s image or chart goes in ``region``: ``--image-ref-pattern`` when given;
    else the region's registry from the catalog, keeping the repository path below the source
    region's namespace and the tag; else the provider's registry host with the source's path."""
    source_text = version.source.image_ref or version.source.chart_ref
    if not source_text:
        raise CatalogError(f"{version.package} {version.version}: the source has no reference")
    source = parse_reference(source_text)
    registry = info.registry(region)
    if pattern is None and registry is not None:
        host, _, namespace = registry.partition("/")
        below = source.repository
        source_registry = info.registry(version.source.region) if version.source.region else None
        if source_registry is not None:
            source_host, _, source_namespace = source_registry.partition("/")
            if source.registry == source_host and source_namespace and below.startswith(source_namespace + "/"):
                below = below[len(source_namespace) + 1 :]
        return Reference(host, f"{namespace}/{below}" if namespace else below, source.tag, None, source.oci)
    if pattern is None and not registry_pattern(provider).fullmatch(source_text):
        raise InputError(
            f"{source_text!r} is not in the {provider.name} registry ({provider.registry_host}), and the catalog"
            f" names no registry for {region}",
            hint="record the regions' registries (catalog init --registry-pattern HOST/NS or --registry R=HOST/NS),"
            " or give --image-ref-pattern 'host-{region}/{path}'",
        )
    return parse_reference(regional_reference(provider, package, source_text, region, pattern))


def _reference_region(job: _Job, region: str) -> RegionOutcome:
    job.reporter.start(region, None)
    done = _already(job, region)
    if done is not None:
        return RegionOutcome(region, DistributionStatus.AVAILABLE, done.value, True)
    target = target_reference(job.info, job.provider, job.package, job.version, region, job.options.image_ref_pattern)
    source_text = job.version.source.image_ref or job.version.source.chart_ref or ""
    source = parse_reference(source_text)
    if job.version.source.digest:
        source = source.pinned(job.version.source.digest)
    copied = copy_reference(source, target, job.registries.client)
    ref = str(target)
    if job.package.type is PackageType.CONTAINER_IMAGE:
        dist = Distribution(region, DistributionStatus.AVAILABLE, image_ref=ref, digest=copied.digest, updated_at=now())
    else:
        dist = Distribution(region, DistributionStatus.AVAILABLE, chart_ref=ref, digest=copied.digest, updated_at=now())
    job.record(dist)
    return RegionOutcome(region, DistributionStatus.AVAILABLE, ref, False)
