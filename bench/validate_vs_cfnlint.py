"""Cold-process time of ``deploypkg validate`` vs ``cfn-lint`` on one small CloudFormation file.

Both tools run as their console scripts in fresh processes, interleaved (deploypkg, cfn-lint,
deploypkg, ...), so machine noise hits both alike; the medians are compared. Goal: ratio <= 0.3.

    python bench/validate_vs_cfnlint.py [--runs 15] [FILE]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SMALL_TEMPLATE = """AWSTemplateFormatVersion: '2010-09-09'
Description: A small stack with one instance and a launch template.
Parameters:
  InstanceType:
    Type: String
    Default: t3.micro
Resources:
  Web:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: ami-0123456789abcdef0
      InstanceType: !Ref InstanceType
  Template:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        ImageId: ami-0123456789abcdef0
        InstanceType: !Ref InstanceType
Outputs:
  WebId:
    Value: !Ref Web
"""
CONFIG = "provider: aws\nassociations:\n  ami-0123456789abcdef0: web-ami\n"


def _script(name: str) -> str:
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        sys.exit(f"{name} is not installed (pip install {'cfn-lint' if name == 'cfn-lint' else '-e .'})")
    return found


def _time(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", nargs="?", type=Path, help="a CloudFormation template (default: a small built-in one)")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    deploypkg, cfn_lint = _script("deploypkg"), _script("cfn-lint")
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        if args.file is None:
            target = work / "stack.yaml"
            target.write_text(SMALL_TEMPLATE, encoding="utf-8")
            (work / "deploypkg.yaml").write_text(CONFIG, encoding="utf-8")
        else:
            target = args.file.resolve()
        commands = {"deploypkg": [deploypkg, "validate", str(target)], "cfn-lint": [cfn_lint, str(target)]}
        for command in commands.values():  # warm the file-system cache and .pyc files once
            _time(command, work)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                times[name].append(_time(command, work))
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, median in medians.items():
        print(f"{name:10s} median {median * 1000:7.1f} ms  (min {min(times[name]) * 1000:.1f}, {args.runs} runs)")
    ratio = medians["deploypkg"] / medians["cfn-lint"]
    print(f"ratio deploypkg/cfn-lint = {ratio:.3f} (goal <= 0.3): {'met' if ratio <= 0.3 else 'NOT met'}")


if __name__ == "__main__":
    main()
