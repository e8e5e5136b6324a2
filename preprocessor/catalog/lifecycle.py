"""``init``, ``release``, ``revoke``, ``promote`` and ``service``: every change is a conditional write.

- release: draft → published, only while each requested region is ``available``;
- revoke: → revoked with a reason and a time; a revoked version is never used again;
- promote: a published version onto a channel, in the catalog's promotion order (a version
  reaches channel *k* only after it was on channel *k-1*); the channel keeps its history;
- service: visibility, whitelist and associated packages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from preprocessor import names
from preprocessor.catalog.keys import CATALOG, channel_key, service_key
from preprocessor.catalog.model import (
    CatalogInfo,
    Channel,
    ChannelEntry,
    DistributionStatus,
    PackageType,
    PackageVersion,
    Service,
    VersionStatus,
    Visibility,
)
from preprocessor.catalog.store import Store
from preprocessor.catalog.writes import (
    now,
    read_channel,
    read_info,
    read_service,
    require_package,
    require_version,
    update_version,
)
from preprocessor.errors import CatalogError, ConflictError, InputError, PolicyError
from providers import Provider, get_provider

BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def _check_registry(value: str, what: str) -> str:
    """``HOST[:PORT]`` or ``HOST[:PORT]/NAMESPACE`` (checked as the prefix of a reference)."""
    from preprocessor.oci.reference import parse_reference

    try:
        parse_reference(f"{value.format(region='cn-hangzhou')}/probe:1")
    except (InputError, KeyError, IndexError, ValueError):
        raise InputError(
            f"{what} {value!r} is not a registry host with an optional namespace",
            hint="for example registry.{region}.aliyuncs.com/acme, or 127.0.0.1:5000/acme",
        ) from None
    return value.rstrip("/")


def init(
    store: Store,
    provider: str,
    bucket_pattern: str,
    promotion_order: Sequence[str] = (),
    registry_pattern: str | None = None,
    registries: Mapping[str, str] | None = None,
) -> CatalogInfo:
    """Write a new ``catalog.json``. ``registry_pattern`` / ``registries`` say where each region's
    container images and charts live (``HOST[:PORT]/NAMESPACE``; a named region wins over the
    pattern); without them the provider's registry host is used with the source's repository path."""
    known = get_provider(provider)
    if registry_pattern is not None:
        if "{region}" not in registry_pattern:
            raise InputError(
                f"--registry-pattern {registry_pattern!r} must contain {{region}}",
                hint="for example registry.{region}.aliyuncs.com/acme; one registry per region is --registry R=HOST/NS",
            )
        registry_pattern = _check_registry(registry_pattern, "--registry-pattern")
    explicit = {known.check_region(r): _check_registry(v, "--registry") for r, v in (registries or {}).items()}
    if bucket_pattern.count("{region}") != 1 or bucket_pattern.replace("{region}", "") == "":
        raise InputError(
            f"bucket pattern {bucket_pattern!r} must contain {{region}} exactly once",
            hint="for example myco-artifacts-{region}",
        )
    try:
        sample = bucket_pattern.format(region="cn-hangzhou")
    except (KeyError, IndexError, ValueError):
        raise InputError(f"bucket pattern {bucket_pattern!r} may use only {{region}}") from None
    if not _valid_bucket(sample):
        raise InputError(
            f"bucket pattern {bucket_pattern!r} does not give valid bucket names (e.g. {sample!r})",
            hint="use lowercase letters, digits and '-', 3 to 63 characters",
        )
    order = tuple(names.check("channel", c) for c in promotion_order) or ("dev", "test", "prod")
    if len(set(order)) != len(order):
        raise InputError(f"--promotion-order {','.join(order)} names a channel twice")
    info = CatalogInfo(
        provider=provider,
        bucket_pattern=bucket_pattern,
        promotion_order=order,
        registry_pattern=registry_pattern,
        registries=explicit,
    )
    try:
        store.write_document(CATALOG, info.to_json(), if_none_match=True)
    except ConflictError:
        raise ConflictError(
            f"{store.url} already holds a catalog; it was left as it is",
            hint="look at it with: deploypkg catalog list",
        ) from None
    return info


def _valid_bucket(name: str) -> bool:
    return BUCKET_NAME.fullmatch(name) is not None and ".." not in name


def release(store: Store, name: str, version: str, regions: Sequence[str] = ()) -> PackageVersion:
    names.check("package", name)
    names.check("version", version)
    wanted = [names.check("region", r) for r in regions]

    def change(document: PackageVersion) -> None:
        if document.status is not VersionStatus.DRAFT:
            # A conflict (exit 1), like publish's "already published": typically another process
            # released or revoked it first.
            raise ConflictError(
                f"{name} {version} is {document.status.value}, not a draft; only a draft is released",
                hint="publish a new version to release something new",
            )
        check = wanted or sorted(document.distributions)
        if not check:
            raise PolicyError(f"{name} {version} has no region to release", rule="DPK301")
        missing = []
        for region in check:
            dist = document.distributions.get(region)
            if dist is None or dist.status is not DistributionStatus.AVAILABLE:
                state = "not distributed" if dist is None else dist.status.value
                detail = f": {dist.error}" if dist is not None and dist.error else ""
                missing.append(f"{region} ({state}{detail})")
        if missing:
            raise PolicyError(
                f"{name} {version} is not available in {', '.join(missing)}; it stays a draft",
                hint=f"run deploypkg catalog distribute {name} {version} --region … until every region is "
                "available, or release only the available ones with --region",
                rule="DPK301",
            )
        document.status = VersionStatus.PUBLISHED
        document.published_at = now()

    return update_version(store, name, version, change)


def revoke(store: Store, name: str, version: str, reason: str) -> PackageVersion:
    names.check("package", name)
    names.check("version", version)
    if not reason.strip():
        raise InputError("--reason must say why the version is revoked")

    def change(document: PackageVersion) -> None:
        if document.status is VersionStatus.REVOKED:
            raise CatalogError(f"{name} {version} was already revoked at {document.revoked_at}")
        document.status = VersionStatus.REVOKED
        document.revoked_at = now()
        document.revoked_reason = reason.strip()

    return update_version(store, name, version, change)


def move_channel_tags(version: PackageVersion, channel: str, provider: Provider) -> list[str]:
    """Tag the version's image (or chart) ``:CHANNEL`` in every region's registry, at the digest
    the catalog recorded there, so tools outside deploypkg see the promotion. Done before the
    channel document is written: a region that fails stops the promotion, and a rerun retags."""
    from preprocessor.oci.reference import parse_reference
    from preprocessor.oci.registries import Registries

    registries = Registries(provider.registry_credentials)
    moved = []
    for region, distribution in sorted(version.distributions.items()):
        ref = distribution.image_ref or distribution.chart_ref
        if distribution.status is not DistributionStatus.AVAILABLE or not ref or not distribution.digest:
            continue
        target = parse_reference(ref)
        client = registries.client(target.registry)
        manifest = client.get_manifest(target.repository, distribution.digest)
        if manifest is None:
            raise CatalogError(
                f"{version.package} {version.version}: {target.registry}/{target.repository} ({region}) no longer"
                f" holds {distribution.digest}; the channel was not moved",
                hint="copy that digest back into the registry (e.g. skopeo copy --all), then promote again",
                rule="DPK307",
            )
        client.put_manifest(target.repository, channel, manifest)
        moved.append(str(target._replace(tag=channel, digest=None)))
    return moved


def promote(
    store: Store, name: str, version: str, channel: str, on_tag: Callable[[str], None] | None = None
) -> Channel:
    """Point ``channel`` at ``version`` (published, and already on the channel before it in the
    promotion order). An image or chart is also tagged ``:CHANNEL`` in each region's registry;
    ``on_tag`` hears each reference tagged."""
    names.check("package", name)
    names.check("version", version)
    names.check("channel", channel)
    info = read_info(store)
    package = require_package(store, name)
    document: PackageVersion = require_version(store, name, version).value
    if document.status is not VersionStatus.PUBLISHED:
        raise PolicyError(
            f"{name} {version} is {document.status.value}; only a published version is promoted",
            hint=f"release it first: deploypkg catalog release {name} {version}"
            if document.status is VersionStatus.DRAFT
            else "promote another version",
        )
    order = info.promotion_order
    if channel not in order:
        raise InputError(
            f"channel {channel!r} is not in this catalog's promotion order ({' → '.join(order)})",
            hint="promote onto one of those channels",
        )
    position = order.index(channel)
    if position > 0:
        before = order[position - 1]
        previous = read_channel(store, name, before)
        been_there = previous is not None and any(e.version == version for e in previous.value.history)
        if not been_there:
            raise PolicyError(
                f"{name} {version} was never on {before!r}; it reaches {channel!r} only after {before!r}",
                hint=f"first: deploypkg catalog promote {name} {version} --channel {before}",
            )
    if package.type in (PackageType.CONTAINER_IMAGE, PackageType.HELM_CHART):
        for tagged in move_channel_tags(document, channel, get_provider(info.provider)):
            if on_tag is not None:
                on_tag(tagged)
    current = read_channel(store, name, channel)
    entry = ChannelEntry(version, now())
    key = channel_key(name, channel)
    old: Channel | None = current.value if current is not None else None
    result = Channel(name, channel, version, [*(old.history if old else []), entry])
    try:
        if current is None:
            store.write_document(key, result.to_json(), if_none_match=True)
        else:
            store.write_document(key, result.to_json(), if_match=current.etag)
    except ConflictError:
        raise ConflictError(
            f"channel {channel!r} of {name} changed while promoting; nothing was changed",
            hint=f"look at it with: deploypkg catalog show {name}, then rerun the promotion",
        ) from None
    return result


def _edited(whitelist: Sequence[str], adding: Sequence[str], removing: set[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a for a in (*whitelist, *adding) if a not in removing))


def service(
    store: Store,
    name: str,
    visibility: Visibility | None,
    allow: Sequence[str] | None = None,
    packages: Sequence[str] | None = None,
    owner: str | None = None,
    allow_add: Sequence[str] = (),
    allow_remove: Sequence[str] = (),
) -> Service:
    """Create or update a service; options left out (``None``) keep their current values.
    ``allow`` replaces the whitelist (``[]`` empties it); ``allow_add`` / ``allow_remove`` change
    single accounts of the whitelist as it is (after ``allow``, if both are given)."""
    names.check("service", name)
    read_info(store)
    whitelist = tuple(dict.fromkeys(names.check("account", a) for a in allow)) if allow is not None else None
    adding = [names.check("account", a) for a in allow_add]
    removing = {names.check("account", a) for a in allow_remove}
    if set(adding) & removing:
        raise InputError(f"--allow-add and --allow-remove both name {', '.join(sorted(set(adding) & removing))}")
    members = tuple(dict.fromkeys(names.check("package", p) for p in packages)) if packages is not None else None
    for package in members or ():
        require_package(store, package)
    if owner is not None:
        names.check("account", owner)
    current = read_service(store, name)
    if current is None:
        if visibility is None:
            raise InputError(f"service {name!r} is new: give its --visibility public|private")
        base: tuple[str, ...] = whitelist or ()
        result = Service(name, visibility, _edited(base, adding, removing), members or (), owner)
    else:
        old: Service = current.value
        base = tuple(old.whitelist) if whitelist is None else whitelist
        result = Service(
            name,
            visibility or old.visibility,
            _edited(base, adding, removing),
            old.packages if members is None else members,
            owner or old.owner,
        )
    try:
        if current is None:
            store.write_document(service_key(name), result.to_json(), if_none_match=True)
        else:
            store.write_document(service_key(name), result.to_json(), if_match=current.etag)
    except ConflictError:
        raise ConflictError(
            f"service {name!r} was changed by somebody else meanwhile; nothing was changed",
            hint="rerun the command",
        ) from None
    return result
