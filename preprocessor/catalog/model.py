"""The package catalog's data model, following Compute Nest's concepts.

Each class maps to one JSON document of the catalog layout (docs/architecture.md) through
``to_json()`` / ``from_json()``; ``from_json`` raises :class:`CatalogError` naming the document
when a field is missing or of the wrong type (every field is checked, so consumers get
well-typed objects; JSON true/false is never an integer).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from preprocessor.errors import CatalogError

FORMAT_VERSION = 1


class PackageType(str, enum.Enum):
    ECS_IMAGE = "ecs-image"
    FILE = "file"
    CONTAINER_IMAGE = "container-image"
    HELM_CHART = "helm-chart"

    @property
    def computenest_name(self) -> str:
        return {
            "ecs-image": "EcsImage",
            "file": "File",
            "container-image": "AcrImage",
            "helm-chart": "HelmChart",
        }[self.value]


class VersionStatus(str, enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    REVOKED = "revoked"


class DistributionStatus(str, enum.Enum):
    DELIVERING = "delivering"
    AVAILABLE = "available"
    FAILED = "failed"


class Visibility(str, enum.Enum):
    PUBLIC = "public"
    PRIVATE = "private"


_KINDS: dict[type, str] = {
    str: "a string",
    int: "an integer",
    bool: "true or false",
    dict: "a JSON object",
    list: "a list",
}


def _object(doc: Any, where: str) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise CatalogError(f"{where}: expected a JSON object, found {_json_type(doc)}")
    return doc


def _json_type(value: Any) -> str:
    """The JSON name of a decoded value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    return "a JSON object" if isinstance(value, dict) else type(value).__name__


def _is(value: Any, kind: type) -> bool:
    # JSON true/false decode to bool, a subclass of int: never an integer field.
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))


def _require(doc: Any, key: str, kind: type, where: str) -> Any:
    """``doc[key]``, which must be present, not null, and of ``kind`` (str, int, dict or list)."""
    _object(doc, where)
    if key not in doc:
        raise CatalogError(f"{where}: missing field {key!r}")
    if doc[key] is None:
        raise CatalogError(f"{where}: field {key!r} must be {_KINDS[kind]}, found null")
    return _optional(doc, key, kind, where)


def _optional(doc: dict[str, Any], key: str, kind: type, where: str) -> Any:
    """``doc[key]`` if present and not null (else None), which must be of ``kind``."""
    value = doc.get(key)
    if value is not None and not _is(value, kind):
        raise CatalogError(f"{where}: field {key!r} must be {_KINDS[kind]}, found {_json_type(value)}")
    return value


def _size(doc: dict[str, Any], key: str, where: str) -> int | None:
    """An optional byte count: a non-negative integer."""
    value: int | None = _optional(doc, key, int, where)
    if value is not None and value < 0:
        raise CatalogError(f"{where}: field {key!r} must not be negative, found {value}")
    return value


def _strings(doc: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    """An optional list of strings (absent or null: empty)."""
    values = _optional(doc, key, list, where) or []
    for index, value in enumerate(values):
        if not isinstance(value, str):
            raise CatalogError(f"{where}: field {key!r} item {index} must be a string, found {_json_type(value)}")
    return tuple(values)


def _enum(enum_type: type[enum.Enum], value: Any, where: str) -> Any:
    try:
        return enum_type(value)
    except ValueError:
        allowed = ", ".join(str(member.value) for member in enum_type)
        raise CatalogError(f"{where}: unknown value {value!r} (expected one of: {allowed})") from None


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


def _string_map(doc: dict[str, Any], key: str, where: str) -> dict[str, str]:
    value = doc.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise CatalogError(f"{where}: field {key!r} must map strings to strings")
    return dict(value)


@dataclass
class CatalogInfo:
    """``<prefix>/catalog.json``."""

    provider: str
    bucket_pattern: str
    """Regional bucket name pattern with ``{region}``, e.g. ``myco-artifacts-{region}``."""
    format_version: int = FORMAT_VERSION
    promotion_order: tuple[str, ...] = ("dev", "test", "prod")
    registry_pattern: str | None = None
    """Each region's container registry and namespace, ``HOST[:PORT]/NAMESPACE`` with ``{region}``."""
    registries: dict[str, str] = field(default_factory=dict)
    """Region → ``HOST[:PORT]/NAMESPACE``; wins over :attr:`registry_pattern` for its region."""

    def bucket(self, region: str) -> str:
        return self.bucket_pattern.format(region=region)

    def registry(self, region: str) -> str | None:
        """``HOST[:PORT]/NAMESPACE`` of the region's registry, if the catalog knows it."""
        if region in self.registries:
            return self.registries[region]
        return self.registry_pattern.format(region=region) if self.registry_pattern else None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format_version": self.format_version,
            "provider": self.provider,
            "bucket_pattern": self.bucket_pattern,
            "promotion_order": list(self.promotion_order),
        }
        if self.registry_pattern:
            data["registry_pattern"] = self.registry_pattern
        if self.registries:
            data["registries"] = dict(sorted(self.registries.items()))
        return data

    @classmethod
    def from_json(cls, doc: dict[str, Any], where: str = "catalog.json") -> CatalogInfo:
        version = _require(doc, "format_version", int, where)
        if version < 1:
            raise CatalogError(f"{where}: field 'format_version' must be 1 or more, found {version}")
        if version > FORMAT_VERSION:
            raise CatalogError(
                f"{where}: catalog format {version} is newer than this deploypkg understands ({FORMAT_VERSION})",
                hint="upgrade deploypkg",
            )
        return cls(
            provider=_require(doc, "provider", str, where),
            bucket_pattern=_require(doc, "bucket_pattern", str, where),
            format_version=version,
            promotion_order=_strings(doc, "promotion_order", where) or ("dev", "test", "prod"),
            registry_pattern=_optional(doc, "registry_pattern", str, where),
            registries=_string_map(doc, "registries", where),
        )


