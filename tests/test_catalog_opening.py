"""One way to open a catalog (preprocessor/catalog/opening.py): render and plan open it as the
catalog commands do, so an OSS user's presigned URLs are for OSS, and the URL comes from
--catalog, then $DEPLOYPKG_CATALOG, then the project config."""

from __future__ import annotations

import json
import os
import shutil
import urllib.parse
import uuid
from pathlib import Path

import pytest
from conftest import TEST_SECRET_KEY, MotoServer
from helpers import FIXTURES, run_cli
from sigv4 import verify_presigned_url

from preprocessor.catalog.opening import CATALOG_ENV, StoreOptions, catalog_url, open_catalog, open_store
from preprocessor.catalog.s3 import S3Store
from preprocessor.errors import InputError
from preprocessor.project import clear_cache, project_for
from preprocessor.render.engine import RenderOptions, _Renderer


def _alicloud_catalog_on_moto() -> str:
    """An s3:// catalog (OSS through its S3-compatible API, as the README recommends) whose
    catalog.json records provider alicloud, made by the real CLI."""
    bucket = f"dpk-oss-{uuid.uuid4().hex[:10]}"
    url = f"s3://{bucket}/catalog"
    store = open_store(url, region="cn-hangzhou")
    assert isinstance(store, S3Store)
    store.create_bucket("cn-hangzhou", bucket)
    result = run_cli(
        "catalog",
        "--region",
        "cn-hangzhou",
        "init",
        "--catalog",
        url,
        "--provider",
        "alicloud",
        "--bucket-pattern",
        "demo-{region}",
    )
    assert result.exit_code == 0, result.stderr
    return url


def _without_environment_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """What an OSS user has: no AWS_ENDPOINT_URL (the tests point boto3 at moto with it)."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)


def _check_oss_urls(store: S3Store) -> None:
    public = store.object_url("cn-beijing", "demo-cn-beijing", "files/sha256/ab/app.tar.gz", presign=True)
    parts = urllib.parse.urlsplit(public)
    assert (parts.scheme, parts.hostname, parts.path) == (
        "https",
        "demo-cn-beijing.s3.oss-cn-beijing.aliyuncs.com",
        "/files/sha256/ab/app.tar.gz",
    )
    signed = verify_presigned_url(public, TEST_SECRET_KEY)
    assert signed.region == "cn-beijing"
    internal = store.object_url(
        "cn-beijing", "demo-cn-beijing", "files/sha256/ab/app.tar.gz", presign=True, endpoint="internal"
    )
    assert urllib.parse.urlsplit(internal).hostname == "demo-cn-beijing.oss-cn-beijing-internal.aliyuncs.com"
    verify_presigned_url(internal, TEST_SECRET_KEY)


def test_render_opens_an_s3_catalog_with_the_provider_its_catalog_json_records(
    aws_env: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _alicloud_catalog_on_moto()
    (tmp_path / "deploypkg.yaml").write_text(f"provider: alicloud\ncatalog: {url}\n", encoding="utf-8")
    clear_cache()
    project = project_for(tmp_path / "template.yaml")
    store = _Renderer([], RenderOptions(store=StoreOptions(region="cn-hangzhou"))).resolver(project).store
    assert isinstance(store, S3Store) and store.options.provider == "alicloud"
    _without_environment_endpoint(monkeypatch)
    _check_oss_urls(store)


def test_the_catalog_commands_and_render_open_the_same_store(
    aws_env: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _alicloud_catalog_on_moto()
    store = open_catalog(url, StoreOptions(region="cn-hangzhou"))
    assert isinstance(store, S3Store) and store.options.provider == "alicloud"
    assert store.copy_mode("cn-hangzhou", "cn-beijing") == "stream"  # OSS copies within one region only
    _without_environment_endpoint(monkeypatch)
    _check_oss_urls(store)


def test_a_custom_endpoint_url_is_used_for_every_region(aws_env: MotoServer) -> None:
    url = _alicloud_catalog_on_moto()
    store = open_catalog(url, StoreOptions(endpoint_url=aws_env.endpoint_url, region="cn-hangzhou"))
    assert isinstance(store, S3Store) and store.options.provider == "alicloud"
    signed = store.object_url("cn-beijing", "demo-cn-beijing", "files/a", presign=True)
    assert signed.startswith(f"{aws_env.endpoint_url}/demo-cn-beijing/files/a?")
    verify_presigned_url(signed, TEST_SECRET_KEY)


def test_catalog_url_precedence_is_the_aws_clis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CATALOG_ENV, raising=False)
    assert catalog_url(None, "file:///config") == "file:///config"
    monkeypatch.setenv(CATALOG_ENV, "file:///environment")
    assert catalog_url(None, "file:///config") == "file:///environment"
    assert catalog_url("file:///flag", "file:///config") == "file:///flag"
    monkeypatch.delenv(CATALOG_ENV)
    with pytest.raises(InputError) as caught:
        catalog_url(None, None)
    assert "no catalog given" in caught.value.message and CATALOG_ENV in (caught.value.hint or "")


def _project_with_a_missing_catalog(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "alicloud" / "templates", project / "templates")
    shutil.copytree(FIXTURES / "alicloud" / ".computenest", project / ".computenest")
    config = (FIXTURES / "alicloud" / "deploypkg.yaml").read_text(encoding="utf-8")
    (project / "deploypkg.yaml").write_text(config.replace("file://./catalog", "file://./nowhere"), encoding="utf-8")
    return project


def test_render_takes_the_catalog_from_the_flag_then_the_environment_then_the_config(tmp_path: Path) -> None:
    project = _project_with_a_missing_catalog(tmp_path)
    catalog = (FIXTURES / "alicloud" / "catalog").as_uri()
    args = ("render", "templates", "--region", "cn-beijing", "--format", "json")
    env = {**os.environ, CATALOG_ENV: ""}
    refused = run_cli(*args, "--out", str(tmp_path / "a"), cwd=project, env=env)
    assert refused.exit_code != 0 and "nowhere" in refused.stderr
    from_env = run_cli(*args, "--out", str(tmp_path / "b"), cwd=project, env={CATALOG_ENV: catalog})
    assert from_env.exit_code == 0, from_env.stderr
    flag = run_cli(
        *args, "--out", str(tmp_path / "c"), "--catalog", catalog, cwd=project, env={CATALOG_ENV: "file:///x"}
    )
    assert flag.exit_code == 0, flag.stderr
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text(encoding="utf-8"))
    assert [entry["url"] for entry in manifest["catalogs"]] == [
        f"file://{(FIXTURES / 'alicloud' / 'catalog').resolve()}"
    ]


def test_a_catalog_opened_for_render_reads_catalog_json_once(aws_env: MotoServer) -> None:
    """Learning the provider reads catalog.json; the reader render uses keeps that read, so the
    document is fetched once (through a recording proxy in front of moto)."""
    from faultproxy import FaultProxy

    from preprocessor.catalog.opening import open_catalog_reader

    url = _alicloud_catalog_on_moto()
    with FaultProxy(aws_env.endpoint_url) as proxy:
        catalog = open_catalog_reader(url, StoreOptions(endpoint_url=proxy.endpoint_url, region="cn-hangzhou"))
        assert catalog.info().provider == "alicloud" and catalog.info().bucket_pattern == "demo-{region}"
        catalog.services()
        gets = [seen.target for seen in proxy.seen if seen.method == "GET"]
    assert sum(1 for target in gets if target.split("?")[0].endswith("/catalog.json")) == 1, gets
    assert "catalog.json" in catalog.documents_read()
