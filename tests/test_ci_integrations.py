"""The ready CI steps (issue 13, §2), run as the CI systems run them.

GitHub: the composite action's run step (``.ci/github/run.sh``) with the environment a runner
gives it — ``INPUT_*`` as the action maps its inputs, ``GITHUB_STEP_SUMMARY`` and
``GITHUB_OUTPUT`` files — in a temporary workspace; the files are then read as GitHub reads them.
GitLab: each job's ``script`` lines of the template, in one bash as a runner runs them, with the
template's variables. What is not run: the install steps (``pip install`` of the action's checkout,
or ``$DEPLOYPKG_INSTALL``), since the test environment has deploypkg installed already; their
command lines are checked instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import jsonschema
import yaml
from helpers import FIXTURES, REPO

ACTION = REPO / ".ci" / "github" / "action.yml"
RUN = REPO / ".ci" / "github" / "run.sh"
GITLAB = REPO / ".ci" / "gitlab" / "deploypkg.gitlab-ci.yml"
SCHEMAS = Path(__file__).parent / "data" / "schemas"


def _workspace(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES / "alicloud", tmp_path / "repo")
    return tmp_path / "repo"


def _github(workspace: Path, **inputs: str) -> tuple[int, str, dict[str, str], str]:
    summary, outputs = workspace.parent / "step-summary.md", workspace.parent / "github-output"
    summary.write_text("")
    outputs.write_text("")
    env = {
        **os.environ,
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_WORKSPACE": str(workspace),
        **{f"INPUT_{name.upper().replace('-', '_')}": value for name, value in inputs.items()},
    }
    done = subprocess.run(["bash", str(RUN)], cwd=workspace, env=env, capture_output=True, text=True, timeout=300)
    pairs = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    return done.returncode, summary.read_text(), pairs, done.stdout + done.stderr


def test_the_action_maps_every_input_to_the_run_step() -> None:
    action = yaml.safe_load(ACTION.read_text())
    assert action["runs"]["using"] == "composite"
    install, run = action["runs"]["steps"]
    assert '"${{ github.action_path }}/../.."' in install["run"], "installs deploypkg from the action's checkout"
    assert run["run"] == 'bash "${{ github.action_path }}/run.sh"'
    for name in action["inputs"]:
        assert run["env"][f"INPUT_{name.upper().replace('-', '_')}"] == "${{ inputs." + name + " }}"
    assert set(action["outputs"]) == {"exit-code", "out-dir"}


def test_the_action_renders_and_summarises(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path)
    code, summary, outputs, log = _github(
        workspace, command="render", paths="templates", regions="cn-hangzhou\ncn-beijing", out="rendered"
    )
    assert code == 0, log
    assert outputs == {"exit-code": "0", "out-dir": "rendered"}
    assert (workspace / "rendered" / "cn-beijing" / "main.tf").is_file()
    assert summary.startswith("## deploypkg render\n")
    assert "### cn-beijing: 18 substitution(s)" in summary and "### cn-hangzhou: 18 substitution(s)" in summary


def test_the_action_validates_with_a_report_file_and_fails_as_deploypkg_does(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path)
    (workspace / "templates" / "unmapped.yaml").write_text(
        "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  Web:\n    Type: ALIYUN::ECS::Instance\n"
        "    Properties:\n      ImageId: m-bp1unmappedunmapped0\n"
    )
    code, summary, outputs, log = _github(
        workspace, command="validate", paths="templates", format="sarif", **{"output-file": "deploypkg.sarif"}
    )
    assert code == 1, log
    assert outputs["exit-code"] == "1"
    assert json.loads((workspace / "deploypkg.sarif").read_text())["version"] == "2.1.0"
    assert "templates/unmapped.yaml:6:16: error DPK102" in summary and "```text" in summary
    assert "templates/unmapped.yaml:6:16: error DPK102" in log


def test_an_unknown_command_is_refused(tmp_path: Path) -> None:
    code, summary, outputs, log = _github(_workspace(tmp_path), command="apply")
    assert code == 2 and outputs["exit-code"] == "2"
    assert "must be validate, render or plan" in log and "Unknown command apply" in summary


def _gitlab_job(name: str, workspace: Path, variables: dict[str, str]) -> subprocess.CompletedProcess[str]:
    template = yaml.safe_load(GITLAB.read_text())
    job = template[name]
    assert job["extends"] == ".deploypkg"
    assert template[".deploypkg"]["before_script"] == ['python3 -m pip install --quiet "$DEPLOYPKG_INSTALL"']
    script = "set -eo pipefail\n" + "\n".join(job["script"])  # a runner stops at the first failing line
    env = {**os.environ, **template["variables"], **variables}
    return subprocess.run(["bash", "-c", script], cwd=workspace, env=env, capture_output=True, text=True, timeout=300)


def test_the_gitlab_validate_job_writes_a_code_quality_report(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path)
    (workspace / "templates" / "unmapped.yaml").write_text(
        "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  Web:\n    Type: ALIYUN::ECS::Instance\n"
        "    Properties:\n      ImageId: m-bp1unmappedunmapped0\n"
    )
    done = _gitlab_job("deploypkg-validate", workspace, {"DEPLOYPKG_PATHS": "templates"})
    assert done.returncode == 1, "an error fails the job"
    report = yaml.safe_load(GITLAB.read_text())["deploypkg-validate"]["artifacts"]["reports"]["codequality"]
    issues = json.loads((workspace / report).read_text())
    jsonschema.validate(issues, json.loads((SCHEMAS / "gitlab-code-quality.schema.json").read_text()))
    assert [i["location"] for i in issues] == [{"path": "templates/unmapped.yaml", "lines": {"begin": 6}}]
    assert "templates/unmapped.yaml:6:16: error DPK102" in done.stdout, "the log shows the text too"


def test_the_gitlab_render_job_keeps_the_output_and_a_summary(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path)
    done = _gitlab_job(
        "deploypkg-render", workspace, {"DEPLOYPKG_PATHS": "templates", "DEPLOYPKG_REGIONS": "cn-hangzhou cn-beijing"}
    )
    assert done.returncode == 0, done.stderr
    artifacts = yaml.safe_load(GITLAB.read_text())["deploypkg-render"]["artifacts"]["paths"]
    assert artifacts == ["$DEPLOYPKG_OUT/", "deploypkg-summary.md"]
    assert (workspace / "deploypkg-out" / "cn-beijing" / "main.tf").is_file()
    assert (workspace / "deploypkg-summary.md").read_text().startswith("## deploypkg render\n")
    assert "### cn-beijing: 18 substitution(s)" in done.stdout
