"""Run ``terraform init`` and ``terraform plan`` in each region's work directory.

Regions run in a thread pool (``parallel`` at a time); each region's init and plan run one
after the other. Inits are serialized across regions because Terraform's plugin cache is not
safe for concurrent installs; plans, the slow part, overlap. Every child runs in its own
process group so an interrupt reaches it exactly once, from us: SIGINT first (Terraform
stops gracefully and releases state locks), SIGKILL after a grace period.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

from preprocessor.errors import InputError
from preprocessor.terraform.output import PrefixedOutput

# terraform plan -detailed-exitcode: 0 no changes, 1 error, 2 changes present.
NO_CHANGES, FAILED, CHANGES = 0, 1, 2

# Arguments of `plan` that init understands too, so both steps look alike in the log.
_SHARED_WITH_INIT = frozenset({"-no-color"})


class RegionRun(NamedTuple):
    region: str
    work_dir: Path


class RegionResult(NamedTuple):
    region: str
    exit_code: int
    """In ``-detailed-exitcode`` terms: 0 no changes, 1 failed, 2 changes present."""
    failed_step: str | None
    """``init`` or ``plan`` when the region failed, else None."""
    init_seconds: float
    plan_seconds: float

    def describe(self, detailed_exitcode: bool = True) -> str:
        if self.failed_step is not None:
            return f"{self.failed_step} failed"
        if not detailed_exitcode:
            return "planned"
        return "changes present" if self.exit_code == CHANGES else "no changes"


def aggregate_exit_codes(codes: Iterable[int]) -> int:
    """1 beats 2 beats 0: any failure fails the whole plan, else any change shows as 2.

    A code outside 0/1/2 (a child killed by a signal, an unexpected status) counts as 1.
    """
    seen = set(codes)
    if seen - {NO_CHANGES, CHANGES}:
        return FAILED
    return CHANGES if CHANGES in seen else NO_CHANGES


class ChildProcesses:
    """The running children, so that an interrupt can stop every one of them."""

    def __init__(self, grace_seconds: float = 10.0) -> None:
        self._grace = grace_seconds
        self._lock = threading.Lock()
        self._live: set[subprocess.Popen[bytes]] = set()
        self._stopping = False

    def run(self, argv: Sequence[str], cwd: Path, env: Mapping[str, str], prefix: str, output: PrefixedOutput) -> int:
        """Run one child to completion, streaming its output; its exit status (negative: a signal)."""
        with self._lock:
            if self._stopping:
                return -signal.SIGINT
            try:
                process = subprocess.Popen(
                    list(argv),
                    cwd=cwd,
                    env=dict(env),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    start_new_session=True,
                )
            except OSError as exc:
                raise InputError(f"cannot run {argv[0]}: {exc.strerror or exc}", hint="check --terraform") from None
            self._live.add(process)
        try:
            assert process.stdout is not None and process.stderr is not None
            readers = [
                threading.Thread(target=output.pump, args=(prefix, process.stdout, "stdout"), daemon=True),
                threading.Thread(target=output.pump, args=(prefix, process.stderr, "stderr"), daemon=True),
            ]
            for reader in readers:
                reader.start()
            for reader in readers:
                reader.join()
            return process.wait()
        finally:
            with self._lock:
                self._live.discard(process)

    def stop(self) -> None:
        """Interrupt every child and start no new one; SIGKILL what is still alive after the
        grace period, or at once on a second interrupt."""
        with self._lock:
            self._stopping = True
            live = list(self._live)
        for process in live:
            _signal_group(process, signal.SIGINT)
        deadline = time.monotonic() + self._grace
        try:
            for process in live:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=max(0.0, deadline - time.monotonic()))
        finally:
            for process in live:
                if process.poll() is None:
                    _signal_group(process, signal.SIGKILL)
                    process.wait()


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(process.pid, signum)


def init_arguments(plan_args: Sequence[str]) -> list[str]:
    return ["init", "-input=false", *(arg for arg in plan_args if arg in _SHARED_WITH_INIT)]


def plan_arguments(plan_args: Sequence[str]) -> list[str]:
    return ["plan", "-input=false", *plan_args]


def run_region(
    run: RegionRun,
    terraform: str,
    plan_args: Sequence[str],
    env: Mapping[str, str],
    children: ChildProcesses,
    output: PrefixedOutput,
    init_lock: threading.Lock,
) -> RegionResult:
    started = time.monotonic()
    with init_lock:
        code = children.run([terraform, *init_arguments(plan_args)], run.work_dir, env, run.region, output)
    init_seconds = time.monotonic() - started
    if code != 0:
        output.line(run.region, f"deploypkg: terraform init exited with {code}; plan skipped", "stderr")
        return RegionResult(run.region, FAILED, "init", init_seconds, 0.0)
    started = time.monotonic()
    code = children.run([terraform, *plan_arguments(plan_args)], run.work_dir, env, run.region, output)
    plan_seconds = time.monotonic() - started
    if code in (NO_CHANGES, CHANGES):
        return RegionResult(run.region, code, None, init_seconds, plan_seconds)
    return RegionResult(run.region, FAILED, "plan", init_seconds, plan_seconds)


def run_regions(
    runs: Sequence[RegionRun],
    terraform: str,
    plan_args: Sequence[str],
    env: Mapping[str, str],
    output: PrefixedOutput,
    parallel: int = 1,
    grace_seconds: float = 10.0,
) -> list[RegionResult]:
    """Init and plan every region; results in the order of ``runs``.

    On KeyboardInterrupt every child is stopped (see :class:`ChildProcesses`) before the
    interrupt propagates.
    """
    children = ChildProcesses(grace_seconds)
    init_lock = threading.Lock()
    pool = ThreadPoolExecutor(max_workers=max(1, min(parallel, len(runs))), thread_name_prefix="plan")
    try:
        futures = [pool.submit(run_region, run, terraform, plan_args, env, children, output, init_lock) for run in runs]
        return [future.result() for future in futures]
    except BaseException:
        children.stop()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)
