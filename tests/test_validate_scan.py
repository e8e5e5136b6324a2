"""What ``scan`` keeps while it walks many files: not the templates (memory independent of the
file count), yet the same findings, suppressions and unused-association reports as before."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from preprocessor.validate import scan as scan_module
from preprocessor.validate.scan import Loaded, scan

ROS = """\
ROSTemplateFormatVersion: '2015-09-01'
Resources:
  Web:
    Type: ALIYUN::ECS::Instance
    Properties:
      ImageId: {image}{comment}
"""


def _project(root: Path, count: int) -> Path:
    (root / "deploypkg.yaml").write_text(
        "provider: alicloud\nassociations:\n  m-bp1used0000000000000: web-image\n  m-bp1stale000000000000: old-image\n"
    )
    templates = root / "templates"
    templates.mkdir()
    for index in range(count):
        image = "m-bp1used0000000000000" if index % 2 else f"m-bp1{index:017d}"
        comment = "  # deploypkg: ignore=DPK102" if index % 3 == 0 else ""
        (templates / f"t{index:03d}.yaml").write_text(ROS.format(image=image, comment=comment))
    (templates / "broken.yaml").write_text("ROSTemplateFormatVersion: '2015-09-01'\nResources: [\n")
    return root


def test_templates_are_not_kept_once_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = scan_module.load_all
    alive: list[weakref.ref[Any]] = []
    most_alive = 0

    def watched(*args: Any, **kwargs: Any) -> Iterator[Loaded]:
        nonlocal most_alive
        for loaded in original(*args, **kwargs):
            gc.collect()
            most_alive = max(most_alive, sum(ref() is not None for ref in alive))
            if loaded.template is not None:
                alive.append(weakref.ref(loaded.template))
            yield loaded

    monkeypatch.setattr(scan_module, "load_all", watched)
    result = scan([_project(tmp_path, 30)])
    assert result.files == 31
    # the loop's variable still holds the previous file when the next one is loaded: one at most
    assert most_alive <= 1


def test_findings_suppressions_and_unused_associations(tmp_path: Path) -> None:
    result = scan([_project(tmp_path, 12)])
    found = sorted((Path(d.file or "").name, d.rule_id) for d in result.diagnostics)
    # even indexes use an unassociated image (DPK102); those divisible by 3 suppress it inline
    expected = [(f"t{i:03d}.yaml", "DPK102") for i in range(0, 12, 2) if i % 3]
    assert found == sorted([*expected, ("broken.yaml", "DPK001"), ("deploypkg.yaml", "DPK202")])
    assert result.unreadable is False and result.files == 13


def test_severity_overrides_apply_to_the_findings_kept(tmp_path: Path) -> None:
    root = _project(tmp_path, 4)
    config = root / "deploypkg.yaml"
    config.write_text(config.read_text() + "rules:\n  DPK102: warning\n  DPK202: off\n")
    result = scan([root])
    assert sorted((d.rule_id, d.severity.value) for d in result.diagnostics) == [
        ("DPK001", "error"),
        ("DPK102", "warning"),
    ]


def test_a_config_file_that_is_also_a_template_suppresses_its_config_findings(tmp_path: Path) -> None:
    """Its Metadata suppressions cover what it is reported for as a Compute Nest config too."""
    (tmp_path / "deploypkg.yaml").write_text("provider: alicloud\n")
    (tmp_path / ".computenest").mkdir()
    config = tmp_path / ".computenest" / "config.yaml"
    config.write_text(
        "ROSTemplateFormatVersion: '2015-09-01'\n"
        "Metadata:\n  deploypkg:\n    ignore: [DPK205]\n"
        "Service:\n  DeployMetadata:\n    SupplierDeployMetadata:\n      ArtifactRelation:\n"
        "        m-bp1ab5ek0o5xqa1y9abc:\n          ArtifactId: ${Artifact.Missing.ArtifactId}\n"
        "          ArtifactVersion: draft\n"
        "Resources:\n  Web:\n    Type: ALIYUN::ECS::Instance\n    Properties:\n"
        "      ImageId: m-bp1ab5ek0o5xqa1y9abc\n"
    )
    assert [d.rule_id for d in scan([tmp_path]).diagnostics] == []
    config.write_text(config.read_text().replace("[DPK205]", "[DPK999]"))
    assert [d.rule_id for d in scan([tmp_path]).diagnostics] == ["DPK205"]
