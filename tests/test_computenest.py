"""Associations from a Compute Nest ``.computenest/config.yaml``."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import FIXTURES

from preprocessor.computenest import find_computenest_config, read_associations
from preprocessor.errors import ConfigError
from preprocessor.names import PackageSpec

RELATIONS = """Service:
  DeployMetadata:
    SupplierDeployMetadata:
      ArtifactRelation:
        m-bp1ab5ek0o5xqa1y9abc:
          ArtifactId: ${Artifact.DbImage.ArtifactId}
          ArtifactVersion: draft
        m-bp1keykeykeykeykey00:
          ArtifactId: ${Artifact.worker.ArtifactId}
      FileArtifactRelation:
        '{{ computenest::file::app-bundle }}':
          ArtifactId: ${Artifact.Bundle.ArtifactId}
        '{{computenest::publicfile::install-script}}':
          ArtifactId: ${Artifact.Script.ArtifactId}
      AcrImageArtifactRelation:
        '{{ computenest::acrimage::web-frontend }}':
          ArtifactId: ${Artifact.Frontend.ArtifactId}
          ArtifactVersion: ${Artifact.Frontend.ArtifactVersion}
      HelmChartArtifactRelation:
        '{{ computenest::helmchart::web-chart }}':
          ArtifactId: ${Artifact.Chart.ArtifactId}
Artifact:
  DbImage: {ArtifactType: EcsImage, ArtifactName: db-image}
  worker: {ArtifactType: EcsImage}
  Bundle: {ArtifactType: File, ArtifactName: app-bundle}
  Script: {ArtifactType: File, ArtifactName: install-script}
  Frontend: {ArtifactType: AcrImage, ArtifactName: web-frontend}
  Chart: {ArtifactType: HelmChart, ArtifactName: web-chart}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".computenest" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_every_relation_kind_becomes_an_association(tmp_path: Path) -> None:
    found = read_associations(_write(tmp_path, RELATIONS))
    assert {key: a.spec for key, a in found.items()} == {
        "m-bp1ab5ek0o5xqa1y9abc": PackageSpec("db-image"),  # ArtifactName
        "m-bp1keykeykeykeykey00": PackageSpec("worker"),  # the artifact key, no ArtifactName
        "app-bundle": PackageSpec("app-bundle"),  # placeholder name, not the whole placeholder
        "install-script": PackageSpec("install-script"),
        "web-frontend": PackageSpec("web-frontend"),
        "web-chart": PackageSpec("web-chart"),
    }
    assert (found["m-bp1ab5ek0o5xqa1y9abc"].line, found["m-bp1ab5ek0o5xqa1y9abc"].column) == (5, 9)


def test_the_shared_fixture_associates_db_image() -> None:
    path = FIXTURES / "alicloud" / ".computenest" / "config.yaml"
    found = read_associations(path)
    assert list(found) == ["m-bp1ab5ek0o5xqa1y9abc"]
    assert found["m-bp1ab5ek0o5xqa1y9abc"].spec == PackageSpec("db-image")
    assert found["m-bp1ab5ek0o5xqa1y9abc"].source == str(path)


def test_keys_mapped_elsewhere_are_skipped_unchecked(tmp_path: Path) -> None:
    text = RELATIONS.replace("worker: {ArtifactType: EcsImage}", "worker: {ArtifactName: Not Valid}")
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError):
        read_associations(path)
    assert "m-bp1keykeykeykeykey00" not in read_associations(path, skip={"m-bp1keykeykeykeykey00"})


@pytest.mark.parametrize(
    ("change", "line", "column", "words"),
    [
        # an artifact key that is not a valid package name and has no ArtifactName
        (("${Artifact.worker.ArtifactId}", "${Artifact.Worker.ArtifactId}"), 9, 23, "'Worker' does not give"),
        # an ArtifactName that is not a valid package name: reported at the name
        (("ArtifactName: db-image", "ArtifactName: DB Image"), 23, 51, "'DbImage' does not give"),
        # an ArtifactId that names no artifact
        (("${Artifact.Bundle.ArtifactId}", "artifact-9feded91880e4c78xxxx"), 12, 23, "does not name an artifact"),
        # a placeholder of the wrong type in a relation
        (("computenest::acrimage::web-frontend", "computenest::file::web-frontend"), 16, 9, "is not a placeholder"),
    ],
)
def test_errors_name_the_line_and_column(
    tmp_path: Path, change: tuple[str, str], line: int, column: int, words: str
) -> None:
    path = _write(tmp_path, RELATIONS.replace(*change))
    with pytest.raises(ConfigError) as caught:
        read_associations(path)
    error = caught.value
    assert (error.file, error.line, error.column) == (str(path), line, column)
    assert words in error.message
    assert error.hint


def test_invalid_yaml_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        read_associations(_write(tmp_path, "Service: [\n"))
    assert caught.value.line == 2


def test_found_next_to_or_above_the_templates_not_above_the_root(tmp_path: Path) -> None:
    config = _write(tmp_path, RELATIONS)
    templates = tmp_path / "ros_templates" / "nested"
    templates.mkdir(parents=True)
    assert find_computenest_config(templates, tmp_path) == config
    assert find_computenest_config(templates, tmp_path / "ros_templates") is None
    assert find_computenest_config(tmp_path, tmp_path / "elsewhere") == config
