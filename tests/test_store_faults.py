"""Store faults: the S3 store, distribute, release and render against the moto server behind the
fault-injecting proxy (``tests/faultproxy.py``).

Promised: retryable failures (503 SlowDown, 500, a dropped connection) are retried a bounded
number of times with backoff; the others (403, a cut-off response, a stall past the timeout, the
server gone) end in a clear error naming the operation and the object; a failed render leaves
``--out`` as it was; a failed distribute or release leaves every catalog document whole and true;
a distribute rerun finishes the job without copying again what was already copied.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import shutil
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import boto3
import pytest
from conftest import REPO, MotoServer
from faultproxy import Fault, FaultProxy
from helpers import run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from preprocessor.catalog.distribute import DistributeOptions, distribute
from preprocessor.catalog.lifecycle import init, release
from preprocessor.catalog.model import PackageType
from preprocessor.catalog.opening import open_store
from preprocessor.catalog.publish import PublishRequest, publish
from preprocessor.catalog.store import Store
from preprocessor.errors import CatalogError, ConflictError, DeploypkgError

REGIONS = ("us-east-1", "us-west-2", "eu-west-1")
OWNER = "111122223333"
PAYLOAD = hashlib.sha256(b"deploypkg").digest() * 512  # 16 KiB
VERSION_KEY = "packages/app-bundle/versions/1.0.0.json"
MAX_ATTEMPTS = 3


class Catalog(NamedTuple):
    url: str
    bucket: str
    """The catalog's own bucket."""
    pattern: str
    direct: Store
    """Talks to moto directly: the truth, unaffected by the faults."""

    def regional(self, region: str) -> str:
        return self.pattern.format(region=region)

    def version(self) -> dict[str, Any]:
        document = self.direct.read_document(VERSION_KEY)
        assert document is not None
        return document.data

    def version_etag(self) -> str:
        document = self.direct.read_document(VERSION_KEY)
        assert document is not None
        return document.etag


@pytest.fixture
def proxy(aws_env: MotoServer) -> Iterator[FaultProxy]:
    with FaultProxy(aws_env.endpoint_url, stall_seconds=15) as running:
        yield running


def faulty(catalog: Catalog, proxy: FaultProxy, **options: Any) -> Store:
    """The same catalog through the proxy, with short timeouts and few attempts."""
    settings: dict[str, Any] = {
        "endpoint_url": proxy.endpoint_url,
        "addressing_style": "path",
        "max_attempts": MAX_ATTEMPTS,
        "connect_timeout": 1.0,
        "read_timeout": 2.0,
    }
    settings.update(options)
    return open_store(catalog.url, **settings)


@pytest.fixture
def catalog(aws_env: MotoServer, tmp_path: Path) -> Catalog:
    """An aws catalog with app-bundle 1.0.0 (a file) published as a draft in us-east-1."""
    tag = uuid.uuid4().hex[:10]
    bucket = f"f{tag}-catalog"
    boto3.session.Session().client("s3", region_name="us-east-1").create_bucket(Bucket=bucket)
    url = f"s3://{bucket}/catalog"
    direct = open_store(url)
    pattern = f"f{tag}-{{region}}"
    init(direct, "aws", pattern)
    for region in REGIONS:
        direct.create_bucket(region, pattern.format(region=region))
    bundle = tmp_path / "app-bundle.tar.gz"
    bundle.write_bytes(PAYLOAD)
    publish(
        direct, PublishRequest("app-bundle", "1.0.0", PackageType.FILE, region="us-east-1", file=bundle, owner=OWNER)
    )
    return Catalog(url, bucket, pattern, direct)


def _version_path(catalog: Catalog) -> str:
    return f"^/{catalog.bucket}/catalog/{VERSION_KEY}"


# ------------------------------------------------------------------ retries, timeouts, errors


