"""``publish``: create a draft version of a package (and the package itself when new).

The version document is created with If-None-Match, so of any number of publishers racing on one
version exactly one wins; the others get a :class:`ConflictError`. ``replace_draft`` replaces a
draft with If-Match on the ETag it read; a published or revoked version is never replaced.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from preprocessor import names
from preprocessor.catalog.keys import object_key, package_key, version_key
from preprocessor.catalog.model import (
    CatalogInfo,
    Distribution,
    DistributionStatus,
    Package,
    PackageType,
    PackageVersion,
    Source,
    VersionStatus,
)
from preprocessor.catalog.store import ProgressCallback, Store
from preprocessor.catalog.writes import now, read_info, read_package, read_version
from preprocessor.errors import CatalogError, ConflictError, InputError
from providers import Provider, get_provider

FILENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,254}")
IMAGE_REF = re.compile(r"[a-z0-9][a-z0-9.-]*(?::[0-9]+)?/[a-z0-9._/-]+(?::[A-Za-z0-9._-]{1,128}|@sha256:[0-9a-f]{64})")
CHART_REF = re.compile(r"(?:oci|https?)://[a-z0-9][a-z0-9.-]*(?::[0-9]+)?/[A-Za-z0-9._/-]+(?::[A-Za-z0-9._+-]{1,128})?")
READ_CHUNK = 1024 * 1024


class PublishRequest(NamedTuple):
    package: str
    version: str
    type: PackageType
    images: Mapping[str, str] = {}
    """ecs-image: region → image ID (the source region first unless ``region`` says otherwise)."""
    region: str | None = None
    """The source region (files: where the file is uploaded)."""
    file: Path | None = None
    image_ref: str | None = None
    chart_ref: str | None = None
    owner: str | None = None
    description: str = ""
    replace_draft: bool = False
    marketplace: str | None = None
    """ecs-image: the marketplace commodity code; ``images`` are its IDs in the regions it is sold in."""
    public: bool = False
    """file: a new package whose objects anyone may read (``computenest::publicfile``)."""
    copyable: bool = False
    """ecs-image: a new package whose customers may also copy its images into their accounts."""


# Which request fields (and their CLI options) belong to which package type.
_TYPE_FIELDS: dict[PackageType, frozenset[str]] = {
    PackageType.ECS_IMAGE: frozenset({"images", "marketplace", "copyable"}),
    PackageType.FILE: frozenset({"file", "public"}),
    PackageType.CONTAINER_IMAGE: frozenset({"image_ref"}),
    PackageType.HELM_CHART: frozenset({"chart_ref"}),
}
_OPTION = {
    "images": "--image/--from-packer",
    "marketplace": "--marketplace",
    "file": "--file",
    "public": "--public",
    "copyable": "--copyable",
    "image_ref": "--image-ref",
    "chart_ref": "--chart",
}
COMMODITY_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


class PublishResult(NamedTuple):
    version: PackageVersion
    created_package: bool
    replaced_draft: bool
    uploaded: bool
    """Files: whether the bytes were uploaded (False: already in the source bucket)."""


def publish(store: Store, request: PublishRequest, progress: ProgressCallback | None = None) -> PublishResult:
    info = read_info(store)
    provider = get_provider(info.provider)
    names.check("package", request.package)
    names.check("version", request.version)
    if request.owner is not None:
        names.check("account", request.owner)
    for field_name, option in _OPTION.items():
        if getattr(request, field_name) and field_name not in _TYPE_FIELDS[request.type]:
            raise InputError(f"{option} does not apply to a {request.type.value} version", hint=f"leave out {option}")

    existing = read_version(store, request.package, request.version)
    if existing is not None:
        _refuse_existing(existing.value, request)
    known = read_package(store, request.package)
    if known is not None:
        _check_same_package(known.value, request)

    if request.copyable:
        _check_copyable(provider)
    uploaded = False
    if request.type is PackageType.ECS_IMAGE:
        source, distributions = _image_source(provider, request)
    elif request.type is PackageType.FILE:
        source, distributions, uploaded = _file_source(store, info, provider, request, progress)
    else:
        source, distributions = _reference_source(info, provider, request)

    created_package = False
    if known is None:
        created_package = _create_package(store, request)
    document = PackageVersion(
        package=request.package,
        version=request.version,
        status=VersionStatus.DRAFT,
        source=source,
        distributions=distributions,
        created_at=now(),
    )
    key = version_key(request.package, request.version)
    try:
        if existing is None:
            store.write_document(key, document.to_json(), if_none_match=True)
        else:
            store.write_document(key, document.to_json(), if_match=existing.etag)
    except ConflictError:
        raise ConflictError(
            f"{request.package} {request.version} was written by another publisher first; nothing was changed",
            hint=f"look at it with: deploypkg catalog show {request.package} {request.version}; "
            "publish under a new version, or --replace-draft if it is still a draft",
        ) from None
    return PublishResult(document, created_package, existing is not None, uploaded)


def _refuse_existing(version: PackageVersion, request: PublishRequest) -> None:
    label = f"{request.package} {request.version}"
    if version.status is not VersionStatus.DRAFT:
        raise ConflictError(
            f"{label} is already {version.status.value}; a {version.status.value} version is never replaced",
            hint="publish under a new version",
        )
    if not request.replace_draft:
        raise ConflictError(
            f"{label} already exists as a draft",
            hint="replace the draft with --replace-draft, or publish under a new version",
        )


def _check_same_package(package: Package, request: PublishRequest) -> None:
    if package.type is not request.type:
        raise InputError(
            f"package {package.name!r} holds {package.type.value} versions, not {request.type.value}",
            hint=f"use --type {package.type.value}, or another package name",
        )
    if request.copyable and not package.copyable:
        raise InputError(
            f"package {package.name!r} is not copyable; --copyable applies when a package is created",
            hint="leave out --copyable, or publish under another package name",
        )
    if request.public and not package.public:
        raise InputError(
            f"package {package.name!r} is not public; --public applies when a package is created",
            hint="leave out --public, or publish under another package name",
        )
    if request.owner is not None and package.owner not in (None, request.owner):
        raise InputError(
            f"package {package.name!r} is owned by account {package.owner}, not {request.owner}",
            hint="leave out --owner, or publish under another package name",
        )


def _check_copyable(provider: Provider) -> None:
    sharer = provider.image_sharer() if provider.image_sharer is not None else None
    if sharer is None or not sharer.copy_permissions:
        raise InputError(
            f"deploypkg cannot let customers copy {provider.name} images (--copyable)",
            hint="leave out --copyable; customers launch the regional copies deploypkg makes",
        )


def _create_package(store: Store, request: PublishRequest) -> bool:
    package = Package(
        request.package, request.type, request.owner, request.description, request.public, request.copyable
    )
    try:
        store.write_document(package_key(request.package), package.to_json(), if_none_match=True)
        return True
    except ConflictError:
        # Another publisher created it a moment ago: fine if it is the same kind of package.
        raced = read_package(store, request.package)
        if raced is None:
            raise CatalogError(f"package {request.package!r} could not be created", hint="rerun the command") from None
        _check_same_package(raced.value, request)
        return False


def _region(provider: Provider, region: str) -> str:
    names.check("region", region)
    return provider.check_region(region)


def check_image_id(provider: Provider, region: str, image_id: str) -> str:
    if not provider.custom_image.fullmatch(image_id):
        raise InputError(f"{image_id!r} ({region}) is not a {provider.name} image ID", hint=provider.image_id_help)
    return image_id


def _image_source(provider: Provider, request: PublishRequest) -> tuple[Source, dict[str, Distribution]]:
    if not request.images:
        raise InputError(
            "an ecs-image version needs its image: --image REGION=ID (or --from-packer manifest.json)",
        )
    images = {_region(provider, r): check_image_id(provider, r, i) for r, i in request.images.items()}
    source_region = request.region or next(iter(images))
    if source_region not in images:
        raise InputError(f"--region {source_region}: no --image given for the source region")
    stamp = now()
    distributions = {
        region: Distribution(region, DistributionStatus.AVAILABLE, image_id=image_id, updated_at=stamp)
        for region, image_id in images.items()
    }
    marketplace = request.marketplace
    if marketplace is not None and not COMMODITY_CODE.fullmatch(marketplace):
        raise InputError(
            f"--marketplace {marketplace!r} is not a commodity code",
            hint="the code in the marketplace product's URL, such as cmjj00xxxx: letters, digits, - and _",
        )
    return Source(region=source_region, image_id=images[source_region], marketplace=marketplace), distributions


def sha256_of(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(READ_CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except OSError as exc:
        raise InputError(f"cannot read the file to publish: {exc.strerror or exc}", file=str(path)) from None
    return digest.hexdigest(), size


def _file_source(
    store: Store, info: CatalogInfo, provider: Provider, request: PublishRequest, progress: ProgressCallback | None
) -> tuple[Source, dict[str, Distribution], bool]:
    if request.file is None or request.region is None:
        raise InputError("a file version needs --file PATH and --region SOURCE_REGION")
    region = _region(provider, request.region)
    path = request.file
    if not path.is_file():
        raise InputError("the file to publish does not exist or is not a file", file=str(path))
    if not FILENAME.fullmatch(path.name):
        raise InputError(
            f"file name {path.name!r} cannot be an object key",
            file=str(path),
            hint="use letters, digits, '.', '_', '+' and '-'",
        )
    sha256, size = sha256_of(path)
    bucket = info.bucket(region)
    key = object_key(sha256, path.name)
    present = store.head_object(region, bucket, key)
    uploaded = False
    if present is None or present.sha256 != sha256:
        present = store.put_object(region, bucket, key, path, sha256, progress)
        uploaded = True
    distribution = Distribution(
        region,
        DistributionStatus.AVAILABLE,
        bucket=bucket,
        object_key=key,
        sha256=sha256,
        size=size,
        updated_at=now(),
    )
    source = Source(region=region, bucket=bucket, object_key=key, sha256=sha256, size=size)
    return source, {region: distribution}, uploaded


def registry_pattern(provider: Provider) -> re.Pattern[str]:
    """The provider's registry host as a regex with a ``region`` group."""
    host = re.escape(provider.registry_host)
    host = host.replace(re.escape("{region}"), r"(?P<region>[a-z0-9-]+)")
    host = host.replace(re.escape("{account}"), r"(?P<account>[^./]+)")
    return re.compile(rf"(?:oci://)?{host}/.+")


