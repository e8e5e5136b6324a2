"""The validate path stays light: pre-commit starts a process per batch of files.

A child process runs ``deploypkg validate`` (and ``refs``) over every fixture format and reports
which modules it imported; boto3, jinja2, rich, moto and requests must not be among them.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from helpers import REPO

FORBIDDEN = ("boto3", "botocore", "s3transfer", "jinja2", "rich", "moto", "requests", "urllib3")

PROBE = """
import json, sys
from preprocessor.cli import cli
try:
    cli.main(args=sys.argv[1:], prog_name="deploypkg", standalone_mode=False)
except SystemExit:
    pass
sys.stdout.flush()
print("\\nMODULES=" + json.dumps(sorted(sys.modules)))
"""


def _modules_after(*args: str) -> set[str]:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    marker = completed.stdout.rfind("MODULES=")
    assert marker != -1, completed.stderr
    return set(json.loads(completed.stdout[marker + len("MODULES=") :]))


@pytest.mark.parametrize("command", ["validate", "refs"])
def test_validate_and_refs_import_no_heavy_modules(command: str) -> None:
    modules = _modules_after(command, "fixtures/validate", "fixtures/alicloud", "fixtures/aws")
    heavy = sorted(m for m in modules if m.split(".")[0] in FORBIDDEN)
    assert heavy == []
    # the run really loaded every format: the HCL parser and cfn-flip's YAML loader were used
    assert {"hcl2", "cfn_tools"} <= {m.split(".")[0] for m in modules}
    assert "preprocessor.validate.scan" in modules


def test_sarif_output_imports_no_heavy_modules() -> None:
    modules = _modules_after("validate", "--format", "sarif", "fixtures/validate")
    assert sorted(m for m in modules if m.split(".")[0] in FORBIDDEN) == []
    assert "preprocessor.validate.sarif" in modules