@pytest.mark.parametrize("fault", [Fault.SLOW_DOWN, Fault.INTERNAL_ERROR, Fault.DROP])
def test_retryable_failures_are_retried_with_backoff(catalog: Catalog, proxy: FaultProxy, fault: Fault) -> None:
    proxy.inject(fault, method="GET", path=_version_path(catalog), times=2)
    store = faulty(catalog, proxy)
    document = store.read_document(VERSION_KEY)
    assert document is not None and document.data == catalog.version()
    attempts = [seen for seen in proxy.seen if seen.target.startswith(f"/{catalog.bucket}/catalog/{VERSION_KEY}")]
    assert [seen.fault for seen in attempts] == [fault, fault, Fault.PASS]
    # The backoff is botocore's standard mode (full jitter: a random wait below 1 s, then below 2 s,
    # which may be close to 0, so no lower bound is asserted); what deploypkg sets is the mode.
    retries = store.client(store.home_region).meta.config.retries
    assert retries is not None and retries["mode"] == "standard"
    assert attempts[-1].at - attempts[0].at < 4


@pytest.mark.parametrize("fault", [Fault.SLOW_DOWN, Fault.INTERNAL_ERROR, Fault.DROP, Fault.CLOSE_MID_RESPONSE])
def test_retries_are_bounded_and_the_error_names_the_object(catalog: Catalog, proxy: FaultProxy, fault: Fault) -> None:
    proxy.inject(fault, method="GET", path=_version_path(catalog), times=None)
    started = time.monotonic()
    with pytest.raises(CatalogError) as failed:
        faulty(catalog, proxy).read_document(VERSION_KEY)
    message = failed.value.render()
    assert f"s3://{catalog.bucket}/catalog/{VERSION_KEY}" in message, message
    assert "Traceback" not in message
    attempts = proxy.count("GET", _version_path(catalog))
    if fault is Fault.CLOSE_MID_RESPONSE:
        assert 1 <= attempts <= MAX_ATTEMPTS
    else:
        assert attempts == MAX_ATTEMPTS
    assert time.monotonic() - started < 10


def test_access_denied_is_not_retried(catalog: Catalog, proxy: FaultProxy) -> None:
    proxy.inject(Fault.ACCESS_DENIED, method="GET", path=_version_path(catalog), times=None)
    with pytest.raises(CatalogError) as failed:
        faulty(catalog, proxy).read_document(VERSION_KEY)
    message = failed.value.render()
    assert "AccessDenied" in message and VERSION_KEY in message, message
    assert failed.value.hint and "credentials" in failed.value.hint
    assert proxy.count("GET", _version_path(catalog)) == 1


def test_a_stalled_request_times_out_with_a_clear_error(catalog: Catalog, proxy: FaultProxy) -> None:
    proxy.inject(Fault.STALL, method="GET", path=_version_path(catalog), times=None)
    started = time.monotonic()
    with pytest.raises(CatalogError) as failed:
        faulty(catalog, proxy, read_timeout=1.0, max_attempts=2).read_document(VERSION_KEY)
    elapsed = time.monotonic() - started
    assert VERSION_KEY in failed.value.render()
    assert proxy.count("GET", _version_path(catalog)) == 2
    assert 2 <= elapsed < 10, elapsed


def test_a_retried_write_lands_once_and_whole(catalog: Catalog, proxy: FaultProxy) -> None:
    key = "services/retried.json"
    data = {"name": "retried", "visibility": "public", "whitelist": [], "packages": ["app-bundle"]}
    proxy.inject(Fault.SLOW_DOWN, method="PUT", path=f"/catalog/{key}", times=2)
    faulty(catalog, proxy).write_document(key, data, if_none_match=True)
    written = catalog.direct.read_document(key)
    assert written is not None and written.data == data
    assert proxy.count("PUT", f"/catalog/{key}") == 3


# ------------------------------------------------------------------ distribute and release


