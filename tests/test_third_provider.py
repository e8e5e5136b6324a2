"""A provider deploypkg does not ship, installed with pip through the ``deploypkg.providers``
entry point (tests/data/examplecloud), works end to end: its templates are recognised, and
``catalog init``, ``publish``, ``distribute`` and ``render`` use its table and its own image
copier. Nothing in core code names a provider, so nothing treats it as alicloud or aws."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from conftest import MotoServer
from helpers import REPO, CliResult, run_cli

PLUGIN_SOURCE = REPO / "tests" / "data" / "examplecloud"
SOURCE_IMAGE = "img-0123456789ab"
ACCOUNT = "100200300400"

STACK = f"""\
ExampleTemplateFormatVersion: "2025-01-01"
Description: A web server on examplecloud.
Resources:
  Web:
    Type: EXAMPLE::Compute::Server
    Properties:
      ImageId: {SOURCE_IMAGE}
      UserData: |
        curl -fsSL -o /opt/app.tar.gz '{{{{ computenest::file::app-bundle }}}}'
"""

TYPES_ONLY = """\
{
  "Resources": {
    "Worker": {"Type": "EXAMPLE::Compute::Server", "Properties": {"ImageId": "IMAGE"}}
  }
}
"""

MAIN_TF = f"""\
resource "examplecloud_server" "web" {{
  image_id = "{SOURCE_IMAGE}"
}}
"""


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plugin installed into its own directory by pip, as ``pip install`` would for a user
    (built from a copy, so the repository is not written to)."""
    work = tmp_path_factory.mktemp("examplecloud")
    source = work / "source"
    shutil.copytree(PLUGIN_SOURCE, source)
    target = work / "site"
    subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
            "--no-build-isolation", "--target", str(target), str(source),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    assert list(target.glob("deploypkg_examplecloud-*.dist-info")), "pip installed no distribution metadata"
    return target


