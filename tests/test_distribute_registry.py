"""Container images and charts through the real CLI against real registries (docker-registry
on 127.0.0.1, one per region): publish records the digest the tag names, distribute copies by
digest into each region's registry and records a region only once the target serves it, a
failed region is recorded and a rerun completes it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from catalog_testing import CatalogEnv, make_env
from registry_testing import Layout, Registry, pull_all, push, start_registry

from preprocessor.catalog.distribute import target_reference
from preprocessor.catalog.model import CatalogInfo, Package, PackageType, PackageVersion, Source, VersionStatus
from preprocessor.oci.reference import Reference
from providers import get_provider

REGIONS = ("cn-hangzhou", "cn-beijing", "cn-shanghai")


@pytest.fixture(scope="module")
def registries(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Registry]]:
    root = tmp_path_factory.mktemp("regional")
    with contextlib.ExitStack() as stack:
        yield {region: stack.enter_context(start_registry(root / region)) for region in REGIONS}


@pytest.fixture(scope="module")
def pushed(registries: dict[str, Registry], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A two-platform image and a chart in the cn-hangzhou registry: name -> digest."""
    layout = Layout(tmp_path_factory.mktemp("layout"))
    host = registries["cn-hangzhou"].host
    image = layout.multi_platform("1.0.0", layer_size=512 * 1024)
    push(layout, "1.0.0", f"{host}/acme/web:1.0.0")
    chart = layout.chart("dify", "1.4.0")
    push(layout, "1.4.0", f"{host}/acme-charts/dify:1.4.0")
    return {"web": image, "dify": chart}


def _env(tmp_path: Path, registries: dict[str, Registry], namespace: str = "acme") -> CatalogEnv:
    env = make_env("local", tmp_path)
    pairs = [arg for region, r in registries.items() for arg in ("--registry", f"{region}={r.host}/{namespace}")]
    result = env.cli("init", "--provider", "alicloud", "--bucket-pattern", env.bucket_pattern, *pairs)
    assert result.exit_code == 0, result.stderr
    return env


def _publish_web(env: CatalogEnv, host: str) -> None:
    published = env.cli("publish", "web", "1.0.0", "--type", "container-image", "--image-ref", f"{host}/acme/web:1.0.0")
    assert published.exit_code == 0, published.stderr


def test_publish_records_the_digest_and_infers_the_region(
    tmp_path: Path, registries: dict[str, Registry], pushed: dict[str, str]
) -> None:
    env = _env(tmp_path, registries)
    ref = f"{registries['cn-hangzhou'].host}/acme/web:1.0.0"
    assert env.cli("publish", "web", "1.0.0", "--type", "container-image", "--image-ref", ref).exit_code == 0
    source = env.show("web", "1.0.0")["source"]
    assert source == {"region": "cn-hangzhou", "image_ref": ref, "digest": pushed["web"]}
    missing = env.cli(
        "publish", "web", "2.0.0", "--type", "container-image", "--image-ref",
        f"{registries['cn-hangzhou'].host}/acme/web:2.0.0",
    )  # fmt: skip
    assert missing.exit_code == 2 and "is not in its registry" in missing.stderr and "push it first" in missing.stderr