def test_distribute_survives_the_server_stopping_and_a_rerun_copies_only_what_is_missing(
    catalog: Catalog, proxy: FaultProxy
) -> None:
    store = faulty(catalog, proxy)
    proxy.inject(Fault.STOP, path=f"^/{catalog.regional('eu-west-1')}/")
    options = DistributeOptions(parallel=1)
    try:
        outcomes = distribute(store, "app-bundle", "1.0.0", ["us-west-2", "eu-west-1"], options)
    except DeploypkgError as error:  # the outcome could not even be recorded: a clear error is fine
        assert "Traceback" not in error.render()
    else:
        statuses = [(outcome.region, outcome.status.value) for outcome in outcomes]
        assert statuses == [("us-west-2", "available"), ("eu-west-1", "failed")], outcomes
    # The truth, read directly: whole JSON, us-west-2 really there, eu-west-1 not claimed.
    version = catalog.version()
    west = version["distributions"]["us-west-2"]
    assert west["status"] == "available"
    assert catalog.direct.head_object("us-west-2", catalog.regional("us-west-2"), west["object_key"]) is not None
    eu = version["distributions"].get("eu-west-1")
    assert eu is None or eu["status"] != "available"
    assert catalog.direct.head_object("eu-west-1", catalog.regional("eu-west-1"), west["object_key"]) is None

    proxy.clear()
    proxy.resume()
    outcomes = distribute(store, "app-bundle", "1.0.0", ["us-west-2", "eu-west-1"], options)
    assert [(outcome.region, outcome.status.value, outcome.skipped) for outcome in outcomes] == [
        ("us-west-2", "available", True),
        ("eu-west-1", "available", False),
    ]
    assert proxy.count("PUT", f"^/{catalog.regional('us-west-2')}/") == 0, "us-west-2 was copied again"
    assert proxy.count("PUT", f"^/{catalog.regional('eu-west-1')}/") >= 1
    info = catalog.direct.head_object("eu-west-1", catalog.regional("eu-west-1"), west["object_key"])
    assert info is not None and info.size == len(PAYLOAD)
    assert {r: d["status"] for r, d in catalog.version()["distributions"].items()} == dict.fromkeys(
        REGIONS, "available"
    )


def _distributed(catalog: Catalog) -> None:
    distribute(catalog.direct, "app-bundle", "1.0.0", list(REGIONS[1:]))


def test_release_with_the_server_gone_leaves_the_draft_untouched(catalog: Catalog, proxy: FaultProxy) -> None:
    _distributed(catalog)
    before = catalog.version_etag()
    proxy.inject(Fault.STOP, method="PUT", path=_version_path(catalog))
    with pytest.raises(CatalogError) as failed:
        release(faulty(catalog, proxy), "app-bundle", "1.0.0")
    assert VERSION_KEY in failed.value.render()
    assert catalog.version_etag() == before
    assert catalog.version()["status"] == "draft"
    proxy.clear()
    proxy.resume()
    assert release(faulty(catalog, proxy), "app-bundle", "1.0.0").status.value == "published"
    assert catalog.version()["status"] == "published"


def test_release_whose_answer_is_lost_succeeds_once(catalog: Catalog, proxy: FaultProxy) -> None:
    """The write lands but its answer is lost; botocore retries the conditional PUT, which then
    fails its own If-Match. The store recognises its own bytes: release reports success (not a
    conflict, not "already published"), and the document is whole and true."""
    _distributed(catalog)
    proxy.inject(Fault.CLOSE_MID_RESPONSE, method="PUT", path=_version_path(catalog), times=1)
    released = release(faulty(catalog, proxy), "app-bundle", "1.0.0")
    assert released.status.value == "published"
    assert proxy.count("PUT", _version_path(catalog)) == 2, "the lost answer was not retried"
    version = catalog.version()
    assert version["status"] == "published"
    assert all(d["status"] == "available" for d in version["distributions"].values())


def test_publish_whose_answer_is_lost_succeeds_once(catalog: Catalog, proxy: FaultProxy, tmp_path: Path) -> None:
    """The same for a create (If-None-Match): not "written by another publisher first"."""
    bundle = tmp_path / "other.tar.gz"
    bundle.write_bytes(PAYLOAD[::-1])
    request = PublishRequest("other-bundle", "2.0.0", PackageType.FILE, region="us-east-1", file=bundle, owner=OWNER)
    version_path = "/catalog/packages/other-bundle/versions/2.0.0.json"
    proxy.inject(Fault.CLOSE_MID_RESPONSE, method="PUT", path=version_path)
    assert publish(faulty(catalog, proxy), request).version.status.value == "draft"
    assert proxy.count("PUT", version_path) == 2, "the lost answer was not retried"
    written = catalog.direct.read_document("packages/other-bundle/versions/2.0.0.json")
    assert written is not None and written.data["status"] == "draft"


