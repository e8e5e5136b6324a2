"""Faults between deploypkg and a regional registry (the tests' fault proxy in front of a real
docker-registry): a blob upload cut off, a refused manifest, the registry going away mid-copy.
Nothing is recorded available that the registry does not serve, and a rerun completes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from catalog_testing import CatalogEnv, make_env
from faultproxy import Fault, FaultProxy
from registry_testing import Layout, Registry, fetch, pull_all, push, start_registry


@pytest.fixture
def regions(tmp_path: Path) -> Iterator[tuple[Registry, Registry, FaultProxy, str]]:
    with (
        start_registry(tmp_path / "source") as source,
        start_registry(tmp_path / "target", relative_urls=True) as target,
    ):
        layout = Layout(tmp_path / "layout")
        digest = layout.multi_platform("1.0.0", layer_size=2 * 1024 * 1024)
        push(layout, "1.0.0", f"{source.host}/acme/web:1.0.0")
        with FaultProxy(f"http://{target.host}").start() as proxy:
            yield source, target, proxy, digest


def _env(tmp_path: Path, source: Registry, proxy: FaultProxy) -> CatalogEnv:
    env = make_env("local", tmp_path)
    proxied = proxy.endpoint_url.removeprefix("http://")
    init = env.cli(
        "init", "--provider", "alicloud", "--bucket-pattern", env.bucket_pattern,
        "--registry", f"cn-hangzhou={source.host}/acme", "--registry", f"cn-beijing={proxied}/acme",
    )  # fmt: skip
    assert init.exit_code == 0, init.stderr
    ref = f"{source.host}/acme/web:1.0.0"
    assert env.cli("publish", "web", "1.0.0", "--type", "container-image", "--image-ref", ref).exit_code == 0
    return env


def _beijing(env: CatalogEnv) -> dict[str, str]:
    found: dict[str, str] = env.show("web", "1.0.0")["distributions"].get("cn-beijing", {})
    return found


@pytest.mark.parametrize(
    ("fault", "method", "path"),
    [
        (Fault.DROP, "PATCH", r"/v2/acme/web/blobs/uploads/"),  # a blob upload cut off
        (Fault.DROP, "HEAD", r"/v2/acme/web/manifests/1\.0\.0$"),  # the final check of the tag unanswered
        (Fault.ACCESS_DENIED, "PUT", r"/v2/acme/web/manifests/sha256:"),  # a refused manifest
    ],
)
def test_a_fault_leaves_the_region_failed_and_a_rerun_completes(
    tmp_path: Path, regions: tuple[Registry, Registry, FaultProxy, str], fault: Fault, method: str, path: str
) -> None:
    source, target, proxy, digest = regions
    env = _env(tmp_path, source, proxy)
    proxy.inject(fault, method=method, path=path, times=1)
    first = env.cli("distribute", "web", "1.0.0", "--region", "cn-beijing")
    assert first.exit_code == 1, first.stdout + first.stderr
    assert _beijing(env)["status"] == "failed" and "digest" not in _beijing(env)
    assert proxy.count(method, path, fault) == 1, "the fault was never reached"
    second = env.cli("distribute", "web", "1.0.0", "--region", "cn-beijing")
    assert second.exit_code == 0, second.stdout + second.stderr
    assert _beijing(env)["status"] == "available" and _beijing(env)["digest"] == digest
    assert pull_all(target.host, "acme/web", "1.0.0") == digest


def test_a_registry_that_goes_away_mid_copy(
    tmp_path: Path, regions: tuple[Registry, Registry, FaultProxy, str]
) -> None:
    source, target, proxy, digest = regions
    env = _env(tmp_path, source, proxy)
    proxy.stop_after(6)
    first = env.cli("distribute", "web", "1.0.0", "--region", "cn-beijing")
    assert first.exit_code == 1 and _beijing(env)["status"] == "failed"
    status, _, _ = fetch(target.host, "/v2/acme/web/manifests/1.0.0")
    assert status == 404  # nothing half-copied is tagged
    proxy.resume()
    second = env.cli("distribute", "web", "1.0.0", "--region", "cn-beijing")
    assert second.exit_code == 0, second.stdout + second.stderr
    assert pull_all(target.host, "acme/web", "1.0.0") == digest == _beijing(env)["digest"]
