"""The pull-credential placeholder ({{ computenest::acr::dockerconfigjson }}) where the registry
issues short-lived pull tokens (ECR, on the moto server): render writes the base64 docker config
JSON a Kubernetes .dockerconfigjson holds, with a token for the template's registries in that
region, in a file written 0600 and listed in the manifest; the token is printed nowhere. Without
a token source it stays for Compute Nest (DPK206), and with no registry to pull from it is DPK311."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

from conftest import MotoServer
from helpers import run_cli

from preprocessor.catalog import keys
from preprocessor.catalog.local import LocalStore
from preprocessor.catalog.model import (
    CatalogInfo,
    Distribution,
    DistributionStatus,
    Package,
    PackageType,
    PackageVersion,
    Service,
    Source,
    VersionStatus,
    Visibility,
)

ACCOUNT = "111122223333"
DIGEST = "sha256:" + "ab" * 32
SOURCE = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/acme/web:1.4.0"

TEMPLATE = f"""\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      ContainerDefinitions:
        - Name: web
          Image: {SOURCE}
  Secret:
    Type: Custom::KubernetesManifest
    Properties:
      Manifest: |
        apiVersion: v1
        kind: Secret
        type: kubernetes.io/dockerconfigjson
        metadata:
          name: pull
        data:
          .dockerconfigjson: {{{{ computenest::acr::dockerconfigjson }}}}
"""


def _catalog(root: Path) -> None:
    store = LocalStore(root)
    store.write_document(keys.CATALOG, CatalogInfo("aws", "acme-{region}").to_json(), if_none_match=True)
    store.write_document(
        keys.package_key("web"),
        Package("web", PackageType.CONTAINER_IMAGE, owner=ACCOUNT).to_json(),
        if_none_match=True,
    )
    refs = {r: f"{ACCOUNT}.dkr.ecr.{r}.amazonaws.com/acme/web:1.4.0" for r in ("us-east-1", "us-west-2")}
    version = PackageVersion(
        "web",
        "1.4.0",
        VersionStatus.PUBLISHED,
        source=Source(region="us-east-1", image_ref=SOURCE, digest=DIGEST),
        distributions={
            r: Distribution(r, DistributionStatus.AVAILABLE, image_ref=ref, digest=DIGEST) for r, ref in refs.items()
        },
        created_at="2026-01-05T09:00:00Z",
        published_at="2026-01-06T09:00:00Z",
    )
    store.write_document(keys.version_key("web", "1.4.0"), version.to_json(), if_none_match=True)
    service = Service("shop", Visibility.PUBLIC, packages=["web"], owner=ACCOUNT)
    store.write_document(keys.service_key("shop"), service.to_json(), if_none_match=True)


def _project(tmp_path: Path, template: str = TEMPLATE) -> Path:
    _catalog(tmp_path / "catalog")
    project = tmp_path / "project"
    (project / "templates").mkdir(parents=True)
    (project / "templates" / "stack.yaml").write_text(template)
    (project / "deploypkg.yaml").write_text(
        f"provider: aws\ncatalog: file://{tmp_path / 'catalog'}\nassociations:\n  {SOURCE}: web\n"
    )
    return project


def test_an_ecr_pull_token_fills_the_placeholder_in_a_private_file(aws_env: MotoServer, tmp_path: Path) -> None:
    project = _project(tmp_path)
    out = tmp_path / "out"
    result = run_cli("render", "templates", "--region", "us-west-2", "--out", str(out), cwd=project)
    assert result.exit_code == 0, result.stderr
    rendered = out / "us-west-2" / "stack.yaml"
    text = rendered.read_text()
    assert f"Image: {ACCOUNT}.dkr.ecr.us-west-2.amazonaws.com/acme/web:1.4.0@{DIGEST}" in text
    encoded = text.split(".dockerconfigjson: ")[1].split()[0]
    config = json.loads(base64.b64decode(encoded))
    host = f"{ACCOUNT}.dkr.ecr.us-west-2.amazonaws.com"
    assert list(config["auths"]) == [host]
    username, _, token = base64.b64decode(config["auths"][host]["auth"]).decode().partition(":")
    assert username == "AWS" and token
    assert stat.S_IMODE(rendered.stat().st_mode) == 0o600
    assert stat.S_IMODE((out / "us-west-2" / "artifacts.json").stat().st_mode) != 0o600
    manifest = json.loads((out / "manifest.json").read_text())
    region = manifest["regions"]["us-west-2"]
    assert region["credential_files"] == ["stack.yaml"]
    assert token not in (out / "manifest.json").read_text() and encoded not in (out / "manifest.json").read_text()
    assert token not in result.stdout + result.stderr and "DPK206" not in result.stderr


NO_IMAGE = TEMPLATE[: TEMPLATE.index("  Task:")] + TEMPLATE[TEMPLATE.index("  Secret:") :]


def test_a_placeholder_with_no_registry_to_pull_from_is_refused(aws_env: MotoServer, tmp_path: Path) -> None:
    project = _project(tmp_path, NO_IMAGE)
    (project / "deploypkg.yaml").write_text(f"provider: aws\ncatalog: file://{tmp_path / 'catalog'}\n")
    result = run_cli("render", "templates", "--region", "us-west-2", "--out", str(tmp_path / "out"), cwd=project)
    assert result.exit_code == 1, result.stderr
    assert "templates/stack.yaml:" in result.stderr and "DPK311" in result.stderr
    assert "no container image or chart" in result.stderr
    assert not (tmp_path / "out").exists()