def test_a_conflict_is_still_a_conflict(catalog: Catalog, proxy: FaultProxy) -> None:
    """Recognising a landed write never hides a real conflict: another writer's bytes differ."""
    store = faulty(catalog, proxy)
    stale, mine = catalog.version_etag(), catalog.version()
    catalog.direct.write_document(VERSION_KEY, {**mine, "description": "another writer's"})
    with pytest.raises(ConflictError):
        store.write_document(VERSION_KEY, {**mine, "description": "mine"}, if_match=stale)
    with pytest.raises(ConflictError):
        store.write_document(VERSION_KEY, mine, if_none_match=True)


def test_publish_with_the_server_gone_mid_upload_writes_no_document(
    catalog: Catalog, proxy: FaultProxy, tmp_path: Path
) -> None:
    bundle = tmp_path / "other.tar.gz"
    bundle.write_bytes(PAYLOAD[::-1])
    request = PublishRequest("other-bundle", "2.0.0", PackageType.FILE, region="us-east-1", file=bundle, owner=OWNER)
    proxy.inject(Fault.STOP, method="PUT", path=f"^/{catalog.regional('us-east-1')}/")
    with pytest.raises(CatalogError) as failed:
        publish(faulty(catalog, proxy), request)
    assert catalog.regional("us-east-1") in failed.value.render()
    assert catalog.direct.read_document("packages/other-bundle/versions/2.0.0.json") is None
    assert catalog.direct.read_document("packages/other-bundle/package.json") is None
    proxy.clear()
    proxy.resume()
    assert publish(faulty(catalog, proxy), request).version.status.value == "draft"


# ------------------------------------------------------------------ render through the CLI


