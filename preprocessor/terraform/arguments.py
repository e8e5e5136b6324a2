"""Checks on the arguments passed through to ``terraform plan``."""

from __future__ import annotations

import os
from collections.abc import Sequence

from preprocessor.errors import InputError

# Global options that must come before the subcommand; deploypkg chooses the directory itself.
_GLOBAL_ONLY = ("-chdir",)


def _flag_value(args: Sequence[str], index: int, name: str) -> str | None:
    """The value of ``-name=value`` / ``--name=value`` / ``-name value`` at ``args[index]``."""
    arg = args[index]
    for dashes in ("-", "--"):
        flag = dashes + name
        if arg.startswith(flag + "="):
            return arg[len(flag) + 1 :]
        if arg == flag and index + 1 < len(args):
            return args[index + 1]
    return None


def plan_file(args: Sequence[str]) -> str | None:
    """The file ``-out`` (any of its spellings) names, if the arguments give one."""
    for index in range(len(args)):
        out = _flag_value(args, index, "out")
        if out is not None:
            return out
    return None


def check_plan_arguments(args: Sequence[str], region_count: int) -> None:
    """Refuse arguments that cannot work per region (exit 2), before anything runs.

    Paths in the arguments are relative to each region's work directory, where terraform runs;
    an absolute ``-out`` would be written by every region in turn, the last one winning.
    """
    for index, arg in enumerate(args):
        for name in _GLOBAL_ONLY:
            if arg.lstrip("-").split("=", 1)[0] == name.lstrip("-"):
                raise InputError(
                    f"{arg} is a global terraform option; deploypkg runs terraform in each region's work directory",
                    hint="remove it; choose the work directories with --work-dir",
                )
        out = _flag_value(args, index, "out")
        if out is not None and os.path.isabs(out) and region_count > 1:
            raise InputError(
                f"-out={out} is an absolute path: every region would write its plan to the same file",
                hint="use a relative path such as -out=plan.tfplan; it is written in each region's work directory",
            )
