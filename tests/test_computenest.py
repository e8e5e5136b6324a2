"""Associations from a Compute Nest ``.computenest/config.yaml``."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import FIXTURES

from preprocessor.computenest import find_computenest_config, package_name_for, read_relations
from preprocessor.config import Association
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
    found = read_relations(_write(tmp_path, RELATIONS))
    assert found.findings == []
    assert {ident: a.spec for ident, a in found.associations.items()} == {
        ("ArtifactRelation", "m-bp1ab5ek0o5xqa1y9abc"): PackageSpec("db-image"),  # ArtifactName
        ("ArtifactRelation", "m-bp1keykeykeykeykey00"): PackageSpec("worker"),  # the artifact key, no ArtifactName
        # placeholder name, not the whole placeholder
        ("FileArtifactRelation", "app-bundle"): PackageSpec("app-bundle"),
        ("FileArtifactRelation", "install-script"): PackageSpec("install-script"),
        ("AcrImageArtifactRelation", "web-frontend"): PackageSpec("web-frontend"),
        ("HelmChartArtifactRelation", "web-chart"): PackageSpec("web-chart"),
    }
    db = found.associations[("ArtifactRelation", "m-bp1ab5ek0o5xqa1y9abc")]
    assert (db.line, db.column, db.namespace) == (5, 9, "ArtifactRelation")


def test_the_shared_fixture_associates_db_image() -> None:
    path = FIXTURES / "alicloud" / ".computenest" / "config.yaml"
    found = read_relations(path).associations
    assert list(found) == [("ArtifactRelation", "m-bp1ab5ek0o5xqa1y9abc")]
    assert found[("ArtifactRelation", "m-bp1ab5ek0o5xqa1y9abc")].spec == PackageSpec("db-image")
    assert found[("ArtifactRelation", "m-bp1ab5ek0o5xqa1y9abc")].source == str(path)


def test_keys_mapped_elsewhere_are_skipped_unchecked(tmp_path: Path) -> None:
    text = RELATIONS.replace("${Artifact.worker.ArtifactId}", "${Artifact.Nowhere.ArtifactId}")
    path = _write(tmp_path, text)
    assert [f.rule_id for f in read_relations(path).findings] == ["DPK205"]
    skipped = read_relations(path, skip={"m-bp1keykeykeykeykey00"})
    assert skipped.findings == [] and ("ArtifactRelation", "m-bp1keykeykeykeykey00") not in skipped.associations


@pytest.mark.parametrize(
    ("name", "package"),
    [
        ("7DaysToDie", "7daystodie"),
        ("Chart_Argoworkflow", "chart_argoworkflow"),
        ("MySQL", "mysql"),
        ("ecs_image_quickstart-LobeChat", "ecs_image_quickstart-lobechat"),
        ("aliyun-computenest_quickstart-oneApi-docker-compose", "aliyun-computenest_quickstart-oneapi-docker-compose"),
        ("Neo4j ECS Image (1)", "neo4j-ecs-image-1"),
        ("-a..b-", "a.b"),
        ("镜像", None),
        ("x" * 200, "x" * 128),
    ],
)
def test_artifact_names_map_to_package_names_deterministically(name: str, package: str | None) -> None:
    assert package_name_for(name) == package


def test_names_compute_nest_allows_become_packages(tmp_path: Path) -> None:
    text = """Service:
  DeployMetadata:
    SupplierDeployMetadata:
      ArtifactRelation:
        ecs_image_7days:
          ArtifactId: ${Artifact.EcsImage.ArtifactId}
      HelmChartArtifactRelation:
        '{{ computenest::helmchart::argo }}':
          ArtifactId: ${Artifact.Chart_Argoworkflow.ArtifactId}
Artifact:
  EcsImage: {ArtifactType: EcsImage, ArtifactName: 7DaysToDie}
  Chart_Argoworkflow: {ArtifactType: HelmChart}
