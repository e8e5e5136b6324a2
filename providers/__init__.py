"""Cloud providers: the registry of :class:`Provider` tables and the lookups core code uses.

Built-in providers are ``providers.alicloud`` and ``providers.aws``; third parties register
more through the ``deploypkg.providers`` entry-point group (each entry point names a
:class:`Provider` instance). Users add resource types in the project config without code
(``resource_types:``), see :func:`resource_table`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from preprocessor.model import PropertyRole
from providers.spec import (
    CopyAcrossRegions,
    Dialect,
    ImageCopier,
    ImageCopy,
    ImageIdClass,
    ImagePermissions,
    ImageSharer,
    PropertySpec,
    Provider,
    ResourceSpec,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "CopyAcrossRegions",
    "Dialect",
    "ImageCopier",
    "ImageCopy",
    "ImageIdClass",
    "ImagePermissions",
    "ImageSharer",
    "PropertySpec",
    "Provider",
    "ResourceSpec",
    "all_providers",
    "dialect_of",
    "get_provider",
    "image_producers",
    "provider_for_resource_type",
    "provider_for_scheme",
    "resource_table",
]

ENTRY_POINT_GROUP = "deploypkg.providers"
BUILTIN_MODULES = ("providers.alicloud", "providers.aws")
"""Imported directly, so the built-ins work from a source tree with no installed entry points."""


def _builtin_providers() -> list[Provider]:
    from importlib import import_module

    return [import_module(module).PROVIDER for module in BUILTIN_MODULES]


def _load_entry_point_providers() -> list[Provider]:
    from providers.plugins import may_register

    if not may_register(ENTRY_POINT_GROUP, BUILTIN_MODULES):
        return []
    from importlib.metadata import entry_points

    found: list[Provider] = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.module in BUILTIN_MODULES:
            continue
        loaded = entry.load()
        if isinstance(loaded, Provider):
            found.append(loaded)
    return found


_PROVIDERS: dict[str, Provider] | None = None


def all_providers() -> dict[str, Provider]:
    """Built-in providers plus those registered through entry points (loaded once; the first
    provider of a name wins)."""
    global _PROVIDERS
    if _PROVIDERS is None:
        table: dict[str, Provider] = {}
        for provider in _builtin_providers() + _load_entry_point_providers():
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


def provider_for_resource_type(resource_type: str) -> Provider | None:
    """The provider whose resource prefixes claim ``resource_type``, if one does."""
    for provider in all_providers().values():
        if provider.owns_resource_type(resource_type):
            return provider
    return None


def image_producers() -> frozenset[str]:
    """Every provider's image-building resource types."""
    return frozenset(t for provider in all_providers().values() for t in provider.image_producers)


def provider_for_scheme(scheme: str) -> Provider | None:
    """The provider whose object store a catalog URL scheme names (``oss`` → alicloud), if any."""
    for provider in all_providers().values():
        if scheme in provider.store_schemes:
            return provider
    return None


def dialect_of(resource_type: str, default_provider: str | None = None) -> Dialect:
    """Terraform for ``name_like_this`` types; for ``A::B::C`` types, the structured dialect of the
    provider that owns the prefix (else of ``default_provider``, else CloudFormation's syntax)."""
    if "::" not in resource_type:
        return Dialect.TERRAFORM
    owner = provider_for_resource_type(resource_type)
    if owner is None and default_provider is not None:
        owner = all_providers().get(default_provider)
    if owner is not None and owner.template_dialect is not None:
        return owner.template_dialect
    return Dialect.CLOUDFORMATION


def resource_table(
    extra: Mapping[str, Iterable[str]] | None = None,
    default_provider: str | None = None,
) -> dict[str, ResourceSpec]:
    """Resource type → spec, from every provider plus the project's ``resource_types``.

    ``extra`` maps a resource type to dotted property paths; a path that names an
    already-known type adds properties to it. ``ImageFamily``/``image_family`` leaves get
    the family role. A new type belongs to the provider that claims its prefix, else to the
    project's ``default_provider``, else to none (its values are then not classified).
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
            owner = provider_for_resource_type(resource_type)
            table[resource_type] = ResourceSpec(
                resource_type,
                dialect_of(resource_type, default_provider),
                owner.name if owner is not None else default_provider,
                props,
            )
    return table
