"""The Compute Nest projects of fixtures/computenest, as their authors would run deploypkg on them:
validate finds nothing, refs sees every relation-keyed reference, and render writes, for two
regions, templates that parse, carry that region's values and differ from the source only in the
replaced spans."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import FIXTURES, run_cli

from preprocessor.templates import load_template
from providers import resource_table

PROJECTS = FIXTURES / "computenest"
REGIONS = ("cn-hangzhou", "cn-beijing")
TEMPLATE = ".computenest/ros_templates/template.yaml"

# project -> region -> the (old, new) pairs render must write into the template, in file order.
# Written from the catalog builder's values, not read back from deploypkg.
EXPECTED: dict[str, dict[str, list[tuple[str, str]]]] = {
    "springboot-ecs": {
        region: [("ecs_image_springboot-demo", image), ("{{ computenest::file::springboot }}", "file:")]
        for region, image in zip(REGIONS, ("m-bp1sb0sb0sb0sb0sb001", "m-2zesb0sb0sb0sb0sb001"), strict=True)
    },
    "dify-helm": {
        region: [
            ("dify", image),
            ("{{ computenest::helmchart::dify }}", f"oci://registry.{region}.aliyuncs.com/acme-charts/dify:1.4.0"),
            ("{{ computenest::helmchart::dify }}", f"oci://registry.{region}.aliyuncs.com/acme-charts/dify:1.4.0"),
        ]
        for region, image in zip(REGIONS, ("m-bp1d1fyd1fyd1fyd1fy0", "m-2zed1fyd1fyd1fyd1fy0"), strict=True)
    },
    "palworld-intl": {
        region: [("all-in-one", image), ("{{ computenest::file::MySQL }}", "file:")]
        for region, image in zip(REGIONS, ("m-bp17d4ys2d1e7d4ys2d1", "m-2ze7d4ys2d1e7d4ys2d1"), strict=True)
    },
}


@pytest.mark.parametrize("project", sorted(EXPECTED))
def test_validate_finds_nothing_in_a_project_as_written(project: str) -> None:
    result = run_cli("validate", "--format", "json", ".", cwd=PROJECTS / project)
    assert (result.exit_code, json.loads(result.stdout)) == (0, []), result.stderr


def test_refs_see_relation_keys_of_any_shape_and_both_namespaces() -> None:
    result = run_cli("refs", "--format", "json", ".", cwd=PROJECTS / "dify-helm")
    assert result.exit_code == 0, result.stderr
    found = [(r["line"], r["kind"], r.get("placeholder_type"), r["value"]) for r in json.loads(result.stdout)]
    assert found == [
        (15, "literal", None, "dify"),
        (33, "placeholder", "helm", "dockerconfigjson"),
        (41, "placeholder", "helmchart", "dify"),
        (48, "placeholder", "helmchart", "dify"),
    ]


def test_generator_inputs_are_not_templates() -> None:
    root = PROJECTS / "springboot-ecs"
    generator = root / ".computenest" / "code_generation"
    assert (generator / "variable_meta.yaml").read_text().count("computenest::acrimage::your-image-name") == 1
    named = run_cli("validate", "--format", "json", str(generator / "variable_meta.yaml"), cwd=root)
    assert (named.exit_code, json.loads(named.stdout)) == (0, [])
    refs = json.loads(run_cli("refs", "--format", "json", ".", cwd=root).stdout)
    assert {r["file"] for r in refs} == {TEMPLATE}


def _splice_back(source: str, output: str, substitutions: list[dict[str, object]]) -> str:
    """The output with every recorded substitution undone at its recorded position (from the end)."""
    lines = output.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    text = output
    for sub in sorted(substitutions, key=lambda s: (int(str(s["line"])), int(str(s["column"]))), reverse=True):
        start = offsets[int(str(sub["line"])) - 1] + int(str(sub["column"])) - 1
        new, old = str(sub["new"]), str(sub["old"])
        assert text[start : start + len(new)] == new, (sub, text[start : start + len(new) + 10])
        text = text[:start] + old + text[start + len(new) :]
    return text


@pytest.mark.parametrize("project", sorted(EXPECTED))
def test_render_two_regions_differs_only_in_the_replaced_spans(project: str, tmp_path: Path) -> None:
    root = PROJECTS / project
    out = tmp_path / "out"
    args = ["render", ".", "--out", str(out), "--format", "json"]
    for region in REGIONS:
        args += ["--region", region]
    result = run_cli(*args, cwd=root)
    assert result.exit_code == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    source = (root / TEMPLATE).read_text(encoding="utf-8")
    outputs = {}
    for region in REGIONS:
        rendered = out / region / TEMPLATE
        text = rendered.read_text(encoding="utf-8")
        outputs[region] = text
        substitutions = [s for s in manifest["regions"][region]["substitutions"] if s["file"] == TEMPLATE]
        pairs = [(s["old"], s["new"]) for s in substitutions]
        expected = EXPECTED[project][region]
        assert [old for old, _ in pairs] == [old for old, _ in expected]
        for (_, new), (_, wanted) in zip(pairs, expected, strict=True):
            assert new == wanted or (wanted == "file:" and new.startswith("file://") and region in new), new
            assert new in text
        # the output is the source with exactly those spans replaced, nothing else touched
        assert _splice_back(source, text, substitutions) == source
        template = load_template(rendered, resource_table({}, "alicloud"))
        assert template is not None  # it parses as a ROS template
        assert {ref.value for ref in template.image_refs} == {expected[0][1]}
        assert all(p.is_credential() for p in template.placeholders)
    assert outputs[REGIONS[0]] != outputs[REGIONS[1]]


def test_the_pull_credential_is_left_for_compute_nest_with_a_named_warning(tmp_path: Path) -> None:
    root = PROJECTS / "dify-helm"
    result = run_cli("render", ".", "--region", "cn-beijing", "--out", str(tmp_path / "out"), cwd=root)
    assert result.exit_code == 0, result.stderr
    assert (
        f"{TEMPLATE}:33:30: warning DPK206 {{{{ computenest::helm::dockerconfigjson }}}} is left in place"
        in result.stderr
    )
    assert "Compute Nest fills in" in result.stderr
    rendered = (tmp_path / "out" / "cn-beijing" / TEMPLATE).read_text(encoding="utf-8")
    assert "- DockerConfigJson: '{{ computenest::helm::dockerconfigjson }}'" in rendered


def test_the_named_compute_nest_config_is_the_one_read(tmp_path: Path) -> None:
    root = PROJECTS / "palworld-intl"
    # config.yaml beside it relates palworld-cn, not all-in-one: with it, all-in-one is no relation key
    flag = run_cli("validate", "--computenest-config", ".computenest/config.yaml", ".", cwd=root)
    assert flag.exit_code == 1
    assert [line.split(" ")[:3] for line in flag.stdout.splitlines()[:-1]] == [
        [".computenest/config.yaml:6:9:", "warning", "DPK202"],  # palworld-cn
        [f"{TEMPLATE}:15:16:", "error", "DPK107"],  # 'all-in-one' is then judged as an image ID
        [f"{TEMPLATE}:24:40:", "error", "DPK201"],  # file::MySQL is related in the international config only
    ]
    assert run_cli("validate", ".", cwd=root).exit_code == 0


def test_an_unmapped_artifact_id_is_one_finding_and_render_refuses(tmp_path: Path) -> None:
    project = tmp_path / "springboot"
    for path in (PROJECTS / "springboot-ecs").rglob("*"):
        if path.is_file():
            target = project / path.relative_to(PROJECTS / "springboot-ecs")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    config = project / "deploypkg.yaml"
    catalog = (PROJECTS / "catalog").as_uri()
    text = config.read_text(encoding="utf-8").replace("file://../catalog", catalog)
    config.write_text(text.split("computenest:")[0], encoding="utf-8")
    result = run_cli("validate", ".", cwd=project)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        ".computenest/config.yaml:12:23: error DPK204 'springboot' is related to the existing artifact"
        " artifact-4e82b449817b4947a234, which maps to no package; map it under 'computenest: artifacts:' in"
        " deploypkg.yaml (e.g. artifact-4e82b449817b4947a234: my-package)",
        "found 1 error",
    ]
    rendered = run_cli("render", ".", "--region", "cn-beijing", "--out", str(tmp_path / "out"), cwd=project)
    assert rendered.exit_code == 1 and "DPK204" in rendered.stderr
    assert not (tmp_path / "out").exists()


def test_a_dot_template_file_of_another_tool_is_not_a_broken_template(tmp_path: Path) -> None:
    nginx = tmp_path / "docker" / "nginx" / "nginx.conf.template"
    nginx.parent.mkdir(parents=True)
    nginx.write_text("worker_processes ${WORKER_PROCESSES};\nevents {\n    worker_connections 1024;\n}\n")
    broken = tmp_path / "stack.template"
    broken.write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources: [\n")
    result = run_cli("validate", "--format", "json", ".", cwd=tmp_path)
    assert [(d["file"], d["rule_id"]) for d in json.loads(result.stdout)] == [("stack.template", "DPK001")]
    assert result.exit_code == 2
