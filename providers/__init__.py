"""Cloud providers as data: which template resource properties carry an image ID, what an
image ID looks like, which regions exist and where the object store and registries live.

Built-in providers are ``providers.alicloud`` and ``providers.aws``; third parties register
more through the ``deploypkg.providers`` entry-point group (each entry point names a
:class:`Provider` instance). Users add resource types in the project config without code
(``resource_types:``), see :func:`resource_table`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from preprocessor.model import PropertyRole

ENTRY_POINT_GROUP = "deploypkg.providers"


class Dialect(str, enum.Enum):
    ROS = "ros"
    CLOUDFORMATION = "cloudformation"
    TERRAFORM = "terraform"


class PropertySpec(NamedTuple):
    path: tuple[str, ...]
    """Property names from the resource's properties (ROS/CFN) or body (Terraform);
    a nested Terraform block or a list of maps is walked into element by element."""
    role: PropertyRole = PropertyRole.IMAGE_ID

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


class ResourceSpec(NamedTuple):
    resource_type: str
    dialect: Dialect
    provider: str
    properties: tuple[PropertySpec, ...]


class ImageIdClass(str, enum.Enum):
    CUSTOM = "custom"
    """Exists in one region (``m-…``, ``ami-…``): must be associated with a package."""
    PUBLIC = "public"
    """A public image name (``ubuntu_22_04_x64_20G_alibase_20230907.vhd``)."""
    NAME_PREFIX = "name-prefix"
    """A ROS name prefix such as ``centos_7``, resolved by the cloud at deploy time."""
    MALFORMED = "malformed"


@dataclass(frozen=True)
class Provider:
    name: str
    resources: tuple[ResourceSpec, ...]
    regions: tuple[str, ...]
    custom_image: re.Pattern[str]
    custom_image_prefix: str
    public_image: re.Pattern[str] | None = None
    name_prefix: re.Pattern[str] | None = None
    object_endpoint: str = ""
    """Public object-store endpoint host pattern, with ``{region}``."""
    object_internal_endpoint: str = ""
    """Endpoint reachable from inside the region (no traffic charge), with ``{region}``."""
    s3_endpoint: str = ""
    """S3-compatible API endpoint URL pattern, with ``{region}``."""
    s3_addressing_style: str = "auto"
    registry_host: str = ""
    """Container registry host pattern, with ``{region}`` (and ``{account}`` where it applies)."""
    image_id_help: str = ""
    extras: Mapping[str, str] = field(default_factory=dict)

    def classify_image(self, value: str) -> ImageIdClass:
        if self.custom_image.fullmatch(value):
            return ImageIdClass.CUSTOM
        if value.startswith(self.custom_image_prefix):
            return ImageIdClass.MALFORMED
        if self.public_image is not None and self.public_image.fullmatch(value):
            return ImageIdClass.PUBLIC
        if self.name_prefix is not None and self.name_prefix.fullmatch(value):
            return ImageIdClass.NAME_PREFIX
        return ImageIdClass.MALFORMED

    def is_region(self, region: str) -> bool:
        return region in self.regions

    def check_region(self, region: str) -> str:
        """``region`` if it is one of this provider's, else bad input naming the closest ones."""
        if self.is_region(region):
            return region
        import difflib

        from preprocessor.errors import InputError

        close = difflib.get_close_matches(region, self.regions, n=1, cutoff=0.6)
        suggestion = f"did you mean {close[0]}? " if close else ""
        article = "an" if self.name[:1].lower() in "aeiou" else "a"
        raise InputError(
            f"{region} is not {article} {self.name} region",
            hint=f"{suggestion}{self.name} regions: {', '.join(self.regions)}",
        )


def _load_entry_point_providers() -> list[Provider]:
    from importlib.metadata import entry_points

    found: list[Provider] = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name in ("alicloud", "aws"):
            continue
        loaded = entry.load()
        if isinstance(loaded, Provider):
            found.append(loaded)
    return found


_PROVIDERS: dict[str, Provider] | None = None


def all_providers() -> dict[str, Provider]:
    """Built-in providers plus those registered through entry points (loaded once)."""
    global _PROVIDERS
    if _PROVIDERS is None:
        from providers import alicloud, aws

        table = {alicloud.PROVIDER.name: alicloud.PROVIDER, aws.PROVIDER.name: aws.PROVIDER}
        for provider in _load_entry_point_providers():
            table.setdefault(provider.name, provider)
        _PROVIDERS = table
    return _PROVIDERS


def get_provider(name: str) -> Provider:
    providers = all_providers()
    try:
        return providers[name]
    except KeyError:
        from preprocessor.errors import ConfigError

        raise ConfigError(
            f"unknown provider {name!r}",
            hint=f"use one of: {', '.join(sorted(providers))}",
        ) from None


def dialect_of(resource_type: str) -> Dialect:
    if "::" in resource_type:
        return Dialect.CLOUDFORMATION if resource_type.startswith("AWS::") else Dialect.ROS
    return Dialect.TERRAFORM


def resource_table(
    extra: Mapping[str, Iterable[str]] | None = None,
    default_provider: str | None = None,
) -> dict[str, ResourceSpec]:
    """Resource type → spec, from every provider plus the project's ``resource_types``.

    ``extra`` maps a resource type to dotted property paths; a path that names an
    already-known type adds properties to it. ``ImageFamily``/``image_family`` leaves get
    the family role.
    """
    table: dict[str, ResourceSpec] = {}
    for provider in all_providers().values():
        for spec in provider.resources:
            table[spec.resource_type] = spec
    for resource_type, paths in (extra or {}).items():
        props = tuple(
            PropertySpec(
                tuple(path.split(".")),
                PropertyRole.IMAGE_FAMILY
                if path.split(".")[-1] in ("ImageFamily", "image_family")
                else PropertyRole.IMAGE_ID,
            )
            for path in paths
        )
        known = table.get(resource_type)
        if known is not None:
            table[resource_type] = known._replace(properties=known.properties + props)
        else:
            table[resource_type] = ResourceSpec(
                resource_type, dialect_of(resource_type), default_provider or _guess_provider(resource_type), props
            )
    return table


def _guess_provider(resource_type: str) -> str:
    if resource_type.startswith(("AWS::", "aws_")):
        return "aws"
    return "alicloud"