@dataclass
class Package:
    """``<prefix>/packages/<name>/package.json``."""

    name: str
    type: PackageType
    owner: str | None = None
    """The owner account ID: the only account that may use the package while it is private."""
    description: str = ""
    public: bool = False
    """file: its regional objects are readable by anyone (``{{ computenest::publicfile::… }}``)."""
    copyable: bool = False
    """ecs-image: the accounts that may launch it may also copy it into their own account (EC2:
    create-volume permission on its snapshots; never for everyone)."""

    def to_json(self) -> dict[str, Any]:
        return _clean(
            {
                "name": self.name,
                "type": self.type.value,
                "owner": self.owner,
                "description": self.description,
                "public": self.public or None,
                "copyable": self.copyable or None,
            }
        )

    @classmethod
    def from_json(cls, doc: dict[str, Any], where: str) -> Package:
        return cls(
            name=_require(doc, "name", str, where),
            type=_enum(PackageType, _require(doc, "type", str, where), where),
            owner=_optional(doc, "owner", str, where),
            description=_optional(doc, "description", str, where) or "",
            public=bool(_optional(doc, "public", bool, where)),
            copyable=bool(_optional(doc, "copyable", bool, where)),
        )


@dataclass
class Source:
    """Where a version was made. One of image_id / object_key / image_ref / chart_ref is set."""

    region: str | None = None
    image_id: str | None = None
    bucket: str | None = None
    object_key: str | None = None
    sha256: str | None = None
    size: int | None = None
    image_ref: str | None = None
    chart_ref: str | None = None
    digest: str | None = None
    """The manifest digest ``image_ref`` / ``chart_ref`` named when it was published."""
    marketplace: str | None = None
    """ecs-image: the marketplace commodity code of an image the marketplace already holds in
    every region it is sold in. Its regional IDs are recorded, never copied; who may launch it is
    the marketplace's business (buyers), not the catalog's share permissions."""

    def to_json(self) -> dict[str, Any]:
        return _clean(self.__dict__.copy())

    @classmethod
    def from_json(cls, doc: dict[str, Any], where: str) -> Source:
        _object(doc, where)
        return cls(
            region=_optional(doc, "region", str, where),
            image_id=_optional(doc, "image_id", str, where),
            bucket=_optional(doc, "bucket", str, where),
            object_key=_optional(doc, "object_key", str, where),
            sha256=_optional(doc, "sha256", str, where),
            size=_size(doc, "size", where),
            image_ref=_optional(doc, "image_ref", str, where),
            chart_ref=_optional(doc, "chart_ref", str, where),
            digest=_optional(doc, "digest", str, where),
            marketplace=_optional(doc, "marketplace", str, where),
        )


