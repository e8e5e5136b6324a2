"""``deploypkg render``: each region's templates, artifacts and a manifest, written atomically.

Exit codes: 0 rendered; 1 validation errors or an access/availability refusal; 2 bad input.
Presigned URLs are written to the output files only, never to the terminal.
"""

from __future__ import annotations

import json
from pathlib import Path
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
    format_option,
    write_report,
)
from preprocessor.errors import DeploypkgError

FORMATS = ("text", "json")


@click.command(short_help="Write each region's templates, with image IDs and artifact URLs for that region.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--region",
    "regions",
    multiple=True,
    metavar="REGION",
    help="A region to render (repeatable; no default: give --region or --all-regions).",
)
@click.option("--all-regions", is_flag=True, help="Every configured region where all referenced packages are usable.")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output directory: DIR/<region>/…, replaced as a whole when everything succeeded.",
)
@account_option
@expires_option
@endpoint_option
@config_option
@computenest_config_option
@catalog_options
@format_option(FORMATS, "How the summary of what was written is printed.")
@click.option(
    "--summary",
    "summary_file",
    metavar="FILE",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Also write a Markdown summary for a pull request (per region: each substitution, expiries, "
    "regions left out) to FILE, or '-' for standard output.",
)
def render(
    paths: tuple[Path, ...],
    regions: tuple[str, ...],
    all_regions: bool,
    out_dir: Path,
    account: str | None,
    expires: str,
    endpoint: str,
    config: Path | None,
    computenest_config: Path | None,
    catalog_url: str | None,
    store: StoreOptions,
    output_format: str,
    summary_file: Path | None,
) -> None:
    """Render the templates in PATH… for each region into --out DIR."""
    from preprocessor.render import RenderOptions, ValidationRefused, parse_expires, render_to_directory

    options = RenderOptions(
        account=account,
        expires=parse_expires(expires),
        endpoint="internal" if endpoint == "internal" else "public",
        config=config,
        all_regions=all_regions,
        computenest_config=computenest_config,
        catalog=catalog_url,
        store=store,
    )
    try:
        report = render_to_directory(list(paths), list(regions), out_dir, options)
    except ValidationRefused as refused:
        if output_format == "json":
            click.echo(json.dumps(_refusal_json(refused), indent=2, sort_keys=True))
        else:
            from preprocessor.output import format_text

            click.echo(format_text(refused.diagnostics), err=True, nl=False)
        raise
    except DeploypkgError as error:
        if output_format == "json":
            click.echo(json.dumps({"rendered": False, "error": error.record()}, indent=2, sort_keys=True))
        raise
    if summary_file is not None:
        from preprocessor.render.summary import summary_of

        markdown = summary_of(out_dir)
        write_report(summary_file, markdown, "--summary")
    if output_format == "json":
        click.echo(json.dumps(_report_json(report), indent=2, sort_keys=True))
        return
    from preprocessor.output import diagnostic_line

    for warning in report.warnings:
        click.echo(diagnostic_line(warning), err=True)
    for region, reason in sorted(report.excluded.items()):
        click.echo(f"excluded {region}: {reason}", err=True)
    if terminal.verbose():
        timings = ", ".join(f"{phase} {seconds:.3f} s" for phase, seconds in report.seconds.items())
        terminal.detail(f"render: {timings}")
    if terminal.quiet():
        return
    for region in report.regions:
        artifacts = report.artifacts[region]
        click.echo(f"{region}: {len(report.files[region])} file(s), {len(artifacts)} artifact(s) → {out_dir / region}")
        for artifact in artifacts:
            click.echo(f"  {artifact.kind:<10} {artifact.package}@{artifact.version}: {_summary(artifact)}")
    click.echo(f"{report.substitutions} substitution(s); manifest: {out_dir / 'manifest.json'}")


def _summary(artifact: Any) -> str:
    """One line per artifact; a URL is named by its object, since a presigned one carries a
    signature and the access key ID (it is in artifacts.json)."""
    if artifact.bucket and artifact.key:
        if artifact.expires_at:
            return f"{artifact.bucket}/{artifact.key} (presigned, expires {artifact.expires_at})"
        if str(artifact.value).startswith("file:"):
            return f"{artifact.bucket}/{artifact.key} (local store: file URL)"
        return f"{artifact.bucket}/{artifact.key} (plain URL)"
    return str(artifact.value)


def _refusal_json(refused: Any) -> dict[str, Any]:
    from preprocessor.output import diagnostic_record

    return {
        "rendered": False,
        "error": refused.record(),
        "diagnostics": [diagnostic_record(d) for d in refused.diagnostics],
    }


def _report_json(report: Any) -> dict[str, Any]:
    from preprocessor.output import diagnostic_record

    return {
        "rendered": True,
        "out": str(report.out_dir),
        "regions": list(report.regions),
        "excluded_regions": report.excluded,
        "files": {region: list(files) for region, files in report.files.items()},
        "substitutions": report.substitutions,
        "artifacts": {
            region: [_shown(artifact.to_json()) for artifact in artifacts]
            for region, artifacts in report.artifacts.items()
        },
        "warnings": [diagnostic_record(warning) for warning in report.warnings],
    }


def _shown(artifact: dict[str, Any]) -> dict[str, Any]:
    """A presigned URL carries a signature and the access key ID: it goes to artifacts.json only."""
    if "expires_at" in artifact:
        artifact = {key: value for key, value in artifact.items() if key != "url"}
        artifact["url_in"] = f"{artifact['region']}/artifacts.json"
    return artifact