def test_distribute_copies_by_digest_to_every_regional_registry(
    tmp_path: Path, registries: dict[str, Registry], pushed: dict[str, str]
) -> None:
    env = _env(tmp_path, registries)
    hz = registries["cn-hangzhou"].host
    assert (
        env.cli("publish", "web", "1.0.0", "--type", "container-image", "--image-ref", f"{hz}/acme/web:1.0.0").exit_code
        == 0
    )
    chart = f"oci://{hz}/acme-charts/dify:1.4.0"
    # The chart lives under another namespace than the catalog's: its whole path is kept.
    assert env.cli("publish", "dify", "1.4.0", "--type", "helm-chart", "--chart", chart).exit_code == 0
    targets = ("--region", "cn-beijing", "--region", "cn-shanghai")
    done = env.cli("distribute", "web", "1.0.0", *targets)
    assert done.exit_code == 0, done.stderr
    charts = env.cli("distribute", "dify", "1.4.0", *targets)
    assert charts.exit_code == 0, charts.stderr
    web = env.show("web", "1.0.0")["distributions"]
    dify = env.show("dify", "1.4.0")["distributions"]
    for region in ("cn-beijing", "cn-shanghai"):
        host = registries[region].host
        assert web[region]["image_ref"] == f"{host}/acme/web:1.0.0"
        assert web[region]["digest"] == pushed["web"] == pull_all(host, "acme/web", "1.0.0")
        assert dify[region]["chart_ref"] == f"oci://{host}/acme/acme-charts/dify:1.4.0"
        assert dify[region]["digest"] == pushed["dify"] == pull_all(host, "acme/acme-charts/dify", "1.4.0")
    again = env.cli("distribute", "web", "1.0.0", *targets)
    assert again.exit_code == 0 and again.stdout.count("(already there)") == 2


def test_a_region_whose_registry_is_down_fails_and_a_rerun_completes(
    tmp_path: Path, registries: dict[str, Registry], pushed: dict[str, str]
) -> None:
    down = start_registry(tmp_path / "later")
    host = down.host
    down.stop()
    env = make_env("local", tmp_path)
    hz = registries["cn-hangzhou"].host
    init = env.cli(
        "init", "--provider", "alicloud", "--bucket-pattern", env.bucket_pattern,
        "--registry", f"cn-hangzhou={hz}/acme", "--registry", f"cn-beijing={registries['cn-beijing'].host}/acme",
        "--registry", f"cn-qingdao={host}/acme",
    )  # fmt: skip
    assert init.exit_code == 0, init.stderr
    assert (
        env.cli("publish", "web", "1.0.0", "--type", "container-image", "--image-ref", f"{hz}/acme/web:1.0.0").exit_code
        == 0
    )
    first = env.cli("distribute", "web", "1.0.0", "--region", "cn-beijing", "--region", "cn-qingdao")
    assert first.exit_code == 1
    dists = env.show("web", "1.0.0")["distributions"]
    assert dists["cn-beijing"]["status"] == "available" and dists["cn-qingdao"]["status"] == "failed"
    assert host in dists["cn-qingdao"]["error"]
    with start_registry(tmp_path / "later", port=int(host.rsplit(":", 1)[1])):  # back on the same port
        second = env.cli("distribute", "web", "1.0.0", "--region", "cn-beijing", "--region", "cn-qingdao")
        assert second.exit_code == 0, second.stderr
        assert "(already there)" in second.stdout
        qingdao = env.show("web", "1.0.0")["distributions"]["cn-qingdao"]
        assert qingdao["status"] == "available" and qingdao["digest"] == pushed["web"]
        assert pull_all(host, "acme/web", "1.0.0") == pushed["web"]


def test_an_explicit_pattern_and_image_ids_that_do_not_apply(
    tmp_path: Path, registries: dict[str, Registry], pushed: dict[str, str]
) -> None:
    env = _env(tmp_path, registries)
    hz, bj = registries["cn-hangzhou"].host, registries["cn-beijing"].host
    assert (
        env.cli("publish", "web", "1.0.0", "--type", "container-image", "--image-ref", f"{hz}/acme/web:1.0.0").exit_code
        == 0
    )
    wrong = env.cli("distribute", "web", "1.0.0", "--region", "cn-qingdao", "--image", "cn-qingdao=m-x")
    assert wrong.exit_code == 2 and "leave out --image" in wrong.stderr
    bad = env.cli("distribute", "web", "1.0.0", "--region", "cn-beijing", "--image-ref-pattern", "{nope}/{path}")
    assert bad.exit_code == 2 and "placeholders: {region}, {path}, {account}" in bad.stderr
    mirrored = env.cli(
        "distribute",
        "web",
        "1.0.0",
        "--region",
        "cn-shanghai",
        "--image-ref-pattern",
        f"{bj}/mirror-{{region}}/{{path}}",
    )
    assert mirrored.exit_code == 0, mirrored.stderr
    shanghai = env.show("web", "1.0.0")["distributions"]["cn-shanghai"]
    assert shanghai["image_ref"] == f"{bj}/mirror-cn-shanghai/acme/web:1.0.0"
    assert pull_all(bj, "mirror-cn-shanghai/acme/web", "1.0.0") == pushed["web"] == shanghai["digest"]


