"""Project context: the nearest deploypkg.yaml per template, merged Compute Nest associations."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import FIXTURES

from preprocessor.config import config_for
from preprocessor.names import PackageSpec
from preprocessor.paths import display_path
from preprocessor.project import project_for


def test_fixture_project_merges_deploypkg_and_computenest_associations() -> None:
    project = project_for(FIXTURES / "alicloud" / "templates" / "main.tf")
    assert project.root == (FIXTURES / "alicloud").resolve()
    assert project.provider is not None and project.provider.name == "alicloud"
    db, worker = (project.image_association(key) for key in ("m-bp1ab5ek0o5xqa1y9abc", "m-bp1dbcw2zx04ke8o5678"))
    assert db is not None and db.spec == PackageSpec("db-image")
    assert worker is not None and worker.spec == PackageSpec("worker-image", channel="prod")
    assert {a.key for a in project.all_associations()} == {
        "m-bp1g7004ksh0oeuc1234",
        "m-bp1dbcw2zx04ke8o5678",
        "m-bp1ab5ek0o5xqa1y9abc",
        "app-bundle",
        "install-script",
        "web-frontend",
        "web-chart",
    }
    assert "alicloud_instance" in project.table and "AWS::EC2::Instance" in project.table


def test_projects_are_cached_per_config(tmp_path: Path) -> None:
    one = project_for(FIXTURES / "aws" / "templates")
    two = project_for(FIXTURES / "aws")
    assert one is two
    assert one.config.associations["ami-0123456789abcdef0"].spec == PackageSpec("web-ami")


def test_deploypkg_yaml_wins_over_computenest(tmp_path: Path) -> None:
    (tmp_path / "deploypkg.yaml").write_text(
        "provider: alicloud\nassociations:\n  m-bp1ab5ek0o5xqa1y9abc: pinned-db@2.0.0\n", encoding="utf-8"
    )
    (tmp_path / ".computenest").mkdir()
    (tmp_path / ".computenest" / "config.yaml").write_text(
        (FIXTURES / "alicloud" / ".computenest" / "config.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    project = project_for(tmp_path / "t.yaml")
    found = project.image_association("m-bp1ab5ek0o5xqa1y9abc")
    assert found is not None and found.spec == PackageSpec("pinned-db", version="2.0.0")
    assert found.source == str(tmp_path / "deploypkg.yaml")


def test_explicit_config_is_used_for_every_template(tmp_path: Path) -> None:
    forced = tmp_path / "forced.yaml"
    forced.write_text("provider: aws\nresource_types:\n  terraform_data: [input]\n", encoding="utf-8")
    project = project_for(FIXTURES / "alicloud" / "templates" / "main.tf", forced)
    assert project.config.path == forced.resolve()
    assert project.provider is not None and project.provider.name == "aws"
    assert project.image_association("m-bp1ab5ek0o5xqa1y9abc") is None  # .computenest is outside the forced root
    assert project.table["terraform_data"].properties[0].dotted == "input"


def test_config_for_finds_the_nearest_and_caches_per_directory(tmp_path: Path) -> None:
    (tmp_path / "deploypkg.yaml").write_text("provider: aws\n", encoding="utf-8")
    inner = tmp_path / "a" / "b"
    inner.mkdir(parents=True)
    assert config_for(inner / "x.tf") == tmp_path / "deploypkg.yaml"
    (inner / "deploypkg.yml").write_text("provider: alicloud\n", encoding="utf-8")
    assert config_for(inner / "x.tf") == tmp_path / "deploypkg.yaml"  # cached for this directory
    assert config_for(inner / "b2") is not None


def test_display_path_is_relative_under_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert display_path(tmp_path / "a" / "b.tf") == "a/b.tf"
    assert display_path(Path("c.yaml")) == "c.yaml"
    assert display_path(FIXTURES) == str(FIXTURES)
