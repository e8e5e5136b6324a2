"""Run the real CLI on a hostile case in a child process with bounded time and memory, and
check the answer against the case's expectation."""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

from hostile.corpus import Case, Expect, LineSpec

MEMORY_LIMIT = 1536 * 1024 * 1024
"""Address-space limit of every child (RLIMIT_AS): exceeding it shows as a MemoryError."""

ZYGOTE = Path(__file__).resolve().parent / "zygote.py"

PWNED = "deploypkg-pwned"
"""A file a malicious YAML tag tries to create: it must never appear."""


class Outcome(NamedTuple):
    exit_code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def child_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DEPLOYPKG_", "AWS_"))}
    env["PYTHONIOENCODING"] = "utf-8"
    env["NO_COLOR"] = "1"
    return env


def run_limited(args: list[str], cwd: Path, budget: float) -> Outcome:
    """``python ARGS`` in ``cwd``, killed after ``budget`` seconds, its memory capped."""
    started = time.monotonic()
    try:
        completed = subprocess.run(
            [sys.executable, *args],
            cwd=cwd,
            env=child_env(),
            capture_output=True,
            timeout=budget,
            preexec_fn=_limit_memory,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as timeout:
        raise AssertionError(f"{' '.join(args)} took longer than its {budget:.0f} s budget") from timeout
    seconds = time.monotonic() - started
    decode = lambda data: data.decode("utf-8", errors="backslashreplace")  # noqa: E731
    return Outcome(completed.returncode, decode(completed.stdout), decode(completed.stderr), seconds)


class Zygote:
    """Runs CLI commands in children forked from one process that imported deploypkg once
    (``hostile/zygote.py``): each case is its own process, without paying Python's start-up."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(ZYGOTE)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=child_env(),
            text=True,
        )
        assert self.process.stdout is not None
        ready = self.process.stdout.readline()
        assert ready.strip() == '{"ready": true}', f"the zygote did not start: {ready!r}"

    def run(self, args: list[str], cwd: Path, budget: float) -> Outcome:
        assert self.process.stdin is not None and self.process.stdout is not None
        out, err = cwd / ".deploypkg-test-stdout", cwd / ".deploypkg-test-stderr"
        request = {
            "args": args,
            "cwd": str(cwd),
            "budget": budget,
            "memory": MEMORY_LIMIT,
            "out": str(out),
            "err": str(err),
        }
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        assert answer, f"the zygote died (exit {self.process.poll()})"
        result = json.loads(answer)
        if result["timed_out"]:
            raise AssertionError(f"deploypkg {' '.join(args)} took longer than its {budget:.0f} s budget")
        decode = lambda path: path.read_bytes().decode("utf-8", errors="backslashreplace")  # noqa: E731
        return Outcome(int(result["exit"]), decode(out), decode(err), float(result["seconds"]))

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def run_case(case: Case, command: str, root: Path, zygote: Zygote) -> Outcome:
    return zygote.run([command, case.target, *case.options], root, case.budget)


def _lines_named(output: str, name: str) -> list[int]:
    return [int(found) for found in re.findall(re.escape(name) + r":(\d+)", output)]


def _line_ok(lines: list[int], spec: LineSpec) -> bool:
    if spec is None:
        return True
    low, high = (spec, spec) if isinstance(spec, int) else spec
    return any(low <= line <= high for line in lines)


def expected_exit(expect: Expect) -> set[int]:
    """The exit codes each command documents for an expectation.

    Every command: a file that cannot be read or parsed, or is not a well-formed template, is bad
    input and exits 2 — ``validate`` and ``refs`` still report the other files, ``render`` stops
    before anything is written.
    """
    if expect is Expect.ERROR:
        return {2}
    if expect is Expect.REPORTED:
        return {0, 1, 2}
    if expect is Expect.CLEAN:
        return {0}
    return {0, 1, 2}


def check(case: Case, outcome: Outcome, root: Path, command: str = "validate") -> None:
    shown = (
        f"exit {outcome.exit_code} after {outcome.seconds:.1f} s\n"
        f"--- stdout\n{outcome.stdout[-3000:]}\n--- stderr\n{outcome.stderr[-3000:]}"
    )
    assert "MemoryError" not in outcome.output, f"ran out of its {MEMORY_LIMIT >> 20} MiB:\n{shown}"
    assert outcome.exit_code >= 0, f"killed by signal {-outcome.exit_code}:\n{shown}"
    assert "Traceback" not in outcome.output, f"a traceback:\n{shown}"
    assert "internal error" not in outcome.output, f"an internal error:\n{shown}"
    assert not (root / PWNED).exists(), "a YAML tag ran code"
    allowed = expected_exit(case.expect)
    assert outcome.exit_code in allowed, f"expected exit {sorted(allowed)} ({case.expect.value}):\n{shown}"
    if (outcome.exit_code != 0 or case.expect is Expect.REPORTED) and case.names is not None:
        name = Path(case.names).name
        assert name in outcome.output, f"the message does not name {name}:\n{shown}"
        if case.expect is Expect.ERROR:
            assert re.search(re.escape(name) + r"(:\d+)*: (error )?DPK0\d\d", outcome.output), (
                f"no DPK00x error:\n{shown}"
            )
        if case.expect is not Expect.NO_CRASH:
            lines = _lines_named(outcome.output, name)
            assert _line_ok(lines, case.line), f"expected {name}:<line in {case.line}>, found lines {lines}:\n{shown}"
