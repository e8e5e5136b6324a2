"""The terraform runner on hand-made module directories, with the real terraform binary:
exit codes per region and aggregated, per-region prefixes, parallel line atomicity,
init failures, the binary lookup, the plugin cache and the work-directory mirror."""

from __future__ import annotations

import io
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from preprocessor.errors import InputError
from preprocessor.terraform.arguments import check_plan_arguments, plan_file
from preprocessor.terraform.binary import default_plugin_cache, find_terraform, terraform_environment
from preprocessor.terraform.output import PrefixedOutput
from preprocessor.terraform.runner import RegionRun, aggregate_exit_codes, run_regions
from preprocessor.terraform.workdir import MARKER, sync_tree

NO_CHANGES_TF = "locals {\n  unused = 1\n}\n"
CHANGES_TF = 'resource "terraform_data" "image" {\n  input = "m-bp1g7004ksh0oeuc1234"\n}\n'
FAILING_TF = 'output "broken" {\n  value = var.undeclared\n}\n'
MISSING_MODULE_TF = 'module "gone" {\n  source = "./does-not-exist"\n}\n'
PREFIX = re.compile(r"^\[(?P<region>[a-z0-9-]+)\] ")


def module(root: Path, name: str, text: str) -> RegionRun:
    directory = root / name
    directory.mkdir(parents=True)
    (directory / "main.tf").write_text(text)
    return RegionRun(name, directory)


@pytest.fixture
def tf_env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("TF_PLUGIN_CACHE_DIR", None)
    return terraform_environment(env)[0]


def run(
    runs: list[RegionRun], terraform: str, env: dict[str, str], *args: str, parallel: int = 1
) -> tuple[list[int], str, str]:
    out, err = io.StringIO(), io.StringIO()
    results = run_regions(runs, terraform, ["-no-color", *args], env, PrefixedOutput(out, err), parallel)
    assert [result.region for result in results] == [r.region for r in runs]
    return [result.exit_code for result in results], out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        ([], 0),
        ([0, 0], 0),
        ([0, 2], 2),
        ([2, 2], 2),
        ([2, 1, 0], 1),
        ([0, 1], 1),
        ([0, -2], 1),  # killed by a signal
        ([2, 3], 1),  # an unexpected status
    ],
)
def test_aggregation_one_beats_two_beats_zero(codes: list[int], expected: int) -> None:
    assert aggregate_exit_codes(codes) == expected


def test_detailed_exit_codes_per_region_and_prefixed_output(
    tmp_path: Path, terraform_bin: str, tf_env: dict[str, str]
) -> None:
    runs = [
        module(tmp_path, "cn-hangzhou", CHANGES_TF),
        module(tmp_path, "cn-beijing", NO_CHANGES_TF),
        module(tmp_path, "cn-shanghai", FAILING_TF),
    ]
    codes, out, err = run(runs, terraform_bin, tf_env, "-detailed-exitcode")
    assert codes == [2, 0, 1]
    assert aggregate_exit_codes(codes) == 1
    for text in (out, err):
        for line in text.splitlines():
            assert PREFIX.match(line), line
    assert '[cn-hangzhou]       + input  = "m-bp1g7004ksh0oeuc1234"' in out
    assert "[cn-beijing] No changes." in out
    assert "[cn-shanghai] Error: Reference to undeclared input variable" in err
    assert "[cn-hangzhou] Terraform has been successfully initialized!" in out


def test_without_detailed_exitcode_changes_are_zero(tmp_path: Path, terraform_bin: str, tf_env: dict[str, str]) -> None:
    codes, _, _ = run([module(tmp_path, "us-east-1", CHANGES_TF)], terraform_bin, tf_env)
    assert codes == [0]


def test_init_failure_skips_plan(tmp_path: Path, terraform_bin: str, tf_env: dict[str, str]) -> None:
    out, err = io.StringIO(), io.StringIO()
    runs = [module(tmp_path, "cn-hangzhou", MISSING_MODULE_TF), module(tmp_path, "cn-beijing", CHANGES_TF)]
    results = run_regions(runs, terraform_bin, ["-detailed-exitcode"], tf_env, PrefixedOutput(out, err))
    assert [(r.exit_code, r.failed_step) for r in results] == [(1, "init"), (2, None)]
    assert "[cn-hangzhou] deploypkg: terraform init exited with 1; plan skipped" in err.getvalue()
    assert "[cn-hangzhou] Terraform will perform" not in out.getvalue()