"""
    found = read_relations(_write(tmp_path, text))
    assert found.findings == []
    assert {key: a.spec for (_, key), a in found.associations.items()} == {
        "ecs_image_7days": PackageSpec("7daystodie"),
        "argo": PackageSpec("chart_argoworkflow"),
    }


def test_a_literal_artifact_id_maps_through_deploypkg_yaml_or_is_one_finding(tmp_path: Path) -> None:
    text = RELATIONS.replace("${Artifact.Bundle.ArtifactId}", "artifact-294b0a26e269458eb6b9")
    path = _write(tmp_path, text)
    found = read_relations(path)
    [finding] = found.findings
    assert (finding.rule_id, finding.line, finding.column) == ("DPK204", 12, 23)
    assert "artifact-294b0a26e269458eb6b9" in finding.message and "computenest: artifacts:" in finding.hint
    assert found.unmapped == {("FileArtifactRelation", "app-bundle"): finding}
    assert len(found.associations) == 5  # the rest of the config is read as usual
    artifact = "artifact-294b0a26e269458eb6b9"
    mapped = read_relations(path, artifacts={artifact: Association(artifact, PackageSpec("b"), "", 1, 1)})
    assert mapped.findings == []
    assert mapped.associations[("FileArtifactRelation", "app-bundle")].spec == PackageSpec("b")


def test_an_artifact_key_or_name_maps_through_deploypkg_yaml(tmp_path: Path) -> None:
    path = _write(tmp_path, RELATIONS)
    by_key = {"DbImage": Association("DbImage", PackageSpec("db", channel="prod"), "", 1, 1)}
    by_name = {"web-chart": Association("web-chart", PackageSpec("chart", version="2.0"), "", 1, 1)}
    found = read_relations(path, artifacts={**by_key, **by_name}).associations
    assert found[("ArtifactRelation", "m-bp1ab5ek0o5xqa1y9abc")].spec == PackageSpec("db", channel="prod")
    assert found[("HelmChartArtifactRelation", "web-chart")].spec == PackageSpec("chart", version="2.0")


def test_clashing_derived_names_are_a_finding(tmp_path: Path) -> None:
    text = RELATIONS.replace("ArtifactName: db-image", "ArtifactName: MySQL").replace(
        "worker: {ArtifactType: EcsImage}", "worker: {ArtifactType: EcsImage, ArtifactName: mysql}"
    )
    [finding] = read_relations(_write(tmp_path, text)).findings
    assert finding.rule_id == "DPK204" and "'MySQL' and 'mysql' both give the package name 'mysql'" in finding.message


@pytest.mark.parametrize(
    ("change", "rule", "line", "column", "words"),
    [
        # a reference to an artifact the config does not define
        (("${Artifact.worker.ArtifactId}", "${Artifact.Worker.ArtifactId}"), "DPK205", 9, 23, "no artifact 'Worker'"),
        # an ArtifactName with nothing a package name can hold: reported at the name
        (("ArtifactName: db-image", "ArtifactName: 数据库"), "DPK204", 23, 51, "gives no package name"),
        # an ArtifactId of neither form
        (("${Artifact.Bundle.ArtifactId}", "bundle-v1"), "DPK205", 12, 23, "neither"),
        # no ArtifactId at all: reported at the key
        (("ArtifactId: ${Artifact.Chart.ArtifactId}", "ArtifactVersion: draft"), "DPK205", 20, 9, "has no ArtifactId"),
    ],
)
def test_findings_name_the_line_and_column(
    tmp_path: Path, change: tuple[str, str], rule: str, line: int, column: int, words: str
) -> None:
    path = _write(tmp_path, RELATIONS.replace(*change))
    [finding] = read_relations(path).findings
    assert (finding.rule_id, finding.source, finding.line, finding.column) == (rule, str(path), line, column)
    assert words in finding.message
    assert finding.hint


@pytest.mark.parametrize(
    ("change", "line", "column", "words"),
    [
        # a placeholder of the wrong type in a relation
        (("computenest::acrimage::web-frontend", "computenest::file::web-frontend"), 16, 9, "is not a placeholder"),
        # a single value where a mapping of keys belongs
        (("      AcrImageArtifactRelation:\n", "      AcrImageArtifactRelation: [a]\n      X:\n"), 15, 33, "mapping"),
    ],
)
def test_malformed_relations_are_one_finding_and_the_rest_is_read(
    tmp_path: Path, change: tuple[str, str], line: int, column: int, words: str
) -> None:
    path = _write(tmp_path, RELATIONS.replace(*change))
    found = read_relations(path)
    [finding] = found.findings
    assert (finding.rule_id, finding.source, finding.line, finding.column) == ("DPK207", str(path), line, column)
    assert words in finding.message and finding.hint
    assert ("HelmChartArtifactRelation", "web-chart") in found.associations


def test_a_list_shaped_relation_is_one_finding_its_keys_still_related(tmp_path: Path) -> None:
    text = """Service:
  DeployMetadata:
    SupplierDeployMetadata:
      ArtifactRelation:
        - 'centos_7':
            ArtifactId: ${Artifact.EcsImage.ArtifactId}
        - 'm-bp1jalhiu38gaav43r8y':
            ArtifactId: artifact-4343aaaa
Artifact:
  EcsImage: {ArtifactType: EcsImage}
"""
    found = read_relations(_write(tmp_path, text))
    [finding] = found.findings
    assert (finding.rule_id, finding.line, finding.column) == ("DPK207", 5, 9)
    assert "not a list" in finding.message and "'- '" in finding.hint
    assert set(found.unmapped) == {("ArtifactRelation", "centos_7"), ("ArtifactRelation", "m-bp1jalhiu38gaav43r8y")}
    assert found.associations == {}


def test_invalid_yaml_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        read_relations(_write(tmp_path, "Service: [\n"))
    assert caught.value.line == 2


def test_found_next_to_or_above_the_templates_not_above_the_root(tmp_path: Path) -> None:
    config = _write(tmp_path, RELATIONS)
    templates = tmp_path / "ros_templates" / "nested"
    templates.mkdir(parents=True)
    assert find_computenest_config(templates, tmp_path) == config
    assert find_computenest_config(templates, tmp_path / "ros_templates") is None
    assert find_computenest_config(tmp_path, tmp_path / "elsewhere") == config
