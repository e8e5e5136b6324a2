"""Shared fixtures: a real moto server on 127.0.0.1 (separate process), the terraform binary,
and a runner for the real ``deploypkg`` CLI.

Required components are never skipped: if moto's server or terraform is missing, the tests
that need them fail with a message saying what to install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from ecs_double import ACCESS_KEY_ID as ECS_ACCESS_KEY_ID
from ecs_double import ACCESS_KEY_SECRET as ECS_ACCESS_KEY_SECRET
from ecs_double import EcsDouble
from helpers import free_port

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"

TEST_ACCESS_KEY = "AKIDTESTDEPLOYPKG0001"
TEST_SECRET_KEY = "deploypkg-test-secret-key-0123456789abcdef"


class MotoServer(NamedTuple):
    endpoint_url: str
    port: int
    process: subprocess.Popen[bytes]

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass


def start_moto_server() -> MotoServer:
    try:
        import moto.server  # noqa: F401
    except ImportError as exc:  # pragma: no cover - CI installs it
        pytest.fail(f"moto[server] is required for the object-store tests: {exc}; pip install 'moto[server]'")
    port = free_port()
    log = open(os.devnull, "wb")  # noqa: SIM115 - owned by the process
    process = subprocess.Popen(
        # S3's per-key atomicity of conditional writes, which moto's own server lacks (see the module).
        [sys.executable, str(Path(__file__).with_name("atomic_moto_server.py")), "127.0.0.1", str(port)],
        stdout=log,
        stderr=log,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"moto server exited early with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1):
                return MotoServer(endpoint, port, process)
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.1)
    process.kill()
    pytest.fail("moto server did not start within 30 s")


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """One moto server process for the session; tests call ``reset()`` or use unique buckets."""
    server = start_moto_server()
    try:
        yield server
    finally:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, moto_server: MotoServer) -> MotoServer:
    """Credentials and endpoint for boto3 pointing at the moto server, for this process and children."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", TEST_SECRET_KEY)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint_url)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return moto_server


@pytest.fixture
def ecs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[EcsDouble]:
    """The ECS protocol double (tests/ecs_double.py), with the SDK's endpoint and credentials
    pointing at it, for this process and the CLI's children; no other credential source."""
    double = EcsDouble()
    with double.serving():
        monkeypatch.setenv("DEPLOYPKG_ECS_ENDPOINT", double.endpoint)
        monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", ECS_ACCESS_KEY_ID)
        monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ECS_ACCESS_KEY_SECRET)
        monkeypatch.delenv("ALIBABA_CLOUD_SECURITY_TOKEN", raising=False)
        monkeypatch.setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
        monkeypatch.setenv("ALIBABA_CLOUD_CREDENTIALS_FILE", str(tmp_path / "no-alibaba-credentials"))
        monkeypatch.setenv("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true")
        yield double


@pytest.fixture(scope="session")
def terraform_bin() -> str:
    path = shutil.which("terraform")
    if path is None:
        pytest.fail("terraform is required for the plan tests and is not on PATH")
    return path


# --- no silent skips -------------------------------------------------------------------------
# Every test here is required: a skip means a component is missing (moto server, terraform,
# pre-commit) and hides that the feature was not checked. A skipped test fails the session.

_SKIPPED: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        _SKIPPED.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _SKIPPED and exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _SKIPPED:
        terminalreporter.write_line(
            f"FAILED: {len(_SKIPPED)} test(s) skipped; every test is required (first: {_SKIPPED[0]})",
            red=True,
        )
