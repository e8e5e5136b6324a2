""".j2 templates: rendered per region in jinja2's immutable sandbox; ordinary templates never are."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from preprocessor.errors import InputError, PolicyError
from preprocessor.render import RenderOptions, render_to_directory
from preprocessor.render.jinja import render_jinja

REPO = Path(__file__).resolve().parent.parent
CATALOG = REPO / "fixtures" / "alicloud" / "catalog"

CONFIG = f"""\
provider: alicloud
catalog: file://{CATALOG}
regions: [cn-hangzhou, cn-beijing, cn-shanghai]
account: '1234567890123456'
associations:
  m-bp1g7004ksh0oeuc1234: web-image
  bundle: app-bundle
"""

J2 = """\
ROSTemplateFormatVersion: '2015-09-01'
# rendered for {{ region }}
Resources:
  Web:
    Type: ALIYUN::ECS::Instance
    Properties:
      ImageId: {{ image("web-image") }}
      UserData: "curl -fsS '{{ artifact_url("bundle") }}' # {{ package("worker-image#prod").version }}"
{% if region == "cn-beijing" %}
  Extra:
    Type: ALIYUN::ECS::Instance
    Properties:
      ImageId: m-bp1g7004ksh0oeuc1234
{% endif %}
"""


def _project(tmp_path: Path, name: str, text: str) -> Path:
    root = tmp_path / "project"
    (root / "templates").mkdir(parents=True)
    (root / "deploypkg.yaml").write_text(CONFIG)
    (root / "templates" / name).write_text(text)
    return root / "templates"


def test_a_j2_template_is_rendered_per_region_and_drops_the_suffix(tmp_path: Path) -> None:
    templates = _project(tmp_path, "web.yaml.j2", J2)
    out = tmp_path / "out"
    report = render_to_directory([templates], ["cn-hangzhou", "cn-beijing"], out, RenderOptions())
    assert report.files["cn-beijing"] == ("web.yaml",)
    beijing = (out / "cn-beijing" / "web.yaml").read_text()
    assert "# rendered for cn-beijing" in beijing
    assert "ImageId: m-2zeb3kq6nfv9wd8x1234\n" in beijing
    assert "deploypkg-demo-cn-beijing" in beijing and "# 2.0.0" in beijing
    # A literal the jinja output writes is an associated image: it is spliced like any other.
    assert "m-bp1g7004ksh0oeuc1234" not in beijing
    hangzhou = (out / "cn-hangzhou" / "web.yaml").read_text()
    assert "Extra" not in hangzhou and "ImageId: m-bp1g7004ksh0oeuc1234\n" in hangzhou
    artifacts = json.loads((out / "cn-beijing" / "artifacts.json").read_text())["artifacts"]
    assert {(a["package"], a["kind"]) for a in artifacts} == {("web-image", "image"), ("app-bundle", "file")}


def test_ordinary_templates_never_go_through_jinja(tmp_path: Path) -> None:
    text = (
        "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  Web:\n    Type: ALIYUN::ECS::Instance\n"
        "    Properties:\n      ImageId: m-bp1g7004ksh0oeuc1234\n"
        '      UserData: "{{resolve:ssm:/x}} {{ region }} {% raw %} {{ computenest::file::bundle }}"\n'
    )
    templates = _project(tmp_path, "web.yaml", text)
    out = tmp_path / "out"
    render_to_directory([templates], ["cn-beijing"], out, RenderOptions())
    rendered = (out / "cn-beijing" / "web.yaml").read_text()
    assert "{{resolve:ssm:/x}} {{ region }} {% raw %} file://" in rendered


@pytest.mark.parametrize(
    "expression",
    [
        "''.__class__.__mro__",
        "image.__globals__",
        "image.__code__",
        "package('web-image').__class__",
        "region.__class__.__base__.__subclasses__()",
        "cycler.__init__.__globals__",
        "lipsum.__globals__",
        "package('web-image').update({'x': 1})",
    ],
)
def test_sandbox_escapes_are_refused_with_file_and_line(tmp_path: Path, expression: str) -> None:
    templates = _project(tmp_path, "web.yaml.j2", "a: 1\nb: 2\nc: {{ " + expression + " }}\n")
    with pytest.raises(InputError) as caught:
        render_to_directory([templates], ["cn-beijing"], tmp_path / "out", RenderOptions())
    error = caught.value
    assert error.rule == "DPK004"
    assert error.file is not None and error.file.endswith("web.yaml.j2") and error.line == 3
    assert not (tmp_path / "out").exists()


def test_undefined_names_and_syntax_errors_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        render_jinja("x\n{{ regoin }}\n", "t.j2", region="r", image=str, artifact_url=str, package=dict)
    assert caught.value.rule == "DPK004" and caught.value.line == 2 and "regoin" in caught.value.message
    with pytest.raises(InputError) as caught:
        render_jinja("x\ny\n{% for %}\n", "t.j2", region="r", image=str, artifact_url=str, package=dict)
    assert caught.value.line == 3 and "syntax" in caught.value.message


def test_crlf_is_kept(tmp_path: Path) -> None:
    text = render_jinja("a: {{ region }}\r\nb: 2\r\n", "t.j2", region="r1", image=str, artifact_url=str, package=dict)
    assert text == "a: r1\r\nb: 2\r\n"


def test_access_rules_apply_to_jinja_lookups(tmp_path: Path) -> None:
    templates = _project(tmp_path, "w.yaml.j2", "a: {{ image('worker-image#prod') }}\n")
    with pytest.raises(PolicyError) as caught:
        render_to_directory([templates], ["cn-shanghai"], tmp_path / "out", RenderOptions())
    assert caught.value.rule == "DPK301" and caught.value.file is not None and caught.value.line == 1


def test_validate_does_not_import_jinja2() -> None:
    code = (
        "import sys\nfrom preprocessor.cli import main\n"
        "try:\n    main(['validate', sys.argv[1]])\nexcept SystemExit:\n    pass\n"
        "assert 'jinja2' not in sys.modules, 'jinja2 imported by validate'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(REPO / "fixtures" / "alicloud" / "templates")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