@dataclass
class Distribution:
    """One region's copy of a version."""

    region: str
    status: DistributionStatus
    image_id: str | None = None
    bucket: str | None = None
    object_key: str | None = None
    image_ref: str | None = None
    chart_ref: str | None = None
    sha256: str | None = None
    size: int | None = None
    digest: str | None = None
    """The manifest digest the regional registry serves for ``image_ref`` / ``chart_ref``
    (checked after the copy)."""
    updated_at: str | None = None
    error: str | None = None

    @property
    def value(self) -> str | None:
        """The regional image ID, object key, image reference or chart reference."""
        return self.image_id or self.object_key or self.image_ref or self.chart_ref

    def to_json(self) -> dict[str, Any]:
        data = self.__dict__.copy()
        data.pop("region")
        data["status"] = self.status.value
        return _clean(data)

    @classmethod
    def from_json(cls, region: str, doc: dict[str, Any], where: str) -> Distribution:
        return cls(
            region=region,
            status=_enum(DistributionStatus, _require(doc, "status", str, where), where),
            image_id=_optional(doc, "image_id", str, where),
            bucket=_optional(doc, "bucket", str, where),
            object_key=_optional(doc, "object_key", str, where),
            image_ref=_optional(doc, "image_ref", str, where),
            chart_ref=_optional(doc, "chart_ref", str, where),
            sha256=_optional(doc, "sha256", str, where),
            size=_size(doc, "size", where),
            digest=_optional(doc, "digest", str, where),
            updated_at=_optional(doc, "updated_at", str, where),
            error=_optional(doc, "error", str, where),
        )


@dataclass
class PackageVersion:
    """``<prefix>/packages/<name>/versions/<version>.json``."""

    package: str
    version: str
    status: VersionStatus
    source: Source
    distributions: dict[str, Distribution] = field(default_factory=dict)
    created_at: str | None = None
    published_at: str | None = None
    revoked_at: str | None = None
    revoked_reason: str | None = None

    def available_regions(self) -> list[str]:
        return sorted(r for r, d in self.distributions.items() if d.status is DistributionStatus.AVAILABLE)

    def to_json(self) -> dict[str, Any]:
        return _clean(
            {
                "package": self.package,
                "version": self.version,
                "status": self.status.value,
                "source": self.source.to_json(),
                "distributions": {r: d.to_json() for r, d in sorted(self.distributions.items())},
                "created_at": self.created_at,
                "published_at": self.published_at,
                "revoked_at": self.revoked_at,
                "revoked_reason": self.revoked_reason,
            }
        )

    @classmethod
    def from_json(cls, doc: dict[str, Any], where: str) -> PackageVersion:
        _object(doc, where)
        dists: dict[str, Any] = _optional(doc, "distributions", dict, where) or {}
        source = _optional(doc, "source", dict, where) or {}
        return cls(
            package=_require(doc, "package", str, where),
            version=_require(doc, "version", str, where),
            status=_enum(VersionStatus, _require(doc, "status", str, where), where),
            source=Source.from_json(source, f"{where} source"),
            distributions={r: Distribution.from_json(r, d, f"{where} region {r}") for r, d in dists.items()},
            created_at=_optional(doc, "created_at", str, where),
            published_at=_optional(doc, "published_at", str, where),
            revoked_at=_optional(doc, "revoked_at", str, where),
            revoked_reason=_optional(doc, "revoked_reason", str, where),
        )


@dataclass
class ChannelEntry:
    version: str
    at: str

    @classmethod
    def from_json(cls, doc: Any, where: str) -> ChannelEntry:
        return cls(version=_require(doc, "version", str, where), at=_require(doc, "at", str, where))


@dataclass
class Channel:
    """``<prefix>/packages/<name>/channels/<channel>.json``: the version a channel points at,
    with the history of every promotion."""

    package: str
    name: str
    version: str
    history: list[ChannelEntry] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "package": self.package,
            "channel": self.name,
            "version": self.version,
            "history": [{"version": e.version, "at": e.at} for e in self.history],
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any], where: str) -> Channel:
        _object(doc, where)
        history: list[Any] = _optional(doc, "history", list, where) or []
        return cls(
            package=_require(doc, "package", str, where),
            name=_require(doc, "channel", str, where),
            version=_require(doc, "version", str, where),
            history=[ChannelEntry.from_json(entry, f"{where} history item {i}") for i, entry in enumerate(history)],
        )


@dataclass
class Service:
    """``<prefix>/services/<name>.json``: who may use the associated packages."""

    name: str
    visibility: Visibility
    whitelist: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    owner: str | None = None

    def to_json(self) -> dict[str, Any]:
        return _clean(
            {
                "name": self.name,
                "visibility": self.visibility.value,
                "whitelist": list(self.whitelist),
                "packages": list(self.packages),
                "owner": self.owner,
            }
        )

    @classmethod
    def from_json(cls, doc: dict[str, Any], where: str) -> Service:
        return cls(
            name=_require(doc, "name", str, where),
            visibility=_enum(Visibility, _require(doc, "visibility", str, where), where),
            whitelist=_strings(doc, "whitelist", where),
            packages=_strings(doc, "packages", where),
            owner=_optional(doc, "owner", str, where),
        )
