"""The README shows what deploypkg prints: every ``$ deploypkg …`` transcript in it, and the
``deploypkg validate fixtures/`` listing, is run on a copy of the fixtures and compared line by
line with what the README says."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest
from helpers import FIXTURES, REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


class Transcript(NamedTuple):
    command: str
    cwd: str
    expected: list[str]


def _transcripts() -> list[Transcript]:
    found: list[Transcript] = []
    pending_dir = "."
    for match in FENCE.finditer(README):
        kind, body = match.group(1), match.group(2)
        lines = body.splitlines()
        if kind == "sh" and lines and lines[0].startswith("cd "):
            pending_dir = lines[0][3:].strip()
            continue
        if kind not in ("console", "text") or not any(line.startswith("$ ") for line in lines):
            continue
        command: str | None = None
        expected: list[str] = []
        for line in [*lines, "$ "]:
            if line.startswith("$ "):
                if command is not None and command.startswith("deploypkg "):
                    found.append(Transcript(command, pending_dir, expected))
                command, expected = line[2:], []
            else:
                expected.append(line)
        pending_dir = "."
    return found


def _validate_listing() -> list[str]:
    """The block after the sentence naming the command: the findings, then the summary line."""
    start = README.index("`deploypkg validate fixtures/`")
    findings = FENCE.search(README, start)
    assert findings is not None
    return findings.group(2).splitlines()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("readme")
    shutil.copytree(FIXTURES, root / "fixtures", ignore=shutil.ignore_patterns(".deploypkg", "__pycache__"))
    return root


def _run(command: str, cwd: Path, stderr: int | None = subprocess.STDOUT) -> tuple[int, list[str]]:
    """Exit code and printed lines (standard error merged in, in order, unless ``stderr`` says
    otherwise)."""
    args = shlex.split(command)
    assert args[0] == "deploypkg"
    done = subprocess.run(
        [sys.executable, "-m", "preprocessor", *args[1:]],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=120,
    )
    return done.returncode, done.stdout.splitlines()


TRANSCRIPTS = [t for t in _transcripts() if t.expected]
"""Those that show output (``plan`` and ``catalog list`` are shown only as what to type)."""


def test_the_readme_has_transcripts_to_check() -> None:
    commands = [t.command for t in TRANSCRIPTS]
    assert any(c.startswith("deploypkg render") for c in commands)
    assert any(c.startswith("deploypkg refs") for c in commands)


@pytest.mark.parametrize("transcript", TRANSCRIPTS, ids=[t.command for t in TRANSCRIPTS])
def test_a_readme_transcript_is_what_the_command_prints(workspace: Path, transcript: Transcript) -> None:
    code, printed = _run(transcript.command, workspace / transcript.cwd)
    assert code == 0, printed
    assert printed == transcript.expected


def test_the_readme_validate_listing_is_what_validate_prints(workspace: Path) -> None:
    code, printed = _run("deploypkg validate fixtures/", workspace, stderr=subprocess.DEVNULL)
    assert code == 2
    assert printed == _validate_listing()
