"""Container images and charts at render: an associated container-image literal and the
acrimage/helmchart placeholders become each region's reference, pinned by the digest the catalog
recorded (a chart keeps its version; its digest goes to artifacts.json), on the in-VPC registry
host with --url-endpoint internal. The last test pulls what render wrote from a real registry."""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from catalog_testing import make_env
from helpers import FIXTURES, run_cli
from registry_testing import Layout, Registry, pull_all, push, start_registry

ECI = FIXTURES / "eci"
WEB_DIGEST = json.loads((FIXTURES / "alicloud/catalog/packages/web-frontend/versions/1.0.0.json").read_text())[
    "distributions"
]["cn-beijing"]["digest"]


def _changed_lines(before: Path, after: Path) -> list[tuple[str, str]]:
    old, new = before.read_text().splitlines(), after.read_text().splitlines()
    assert len(old) == len(new), "render changed the number of lines"
    return [(a.strip(), b.strip()) for a, b in zip(old, new, strict=True) if a != b]


@pytest.mark.parametrize(("endpoint", "host"), [("public", "registry"), ("internal", "registry-vpc")])
def test_the_eci_fixture_renders_pinned_regional_references_and_nothing_else(
    tmp_path: Path, endpoint: str, host: str
) -> None:
    out = tmp_path / "out"
    args = ("render", str(ECI / "templates"), "--region", "cn-beijing", "--region", "cn-shanghai", "--out", str(out))
    result = run_cli(*args, "--url-endpoint", endpoint)
    assert result.exit_code == 0, result.stderr
    for region in ("cn-beijing", "cn-shanghai"):
        image = f"{host}.{region}.aliyuncs.com/demo/web-frontend:1.0.0@{WEB_DIGEST}"
        source = "registry.cn-hangzhou.aliyuncs.com/demo/web-frontend:1.0.0"
        assert _changed_lines(ECI / "templates/eci.tf", out / region / "eci.tf") == [
            (f'image = "{source}"', f'image = "{image}"')
        ]
        chart = f"oci://{host}.{region}.aliyuncs.com/demo-charts/web-chart:1.0.0"
        assert _changed_lines(ECI / "templates/eci.yaml", out / region / "eci.yaml") == [
            (f"- {source}", f"- {image}"),
            (f"Image: {source}", f"Image: {image}"),
            ("Value: '{{ computenest::helmchart::web-chart }}'", f"Value: '{chart}'"),
        ]
        artifacts = {a["package"]: a for a in json.loads((out / region / "artifacts.json").read_text())["artifacts"]}
        assert artifacts["web-frontend"]["kind"] == "container" and artifacts["web-frontend"]["digest"] == WEB_DIGEST
        assert artifacts["web-chart"]["id"] == chart and artifacts["web-chart"]["digest"].startswith("sha256:")


@pytest.fixture(scope="module")
def registries(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Registry]]:
    root = tmp_path_factory.mktemp("regions")
    with contextlib.ExitStack() as stack:
        yield {region: stack.enter_context(start_registry(root / region)) for region in ("cn-hangzhou", "cn-beijing")}


def test_what_render_writes_is_pullable_by_digest_in_that_region(
    tmp_path: Path, registries: dict[str, Registry]
) -> None:
    hz, bj = registries["cn-hangzhou"].host, registries["cn-beijing"].host
    layout = Layout(tmp_path / "layout")
    digest = layout.multi_platform("1.0.0")
    push(layout, "1.0.0", f"{hz}/acme/web:1.0.0")
    env = make_env("local", tmp_path)
    init = env.cli(
        "init", "--provider", "alicloud", "--bucket-pattern", env.bucket_pattern,
        "--registry", f"cn-hangzhou={hz}/acme", "--registry", f"cn-beijing={bj}/acme",
    )  # fmt: skip
    assert init.exit_code == 0, init.stderr
    source = f"{hz}/acme/web:1.0.0"
    steps = [
        ("publish", "web", "1.0.0", "--type", "container-image", "--image-ref", source, "--owner", "1234567890123456"),
        ("distribute", "web", "1.0.0", "--region", "cn-beijing"),
        ("release", "web", "1.0.0"),
    ]
    for step in steps:
        done = env.cli(*step)
        assert done.exit_code == 0, (step, done.stderr)
    project = tmp_path / "project"
    shutil.copytree(ECI / "templates", project / "templates")
    for name in ("eci.yaml", "eci.tf"):
        path = project / "templates" / name
        text = path.read_text().replace("registry.cn-hangzhou.aliyuncs.com/demo/web-frontend:1.0.0", source)
        path.write_text(text.replace("'{{ computenest::helmchart::web-chart }}'", "'no chart here'"))
    (project / "deploypkg.yaml").write_text(
        f"provider: alicloud\ncatalog: {env.url}\naccount: '1234567890123456'\nassociations:\n  {source}: web\n"
    )
    out = tmp_path / "out"
    rendered = run_cli("render", "templates", "--region", "cn-beijing", "--out", str(out), cwd=project)
    assert rendered.exit_code == 0, rendered.stderr
    written = f"{bj}/acme/web:1.0.0@{digest}"
    assert f'image = "{written}"' in (out / "cn-beijing" / "eci.tf").read_text()
    assert pull_all(bj, "acme/web", digest) == digest  # what an instance in cn-beijing pulls
