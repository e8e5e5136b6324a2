"""The one way to open a catalog: where its URL comes from, the store options, and the provider
its ``catalog.json`` records (which decides OSS endpoints and how copies cross regions).

Every command that reads a catalog (``catalog …``, ``render``, ``plan``) opens it here, so a
presigned URL render writes is for the same host the ``catalog`` commands talk to.
"""

from __future__ import annotations

import os
from importlib import import_module
from typing import TYPE_CHECKING, Any, NamedTuple

from preprocessor.catalog.store import Document, Store
from preprocessor.errors import InputError

if TYPE_CHECKING:
    from preprocessor.catalog.catalog import Catalog

CATALOG_ENV = "DEPLOYPKG_CATALOG"

STORES: dict[str, tuple[str, str]] = {
    "file": ("preprocessor.catalog.local", "LocalStore"),
    "s3": ("preprocessor.catalog.s3", "S3Store"),
}
"""URL scheme → (module, class) of its store, imported only when a catalog of that kind opens.
A provider's own scheme (``Provider.store_schemes``, e.g. ``oss``) opens the ``s3`` store with
that provider."""


def open_store(url: str, **options: Any) -> Store:
    """The store a catalog URL names: ``file://DIR`` (or a bare path), ``s3://BUCKET[/PREFIX]``,
    or a provider's scheme; ``options`` go to the store's ``from_url``."""
    scheme = url.partition("://")[0] if "://" in url else "file"
    if scheme not in STORES:
        from providers import all_providers, provider_for_scheme

        provider = provider_for_scheme(scheme)
        if provider is None:
            schemes = sorted({*STORES, *(s for p in all_providers().values() for s in p.store_schemes)})
            raise InputError(
                f"unsupported catalog URL {url!r}",
                hint=f"use file://DIR or s3://BUCKET/PREFIX (schemes: {', '.join(schemes)})",
            )
        options.setdefault("provider", provider.name)
        scheme = "s3"
    module, name = STORES[scheme]
    store: Store = getattr(import_module(module), name).from_url(url, **options)
    return store


class StoreOptions(NamedTuple):
    """What the command line says about the object store (``None``: not given)."""

    endpoint_url: str | None = None
    region: str | None = None
    """Region of the catalog bucket."""
    addressing_style: str | None = None


def catalog_url(flag: str | None, configured: str | None) -> str:
    """The catalog URL, in the AWS CLI's order: the ``--catalog`` flag, then ``$DEPLOYPKG_CATALOG``,
    then the project config's ``catalog:`` (``configured``, already resolved to an absolute path)."""
    url = flag or os.environ.get(CATALOG_ENV) or configured
    if not url:
        raise InputError(
            "no catalog given",
            hint=f"use --catalog file://DIR or s3://BUCKET/PREFIX, set {CATALOG_ENV},"
            " or set catalog: in deploypkg.yaml",
        )
    return url


def open_catalog(url: str, options: StoreOptions | None = None, provider: str | None = None) -> Store:
    """The store at ``url``. For an object-store catalog the provider is ``provider`` when given
    (``catalog init`` names it), else the one ``catalog.json`` records; opening reads nothing else."""
    return _opened(url, options, provider)[0]


def open_catalog_reader(url: str, options: StoreOptions | None = None) -> Catalog:
    """A :class:`~preprocessor.catalog.catalog.Catalog` on the store at ``url`` (as
    :func:`open_catalog` opens it) that keeps the ``catalog.json`` read while opening, so no
    document is fetched twice."""
    from preprocessor.catalog.catalog import Catalog
    from preprocessor.catalog.keys import CATALOG

    store, document = _opened(url, options, None)
    catalog = Catalog(store)
    if document is not None:
        catalog.remember(CATALOG, document)
    return catalog


def _opened(url: str, options: StoreOptions | None, provider: str | None) -> tuple[Store, Document | None]:
    """The store, and ``catalog.json`` if it had to be read to learn the provider."""
    given = {name: value for name, value in (options or StoreOptions())._asdict().items() if value}
    if provider is not None:
        return open_store(url, provider=provider, **given), None
    store = open_store(url, **given)
    if not store.needs_provider:
        return store, None
    from preprocessor.catalog.keys import CATALOG

    document = store.read_document(CATALOG)
    recorded = document.data.get("provider") if document is not None else None
    if isinstance(recorded, str):
        store = open_store(url, provider=recorded, **given)
    return store, document
