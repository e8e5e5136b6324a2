"""``deploypkg refs``: the inventory of image references and artifact placeholders.

A file that cannot be read or parsed is reported on standard error, the others are still
listed, and the exit code is 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from preprocessor.cli.options import computenest_config_option, config_option, format_option, note_skipped_files
from preprocessor.model import ImageRef, Placeholder
from preprocessor.output import diagnostic_line, location, printable


def ref_record(ref: ImageRef) -> dict[str, object]:
    return {
        "file": ref.file,
        "line": ref.span.line,
        "column": ref.span.column,
        "end_line": ref.span.end_line,
        "end_column": ref.span.end_column,
        "resource": ref.resource,
        "resource_type": ref.resource_type,
        "property": ref.property,
        "kind": ref.kind.value,
        "role": ref.role.value,
        "value": ref.value,
    }


def placeholder_record(placeholder: Placeholder) -> dict[str, object]:
    return {
        "file": placeholder.file,
        "line": placeholder.span.line,
        "column": placeholder.span.column,
        "end_line": placeholder.span.end_line,
        "end_column": placeholder.span.end_column,
        "resource": placeholder.resource,
        "resource_type": placeholder.resource_type,
        "property": placeholder.property,
        "kind": "placeholder",
        "value": placeholder.name,
        "placeholder_type": placeholder.placeholder_type,
    }


def _text_line(record: dict[str, object]) -> str:
    kind = record["kind"]
    if kind == "placeholder":
        kind = f"placeholder:{record['placeholder_type']}"
    elif record.get("role") == "container_image":
        kind = f"{kind}:container"
    where = f"{record['resource_type']} {record['resource']} {record['property']}" if record["resource"] else "-"
    place = location(str(record["file"]), int(str(record["line"])), int(str(record["column"])))
    return f"{place}: " + printable(f"{kind} {where} {record['value']}")


@click.command(short_help="List every image reference and artifact placeholder with its position.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@format_option(["text", "json"], "text: one reference a line; json: a list of records with exact positions.")
@config_option
@computenest_config_option
@click.pass_context
def refs(
    ctx: click.Context,
    paths: tuple[Path, ...],
    output_format: str,
    config: Path | None,
    computenest_config: Path | None,
) -> None:
    """List the image references and placeholders of the templates in PATH…"""
    from preprocessor.validate.scan import defect_diagnostics, load_all

    note_skipped_files(paths)
    records: list[tuple[str, int, dict[str, object]]] = []
    failed = False
    for loaded in load_all(list(paths), config, computenest_config):
        if loaded.failure is not None:
            failure = loaded.failure
            click.echo(diagnostic_line(failure), err=True)
            failed = True
            continue
        assert loaded.template is not None
        for defect in defect_diagnostics(loaded.template):  # reported; the rest is still listed
            click.echo(diagnostic_line(defect), err=True)
            failed = True
        for ref in loaded.template.image_refs:
            records.append((ref.file, ref.span.start, ref_record(ref)))
        for placeholder in loaded.template.placeholders:
            records.append((placeholder.file, placeholder.span.start, placeholder_record(placeholder)))
    records.sort(key=lambda item: (item[0], item[1]))
    listed = [record for _, _, record in records]
    if output_format == "json":
        click.echo(json.dumps(listed, indent=2, ensure_ascii=False))
    else:
        for record in listed:
            click.echo(_text_line(record))
    ctx.exit(2 if failed else 0)
