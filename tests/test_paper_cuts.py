"""What a new user trips over first, through the real CLI: each message and exit code."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from helpers import FIXTURES, run_cli


def _alicloud_project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "alicloud", project)
    return project


def test_a_region_typo_is_bad_input_with_the_closest_region_in_render(tmp_path: Path) -> None:
    project = _alicloud_project(tmp_path)
    result = run_cli("render", "templates", "--region", "cn-hangzou", "--out", str(tmp_path / "out"), cwd=project)
    assert result.exit_code == 2
    assert "cn-hangzou is not an alicloud region" in result.stderr
    assert "did you mean cn-hangzhou?" in result.stderr
    assert "DPK301" not in result.stderr and not (tmp_path / "out").exists()


def test_a_region_typo_is_bad_input_in_the_catalog_commands(tmp_path: Path) -> None:
    project = _alicloud_project(tmp_path)
    distribute = run_cli("catalog", "distribute", "web-image", "1.0.0", "--region", "cn-shangai", cwd=project)
    assert distribute.exit_code == 2
    assert (
        "cn-shangai is not an alicloud region" in distribute.stderr and "did you mean cn-shanghai?" in distribute.stderr
    )
    image = "cn-bejing=m-bp1g7004ksh0oeuc9999"
    publish = run_cli("catalog", "publish", "web-image", "9.0.0", "--type", "ecs-image", "--image", image, cwd=project)
    assert publish.exit_code == 2 and "did you mean cn-beijing?" in publish.stderr


def test_a_catalog_directory_that_does_not_exist_is_said_so(tmp_path: Path) -> None:
    project = _alicloud_project(tmp_path)
    config = project / "deploypkg.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("file://./catalog", "file://./nocatalog"))
    rendered = run_cli("render", "templates", "--region", "cn-beijing", "--out", str(tmp_path / "out"), cwd=project)
    listed = run_cli("catalog", "list", cwd=project)
    for result in (rendered, listed):
        assert result.exit_code == 2, result.stderr
        assert f"the directory {(project / 'nocatalog').resolve()} does not exist" in result.stderr
        assert "deploypkg catalog init" in result.stderr
        assert "no packages yet" not in result.stderr


def test_a_mistyped_command_gets_a_suggestion() -> None:
    result = run_cli("rendr")
    assert result.exit_code == 2
    assert "No such command 'rendr'. Did you mean 'render'?" in result.stderr
    assert "Did you mean" not in run_cli("frobnicate").stderr


def test_a_file_of_no_template_format_named_explicitly_is_skipped_with_a_note() -> None:
    result = run_cli("validate", "README.md", "fixtures/alicloud/templates/main.tf", cwd=FIXTURES.parent)
    assert result.exit_code == 0, result.stdout
    assert result.stdout == "no problems found\n"
    assert "note: README.md skipped: not a template file name (.tf.json, .tf, .json" in result.stderr
    refs = run_cli("refs", "README.md", cwd=FIXTURES.parent)
    assert refs.exit_code == 0 and "README.md skipped" in refs.stderr


def test_no_deploypkg_yaml_is_said_once_with_where_it_looked(tmp_path: Path) -> None:
    template = tmp_path / "t.yaml"
    template.write_text(
        "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  A:\n    Type: ALIYUN::ECS::Instance\n"
        "    Properties:\n      ImageId: m-bp1g7004ksh0oeuc1234\n      Other: m-bp1g7004ksh0oeuc1234\n",
        encoding="utf-8",
    )
    result = run_cli("validate", "t.yaml", cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr.count("note: no deploypkg.yaml in") == 1
    assert str(tmp_path.resolve()) in result.stderr
    (tmp_path / "deploypkg.yaml").write_text("provider: alicloud\n", encoding="utf-8")
    assert "no deploypkg.yaml" not in run_cli("validate", "t.yaml", cwd=tmp_path).stderr


def test_every_option_of_every_command_has_help_and_summaries_are_whole() -> None:
    import click

    from preprocessor.cli import SUBCOMMANDS, cli

    def walk(command: click.Command, path: str) -> list[str]:
        missing = [
            f"{path} {param.opts[0]}"
            for param in command.params
            if isinstance(param, click.Option) and not param.help and not param.hidden
        ]
        if isinstance(command, click.Group):
            context = click.Context(command)
            for name in command.list_commands(context):
                sub = command.get_command(context, name)
                assert sub is not None
                missing += walk(sub, f"{path} {name}")
        return missing

    assert walk(cli, "deploypkg") == []
    catalog_help = run_cli("catalog", "--help").stdout
    assert "..." not in catalog_help.split("Commands:")[1]
    assert set(SUBCOMMANDS) <= set(run_cli("--help").stdout.split())


def test_old_option_spellings_still_work_with_a_deprecation_note(tmp_path: Path) -> None:
    project = _alicloud_project(tmp_path)
    for option in ("--output-file", "--output", "-o"):
        report = tmp_path / f"report{option}.json"
        result = run_cli("validate", "--format", "json", option, str(report), "templates", cwd=project)
        assert result.exit_code == 0 and json.loads(report.read_text(encoding="utf-8")) == []
        assert ("deprecated" in result.stderr) == (option != "--output-file")
        assert "--output-file" in result.stderr or option == "--output-file"
    assert "-o, --output" not in run_cli("validate", "--help").stdout
    old = run_cli("catalog", "--region", "cn-hangzhou", "list", cwd=project)
    new = run_cli("catalog", "--catalog-region", "cn-hangzhou", "list", cwd=project)
    assert old.exit_code == new.exit_code == 0 and old.stdout == new.stdout
    assert "'catalog --region' is deprecated" in old.stderr and "deprecated" not in new.stderr


def test_a_control_character_in_a_template_name_is_escaped_by_validate_and_refs(tmp_path: Path) -> None:
    (tmp_path / "deploypkg.yaml").write_text("provider: alicloud\n", encoding="utf-8")
    text = "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  A:\n    Type: ALIYUN::ECS::Instance\n"
    (tmp_path / "evil\rgood.yaml").write_text(text + "    Properties:\n      ImageId: m-bp1g7004ksh0oeuc1234\n")
    (tmp_path / "broken\x08.yaml").write_text(text + "    Properties: [\n")
    validate = run_cli("validate", ".", cwd=tmp_path)
    refs = run_cli("refs", ".", cwd=tmp_path)
    for output in (validate.stdout, validate.stderr, refs.stdout, refs.stderr):
        assert "\r" not in output and "\x08" not in output, repr(output)
    assert "evil\\x0dgood.yaml:6:16: error DPK102" in validate.stdout
    assert "broken\\x08.yaml:" in validate.stdout and "broken\\x08.yaml:" in refs.stderr
    assert "evil\\x0dgood.yaml:6:16: literal" in refs.stdout


def test_a_render_warning_naming_a_hostile_file_is_escaped(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "computenest" / "dify-helm", project)
    config = project / "deploypkg.yaml"
    config.write_text(config.read_text().replace("file://../catalog", (FIXTURES / "computenest" / "catalog").as_uri()))
    templates = project / ".computenest" / "ros_templates"
    (templates / "template.yaml").rename(templates / "tem\rplate.yaml")
    result = run_cli("render", ".", "--region", "cn-beijing", "--out", str(tmp_path / "out"), cwd=project)
    assert result.exit_code == 0, result.stderr
    assert "tem\\x0dplate.yaml:33:30: warning DPK206" in result.stderr and "\r" not in result.stderr


def test_url_endpoint_is_the_new_name_of_render_endpoint_and_the_old_one_still_works(tmp_path: Path) -> None:
    project = _alicloud_project(tmp_path)
    manifests = {}
    for spelling in ("--url-endpoint", "--endpoint"):
        out = tmp_path / f"out{spelling}"
        args = ("render", "templates", "--region", "cn-beijing", "--out", str(out), spelling, "internal")
        result = run_cli(*args, cwd=project)
        assert result.exit_code == 0, result.stderr
        assert ("--endpoint is deprecated" in result.stderr) == (spelling == "--endpoint")
        manifests[spelling] = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["endpoint"]
    assert manifests == {"--url-endpoint": "internal", "--endpoint": "internal"}
    shown = run_cli("render", "--help").stdout
    assert "--url-endpoint [public|internal]" in shown and "--endpoint [" not in shown
    assert "--url-endpoint [public|internal]" in run_cli("plan", "--help").stdout


def test_a_project_without_a_catalog_renders_templates_that_need_none(tmp_path: Path) -> None:
    """Only a template that references a package (or holds a pull-credential placeholder) opens
    the catalog: plain templates render without one."""
    (tmp_path / "deploypkg.yaml").write_text("provider: alicloud\n", encoding="utf-8")
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "a.yaml").write_text(
        "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  A:\n    Type: ALIYUN::ECS::Instance\n"
        "    Properties:\n      InstanceType: ecs.g7.large\n",
        encoding="utf-8",
    )
    result = run_cli("render", "t", "--region", "cn-beijing", "--out", "out", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "out" / "cn-beijing" / "a.yaml").read_text() == (tmp_path / "t" / "a.yaml").read_text()


def test_shell_completion_as_the_readme_documents_it() -> None:
    """``_DEPLOYPKG_COMPLETE`` (README, "Shell completion"): a script for each shell, and the
    format choices completed."""
    import os
    import subprocess
    import sys

    def complete(env: dict[str, str]) -> str:
        script = "from preprocessor.cli import main; main()"
        done = subprocess.run([sys.executable, "-c", script], env={**os.environ, **env}, capture_output=True, text=True)
        return done.stdout

    for shell in ("bash", "zsh", "fish"):
        assert "_DEPLOYPKG_COMPLETE" in complete({"_DEPLOYPKG_COMPLETE": f"{shell}_source"}), shell
    words = complete(
        {"_DEPLOYPKG_COMPLETE": "bash_complete", "COMP_WORDS": "deploypkg validate --format ", "COMP_CWORD": "3"}
    )
    assert {line.split(",")[1] for line in words.splitlines()} == {"text", "json", "sarif", "junit", "gitlab"}