def _cli(plugin: Path, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> CliResult:
    path = os.pathsep.join(filter(None, [str(plugin), os.environ.get("PYTHONPATH")]))
    return run_cli(*args, cwd=cwd, env={"PYTHONPATH": path, **(env or {})})


def _project(root: Path, catalog: str | None = None, worker_image: str = "img-XYZ") -> Path:
    templates = root / "templates"
    templates.mkdir(parents=True)
    (templates / "stack.yaml").write_text(STACK)
    (templates / "worker.json").write_text(TYPES_ONLY.replace("IMAGE", worker_image))
    (templates / "main.tf").write_text(MAIN_TF)
    config = [f"associations:\n  {SOURCE_IMAGE}: web-image\n  app-bundle: app-bundle\n"]
    if catalog is not None:
        config.insert(0, f"catalog: {catalog}\nregions: [ex-south-1]\naccount: '{ACCOUNT}'\n")
    (root / "deploypkg.yaml").write_text("".join(config))
    return templates


def test_its_templates_are_recognised_only_once_it_is_installed(plugin_path: Path, tmp_path: Path) -> None:
    templates = _project(tmp_path)
    refs = _cli(plugin_path, "refs", str(templates), "--format", "json", cwd=tmp_path)
    assert refs.exit_code == 0, refs.stderr
    found = {(Path(r["file"]).name, r["resource_type"], r["kind"], r["value"]) for r in json.loads(refs.stdout)}
    assert found == {
        ("stack.yaml", "EXAMPLE::Compute::Server", "literal", SOURCE_IMAGE),
        ("stack.yaml", "EXAMPLE::Compute::Server", "placeholder", "app-bundle"),
        ("worker.json", "EXAMPLE::Compute::Server", "literal", "img-XYZ"),
        ("main.tf", "examplecloud_server", "literal", SOURCE_IMAGE),
    }
    checked = _cli(plugin_path, "validate", str(templates), "--format", "json", cwd=tmp_path)
    assert checked.exit_code == 1, checked.stderr
    findings = json.loads(checked.stdout)
    assert [(Path(d["file"]).name, d["rule_id"]) for d in findings] == [("worker.json", "DPK107")]
    assert "not a valid examplecloud image ID" in findings[0]["message"]
    assert "img- and 12 hex digits" in findings[0]["hint"]
    # Without the plugin, none of these files is a template deploypkg knows.
    bare = run_cli("refs", str(templates), "--format", "json", cwd=tmp_path)
    assert bare.exit_code == 0 and json.loads(bare.stdout) == []


def test_catalog_publish_distribute_and_render(plugin_path: Path, aws_env: MotoServer, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:10]
    env = {"EXAMPLECLOUD_COPY_LOG": str(tmp_path / "copies.log")}
    home = f"x{tag}-catalog"
    url = f"s3://{home}/catalog"

    def cli(*args: str) -> CliResult:
        return _cli(plugin_path, "catalog", "--catalog-region", "ex-north-1", *args, env=env)

    shown = cli("init", "--help")
    assert "[alicloud|aws|examplecloud]" in shown.stdout
    import boto3

    boto3.client("s3", region_name="ex-north-1").create_bucket(
        Bucket=home, CreateBucketConfiguration={"LocationConstraint": "ex-north-1"}
    )
    init = cli(
        "init", "--catalog", url, "--provider", "examplecloud", "--bucket-pattern", f"x{tag}-{{region}}",
        "--create-bucket", "ex-north-1", "--create-bucket", "ex-south-1", "--create-bucket", "ex-east-1",
    )  # fmt: skip
    assert init.exit_code == 0, init.stderr
    assert "provider examplecloud" in init.stdout

    bundle = tmp_path / "app.tar.gz"
    bundle.write_bytes(b"examplecloud bundle\n" * 1000)
    published = cli(
        "publish", "--catalog", url, "app-bundle", "1.0.0", "--type", "file", "--file", str(bundle),
        "--region", "ex-north-1", "--owner", ACCOUNT,
    )  # fmt: skip
    assert published.exit_code == 0, published.stderr
    typo = cli("distribute", "--catalog", url, "app-bundle", "1.0.0", "--region", "ex-sout-1")
    assert typo.exit_code == 2
    assert "ex-sout-1 is not an examplecloud region" in typo.stderr and "did you mean ex-south-1?" in typo.stderr
    spread = cli("distribute", "--catalog", url, "app-bundle", "1.0.0", "--region", "ex-south-1")
    assert spread.exit_code == 0, spread.stderr

    image = cli("publish", "--catalog", url, "web-image", "1.0.0", "--type", "ecs-image", "--image",
                f"ex-north-1={SOURCE_IMAGE}", "--owner", ACCOUNT)  # fmt: skip
    assert image.exit_code == 0, image.stderr
    recorded = cli("distribute", "--catalog", url, "web-image", "1.0.0", "--region", "ex-south-1",
                   "--image", "ex-south-1=img-aaaaaaaaaaaa")  # fmt: skip
    assert recorded.exit_code == 2 and "leave out --image" in recorded.stderr  # it has its own copier
    regions = ("--region", "ex-south-1", "--region", "ex-east-1")
    copied = cli("distribute", "--catalog", url, "web-image", "1.0.0", *regions)
    assert copied.exit_code == 0, copied.stderr
    log = (tmp_path / "copies.log").read_text().splitlines()
    assert sorted(line.split(" -> ")[1].split()[0] for line in log) == ["ex-east-1", "ex-south-1"]
    again = cli("distribute", "--catalog", url, "web-image", "1.0.0", *regions)
    assert again.exit_code == 0 and again.stdout.count("(already there)") == 2
    assert len((tmp_path / "copies.log").read_text().splitlines()) == 2, "a rerun copied again"
    for package in ("app-bundle", "web-image"):
        released = cli("release", "--catalog", url, package, "1.0.0")
        assert released.exit_code == 0, released.stderr
    south_image = next(line.split()[-1] for line in log if " -> ex-south-1 " in line)

    # render reads the catalog through the provider's own scheme (exs:// is its object store).
    project = tmp_path / "project"
    templates = _project(project, catalog=f"exs://{home}/catalog", worker_image=SOURCE_IMAGE)
    out = tmp_path / "out"
    rendered = _cli(
        plugin_path,
        "render",
        str(templates),
        "--region",
        "ex-south-1",
        "--out",
        str(out),
        "--catalog-region",
        "ex-north-1",
        cwd=project,
    )
    assert rendered.exit_code == 0, rendered.stderr
    region_dir = out / "ex-south-1"
    stack = (region_dir / "stack.yaml").read_text()
    assert f"ImageId: {south_image}" in stack and SOURCE_IMAGE not in stack
    assert f'image_id = "{south_image}"' in (region_dir / "main.tf").read_text()
    assert f'"ImageId": "{south_image}"' in (region_dir / "worker.json").read_text()
    artifacts: list[dict[str, Any]] = json.loads((region_dir / "artifacts.json").read_text())["artifacts"]
    (artifact,) = [a for a in artifacts if a["package"] == "app-bundle"]
    assert artifact["url"] in stack
    assert urllib.parse.urlsplit(artifact["url"]).netloc == urllib.parse.urlsplit(aws_env.endpoint_url).netloc
    with urllib.request.urlopen(artifact["url"], timeout=10) as response:
        assert response.read() == bundle.read_bytes()


def test_its_store_table_decides_endpoints_and_copies(
    plugin_path: Path, monkeypatch: pytest.MonkeyPatch, aws_env: MotoServer
) -> None:
    """With no endpoint override (what a real user of that cloud has), the provider's patterns
    give the URLs, and its ``cross_region_copy`` says copies are streamed."""
    code = """
import json, sys
from preprocessor.catalog.opening import open_store
store = open_store("exs://x-home/catalog", region="ex-north-1")
print(json.dumps({
    "presigned": store.object_url("ex-south-1", "x-ex-south-1", "files/app.tar.gz", presign=True),
    "internal": store.object_url("ex-south-1", "x-ex-south-1", "files/app.tar.gz", presign=True,
                                 endpoint="internal"),
    "plain": store.object_url("ex-south-1", "x-ex-south-1", "files/app.tar.gz", presign=False),
    "copy": store.copy_mode("ex-north-1", "ex-south-1"),
}))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(plugin_path), os.environ.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    urls = json.loads(done.stdout)
    presigned = urllib.parse.urlsplit(urls["presigned"])
    assert (presigned.scheme, presigned.netloc, presigned.path) == (
        "https",
        "s3.ex-south-1.example.test",
        "/x-ex-south-1/files/app.tar.gz",
    )
    assert "X-Amz-Signature=" in presigned.query
    assert urllib.parse.urlsplit(urls["internal"]).netloc == "objects-internal.ex-south-1.example.test"
    assert urllib.parse.urlsplit(urls["plain"]).netloc == "objects.ex-south-1.example.test"
    assert urls["copy"] == "stream"
