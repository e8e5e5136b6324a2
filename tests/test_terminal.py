"""Terminal manners (issue 13, §4): ``-q/--quiet``, ``-v/--verbose`` and ``--no-color`` mean the
same in every command, before or after the command's name."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from helpers import FIXTURES, run_cli

UNMAPPED = (
    "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  Web:\n    Type: ALIYUN::ECS::Instance\n"
    "    Properties:\n      ImageId: m-bp1unmappedunmapped0\n"
)
COLOUR = re.compile(r"\x1b\[(?:3[0-7]|38|9[0-7])[;m]")
CATALOG = f"file://{FIXTURES / 'alicloud' / 'catalog'}"


@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_drops_notes_and_keeps_findings(tmp_path: Path, where: str) -> None:
    (tmp_path / "web.yaml").write_text(UNMAPPED)
    plain = run_cli("validate", "web.yaml", cwd=tmp_path)
    assert "note: no deploypkg.yaml" in plain.stderr
    args = ("-q", "validate", "web.yaml") if where == "before" else ("validate", "web.yaml", "--quiet")
    quiet = run_cli(*args, cwd=tmp_path)
    assert quiet.exit_code == plain.exit_code == 1
    assert quiet.stderr == "" and quiet.stdout == plain.stdout


def test_quiet_and_verbose_together_are_refused(tmp_path: Path) -> None:
    (tmp_path / "web.yaml").write_text(UNMAPPED)
    both = run_cli("validate", "web.yaml", "-q", "-v", cwd=tmp_path)
    assert both.exit_code == 2 and "either --quiet or --verbose" in both.stderr


def test_render_verbose_tells_the_phases_and_quiet_says_nothing(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "alicloud", tmp_path / "alicloud")
    project = tmp_path / "alicloud"
    verbose = run_cli("render", "templates", "--region", "cn-beijing", "--out", "out", "-v", cwd=project)
    assert verbose.exit_code == 0, verbose.stderr
    assert re.search(r"^render: load \d+\.\d+ s, validate", verbose.stderr, re.MULTILINE)
    quiet = run_cli("render", "templates", "--region", "cn-beijing", "--out", "out2", "-q", cwd=project)
    assert quiet.exit_code == 0 and quiet.stdout == "" and quiet.stderr == ""
    assert (project / "out2" / "cn-beijing" / "main.tf").is_file()


def test_distribute_quiet_prints_outcomes_without_progress(tmp_path: Path) -> None:
    from catalog_testing import make_env

    env = make_env("local", tmp_path)
    assert env.cli("init", "--provider", "alicloud", "--bucket-pattern", env.bucket_pattern).exit_code == 0
    bundle = tmp_path / "app.tgz"
    bundle.write_bytes(b"bundle")
    for region in ("cn-hangzhou", "cn-beijing"):
        env.create_bucket(region)
    assert (
        env.cli("publish", "app", "1.0", "--type", "file", "--file", str(bundle), "--region", "cn-hangzhou").exit_code
        == 0
    )
    loud = env.cli("distribute", "app", "1.0", "--region", "cn-beijing")
    assert "cn-beijing: distributing" in loud.stderr
    quiet = env.cli("distribute", "app", "1.0", "--region", "cn-beijing", "-q")
    assert quiet.exit_code == 0 and quiet.stderr == ""
    assert quiet.stdout.startswith("cn-beijing: available ")


@pytest.mark.parametrize("where", ["before", "after"])
def test_no_color_leaves_no_colour_even_when_colour_is_forced(where: str) -> None:
    forced = {"FORCE_COLOR": "1", "NO_COLOR": ""}
    coloured = run_cli("catalog", "--catalog", CATALOG, "status", env=forced)
    assert COLOUR.search(coloured.stdout), "rich colours the states when forced"
    args = ("--no-color", "catalog", "--catalog", CATALOG, "status") if where == "before" else (
        "catalog", "--catalog", CATALOG, "status", "--no-color")  # fmt: skip
    plain = run_cli(*args, env=forced)
    assert plain.exit_code == 0 and "available" in plain.stdout
    assert not COLOUR.search(plain.stdout)
