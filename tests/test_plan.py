"""``deploypkg plan`` end to end: the real CLI, E's render, the alicloud fixture catalog and the
real terraform binary on ``fixtures/terraform-plan`` (built-in ``terraform_data``, no downloads)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import FIXTURES, REPO, CliResult, run_cli

REGION_IMAGES = {"cn-hangzhou": "m-bp1g7004ksh0oeuc1234", "cn-beijing": "m-2zeb3kq6nfv9wd8x1234"}
SHANGHAI_IMAGE = "m-uf6e5t0rlw3pq2vn1234"
PREFIXED = re.compile(r"^\[(?P<region>[a-z0-9-]+)\] ")
TWO_REGIONS = ("--region", "cn-hangzhou", "--region", "cn-beijing")


@pytest.fixture
def module(tmp_path: Path) -> Path:
    """A copy of the fixture module beside the alicloud fixture (its config says
    ``catalog: file://../alicloud/catalog``), so work directories land in tmp_path."""
    (tmp_path / "alicloud").symlink_to(FIXTURES / "alicloud", target_is_directory=True)
    copy = tmp_path / "terraform-plan"
    shutil.copytree(FIXTURES / "terraform-plan", copy, ignore=shutil.ignore_patterns(".deploypkg", ".terraform"))
    return copy


@pytest.fixture
def env(tmp_path: Path, terraform_bin: str) -> dict[str, str]:
    return {
        "TF_IN_AUTOMATION": "1",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "TF_PLUGIN_CACHE_DIR": "",
        "TERRAFORM": "",
    }


def plan(module: Path, env: dict[str, str], *args: str) -> CliResult:
    return run_cli("plan", str(module), *args, env=env)


def show_json(terraform: str, work_dir: Path, plan_file: str = "plan.tfplan") -> dict[str, object]:
    done = subprocess.run(
        [terraform, "show", "-json", "-no-color", plan_file],
        cwd=work_dir,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TF_IN_AUTOMATION": "1"},
    )
    document: dict[str, object] = json.loads(done.stdout)
    return document


def planned_input(document: dict[str, object]) -> str:
    planned = document["planned_values"]
    assert isinstance(planned, dict)
    resources = planned["root_module"]["resources"]
    (web,) = [r for r in resources if r["address"] == "terraform_data.web_image"]
    value = web["values"]["input"]
    assert isinstance(value, str)
    return value


def region_lines(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        match = PREFIXED.match(line)
        if match:
            found.setdefault(match["region"], []).append(line[match.end() :])
    return found


def test_each_region_plans_its_own_image(module: Path, env: dict[str, str], terraform_bin: str) -> None:
    result = plan(module, env, *TWO_REGIONS, "--", "-out=plan.tfplan", "-detailed-exitcode", "-no-color")
    assert result.exit_code == 2, result.stderr
    work = module / ".deploypkg" / "plan"
    for region, image in REGION_IMAGES.items():
        document = show_json(terraform_bin, work / region)
        assert planned_input(document) == image
        outputs = document["planned_values"]["outputs"]  # type: ignore[index]
        assert outputs["web_image_id"]["value"] == image
        # the rendered module equals the source except the image ID
        source = (module / "main.tf").read_text()
        assert (work / region / "main.tf").read_text() == source.replace(REGION_IMAGES["cn-hangzhou"], image)
        assert (work / region / "modules" / "labels" / "main.tf").is_file()
    assert (work / "manifest.json").is_file()
    assert (module / ".deploypkg" / ".gitignore").read_text().splitlines()[-1] == "*"

    lines = region_lines(result.stdout)
    assert set(lines) == set(REGION_IMAGES)
    assert all(PREFIXED.match(line) for line in result.stdout.splitlines())
    for region, image in REGION_IMAGES.items():
        assert f'      + input  = "{image}"' in lines[region]
        assert "Plan: 1 to add, 0 to change, 0 to destroy." in lines[region]
        assert f"deploypkg: plan {region}: changes present" in result.stderr
    assert result.stderr.splitlines()[-1] == "deploypkg: plan exit code 2 (1 beats 2 beats 0 across regions)"


def test_a_failing_region_makes_the_whole_plan_fail(module: Path, env: dict[str, str]) -> None:
    blocked = '-var=blocked_images=["m-2zeb3kq6nfv9wd8x1234"]'
    result = plan(module, env, *TWO_REGIONS, "--parallel", "2", "--", blocked, "-detailed-exitcode", "-no-color")
    assert result.exit_code == 1, result.stderr
    errors = region_lines(result.stderr)
    assert any("Image m-2zeb3kq6nfv9wd8x1234 is in blocked_images." in line for line in errors["cn-beijing"])
    assert not any("Error" in line for line in errors.get("cn-hangzhou", []))
    assert "deploypkg: plan cn-beijing: plan failed" in result.stderr
    assert "deploypkg: plan cn-hangzhou: changes present" in result.stderr
    # the same plan without -detailed-exitcode: still 1 (a failure is a failure)
    assert plan(module, env, *TWO_REGIONS, "--", blocked, "-no-color").exit_code == 1


def test_applied_regions_plan_no_changes(module: Path, env: dict[str, str], terraform_bin: str) -> None:
    work = module / ".deploypkg" / "plan"
    assert plan(module, env, *TWO_REGIONS, "--", "-out=plan.tfplan", "-no-color").exit_code == 0
    apply_env = {**os.environ, "TF_IN_AUTOMATION": "1"}
    subprocess.run(
        [terraform_bin, "apply", "-no-color", "plan.tfplan"],
        cwd=work / "cn-hangzhou",
        check=True,
        capture_output=True,
        env=apply_env,
    )
    # the local state applied in cn-hangzhou survives the re-render; cn-beijing still has changes
    result = plan(module, env, *TWO_REGIONS, "--", "-detailed-exitcode", "-no-color")
    assert result.exit_code == 2, result.stderr
    assert "[cn-hangzhou] No changes. Your infrastructure matches the configuration." in result.stdout
    assert "deploypkg: plan cn-beijing: changes present" in result.stderr
    only_hangzhou = plan(module, env, "--region", "cn-hangzhou", "--", "-detailed-exitcode", "-no-color")
    assert only_hangzhou.exit_code == 0, only_hangzhou.stderr


def test_rerun_reuses_init_and_ignores_the_source_terraform_dir(module: Path, env: dict[str, str]) -> None:
    # a stale .terraform in the source (from someone running terraform there) must not be copied
    (module / ".terraform" / "modules").mkdir(parents=True)
    (module / ".terraform" / "modules" / "modules.json").write_text('{"Modules": "from the source"}')
    (module / ".terraform" / "junk.tf").write_text("this is not valid terraform")

    first = plan(module, env, *TWO_REGIONS, "--", "-no-color")
    assert first.exit_code == 0, first.stderr
    work = module / ".deploypkg" / "plan"
    for region in REGION_IMAGES:
        modules_json = work / region / ".terraform" / "modules" / "modules.json"
        assert "from the source" not in modules_json.read_text()
        assert not (work / region / ".terraform" / "junk.tf").exists()
        assert "- labels in modules/labels" in region_lines(first.stdout)[region]  # installed
        (work / region / ".terraform" / "kept-marker").write_text(region)

    second = plan(module, env, *TWO_REGIONS, "--", "-no-color")
    assert second.exit_code == 0, second.stderr
    for region in REGION_IMAGES:
        assert (work / region / ".terraform" / "kept-marker").read_text() == region
        lines = region_lines(second.stdout)[region]
        assert "Initializing modules..." in lines and "- labels in modules/labels" not in lines
        # the work root inside DIR is not rendered into itself
        assert not (work / region / ".deploypkg").exists()

    # a file deleted from the module disappears from the work directories
    (module / "outputs.tf").unlink()
    third = plan(module, env, "--region", "cn-beijing", "--", "-no-color")
    assert third.exit_code == 0, third.stderr
    assert not (work / "cn-beijing" / "outputs.tf").exists()
    assert (work / "cn-beijing" / ".terraform" / "modules" / "modules.json").is_file()


def test_work_dir_option_and_plugin_cache(module: Path, env: dict[str, str], tmp_path: Path) -> None:
    work = tmp_path / "elsewhere"
    result = plan(module, env, "--region", "cn-beijing", "--work-dir", str(work), "--", "-out=p.tfplan")
    assert result.exit_code == 0, result.stderr
    assert (work / "cn-beijing" / "p.tfplan").is_file()
    assert not (module / ".deploypkg").exists()
    assert (tmp_path / "cache" / "deploypkg" / "terraform-plugins").is_dir()


def test_three_regions_in_parallel(module: Path, env: dict[str, str], terraform_bin: str) -> None:
    regions = {**REGION_IMAGES, "cn-shanghai": SHANGHAI_IMAGE}
    args = [arg for region in regions for arg in ("--region", region)]
    result = plan(module, env, *args, "--parallel", "3", "--", "-out=plan.tfplan", "-detailed-exitcode", "-no-color")
    assert result.exit_code == 2, result.stderr
    lines = region_lines(result.stdout)
    assert set(lines) == set(regions)
    assert all(PREFIXED.match(line) for line in result.stdout.splitlines())
    work = module / ".deploypkg" / "plan"
    for region, image in regions.items():
        assert planned_input(show_json(terraform_bin, work / region)) == image
        assert "Terraform has been successfully initialized!" in " ".join(lines[region])


def test_all_regions_are_the_configured_ones(module: Path, env: dict[str, str], terraform_bin: str) -> None:
    result = plan(module, env, "--all-regions", "--", "-out=plan.tfplan")
    assert result.exit_code == 0, result.stderr
    assert set(region_lines(result.stdout)) == set(REGION_IMAGES)  # deploypkg.yaml: regions
    for region, image in REGION_IMAGES.items():
        assert planned_input(show_json(terraform_bin, module / ".deploypkg" / "plan" / region)) == image


def test_terraform_missing_is_a_clear_usage_error(module: Path, env: dict[str, str], tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    missing = plan(module, {**env, "PATH": str(empty)}, *TWO_REGIONS)
    assert missing.exit_code == 2
    assert "deploypkg: terraform was not found on PATH" in missing.stderr
    assert "--terraform PATH" in missing.stderr and "Traceback" not in missing.stderr

    wrong = plan(module, env, *TWO_REGIONS, "--terraform", str(tmp_path / "no" / "terraform"))
    assert wrong.exit_code == 2
    assert f"terraform binary {tmp_path / 'no' / 'terraform'} (from --terraform) does not exist" in wrong.stderr

    from_env = plan(module, {**env, "TERRAFORM": str(tmp_path / "tf")}, *TWO_REGIONS)
    assert from_env.exit_code == 2 and "from the TERRAFORM environment variable" in from_env.stderr
    assert not (module / ".deploypkg").exists()  # nothing rendered before failing


def test_terraform_binary_chosen_by_env(module: Path, env: dict[str, str], terraform_bin: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    result = plan(module, {**env, "PATH": str(empty), "TERRAFORM": terraform_bin}, "--region", "cn-hangzhou")
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ((), 2, "no region given"),
        (("--region", "cn-hangzhou", "--all-regions"), 2, "not both"),
        ((*TWO_REGIONS, "--", "-out=/tmp/plan.tfplan"), 2, "absolute path"),
        (("--region", "cn-hangzhou", "--parallel", "0"), 2, "--parallel"),
        # web-image has no copy in cn-shenzhen: render refuses, deploypkg's policy code, no terraform
        (("--region", "cn-hangzhou", "--region", "cn-shenzhen"), 1, "cn-shenzhen"),
    ],
)
def test_errors_before_terraform_keep_deploypkg_codes(
    module: Path, env: dict[str, str], args: tuple[str, ...], code: int, message: str
) -> None:
    result = plan(module, env, *args)
    assert result.exit_code == code, result.stderr
    assert message in result.stderr
    assert not PREFIXED.search(result.stdout) and "Traceback" not in result.stderr
    assert not (module / ".deploypkg" / "plan" / "cn-hangzhou").exists()


def test_work_dir_that_would_be_rendered_or_overwritten_is_refused(module: Path, env: dict[str, str]) -> None:
    inside = plan(module, env, "--region", "cn-hangzhou", "--work-dir", str(module / "plans"))
    assert inside.exit_code == 2 and "is inside the module" in inside.stderr
    assert not (module / "plans").exists()
    # a work root whose region directory is the module itself
    holder = module.parent
    renamed = holder / "cn-hangzhou"
    module.rename(renamed)
    over = plan(renamed, env, "--region", "cn-hangzhou", "--work-dir", str(holder))
    assert over.exit_code == 2 and "contains the module" in over.stderr, over.stderr
    assert (renamed / "main.tf").is_file() and (renamed / "variables.tf").is_file()


def test_validation_errors_are_listed_and_nothing_runs(module: Path, env: dict[str, str]) -> None:
    (module / "db.tf").write_text('resource "terraform_data" "db" {\n  input = "m-bp1zzzzzzzzzzzzzzzz9"\n}\n')
    result = plan(module, env, *TWO_REGIONS, "--", "-detailed-exitcode")
    assert result.exit_code == 1, result.stderr
    assert re.search(r"db\.tf:2:\d+: error DPK102 ", result.stderr), result.stderr
    assert "nothing was rendered" in result.stderr
    assert not PREFIXED.search(result.stdout)


def test_one_plan_at_a_time_per_work_dir(module: Path, env: dict[str, str]) -> None:
    import fcntl

    work = module / ".deploypkg" / "plan"
    work.mkdir(parents=True)
    with open(work / ".plan.lock", "a+b") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        busy = plan(module, env, "--region", "cn-hangzhou")
    assert busy.exit_code == 2 and "another deploypkg plan is using" in busy.stderr
    assert not (work / "cn-hangzhou").exists()
    assert plan(module, env, "--region", "cn-hangzhou").exit_code == 0


def test_not_a_module(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "empty").mkdir()
    result = plan(tmp_path / "empty", env, "--region", "cn-hangzhou")
    assert result.exit_code == 2 and "contains no .tf or .tf.json file" in result.stderr


FAKE_TERRAFORM = """#!/bin/sh
if [ "$1" = init ]; then echo initialized; exit 0; fi
trap 'echo stopped > "$PWD/interrupted"; exit 1' INT
echo $$ > "$PWD/pid"
echo planning
while :; do sleep 0.05; done
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_stops_terraform_and_exits_130(
    module: Path, env: dict[str, str], tmp_path: Path, signum: signal.Signals
) -> None:
    fake = tmp_path / "slow-terraform"
    fake.write_text(FAKE_TERRAFORM)
    fake.chmod(0o755)
    process = subprocess.Popen(
        [sys.executable, "-m", "preprocessor", "plan", str(module), *TWO_REGIONS, "--parallel", "2"],
        cwd=REPO,
        env={**os.environ, **env, "TERRAFORM": str(fake)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    work = module / ".deploypkg" / "plan"
    pid_files = [work / region / "pid" for region in REGION_IMAGES]
    deadline = time.monotonic() + 60
    while not all(p.is_file() and p.read_text().strip() for p in pid_files):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    process.send_signal(signum)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "deploypkg: interrupted" in err
    for region in REGION_IMAGES:
        assert (work / region / "interrupted").read_text() == "stopped\n"
        assert f"[{region}] planning" in out


def test_terraform_output_has_no_colour_when_piped(module: Path, env: dict[str, str]) -> None:
    """Piped (as here) deploypkg passes -no-color to init and plan itself: escape codes would be
    noise in a prefixed log; the user need not say -no-color."""
    result = plan(module, env, *TWO_REGIONS, "--", "-detailed-exitcode")
    assert result.exit_code == 2, result.stderr
    assert "\x1b[" not in result.stdout + result.stderr
    assert "Terraform has been successfully initialized!" in result.stdout


def test_summary_counts_each_regions_changes_and_names_its_images(
    module: Path, env: dict[str, str], tmp_path: Path, terraform_bin: str
) -> None:
    target = tmp_path / "plan.md"
    result = plan(module, env, *TWO_REGIONS, "--summary", str(target), "--", "-detailed-exitcode")
    assert result.exit_code == 2, result.stderr
    markdown = target.read_text()
    assert markdown.startswith("## deploypkg plan\n\nExit 2 across 2 region(s).")
    work = module / ".deploypkg" / "plan"
    for region, image in REGION_IMAGES.items():
        document = show_json(terraform_bin, work / region, "deploypkg.tfplan")  # the plan it saved
        creates = sum(1 for r in document["resource_changes"] if r["change"]["actions"] == ["create"])  # type: ignore[index, union-attr]
        row = next(line for line in markdown.splitlines() if line.startswith(f"| {region} |"))
        assert row.startswith(f"| {region} | 2 | {creates} | 0 | 0 | 0 |"), row
        assert f"`{image}`" in row
        assert all(f"`{other}`" not in row for other in REGION_IMAGES.values() if other != image)
