"""Terminal manners shared by every command: ``-q/--quiet`` (results and errors only: no notes,
no progress), ``-v/--verbose`` (also what deploypkg did and how long it took) and ``--no-color``
(as ``NO_COLOR``, which rich and terraform's output follow). Given before or after the command
name, they mean the same everywhere."""

from __future__ import annotations

import os
from typing import TypeVar

import click

C = TypeVar("C", bound=click.Command)

_level = {"value": 0}
"""-1 quiet, 0 normal, 1 verbose (one process runs one command)."""


def quiet() -> bool:
    return _level["value"] < 0


def verbose() -> bool:
    return _level["value"] > 0


def note(message: str) -> None:
    """An informational line on standard error, unless ``--quiet``."""
    if not quiet():
        click.echo(message, err=True)


def detail(message: str) -> None:
    """A line on standard error with ``--verbose`` only."""
    if verbose():
        click.echo(message, err=True)


def _set_quiet(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value:
        if verbose():
            raise click.UsageError("give either --quiet or --verbose, not both", ctx=ctx)
        _level["value"] = -1
    return value


def _set_verbose(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value:
        if quiet():
            raise click.UsageError("give either --quiet or --verbose, not both", ctx=ctx)
        _level["value"] = 1
    return value


def _set_no_color(_ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value:
        os.environ["NO_COLOR"] = "1"  # rich reads it; plan passes -no-color to terraform for it
    return value


def _options() -> list[click.Option]:
    return [
        click.Option(
            ["-q", "--quiet"], is_flag=True, expose_value=False, is_eager=True, callback=_set_quiet,
            help="Results and errors only: no notes, no progress.",
        ),
        click.Option(
            ["-v", "--verbose"], is_flag=True, expose_value=False, is_eager=True, callback=_set_verbose,
            help="Also say what was done and how long it took.",
        ),
        click.Option(
            ["--no-color", "terminal_no_color"], is_flag=True, expose_value=False, is_eager=True,
            callback=_set_no_color, help="No colour (as NO_COLOR=1); colour is only ever used on a terminal.",
        ),
    ]  # fmt: skip


def with_terminal_options(command: C) -> C:
    """``command`` (and, for a group, every command in it) with the three options, once."""
    if any(param.name == "quiet" for param in command.params):
        return command
    command.params.extend(_options())
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            with_terminal_options(sub)
    return command
