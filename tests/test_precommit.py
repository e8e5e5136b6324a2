"""The pre-commit hook, run for real: ``pre-commit try-repo`` installs this repository into a hook
environment (from PyPI for its dependencies) and runs ``deploypkg-validate`` in a scratch git repo.

PRE_COMMIT_HOME lives in pytest's cache directory, so repeated runs reuse the environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO

GOOD = """ROSTemplateFormatVersion: '2015-09-01'
Resources:
  Web:
    Type: ALIYUN::ECS::Instance
    Properties:
      ImageId: m-bp1g7004ksh0oeuc1234
"""
BAD = GOOD.replace("m-bp1g7004ksh0oeuc1234", "m-bp1zzzzzzzzzzzzzzzzz")
CONFIG = "provider: alicloud\nassociations:\n  m-bp1g7004ksh0oeuc1234: web-image\n"


def _git(cwd: Path, *args: str, env: dict[str, str]) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, timeout=60)


@pytest.fixture
def scratch_repo(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[Path, dict[str, str]]:
    # pytest's cache keeps pre-commit's hook environment between runs; without it (-p no:cacheprovider)
    # the hook environment is built in the test's own directory.
    cache = getattr(request.config, "cache", None)
    home = Path(cache.mkdir("pre-commit-home")) if cache is not None else tmp_path / "pre-commit-home"
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(home),
        "GIT_AUTHOR_NAME": "deploypkg tests",
        "GIT_AUTHOR_EMAIL": "tests@example.invalid",
        "GIT_COMMITTER_NAME": "deploypkg tests",
        "GIT_COMMITTER_EMAIL": "tests@example.invalid",
    }
    repo = tmp_path / "project"
    repo.mkdir()
    _git(repo, "init", "-q", env=env)
    (repo / "deploypkg.yaml").write_text(CONFIG, encoding="utf-8")
    (repo / "good.yaml").write_text(GOOD, encoding="utf-8")
    (repo / "bad.yaml").write_text(BAD, encoding="utf-8")
    (repo / "notes.txt").write_text("not a template\n", encoding="utf-8")
    _git(repo, "add", ".", env=env)
    return repo, env


def _try_repo(repo: Path, env: dict[str, str], *files: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), "deploypkg-validate", "--files", *files],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.mark.slow
def test_hook_fails_on_a_bad_template_and_passes_on_a_good_one(scratch_repo: tuple[Path, dict[str, str]]) -> None:
    repo, env = scratch_repo
    bad = _try_repo(repo, env, "bad.yaml", "notes.txt")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "bad.yaml:6:16: error DPK102 custom image m-bp1zzzzzzzzzzzzzzzzz" in bad.stdout
    good = _try_repo(repo, env, "good.yaml", "notes.txt")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "deploypkg validate" in good.stdout and "Passed" in good.stdout