def _reference_source(
    info: CatalogInfo, provider: Provider, request: PublishRequest
) -> tuple[Source, dict[str, Distribution]]:
    """The source of an image or chart: its region, and the digest its tag names there now
    (asked of the registry, so the catalog records what was published, not a tag that moves)."""
    if request.type is PackageType.CONTAINER_IMAGE:
        ref, pattern, option = request.image_ref, IMAGE_REF, "--image-ref"
    else:
        ref, pattern, option = request.chart_ref, CHART_REF, "--chart"
    if not ref:
        raise InputError(f"a {request.type.value} version needs {option} REF")
    if not pattern.fullmatch(ref) or "/../" in ref or "//" in ref.partition("://")[2]:
        example = (
            "registry.cn-hangzhou.aliyuncs.com/ns/app:1.0.0"
            if request.type is PackageType.CONTAINER_IMAGE
            else "oci://registry.cn-hangzhou.aliyuncs.com/ns/chart:1.0.0"
        )
        raise InputError(f"{option} {ref!r} is not a valid reference", hint=f"for example {example}")
    from preprocessor.oci.reference import parse_reference
    from preprocessor.oci.registries import Registries

    parsed = parse_reference(ref)
    region = request.region or _registry_region(info, provider, ref)
    region = _region(provider, region)
    client = Registries(provider.registry_credentials).client(parsed.registry)
    digest = client.manifest_digest(parsed.repository, parsed.lookup)
    if digest is None:
        raise InputError(
            f"{ref} is not in its registry ({parsed.registry})",
            hint="push it first (docker push / helm push), then publish",
        )
    if request.type is PackageType.CONTAINER_IMAGE:
        dist = Distribution(region, DistributionStatus.AVAILABLE, image_ref=ref, digest=digest, updated_at=now())
        return Source(region=region, image_ref=ref, digest=digest), {region: dist}
    dist = Distribution(region, DistributionStatus.AVAILABLE, chart_ref=ref, digest=digest, updated_at=now())
    return Source(region=region, chart_ref=ref, digest=digest), {region: dist}


def _registry_region(info: CatalogInfo, provider: Provider, ref: str) -> str:
    """The region whose registry ``ref`` is in: a region the catalog names, else the
    provider's registry host pattern."""
    bare = ref.removeprefix("oci://")
    host = bare.split("/", 1)[0]
    by_host = []
    for region in provider.regions:
        registry = info.registry(region)
        if registry is None:
            continue
        if bare.startswith(registry.rstrip("/") + "/"):
            return region
        if registry.split("/", 1)[0] == host:
            by_host.append(region)
    if len(by_host) == 1:
        return by_host[0]  # the region's registry host, another namespace
    match = registry_pattern(provider).fullmatch(ref)
    if match is None or "region" not in match.groupdict():
        raise InputError(
            f"cannot tell the source region of {ref!r} (not in a registry the catalog names for a region)",
            hint="name it with --region SOURCE_REGION",
        )
    return match.group("region")
