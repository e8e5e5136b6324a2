"""The whole provider workflow from the real CLI, on the local store and on S3 (moto server):
init → publish → distribute to 3 regions → release → promote dev → test → prod → service, and
the bytes really are in every regional bucket. Plus how the catalog URL is found."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from catalog_testing import CatalogEnv, make_env
from helpers import run_cli

REGIONS = {
    "alicloud": ("cn-hangzhou", "cn-beijing", "cn-shanghai", "cn-shenzhen"),
    "aws": ("us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1"),
}


def _ok(result: Any) -> str:
    assert result.exit_code == 0, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    assert "Traceback" not in result.stderr
    out: str = result.stdout
    return out


@pytest.mark.parametrize(("kind", "provider"), [("local", "alicloud"), ("s3", "aws")])  # streamed S3: test_distribute
def test_whole_lifecycle(request: pytest.FixtureRequest, tmp_path: Path, kind: str, provider: str) -> None:
    if kind == "s3":
        request.getfixturevalue("aws_env")
    env: CatalogEnv = make_env(kind, tmp_path)
    source, *targets = REGIONS[provider]
    creates = [arg for region in REGIONS[provider] for arg in ("--create-bucket", region)]
    _ok(env.cli("init", "--provider", provider, "--bucket-pattern", env.bucket_pattern, *creates))

    bundle = tmp_path / "app-bundle.tar.gz"
    bundle.write_bytes(hashlib.sha512(b"deploypkg").digest() * 20000)  # 1.25 MiB
    key = f"files/sha256/{hashlib.sha256(bundle.read_bytes()).hexdigest()}/app-bundle.tar.gz"
    owner = "1234567890123456"
    _ok(
        env.cli(
            "publish", "app-bundle", "1.0.0", "--type", "file", "--file", str(bundle), "--region", source,
            "--owner", owner, "--description", "the application bundle",
        )
    )  # fmt: skip
    out = _ok(env.cli("distribute", "app-bundle", "1.0.0", *[a for r in targets for a in ("--region", r)]))
    for region in targets:
        assert f"{region}: available {key}" in out
    for region in REGIONS[provider]:
        assert env.object_bytes(region, key) == bundle.read_bytes(), f"wrong bytes in {region}"

    _ok(env.cli("release", "app-bundle", "1.0.0"))
    for channel in ("dev", "test", "prod"):
        assert f"app-bundle#{channel} → 1.0.0" in _ok(env.cli("promote", "app-bundle", "1.0.0", "--channel", channel))
    _ok(env.cli("service", "demo-service", "--visibility", "public", "--package", "app-bundle", "--owner", owner))

    listing = json.loads(_ok(env.cli("list", "--format", "json")))
    assert listing["catalog"]["provider"] == provider
    assert listing["services"] == [
        {"name": "demo-service", "visibility": "public", "whitelist": [], "packages": ["app-bundle"], "owner": owner}
    ]
    (details,) = listing["packages"]
    assert details["package"] == {
        "name": "app-bundle", "type": "file", "owner": owner, "description": "the application bundle",
    }  # fmt: skip
    (version,) = details["versions"]
    assert version["status"] == "published"
    assert sorted(version["distributions"]) == sorted(REGIONS[provider])
    for region, dist in version["distributions"].items():
        assert dist["status"] == "available"
        assert dist["bucket"] == env.bucket(region) and dist["object_key"] == key
    assert {c["channel"]: c["version"] for c in details["channels"]} == {
        "dev": "1.0.0",
        "test": "1.0.0",
        "prod": "1.0.0",
    }

    # What render reads from it: the reader resolves the channel, the access rules let anyone use it.
    from preprocessor.catalog import access
    from preprocessor.catalog.catalog import Catalog
    from preprocessor.names import PackageSpec

    reader = Catalog(env.store())
    resolved, channel = reader.resolve(PackageSpec("app-bundle", channel="prod"))
    assert (resolved.version, channel) == ("1.0.0", "prod")
    for region in REGIONS[provider]:
        access.check(reader, resolved, region, "999999999999")
        assert resolved.distributions[region].object_key == key

    shown = _ok(env.cli("show", "app-bundle"))
    assert "1.0.0: published" in shown and "channel prod → 1.0.0" in shown

    revoked = _ok(env.cli("revoke", "app-bundle", "1.0.0", "--reason", "superseded"))
    assert "revoked app-bundle 1.0.0" in revoked
    again = env.cli("revoke", "app-bundle", "1.0.0", "--reason", "twice")
    assert again.exit_code == 2 and "already revoked" in again.stderr


def test_catalog_url_from_config_then_environment(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "deploypkg.yaml").write_text("provider: alicloud\ncatalog: file://./catalog\n")
    _ok(run_cli("catalog", "init", "--provider", "alicloud", "--bucket-pattern", "demo-{region}", cwd=project))
    assert (project / "catalog" / "catalog.json").is_file()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    none = run_cli("catalog", "list", cwd=elsewhere, env={"DEPLOYPKG_CATALOG": ""})
    assert none.exit_code == 2
    assert "no catalog given" in none.stderr and "DEPLOYPKG_CATALOG" in none.stderr
    from_env = run_cli("catalog", "list", cwd=elsewhere, env={"DEPLOYPKG_CATALOG": f"file://{project / 'catalog'}"})
    assert "alicloud catalog" in _ok(from_env)
    # --catalog wins over the config.
    other = tmp_path / "other"
    _ok(
        run_cli(
            "catalog",
            "--catalog",
            f"file://{other}",
            "init",
            "--provider",
            "aws",
            "--bucket-pattern",
            "x-{region}",
            cwd=project,
        )
    )
    assert json.loads((other / "catalog.json").read_text())["provider"] == "aws"


def test_errors_are_messages_with_exit_codes(tmp_path: Path) -> None:
    url = f"file://{tmp_path / 'c'}"
    missing = run_cli("catalog", "--catalog", url, "show", "web-image")
    assert missing.exit_code == 2 and "catalog init" in missing.stderr
    _ok(run_cli("catalog", "--catalog", url, "init", "--provider", "alicloud", "--bucket-pattern", "d-{region}"))
    unknown = run_cli("catalog", "--catalog", url, "show", "web-image")
    assert unknown.exit_code == 2 and "DPK306" in unknown.stderr and "does not exist" in unknown.stderr
    usage = run_cli("catalog", "--catalog", url, "distribute", "web-image", "1.0.0")
    assert usage.exit_code == 2 and "--region" in usage.stderr
    broken = tmp_path / "c" / "packages" / "web-image"
    broken.mkdir(parents=True)
    (broken / "package.json").write_text("{not json")
    bad = run_cli("catalog", "--catalog", url, "show", "web-image")
    assert bad.exit_code == 2 and "not valid JSON" in bad.stderr
    for result in (missing, unknown, usage, bad):
        assert "Traceback" not in result.stderr
