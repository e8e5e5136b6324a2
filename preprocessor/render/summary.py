"""``render --summary``: what changed where, as Markdown a reviewer reads in a pull request.

Made from what render wrote (``manifest.json`` and each region's ``artifacts.json``), so it
says exactly what the output holds: per region a table of substitutions (file:line, the
resource and property, old → new, package@version and channel), the artifacts' expiries, and
the regions left out with why. A region with more rows than ``ROWS_SHOWN`` has them in a
collapsed ``<details>`` block; a presigned URL is shown without its signature.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from preprocessor.render.output import ARTIFACTS_NAME, MANIFEST_NAME

ROWS_SHOWN = 15
"""Rows per region shown open; the rest are collapsed."""
VALUE_WIDTH = 60


def _cell(text: object) -> str:
    """Text safe in a Markdown table cell: pipes and backticks escaped, one line."""
    shown = str(text).replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`")
    return " ".join(shown.split())


def _value(text: str) -> str:
    """An artifact value as shown: a URL without its query (a signature is noise in a review)."""
    if "://" in text:
        parts = urlsplit(text)
        if parts.query:
            text = f"{parts.scheme}://{parts.netloc}{parts.path} (presigned)"
    if len(text) > VALUE_WIDTH:
        text = f"…{text[-(VALUE_WIDTH - 1) :]}"
    return f"`{_cell(text)}`"


def _channels(artifacts: list[dict[str, Any]]) -> dict[str, str]:
    return {f"{a['package']}@{a['version']}": a["channel"] for a in artifacts if a.get("channel")}


def _table(substitutions: list[dict[str, Any]], channels: Mapping[str, str]) -> list[str]:
    lines = ["| where | resource · property | old → new | package |", "|---|---|---|---|"]
    for sub in substitutions:
        where = f"{sub['file']}:{sub.get('line', '')}"
        place = " · ".join(_cell(sub[k]) for k in ("resource", "property") if sub.get(k)) or "–"
        package = sub.get("package", "")
        channel = channels.get(package)
        named = f"{_cell(package)} ({_cell(channel)})" if channel else _cell(package)
        lines.append(f"| {_cell(where)} | {place} | {_value(sub['old'])} → {_value(sub['new'])} | {named} |")
    return lines


def summary_markdown(manifest: Mapping[str, Any], artifacts: Mapping[str, list[dict[str, Any]]]) -> str:
    regions: Mapping[str, Any] = manifest.get("regions", {})
    excluded: Mapping[str, str] = manifest.get("excluded_regions", {})
    total = sum(len(r.get("substitutions", [])) for r in regions.values())
    out = [
        "## deploypkg render",
        "",
        f"{total} substitution(s) in {len(regions)} region(s)"
        + (f"; {len(excluded)} region(s) left out" if excluded else "")
        + ".",
    ]
    for name, region in regions.items():
        substitutions = region.get("substitutions", [])
        region_artifacts = artifacts.get(name, [])
        channels = _channels(region_artifacts)
        out += [
            "",
            f"### {_cell(name)}: {len(substitutions)} substitution(s) in {len(region.get('files', []))} file(s)",
        ]
        if not substitutions:
            out += ["", "Nothing substituted: the files are copied as they are."]
            continue
        table = _table(substitutions, channels)
        out += ["", *table[: 2 + ROWS_SHOWN]]
        rest = table[2 + ROWS_SHOWN :]
        if rest:
            out += ["", f"<details><summary>{len(rest)} more</summary>", "", *table[:2], *rest, "", "</details>"]
        expiring = sorted({(a["expires_at"], a["package"]) for a in region_artifacts if a.get("expires_at")})
        if expiring:
            soonest = expiring[0][0]
            out += ["", f"Presigned URLs expire from {soonest} (" + ", ".join(p for _, p in expiring) + ")."]
    if excluded:
        out += ["", "### Left out", "", "| region | why |", "|---|---|"]
        out += [f"| {_cell(region)} | {_cell(reason)} |" for region, reason in sorted(excluded.items())]
    return "\n".join(out) + "\n"


def summary_of(out_dir: Path) -> str:
    """The summary of the render in ``out_dir``."""
    manifest = json.loads((out_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    artifacts = {
        region: json.loads((out_dir / region / ARTIFACTS_NAME).read_text(encoding="utf-8"))["artifacts"]
        for region in manifest.get("regions", {})
    }
    return summary_markdown(manifest, artifacts)