def test_registry_options_are_checked_at_init(tmp_path: Path) -> None:
    env = make_env("local", tmp_path)
    base = ("init", "--provider", "alicloud", "--bucket-pattern", env.bucket_pattern)
    no_region = env.cli(*base, "--registry-pattern", "registry.example.com/acme")
    assert no_region.exit_code == 2 and "must contain {region}" in no_region.stderr
    bad_host = env.cli(*base, "--registry", "cn-beijing=not a host/acme")
    assert bad_host.exit_code == 2 and "not a registry host" in bad_host.stderr
    typo = env.cli(*base, "--registry", "cn-bejing=registry.example.com/acme")
    assert typo.exit_code == 2 and "did you mean cn-beijing?" in typo.stderr


def _version(source_ref: str, region: str) -> PackageVersion:
    return PackageVersion("web", "1.0.0", VersionStatus.DRAFT, source=Source(region=region, image_ref=source_ref))


def test_without_catalog_registries_the_providers_host_keeps_the_path_and_the_ecr_account() -> None:
    """What distribute would copy to (the reference only; the registries are the cloud's)."""
    alicloud, aws = get_provider("alicloud"), get_provider("aws")
    package = Package("web", PackageType.CONTAINER_IMAGE)
    acr = _version("registry.cn-hangzhou.aliyuncs.com/demo/web:1.0.0", "cn-hangzhou")
    info = CatalogInfo("alicloud", "b-{region}")
    assert target_reference(info, alicloud, package, acr, "cn-beijing", None) == Reference(
        "registry.cn-beijing.aliyuncs.com", "demo/web", "1.0.0"
    )
    ecr = _version("111122223333.dkr.ecr.us-east-1.amazonaws.com/demo/web:1.0.0", "us-east-1")
    assert target_reference(CatalogInfo("aws", "b-{region}"), aws, package, ecr, "eu-west-1", None) == Reference(
        "111122223333.dkr.ecr.eu-west-1.amazonaws.com", "demo/web", "1.0.0"
    )
    enterprise = CatalogInfo("alicloud", "b-{region}", registry_pattern="acme-registry.{region}.cr.aliyuncs.com/prod")
    assert target_reference(enterprise, alicloud, package, acr, "cn-beijing", None) == Reference(
        "acme-registry.cn-beijing.cr.aliyuncs.com", "prod/demo/web", "1.0.0"
    )


def test_promote_moves_a_channel_tag_to_the_digest_in_every_regional_registry(
    tmp_path: Path, registries: dict[str, Registry], pushed: dict[str, str]
) -> None:
    from registry_testing import fetch

    env = _env(tmp_path, registries)
    _publish_web(env, registries["cn-hangzhou"].host)
    assert env.cli("distribute", "web", "1.0.0", "--region", "cn-beijing").exit_code == 0
    assert env.cli("release", "web", "1.0.0").exit_code == 0
    promoted = env.cli("promote", "web", "1.0.0", "--channel", "dev")
    assert promoted.exit_code == 0, promoted.stderr
    for region in ("cn-hangzhou", "cn-beijing"):
        host = registries[region].host
        assert f"tagged {host}/acme/web:dev" in promoted.stdout
        status, _, headers = fetch(host, "/v2/acme/web/manifests/dev")
        assert status == 200 and headers["Docker-Content-Digest"] == pushed["web"]
    assert "web#dev → 1.0.0" in promoted.stdout
