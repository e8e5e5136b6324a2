"""``catalog status``: a package × region matrix, the view a provider checks before releasing.

One row per version: its status (draft, published, revoked), the channels whose head it is, and
per region whether its copy is ``available``, ``copying`` (a copy under way), ``failed`` or
``missing``. The regions are the ones asked for, else every region any listed version has.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from preprocessor.catalog.model import DistributionStatus
from preprocessor.catalog.operations import PackageDetails

_STATE = {
    DistributionStatus.AVAILABLE: "available",
    DistributionStatus.DELIVERING: "copying",
    DistributionStatus.FAILED: "failed",
}
MISSING = "missing"


class StatusRow(NamedTuple):
    package: str
    version: str
    status: str
    channels: tuple[str, ...]
    regions: dict[str, str]
    """Region → available / copying / failed / missing."""


class Status(NamedTuple):
    regions: tuple[str, ...]
    rows: list[StatusRow]

    def to_json(self) -> dict[str, Any]:
        return {"regions": list(self.regions), "rows": [row._asdict() for row in self.rows]}

    def to_markdown(self) -> str:
        head = ["package", "version", "status", "channels", *self.regions]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for row in self.rows:
            cells = [row.package, row.version, row.status, ", ".join(row.channels) or "–"]
            cells += [row.regions[r] for r in self.regions]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"


def status(details: Iterable[PackageDetails], regions: Sequence[str] = (), order: Sequence[str] = ()) -> Status:
    """The matrix; ``order`` is the catalog's promotion order, which the channels follow."""
    listed = list(details)
    shown = tuple(dict.fromkeys(regions)) or tuple(
        sorted({r for d in listed for v in d.versions for r in v.distributions})
    )
    rows = []
    for package in listed:
        heads: dict[str, list[str]] = {}
        rank = {name: index for index, name in enumerate(order)}
        for channel in sorted(package.channels, key=lambda c: (rank.get(c.name, len(rank)), c.name)):
            heads.setdefault(channel.version, []).append(channel.name)
        for version in package.versions:
            cells = {}
            for region in shown:
                found = version.distributions.get(region)
                cells[region] = _STATE[found.status] if found is not None else MISSING
            rows.append(
                StatusRow(
                    package.package.name,
                    version.version,
                    version.status.value,
                    tuple(heads.get(version.version, ())),
                    cells,
                )
            )
    return Status(shown, rows)