def _render_project(root: Path, catalog: Catalog) -> Path:
    (root / "deploypkg.yaml").write_text(
        "provider: aws\n"
        f"catalog: {catalog.url}\n"
        f"regions: [{', '.join(REGIONS)}]\n"
        f'account: "{OWNER}"\n'
        "associations:\n"
        "  app-bundle: app-bundle\n",
        encoding="utf-8",
    )
    templates = root / "templates"
    templates.mkdir()
    (templates / "stack.yaml").write_text(
        'AWSTemplateFormatVersion: "2010-09-09"\n'
        "Resources:\n"
        "  Bundle:\n"
        "    Type: AWS::CloudFormation::WaitConditionHandle\n"
        "    Metadata:\n"
        '      Source: "{{ computenest::file::app-bundle }}"\n',
        encoding="utf-8",
    )
    return templates


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_render_through_failures(catalog: Catalog, proxy: FaultProxy, tmp_path: Path) -> None:
    _distributed(catalog)
    release(catalog.direct, "app-bundle", "1.0.0")
    _render_project(tmp_path, catalog)
    out = tmp_path / "out"
    env = {"AWS_ENDPOINT_URL": proxy.endpoint_url, "AWS_MAX_ATTEMPTS": str(MAX_ATTEMPTS)}
    args = ["render", "templates", *(f"--region={r}" for r in REGIONS), "--out", "out"]

    # SlowDown twice on one region's object: retried, the render completes.
    proxy.inject(Fault.SLOW_DOWN, path=f"^/{catalog.regional('us-west-2')}/", times=2)
    done = run_cli(*args, cwd=tmp_path, env=env, timeout=120)
    assert done.exit_code == 0, done.stdout + done.stderr
    rendered = (out / "us-west-2" / "stack.yaml").read_text(encoding="utf-8")
    url = re.search(r'Source: "([^"]+)"', rendered)
    assert url is not None and catalog.regional("us-west-2") in url.group(1), rendered
    with urllib.request.urlopen(url.group(1), timeout=10) as response:  # the presigned URL works
        assert response.read() == PAYLOAD
    assert proxy.count(path=f"^/{catalog.regional('us-west-2')}/", fault=Fault.SLOW_DOWN) == 2
    before = _snapshot(out)
    siblings = sorted(p.name for p in tmp_path.iterdir())

    # Access denied on one region's object: not retried, exit 2 naming it, --out as it was.
    proxy.clear()
    proxy.inject(Fault.ACCESS_DENIED, path=f"^/{catalog.regional('us-west-2')}/", times=None)
    denied = run_cli(*args, cwd=tmp_path, env=env, timeout=120)
    output = denied.stdout + denied.stderr
    assert denied.exit_code == 2, output
    assert ("AccessDenied" in output or "403" in output) and catalog.regional("us-west-2") in output, output
    assert "check that the credentials may access this bucket" in output, output
    assert "Traceback" not in output and "internal error" not in output, output
    assert proxy.count(path=f"^/{catalog.regional('us-west-2')}/") == 1
    assert _snapshot(out) == before

    # The server goes away at the last region's object: exit 2, --out exactly as it was.
    proxy.clear()
    proxy.inject(Fault.STOP, path=f"^/{catalog.regional('eu-west-1')}/")
    failed = run_cli(*args, cwd=tmp_path, env=env, timeout=120)
    output = failed.stdout + failed.stderr
    assert failed.exit_code == 2, output
    assert "Traceback" not in output and "internal error" not in output, output
    # The regions' HEADs run in parallel: the error may name any object the stop cut off.
    assert any(f"s3://{catalog.regional(region)}/" in output for region in REGIONS), output
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == siblings, "a staging directory was left behind"
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def test_distribute_cli_with_the_server_gone_then_rerun(catalog: Catalog, proxy: FaultProxy, tmp_path: Path) -> None:
    """The command a pipeline runs: the failed region is named with exit 1, a rerun finishes."""
    args = ["catalog", "--catalog", catalog.url, "--endpoint-url", proxy.endpoint_url, "--addressing-style", "path"]
    args += ["distribute", "app-bundle", "1.0.0", "--region", "us-west-2", "--region", "eu-west-1", "--parallel", "1"]
    proxy.inject(Fault.STOP, path=f"^/{catalog.regional('eu-west-1')}/")
    failed = run_cli(*args, cwd=tmp_path, timeout=120)
    output = failed.stdout + failed.stderr
    assert failed.exit_code in (1, 2), output
    assert "Traceback" not in output and "internal error" not in output, output
    assert "eu-west-1" in output, output
    assert catalog.version()["distributions"].get("eu-west-1", {}).get("status") != "available"
    proxy.clear()
    proxy.resume()
    done = run_cli(*args, cwd=tmp_path, timeout=120)
    assert done.exit_code == 0, done.stdout + done.stderr
    assert "us-west-2: available" in done.stdout and "already there" in done.stdout, done.stdout
    assert proxy.count("PUT", f"^/{catalog.regional('us-west-2')}/") == 0, "us-west-2 was copied again"


# ------------------------------------------------------------------ a corrupt catalog document

VERSION_FILE = "packages/web-image/versions/1.0.0.json"


def _set(path: str, *keys: str, value: Any) -> Callable[[Path], None]:
    """Set a field of a catalog document (``keys`` walk into nested objects)."""

    def mutate(catalog_dir: Path) -> None:
        document = json.loads((catalog_dir / path).read_text(encoding="utf-8"))
        target = document
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
        (catalog_dir / path).write_text(json.dumps(document), encoding="utf-8")

    return mutate


