"""One broken part of a template does not hide the rest (issue 12, §2): a duplicate key (DPK001)
or a resource with no string Type (DPK003) is reported at its position with its rule (exit 2),
the other resources are still inventoried and validated, and render renders the file where the
defect cannot change what it writes, refusing it (nothing written) where it can."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from helpers import FIXTURES, run_cli

DUPLICATE_NAME = """\
ROSTemplateFormatVersion: '2015-09-01'
Resources:
  Web:
    Type: ALIYUN::ECS::Instance
    Properties:
      InstanceName: web
      InstanceName: web-again
      ImageId: m-bp1g7004ksh0oeuc1234
  Worker:
    Type: ALIYUN::ECS::Instance
    Properties:
      ImageId: m-bp1dbcw2zx04ke8o5678
"""

DUPLICATE_PARAMETER = """\
ROSTemplateFormatVersion: '2015-09-01'
Parameters:
  Zone:
    Type: String
  Zone:
    Type: String
Resources:
  Web:
    Type: ALIYUN::ECS::Instance
    Properties:
      ImageId: m-bp1g7004ksh0oeuc1234
"""

RAIN_MODULE = """\
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Bucket:
    Type: !Rain::Module "./bucket.yaml"
  Web:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: ami-0123456789abcdef0
"""

DUPLICATE_JSON = (
    '{"ROSTemplateFormatVersion": "2015-09-01", "Resources": {"Web": {"Type": "ALIYUN::ECS::Instance",\n'
    ' "Properties": {"ImageId": "m-bp1g7004ksh0oeuc1234", "ImageId": "m-bp1g7004ksh0oeuc9999"}}}}\n'
)


def _project(tmp_path: Path, **templates: str) -> Path:
    shutil.copytree(FIXTURES / "alicloud" / "catalog", tmp_path / "catalog")
    shutil.copy(FIXTURES / "alicloud" / "deploypkg.yaml", tmp_path / "deploypkg.yaml")
    (tmp_path / "templates").mkdir()
    for name, text in templates.items():
        (tmp_path / "templates" / name.replace("_", ".")).write_text(text)
    return tmp_path


def test_a_duplicate_key_is_reported_and_every_resource_is_still_inventoried(tmp_path: Path) -> None:
    root = _project(tmp_path, web_yaml=DUPLICATE_NAME, rain_yaml=RAIN_MODULE, dup_json=DUPLICATE_JSON)
    validated = run_cli("validate", "templates", "--format", "json", cwd=root)
    assert validated.exit_code == 2
    found = {(d["file"], d["rule_id"], d["line"], d["column"]) for d in json.loads(validated.stdout)}
    assert ("templates/web.yaml", "DPK001", 7, 7) in found
    assert ("templates/rain.yaml", "DPK003", 4, 11) in found
    assert ("templates/dup.json", "DPK001", 2, 54) in found
    # the resources beside the defects are still checked: rain.yaml's AMI is unmapped here
    assert ("templates/rain.yaml", "DPK102", 8, 16) in found

    refs = run_cli("refs", "templates", "--format", "json", cwd=root)
    assert refs.exit_code == 2
    assert "web.yaml:7:7: error DPK001 duplicate key 'InstanceName'" in refs.stderr
    assert "rain.yaml:4:11: error DPK003 the Type of resource 'Bucket' must be a string" in refs.stderr
    listed = {(r["file"], r.get("resource"), r.get("value")) for r in json.loads(refs.stdout)}
    assert ("templates/web.yaml", "Web", "m-bp1g7004ksh0oeuc1234") in listed
    assert ("templates/web.yaml", "Worker", "m-bp1dbcw2zx04ke8o5678") in listed
    assert ("templates/rain.yaml", "Web", "ami-0123456789abcdef0") in listed
    # of two ImageId keys, the first is the one listed (and the second is the defect)
    assert ("templates/dup.json", "Web", "m-bp1g7004ksh0oeuc1234") in listed

    sarif = run_cli("validate", "templates/web.yaml", "--format", "sarif", cwd=root)
    results = json.loads(sarif.stdout)["runs"][0]["results"]
    region = next(r for r in results if r["ruleId"] == "DPK001")["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (7, 7)


def test_render_refuses_a_defect_in_a_replaced_resource_and_renders_one_elsewhere(tmp_path: Path) -> None:
    root = _project(tmp_path, web_yaml=DUPLICATE_NAME)
    refused = run_cli("render", "templates", "--region", "cn-beijing", "--out", "out", cwd=root)
    assert refused.exit_code == 2
    assert "web.yaml:7:7: error DPK001 duplicate key 'InstanceName'" in refused.stderr
    assert "in resource 'Web', whose values render replaces" in refused.stderr
    assert not (root / "out").exists(), "nothing written"

    (root / "templates" / "web.yaml").write_text(DUPLICATE_PARAMETER)
    rendered = run_cli("render", "templates", "--region", "cn-beijing", "--out", "out", cwd=root)
    assert rendered.exit_code == 0, rendered.stderr
    assert "web.yaml:5:3: warning DPK001 duplicate key 'Zone'" in rendered.stderr
    (written,) = json.loads((root / "out" / "cn-beijing" / "artifacts.json").read_text())["artifacts"]
    assert written["package"] == "web-image" and written["id"] != "m-bp1g7004ksh0oeuc1234"
    text = (root / "out" / "cn-beijing" / "web.yaml").read_text()
    assert text == DUPLICATE_PARAMETER.replace("m-bp1g7004ksh0oeuc1234", written["id"]), "only the ID changed"


def test_render_refuses_a_resource_it_cannot_read(tmp_path: Path) -> None:
    parameters = "Parameters:\n  Zone:\n    Type: String\n  Zone:\n    Type: String\n"
    unreadable = DUPLICATE_PARAMETER.replace(parameters, "")
    unreadable += (
        "  Cache:\n    Type: [ALIYUN::ECS::Instance]\n    Properties:\n      ImageId: m-bp1g7004ksh0oeuc1234\n"
    )
    root = _project(tmp_path, web_yaml=unreadable)
    refused = run_cli("render", "templates", "--region", "cn-beijing", "--out", "out", cwd=root)
    assert refused.exit_code == 2
    assert "DPK003 the Type of resource 'Cache' must be a string" in refused.stderr
    assert "render cannot tell whether a value in this resource should be replaced" in refused.stderr
    assert not (root / "out").exists()