def test_parallel_regions_write_whole_lines(tmp_path: Path, terraform_bin: str, tf_env: dict[str, str]) -> None:
    regions = ["cn-hangzhou", "cn-beijing", "cn-shanghai", "cn-shenzhen"]
    runs = [module(tmp_path, region, CHANGES_TF) for region in regions]
    codes, out, _ = run(runs, terraform_bin, tf_env, "-detailed-exitcode", parallel=4)
    assert codes == [2, 2, 2, 2]
    lines = out.splitlines()
    for line in lines:
        match = PREFIX.match(line)
        assert match and match["region"] in regions, line
        assert "] [" not in line and line.count("[cn-") == 1, line
    # every region's own output is complete and in its own order
    for region in regions:
        own = [line for line in lines if line.startswith(f"[{region}] ")]
        plan_line = own.index(f"[{region}] Plan: 1 to add, 0 to change, 0 to destroy.")
        assert own.index(f"[{region}] Terraform has been successfully initialized!") < plan_line


def test_undecodable_and_unterminated_output_stays_line_based(tmp_path: Path) -> None:
    script = tmp_path / "fake-terraform"
    script.write_text("#!/bin/sh\nprintf 'caf\\351\\nlast line without newline'\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    out, err = io.StringIO(), io.StringIO()
    runs = [module(tmp_path, "eu-west-1", NO_CHANGES_TF)]
    results = run_regions(runs, str(script), [], {"PATH": os.environ["PATH"]}, PrefixedOutput(out, err))
    assert results[0].exit_code == 0
    assert out.getvalue().splitlines()[:2] == ["[eu-west-1] caf\ufffd", "[eu-west-1] last line without newline"]


def test_find_terraform(tmp_path: Path, terraform_bin: str) -> None:
    assert find_terraform(None, {"PATH": str(Path(terraform_bin).parent)}) == terraform_bin
    with pytest.raises(InputError, match="terraform was not found on PATH") as caught:
        find_terraform(None, {"PATH": str(tmp_path)})
    assert caught.value.exit_code == 2 and caught.value.hint and "--terraform" in caught.value.hint
    with pytest.raises(InputError, match=r"from --terraform\) does not exist"):
        find_terraform(str(tmp_path / "nope" / "terraform"), {"PATH": ""})
    with pytest.raises(InputError, match="from the TERRAFORM environment variable"):
        find_terraform(None, {"TERRAFORM": str(tmp_path / "tf"), "PATH": str(Path(terraform_bin).parent)})
    not_executable = tmp_path / "terraform"
    not_executable.write_text("")
    with pytest.raises(InputError, match="is not executable"):
        find_terraform(str(not_executable), {})
    # --terraform wins over $TERRAFORM
    assert find_terraform(terraform_bin, {"TERRAFORM": str(tmp_path / "tf")}) == str(Path(terraform_bin).resolve())


def test_plugin_cache_default_and_user_choices(tmp_path: Path) -> None:
    base = {"HOME": str(tmp_path / "home"), "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    env, cache = terraform_environment(base)
    assert cache == default_plugin_cache(base) == tmp_path / "xdg" / "deploypkg" / "terraform-plugins"
    assert cache.is_dir() and env["TF_PLUGIN_CACHE_DIR"] == str(cache)

    mine = tmp_path / "my-cache"
    env, cache = terraform_environment({**base, "TF_PLUGIN_CACHE_DIR": str(mine)})
    assert cache == mine and mine.is_dir() and env["TF_PLUGIN_CACHE_DIR"] == str(mine)

    rc = tmp_path / "terraformrc"
    rc.write_text('plugin_cache_dir = "$HOME/.terraform.d/plugin-cache"\n')
    env, cache = terraform_environment({**base, "TF_CLI_CONFIG_FILE": str(rc)})
    assert cache is None and "TF_PLUGIN_CACHE_DIR" not in env


def test_plan_argument_checks() -> None:
    check_plan_arguments(["-out=plan.tfplan", "-var", "x=1"], 2)
    check_plan_arguments(["-out=/tmp/plan.tfplan"], 1)
    for args in (["-out=/tmp/plan.tfplan"], ["-out", "/tmp/plan.tfplan"], ["--out=/tmp/p"]):
        with pytest.raises(InputError, match="absolute path"):
            check_plan_arguments(args, 2)
    with pytest.raises(InputError, match="global terraform option"):
        check_plan_arguments(["-chdir=elsewhere"], 1)


def test_sync_tree_mirrors_and_keeps_init_state(tmp_path: Path) -> None:
    source, target = tmp_path / "rendered", tmp_path / "work"
    (source / "modules" / "a").mkdir(parents=True)
    (source / "main.tf").write_text("one")
    (source / "modules" / "a" / "main.tf").write_text("two")
    sync_tree(source, target)
    (target / ".terraform" / "modules").mkdir(parents=True)
    (target / ".terraform" / "modules" / "modules.json").write_text("{}")
    (target / ".terraform.lock.hcl").write_text("lock")
    (target / "stale.tf").write_text("old")
    (target / "old-dir").mkdir()
    (target / "old-dir" / "x.tf").write_text("old")
    unchanged_mtime = (target / "modules" / "a" / "main.tf").stat().st_mtime_ns
    (source / "main.tf").write_text("one, edited")

    sync_tree(source, target)
    files = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    assert files == [
        ".deploypkg-work-dir",
        ".terraform.lock.hcl",
        ".terraform/modules/modules.json",
        "main.tf",
        "modules/a/main.tf",
    ]
    assert (target / "main.tf").read_text() == "one, edited"
    assert (target / "modules" / "a" / "main.tf").stat().st_mtime_ns == unchanged_mtime

    (source / ".terraform.lock.hcl").write_text("the module's own lock")  # the module's lock file wins
    assert sync_tree(source, target) == []
    assert (target / ".terraform.lock.hcl").read_text() == "the module's own lock"


def test_sync_tree_refuses_a_directory_plan_did_not_make(tmp_path: Path) -> None:
    source, target = tmp_path / "rendered", tmp_path / "cn-hangzhou"
    source.mkdir()
    (source / "main.tf").write_text("x")
    target.mkdir()
    (target / "notes.txt").write_text("a user's own file")
    with pytest.raises(InputError) as caught:
        sync_tree(source, target)
    assert MARKER in caught.value.message and str(target) in caught.value.message
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]


def test_sync_tree_never_touches_local_state(tmp_path: Path) -> None:
    source, target = tmp_path / "rendered", tmp_path / "work"
    source.mkdir()
    (source / "main.tf").write_text("x")
    (source / "terraform.tfstate").write_text("the source's state")
    (source / "terraform.tfstate.d" / "prod").mkdir(parents=True)
    (source / "terraform.tfstate.d" / "prod" / "terraform.tfstate").write_text("the source's workspace")
    target.mkdir()
    (target / MARKER).touch()  # made by an earlier plan
    (target / "terraform.tfstate").write_text("applied in this region")
    (target / "terraform.tfstate.backup").write_text("backup")
    (target / "terraform.tfstate.d" / "dev").mkdir(parents=True)
    (target / "terraform.tfstate.d" / "dev" / "terraform.tfstate").write_text("dev")

    withheld = sync_tree(source, target)
    assert withheld == [Path("terraform.tfstate"), Path("terraform.tfstate.d/prod/terraform.tfstate")]
    assert (target / "terraform.tfstate").read_text() == "applied in this region"
    assert (target / "terraform.tfstate.backup").read_text() == "backup"
    assert (target / "terraform.tfstate.d" / "dev" / "terraform.tfstate").read_text() == "dev"
    assert not (target / "terraform.tfstate.d" / "prod").exists()


FAKE_TERRAFORM = """#!/bin/sh
# Stands in for a terraform plan that takes long: init succeeds, plan waits to be interrupted.
if [ "$1" = init ]; then exit 0; fi
trap '{on_int}' INT
echo $$ > "$PWD/pid"
echo planning
while :; do sleep 0.05; done
"""

DRIVER = """
import sys
from pathlib import Path
from preprocessor.terraform.output import PrefixedOutput
from preprocessor.terraform.runner import RegionRun, run_regions
fake, grace, *dirs = sys.argv[1:]
runs = [RegionRun(Path(d).name, Path(d)) for d in dirs]
try:
    run_regions(runs, fake, [], {"PATH": "/usr/bin:/bin"}, PrefixedOutput(sys.stdout, sys.stderr), 2, float(grace))
except KeyboardInterrupt:
    print("stopped", flush=True)
    sys.exit(130)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize(
    ("on_int", "grace", "interrupts", "marker"),
    [
        ('echo interrupted > "$PWD/interrupted"; exit 1', "10", 1, True),  # stops gracefully on SIGINT
        ("", "0.5", 1, False),  # ignores SIGINT: killed after the grace period
        ("", "60", 2, False),  # ignores SIGINT: a second interrupt kills at once
    ],
)
def test_interrupt_stops_every_child(tmp_path: Path, on_int: str, grace: str, interrupts: int, marker: bool) -> None:
    fake = tmp_path / "terraform"
    fake.write_text(FAKE_TERRAFORM.format(on_int=on_int))
    fake.chmod(0o755)
    dirs = [tmp_path / "cn-hangzhou", tmp_path / "cn-beijing"]
    for directory in dirs:
        directory.mkdir()
    driver = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(fake), grace, *map(str, dirs)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    while not all((d / "pid").is_file() and (d / "pid").read_text().strip() for d in dirs):
        assert driver.poll() is None and time.monotonic() < deadline, driver.communicate()
        time.sleep(0.05)
    pids = [int((d / "pid").read_text()) for d in dirs]
    started = time.monotonic()
    driver.send_signal(signal.SIGINT)
    if interrupts == 2:
        # Two SIGINTs that arrive before Python runs its handler count as one, so on a loaded
        # machine a single "second" signal can be lost: repeat it until the driver is gone. The
        # 60 s grace period then bounds how long a lost second interrupt could take.
        for _ in range(16):
            time.sleep(0.5)
            if driver.poll() is not None:
                break
            driver.send_signal(signal.SIGINT)
    out, err = driver.communicate(timeout=20)
    assert driver.returncode == 130, (out, err)
    assert out.splitlines()[-1] == "stopped"
    assert "[cn-hangzhou] planning" in out and "[cn-beijing] planning" in out
    assert time.monotonic() - started < 8
    for directory, pid in zip(dirs, pids, strict=True):
        assert not _alive(pid)
        assert (directory / "interrupted").is_file() is marker


class _ClosedReader(io.StringIO):
    """A stdout whose reader went away after the first line (``deploypkg plan | head -1``)."""

    def write(self, text: str) -> int:
        if self.getvalue():
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)


def test_a_closed_stdout_does_not_block_the_child(tmp_path: Path) -> None:
    script = tmp_path / "chatty-terraform"
    # far more than a pipe buffer (64 KiB): the child blocks forever unless its pipe is drained
    script.write_text("#!/bin/sh\nseq 1 100000\n")
    script.chmod(0o755)
    out, err = _ClosedReader(), io.StringIO()
    runs = [module(tmp_path, "cn-hangzhou", NO_CHANGES_TF)]
    started = time.monotonic()
    results = run_regions(runs, str(script), [], {"PATH": os.environ["PATH"]}, PrefixedOutput(out, err))
    assert results[0].exit_code == 0 and time.monotonic() - started < 30
    assert out.getvalue() == "[cn-hangzhou] 1\n"


def test_the_plan_file_is_found_in_each_spelling_of_out() -> None:
    """plan --summary reads back the plan -out names, however it is written."""
    for args in (["-out=p.tfplan"], ["--out=p.tfplan"], ["-out", "p.tfplan"], ["-no-color", "--out", "p.tfplan"]):
        assert plan_file(args) == "p.tfplan", args
    assert plan_file(["-detailed-exitcode"]) is None
