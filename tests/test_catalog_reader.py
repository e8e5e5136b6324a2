"""The catalog reader: at most one read per document, provenance, resolution, version order,
errors naming what exists; on the fixture catalog, a scratch local catalog and the moto server."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, REPO, MotoServer

from preprocessor.catalog import keys
from preprocessor.catalog.catalog import Catalog, version_sort_key
from preprocessor.catalog.local import LocalStore
from preprocessor.catalog.model import (
    CatalogInfo,
    Package,
    PackageType,
    PackageVersion,
    Source,
    VersionStatus,
)
from preprocessor.catalog.s3 import S3Store
from preprocessor.catalog.store import Document
from preprocessor.errors import CatalogError
from preprocessor.names import PackageSpec, parse_package_spec

ALICLOUD = FIXTURES / "alicloud" / "catalog"
SPECS = (
    "web-image",
    "worker-image#prod",
    "db-image",
    "app-bundle",
    "install-script",
    "web-frontend",
    "web-chart",
    "web-image@1.1.0",
    "worker-image#dev",
)


class CountingStore(LocalStore):
    """A local store that counts the reads it serves."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.reads: Counter[str] = Counter()
        self.lists: Counter[str] = Counter()

    def read_document(self, key: str) -> Document | None:
        self.reads[key] += 1
        return super().read_document(key)

    def list_keys(self, prefix: str) -> list[str]:
        self.lists[prefix] += 1
        return super().list_keys(prefix)


def _resolve_everything(catalog: Catalog, rounds: int) -> None:
    for _ in range(rounds):
        for text in SPECS:
            version, _ = catalog.resolve(parse_package_spec(text))
            catalog.package(version.package)
        catalog.services()
        catalog.info()


def test_each_document_read_once_and_provenance(tmp_path: Path) -> None:
    store = CountingStore(ALICLOUD)
    catalog = Catalog(store)
    _resolve_everything(catalog, rounds=20)
    assert store.reads and max(store.reads.values()) == 1, store.reads
    assert max(store.lists.values()) == 1, store.lists
    with pytest.raises(CatalogError):
        catalog.package("nope")
    with pytest.raises(CatalogError):
        catalog.package("nope")
    assert store.reads["packages/nope/package.json"] == 1  # "absent" is cached too
    provenance = catalog.documents_read()
    assert "packages/nope/package.json" not in provenance
    assert set(provenance) == {key for key in store.reads if (ALICLOUD / key).is_file()}
    for key, etag in provenance.items():
        assert etag == hashlib.sha256((ALICLOUD / key).read_bytes()).hexdigest()


def test_resolution_on_the_fixture_catalog() -> None:
    catalog = Catalog(LocalStore(ALICLOUD))
    version, channel = catalog.resolve(PackageSpec("web-image"))
    assert (version.version, channel) == ("1.0.0", None)  # 1.1.0 is a draft
    version, channel = catalog.resolve(PackageSpec("web-image", version="1.1.0"))
    assert (version.version, version.status, channel) == ("1.1.0", VersionStatus.DRAFT, None)
    version, channel = catalog.resolve(PackageSpec("worker-image", channel="prod"))
    assert (version.version, channel) == ("2.0.0", "prod")
    assert version.distributions["cn-beijing"].image_id == "m-2ze7ua1ra8vg0d3f5678"
    assert version.available_regions() == ["cn-beijing", "cn-hangzhou"]
    assert catalog.list_packages() == [
        "app-bundle",
        "db-image",
        "install-script",
        "web-chart",
        "web-frontend",
        "web-image",
        "worker-image",
    ]
    assert [v.version for v in catalog.versions("web-image")] == ["1.0.0", "1.1.0"]
    assert [c.name for c in catalog.channels("worker-image")] == ["dev", "prod", "test"]
    assert catalog.info().bucket("cn-beijing") == "deploypkg-demo-cn-beijing"
    [service] = catalog.services()
    assert service.name == "demo-service" and len(service.packages) == 7
    assert catalog.services_of("db-image") == [service]


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        (PackageSpec("nope"), ("package 'nope' does not exist", "known packages: app-bundle, db-image")),
        (PackageSpec("web-image", version="9.9.9"), ("no version '9.9.9'", "known versions: 1.0.0, 1.1.0")),
        (PackageSpec("worker-image", channel="beta"), ("no channel 'beta'", "known channels: dev, prod, test")),
        (PackageSpec("nope", channel="prod"), ("package 'nope' does not exist",)),
    ],
)
def test_missing_names_say_what_exists(spec: PackageSpec, words: tuple[str, ...]) -> None:
    catalog = Catalog(LocalStore(ALICLOUD))
    with pytest.raises(CatalogError) as caught:
        catalog.resolve(spec)
    assert caught.value.rule == "DPK306"
    text = caught.value.render()
    for word in words:
        assert word in text