def _raw(path: str, data: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def mutate(catalog_dir: Path) -> None:
        (catalog_dir / path).write_bytes(data((catalog_dir / path).read_bytes()))

    return mutate


CORRUPTIONS: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated": (_raw(VERSION_FILE, lambda data: data[: len(data) // 2]), VERSION_FILE),
    "empty": (_raw(VERSION_FILE, lambda data: b""), VERSION_FILE),
    "a-list": (_raw(VERSION_FILE, lambda data: b"[1, 2]"), VERSION_FILE),
    "not-utf8": (_raw(VERSION_FILE, lambda data: data.replace(b"cn-beijing", b"cn-b\xe9ijing")), VERSION_FILE),
    "distributions-list": (_set(VERSION_FILE, "distributions", value=[1]), VERSION_FILE),
    "image-id-list": (_set(VERSION_FILE, "distributions", "cn-beijing", "image_id", value=["m-x"]), VERSION_FILE),
    "image-id-number": (_set(VERSION_FILE, "distributions", "cn-beijing", "image_id", value=7), VERSION_FILE),
    "image-id-injection": (
        _set(VERSION_FILE, "distributions", "cn-beijing", "image_id", value='m-abc", "Injected": "1'),
        "web-image@1.0.0",
    ),
    "status-null": (_set(VERSION_FILE, "distributions", "cn-beijing", "status", value=None), VERSION_FILE),
    "source-string": (_set(VERSION_FILE, "source", value="cn-hangzhou"), VERSION_FILE),
    "owner-number": (_set("packages/web-image/package.json", "owner", value=1234567890123456), "package.json"),
    "whitelist-string": (_set("services/demo-service.json", "whitelist", value="1234567890123456"), "demo-service"),
    # A document copied under another key: it must not be trusted for what the key says.
    "version-says-another-version": (_set(VERSION_FILE, "version", value="9.9.9"), VERSION_FILE),
    "version-says-another-package": (_set(VERSION_FILE, "package", value="db-image"), VERSION_FILE),
    "package-says-another-name": (_set("packages/web-image/package.json", "name", value="db-image"), "package.json"),
    "service-says-another-name": (_set("services/demo-service.json", "name", value="other"), "demo-service"),
}


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_render_refuses_a_corrupt_catalog_document(corruption: str, tmp_path: Path) -> None:
    """A half-written or tampered catalog document: exit 2 naming it, nothing written."""
    mutate, named = CORRUPTIONS[corruption]
    shutil.copytree(REPO / "fixtures" / "alicloud" / "catalog", tmp_path / "catalog")
    mutate(tmp_path / "catalog")
    (tmp_path / "deploypkg.yaml").write_text(
        "provider: alicloud\ncatalog: file://./catalog\nregions: [cn-hangzhou, cn-beijing]\n"
        'account: "1234567890123456"\nassociations:\n  m-bp1g7004ksh0oeuc1234: web-image\n',
        encoding="utf-8",
    )
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "web.yaml").write_text(
        "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  Web:\n    Type: ALIYUN::ECS::Instance\n"
        "    Properties:\n      ImageId: m-bp1g7004ksh0oeuc1234\n",
        encoding="utf-8",
    )
    result = run_cli(
        "render", "templates", "--region", "cn-hangzhou", "--region", "cn-beijing", "--out", "out", cwd=tmp_path
    )
    output = result.stdout + result.stderr
    assert result.exit_code == 2, output
    assert "Traceback" not in output and "internal error" not in output, output
    assert named in output, output
    assert not (tmp_path / "out").exists()


# Random corruption of every kind of catalog document: a model object comes out well-typed, or
# CatalogError names the document. (A wrong type let through fails far away, as an internal error.)

DOCUMENTS = {
    "catalog.json": "CatalogInfo",
    "packages/web-image/package.json": "Package",
    VERSION_FILE: "PackageVersion",
    "packages/worker-image/channels/prod.json": "Channel",
    "services/demo-service.json": "Service",
}
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)


@st.composite
def corrupted(draw: st.DrawFn, document: Any) -> Any:
    """``document`` with one value somewhere inside replaced by a random JSON value (or itself)."""
    if isinstance(document, dict) and document and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(document)))
        return {**document, key: draw(corrupted(document[key]))}
    if isinstance(document, list) and document and draw(st.booleans()):
        index = draw(st.integers(0, len(document) - 1))
        return [*document[:index], draw(corrupted(document[index])), *document[index + 1 :]]
    return draw(JSON_VALUES)


