"""``deploypkg validate``: offline checks, for people, pre-commit and code scanning.

Exit codes: 0 nothing at or above ``--fail-on``; 1 findings at or above it; 2 bad input —
a file that cannot be read (DPK002), does not parse (DPK001) or is not a well-formed template
(DPK003), still reported with every other finding — bad usage, or a bad config. Bad input exits 2
in every command (refs and render agree), whatever ``--fail-on`` says.
"""

from __future__ import annotations

from pathlib import Path

import click

from preprocessor.cli.options import (
    computenest_config_option,
    config_option,
    format_option,
    note_missing_config,
    note_skipped_files,
    write_atomically,
)
from preprocessor.output import FORMATS as REPORT_FORMATS
from preprocessor.rules import BAD_INPUT_RULES, Severity

FORMATS = tuple(REPORT_FORMATS)
"""Findings that mean the input itself is bad: exit 2, as everywhere in deploypkg."""


@click.command(short_help="Check templates offline: image IDs must be literals, associations must exist.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@format_option(
    FORMATS,
    "text: file:line:col lines; json: a list of findings; sarif: SARIF 2.1.0 for code scanning; "
    "junit: JUnit XML (a testcase per file); gitlab: GitLab Code Quality JSON.",
)
@click.option(
    "--fail-on",
    type=click.Choice([s.value for s in Severity]),
    default="error",
    show_default=True,
    help="Exit 1 when a finding has this severity or a higher one.",
)
@config_option
@computenest_config_option
@click.option(
    "--output-file",
    "output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the report to this file (atomically) instead of standard output.",
)
@click.option(
    "--also-text",
    is_flag=True,
    help="With --output-file: also print the findings as text on standard output.",
)
@click.option(
    "--output",
    "-o",
    "old_output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    hidden=True,
    help="Deprecated spelling of --output-file.",
)
@click.pass_context
def validate(
    ctx: click.Context,
    paths: tuple[Path, ...],
    output_format: str,
    fail_on: str,
    config: Path | None,
    computenest_config: Path | None,
    output: Path | None,
    also_text: bool,
    old_output: Path | None,
) -> None:
    """Check the templates in PATH… (files, or directories scanned recursively).

    Exit status: 0 no finding at or above --fail-on; 1 findings at or above it; 2 a file that
    cannot be read or parsed (DPK001-DPK003, reported with the others), bad usage or a bad config.
    Every rule and how to suppress it: docs/rules.md.
    """
    from preprocessor.validate.scan import scan

    if old_output is not None:
        click.echo("note: -o/--output is deprecated and goes in a later release; use --output-file", err=True)
        output = output or old_output

    note_skipped_files(paths)
    result = scan(list(paths), config, computenest_config)
    note_missing_config(paths, config, [d.hint for d in result.diagnostics])
    from preprocessor.output import formatter

    report = formatter(output_format)(result.diagnostics, result.checked)
    if output is None:
        if also_text:
            raise click.UsageError("--also-text prints text beside the report that --output-file writes")
        click.echo(report, nl=False)
    else:
        write_atomically(output, report)
        if also_text:
            click.echo(formatter("text")(result.diagnostics, result.checked), nl=False)
    threshold = Severity(fail_on).rank
    if result.unreadable or any(d.rule_id in BAD_INPUT_RULES for d in result.diagnostics):
        ctx.exit(2)
    ctx.exit(1 if any(d.severity.rank >= threshold for d in result.diagnostics) else 0)