def _scratch(tmp_path: Path, statuses: dict[str, VersionStatus]) -> Catalog:
    store = LocalStore(tmp_path / "catalog")
    store.write_document(keys.CATALOG, CatalogInfo("aws", "b-{region}").to_json())
    store.write_document(keys.package_key("p"), Package("p", PackageType.FILE).to_json())
    for name, status in statuses.items():
        version = PackageVersion("p", name, status, Source(region="us-east-1"))
        store.write_document(keys.version_key("p", name), version.to_json())
    return Catalog(store)


def test_newest_published_uses_version_order(tmp_path: Path) -> None:
    catalog = _scratch(
        tmp_path,
        {
            "1.9.0": VersionStatus.PUBLISHED,
            "1.10.0": VersionStatus.PUBLISHED,
            "1.11.0": VersionStatus.DRAFT,
            "2.0.0": VersionStatus.REVOKED,
        },
    )
    version, _ = catalog.resolve(PackageSpec("p"))
    assert version.version == "1.10.0"


def test_no_published_version(tmp_path: Path) -> None:
    catalog = _scratch(tmp_path, {"1.0.0": VersionStatus.DRAFT, "0.9.0": VersionStatus.REVOKED})
    with pytest.raises(CatalogError) as caught:
        catalog.resolve(PackageSpec("p"))
    assert caught.value.rule == "DPK308"
    assert "0.9.0 (revoked), 1.0.0 (draft)" in caught.value.message
    assert "catalog release p" in (caught.value.hint or "")


def test_version_order() -> None:
    ordered = ["0.9", "1.0", "1.0.0-alpha", "1.0.0-alpha.2", "1.0.0-alpha.10", "1.0.0-rc.1", "1.0.0", "1.0.0+b2",
               "1.0.1", "1.2", "1.10", "1.10.1", "2", "10.0.0"]  # fmt: skip
    assert sorted(reversed(ordered), key=version_sort_key) == ordered


def test_missing_catalog(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(CatalogError, match=r"catalog\.json is missing"):
        Catalog(LocalStore(tmp_path / "empty")).info()
    with pytest.raises(CatalogError, match=r"the directory .*nowhere does not exist"):
        Catalog(LocalStore(tmp_path / "nowhere")).info()


def test_fixture_catalogs_are_a_fresh_build() -> None:
    completed = subprocess.run(
        [sys.executable, str(FIXTURES / "build_catalogs.py"), "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr


def test_s3_catalog_requests_per_document(aws_env: MotoServer) -> None:
    """The fixture catalog copied to moto: the requests of one Catalog do not grow with the reads."""
    bucket = f"dpk-cat-{uuid.uuid4().hex[:12]}"
    store = S3Store.from_url(f"s3://{bucket}/demo", region="us-east-1")
    store.create_bucket("us-east-1", bucket)
    source = LocalStore(ALICLOUD)
    for key in source.list_keys(""):
        document = source.read_document(key)
        assert document is not None
        store.write_document(key, document.data)
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    store.client("us-east-1").meta.events.register("after-call.s3", count)
    per_rounds = {}
    for rounds in (1, 25):
        calls.clear()
        catalog = Catalog(store)
        _resolve_everything(catalog, rounds)
        per_rounds[rounds] = dict(calls)
        read = catalog.documents_read()
        assert calls["GetObject"] == len(read)  # each document once, none absent
    assert per_rounds[1] == per_rounds[25]
    assert set(per_rounds[1]) == {"GetObject", "ListObjectsV2"}
    for key, etag in read.items():  # S3's ETag of a single PUT is the MD5 of the same bytes
        assert etag == hashlib.md5((ALICLOUD / key).read_bytes()).hexdigest()
    print(f"requests per Catalog for {25 * len(SPECS)} resolutions: {per_rounds[25]}")
