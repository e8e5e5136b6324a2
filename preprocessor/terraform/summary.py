"""``plan --summary``: per region the exit status, the counts of resources to add, change,
replace and destroy, and the machine-image IDs its plan carries — from ``terraform show -json``
of the plan each region saved (``-out``), in Markdown a reviewer reads in a pull request."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from preprocessor.terraform.runner import RegionResult
from providers import all_providers

PLAN_FILE = "deploypkg.tfplan"
"""The plan file deploypkg asks for when ``--summary`` is given and ``-out`` is not."""


class RegionPlan(NamedTuple):
    region: str
    exit_code: int
    failed_step: str | None
    add: int = 0
    change: int = 0
    replace: int = 0
    destroy: int = 0
    images: tuple[str, ...] = ()
    note: str = ""


def _strings(value: Any) -> Iterator[str]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _counts(document: Mapping[str, Any]) -> tuple[int, int, int, int]:
    add = change = replace = destroy = 0
    for resource in document.get("resource_changes", []):
        actions = resource.get("change", {}).get("actions", [])
        if "create" in actions and "delete" in actions:
            replace += 1
        elif "create" in actions:
            add += 1
        elif "update" in actions:
            change += 1
        elif "delete" in actions:
            destroy += 1
    return add, change, replace, destroy


def _images(document: Mapping[str, Any]) -> tuple[str, ...]:
    patterns = [p.custom_image for p in all_providers().values()]
    planned = document.get("planned_values", {})
    return tuple(sorted({s for s in _strings(planned) if any(p.fullmatch(s) for p in patterns)}))


def region_plan(result: RegionResult, work_dir: Path, terraform: str, env: Mapping[str, str], file: str) -> RegionPlan:
    base = RegionPlan(result.region, result.exit_code, result.failed_step)
    if result.failed_step is not None:
        return base._replace(note=f"{result.failed_step} failed")
    shown = subprocess.run(
        [terraform, "show", "-json", "-no-color", file],
        cwd=work_dir,
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    if shown.returncode != 0:
        return base._replace(note=f"terraform show failed: {shown.stderr.strip().splitlines()[-1:] or ['?']}")
    document = json.loads(shown.stdout)
    add, change, replace, destroy = _counts(document)
    return base._replace(add=add, change=change, replace=replace, destroy=destroy, images=_images(document))


def summary_markdown(plans: Sequence[RegionPlan], exit_code: int) -> str:
    lines = [
        "## deploypkg plan",
        "",
        f"Exit {exit_code} across {len(plans)} region(s).",
        "",
        "| region | exit | add | change | replace | destroy | image IDs in the plan |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in plans:
        if p.note:
            lines.append(f"| {p.region} | {p.exit_code} | – | – | – | – | {p.note} |")
            continue
        images = ", ".join(f"`{i}`" for i in p.images) or "–"
        lines.append(f"| {p.region} | {p.exit_code} | {p.add} | {p.change} | {p.replace} | {p.destroy} | {images} |")
    return "\n".join(lines) + "\n"