def _well_typed(value: Any) -> None:
    """Every dataclass field holds what its annotation says (nested dataclasses, tuples, dicts)."""
    import dataclasses
    import typing

    hints = typing.get_type_hints(type(value))
    for field in dataclasses.fields(value):
        _conforms(getattr(value, field.name), hints[field.name], f"{type(value).__name__}.{field.name}")


def _conforms(value: Any, hint: Any, where: str) -> None:
    import dataclasses
    import types
    import typing

    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        assert any(_matches(value, arg) for arg in args), f"{where} = {value!r} is not {hint}"
    elif origin in (tuple, list):
        assert isinstance(value, origin), f"{where} = {value!r} is not {hint}"
        for item in value:
            _conforms(item, args[0], where)
    elif origin is dict:
        assert isinstance(value, dict), f"{where} = {value!r} is not {hint}"
        for key, item in value.items():
            _conforms(key, args[0], where)
            _conforms(item, args[1], where)
    elif dataclasses.is_dataclass(hint):
        assert isinstance(value, hint), f"{where} = {value!r} is not {hint}"
        _well_typed(value)
    else:
        assert isinstance(value, hint), f"{where} = {value!r} is not {hint}"


def _matches(value: Any, hint: Any) -> bool:
    try:
        _conforms(value, hint, "")
    except AssertionError:
        return False
    return True


@pytest.mark.parametrize("path", list(DOCUMENTS))
def test_random_corruption_of_a_catalog_document_is_refused_or_well_typed(path: str) -> None:
    """The store hands ``from_json`` a JSON object (anything else is refused when decoded): a
    random value is put somewhere inside one of its fields."""
    from preprocessor.catalog import model

    kind = getattr(model, DOCUMENTS[path])
    original = json.loads((REPO / "fixtures" / "alicloud" / "catalog" / path).read_text(encoding="utf-8"))

    @settings(max_examples=150, deadline=None, derandomize=True, database=None)
    @given(
        document=st.sampled_from(sorted(original)).flatmap(
            lambda key: corrupted(original[key]).map(lambda value: {**original, key: value})
        )
    )
    def run(document: Any) -> None:
        try:
            loaded = kind.from_json(document, path)
        except CatalogError as error:
            assert path in error.render()
            return
        _well_typed(loaded)

    run()


@pytest.mark.parametrize("seed", range(4))
def test_distribute_under_random_faults_never_lies_and_a_clean_rerun_completes(
    catalog: Catalog, proxy: FaultProxy, seed: int
) -> None:
    """Faults of every kind at random requests: whatever distribute concludes, every region the
    version document calls available has its object; a rerun without faults completes."""
    chance = random.Random(seed)
    faults = [Fault.SLOW_DOWN, Fault.INTERNAL_ERROR, Fault.DROP, Fault.CLOSE_MID_RESPONSE, Fault.ACCESS_DENIED]
    for _ in range(4):
        proxy.inject(chance.choice(faults), skip=chance.randrange(12), times=chance.randint(1, 3))
    store = faulty(catalog, proxy, max_attempts=2)
    regions = ["us-west-2", "eu-west-1"]
    try:
        distribute(store, "app-bundle", "1.0.0", regions, DistributeOptions(parallel=2))
    except DeploypkgError as error:
        assert "Traceback" not in error.render()
    assert any(seen.fault is not Fault.PASS for seen in proxy.seen), "no fault was injected"
    version = catalog.version()  # whole JSON, or this raises
    key = version["source"]["object_key"]
    for region, recorded in version["distributions"].items():
        if recorded["status"] == "available":
            found = catalog.direct.head_object(region, catalog.regional(region), key)
            assert found is not None and found.size == len(PAYLOAD), f"{region} is recorded but not there"
    proxy.clear()
    outcomes = distribute(store, "app-bundle", "1.0.0", regions, DistributeOptions(parallel=2))
    assert [outcome.status.value for outcome in outcomes] == ["available", "available"]
    for region in regions:
        found = catalog.direct.head_object(region, catalog.regional(region), key)
        assert found is not None and found.sha256 in (None, hashlib.sha256(PAYLOAD).hexdigest())
