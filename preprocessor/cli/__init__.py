"""The ``deploypkg`` command: a thin layer that parses arguments, calls the library and maps
errors to exit codes (0 clean, 1 findings or policy failures, 2 bad input or usage).

Subcommands are imported only when invoked, so ``deploypkg validate`` never pays for boto3,
jinja2 or rich.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from preprocessor import __version__
from preprocessor.cli.terminal import with_terminal_options
from preprocessor.errors import DeploypkgError

# name -> "module:attribute" of a click command
SUBCOMMANDS: dict[str, str] = {
    "validate": "preprocessor.cli.validate_cmd:validate",
    "refs": "preprocessor.cli.refs_cmd:refs",
    "catalog": "preprocessor.cli.catalog_cmd:catalog",
    "render": "preprocessor.cli.render_cmd:render",
    "plan": "preprocessor.cli.plan_cmd:plan",
}

SUMMARIES: dict[str, str] = {
    "validate": "Check templates offline: image IDs must be literals, associations must exist.",
    "refs": "List every image reference and artifact placeholder with its position.",
    "catalog": "Publish, distribute, release and promote package versions; manage services.",
    "render": "Write each region's templates, with image IDs and artifact URLs for that region.",
    "plan": "Render a Terraform module per region and run terraform plan on each.",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return with_terminal_options(command)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        # click suggests a close name only from commands it has loaded; ours load lazily.
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in SUBCOMMANDS:
            import difflib

            close = difflib.get_close_matches(name, list(SUBCOMMANDS), n=1)
            ctx.fail(f"No such command {name!r}." + (f" Did you mean {close[0]!r}?" if close else ""))
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl(list(SUMMARIES.items()))


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="deploypkg")
def cli() -> None:
    """Region-aware deployment packages for ROS, CloudFormation and Terraform templates."""


with_terminal_options(cli)


def report_error(error: DeploypkgError) -> None:
    click.echo(f"deploypkg: {error.render()}", err=True)


def main(argv: list[str] | None = None) -> None:
    try:
        # standalone_mode=False: click would turn Ctrl-C into "Aborted!" with exit 1; we keep 130.
        result = cli.main(args=argv, prog_name="deploypkg", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("deploypkg: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except DeploypkgError as error:
        report_error(error)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        click.echo("deploypkg: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        # the reader went away (`deploypkg refs . | head`): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except Exception as error:  # the last line of defence: a message, never a traceback
        if os.environ.get("DEPLOYPKG_DEBUG"):
            raise
        click.echo(
            f"deploypkg: internal error: {type(error).__name__}: {error}\n"
            "  hint: this is a bug in deploypkg; rerun with DEPLOYPKG_DEBUG=1 for details and report it",
            err=True,
        )
        sys.exit(3)
    # ctx.exit(code) comes back as the return value when standalone_mode is off
    sys.exit(result if isinstance(result, int) else 0)
