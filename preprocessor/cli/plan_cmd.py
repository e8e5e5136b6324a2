"""``deploypkg plan [DIR] --region R … [-- TERRAFORM_ARGS…]``."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import click

from preprocessor.catalog.opening import StoreOptions
from preprocessor.cli import terminal
from preprocessor.cli.options import (
    account_option,
    catalog_options,
    computenest_config_option,
    config_option,
    endpoint_option,
    expires_option,
    write_report,
)
from preprocessor.terraform import PlanOptions, PlanReport
from preprocessor.terraform import plan as run_plan
from preprocessor.terraform.output import PrefixedOutput

_TERRAFORM_ARGS = "terraform_args"
INTERRUPTED = 130  # 128 + SIGINT, as shells report it


class _PlanCommand(click.Command):
    """Everything after the first ``--`` goes to ``terraform plan`` untouched (click would
    otherwise take the first of those arguments as DIR)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            cut = args.index("--")
            ctx.meta[_TERRAFORM_ARGS] = tuple(args[cut + 1 :])
            args = args[:cut]
        return super().parse_args(ctx, args)


def _terminated(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _summary(report: PlanReport, terraform_args: tuple[str, ...]) -> None:
    detailed = "-detailed-exitcode" in terraform_args or "--detailed-exitcode" in terraform_args
    terminal.detail(f"deploypkg: rendered every region in {report.render_seconds:.1f}s into {report.work_root}")
    if report.plugin_cache is not None:
        terminal.detail(f"deploypkg: terraform plugin cache {report.plugin_cache}")
    for result in report.results:
        click.echo(
            f"deploypkg: plan {result.region}: {result.describe(detailed)} "
            f"(init {result.init_seconds:.1f}s, plan {result.plan_seconds:.1f}s) "
            f"in {report.work_root / result.region}",
            err=True,
        )
    click.echo(f"deploypkg: plan exit code {report.exit_code} (1 beats 2 beats 0 across regions)", err=True)


@click.command(
    cls=_PlanCommand,
    epilog="Arguments after -- go to terraform plan in every region (e.g. -- -out=plan.tfplan -detailed-exitcode).",
)
@click.argument(
    "directory", metavar="[DIR]", required=False, default=".", type=click.Path(path_type=Path, file_okay=False)
)
@click.option(
    "-r",
    "--region",
    "regions",
    multiple=True,
    metavar="REGION",
    help="Region to plan (repeatable; no default: give --region or --all-regions).",
)
@click.option("--all-regions", is_flag=True, help="Every region where all referenced packages are available.")
@account_option
@config_option
@computenest_config_option
@catalog_options
@click.option(
    "--work-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Parent of the region work directories [default: DIR/.deploypkg/plan].",
)
@click.option("--parallel", type=click.IntRange(min=1), default=1, show_default=True, help="Regions planned at once.")
@expires_option
@endpoint_option
@click.option("--terraform", "terraform", metavar="PATH", help="The terraform binary [default: $TERRAFORM, or PATH].")
@click.option(
    "--summary",
    "summary_file",
    metavar="FILE",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Also write a Markdown summary (per region: exit, resources to add/change/replace/destroy, image IDs) "
    "to FILE or '-'; saves each plan (-out=deploypkg.tfplan unless -out is given).",
)
@click.pass_context
def plan(
    ctx: click.Context,
    directory: Path,
    regions: tuple[str, ...],
    all_regions: bool,
    account: str | None,
    config: Path | None,
    computenest_config: Path | None,
    catalog_url: str | None,
    store: StoreOptions,
    work_dir: Path | None,
    parallel: int,
    expires: str,
    endpoint: str,
    terraform: str | None,
    summary_file: Path | None,
) -> None:
    """Render the Terraform module at DIR per region and run terraform init and plan in each.

    Output is streamed prefixed with the region. Exit code: with -detailed-exitcode, 0 no
    changes, 2 changes in some region, 1 a failure in any region (1 beats 2 beats 0);
    errors before terraform runs (bad input, render refusals) keep deploypkg's codes.
    """
    from preprocessor.render import ValidationRefused, parse_expires

    terraform_args = tuple(ctx.meta.get(_TERRAFORM_ARGS, ()))
    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")  # --no-color sets NO_COLOR
    if not color and "-no-color" not in terraform_args:
        terraform_args += ("-no-color",)  # escape codes in a prefixed, piped stream are noise
    options = PlanOptions(
        regions=regions,
        all_regions=all_regions,
        account=account,
        config=config,
        computenest_config=computenest_config,
        catalog=catalog_url,
        store=store,
        work_dir=work_dir,
        parallel=parallel,
        terraform=terraform,
        terraform_args=terraform_args,
        expires=parse_expires(expires),
        endpoint=endpoint,
        summary=summary_file is not None,
    )
    previous: Any = None
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread:
        previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        report = run_plan(directory, options, PrefixedOutput(sys.stdout, sys.stderr))
    except ValidationRefused as refused:
        from preprocessor.output import format_text

        click.echo(format_text(refused.diagnostics), err=True, nl=False)
        raise
    except KeyboardInterrupt:
        # Children are stopped by now; click's standalone mode would turn this into "Aborted!" / exit 1.
        click.echo("deploypkg: interrupted", err=True)
        ctx.exit(INTERRUPTED)
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
    _summary(report, options.terraform_args)
    if summary_file is not None and report.plans is not None:
        from preprocessor.terraform.summary import summary_markdown

        markdown = summary_markdown(report.plans, report.exit_code)
        write_report(summary_file, markdown, "--summary")
    ctx.exit(report.exit_code)
