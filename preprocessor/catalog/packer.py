"""Image IDs from a Packer ``manifest`` post-processor file.

```json
{"builds": [{"name": "web", "builder_type": "alicloud-ecs", "build_time": 1700000000,
             "artifact_id": "cn-hangzhou:m-…,cn-beijing:m-…", "packer_run_uuid": "…"}],
 "last_run_uuid": "…"}
```

Packer appends one build entry per run to the same file; ``last_run_uuid`` names the newest run.
The first region of the first build's ``artifact_id`` is taken as the source region (Packer
lists the region the image was built in first, then its ``image_copy_regions`` / ``ami_regions``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

from preprocessor import names
from preprocessor.errors import InputError


class PackerImages(NamedTuple):
    run_uuid: str
    builder_type: str
    images: dict[str, str]
    """Region → image ID, source region first."""

    @property
    def source_region(self) -> str:
        return next(iter(self.images))


def read_manifest(path: Path, run_uuid: str | None = None) -> PackerImages:
    """The images of one run (``run_uuid``, default the manifest's ``last_run_uuid``)."""
    manifest = _load(path)
    where = str(path)
    builds = manifest.get("builds")
    if not isinstance(builds, list) or not builds:
        raise InputError(
            "the Packer manifest has no builds", file=where, hint="run packer build with the manifest post-processor"
        )
    wanted = run_uuid or manifest.get("last_run_uuid")
    if not isinstance(wanted, str) or not wanted:
        raise InputError(
            "the Packer manifest has no last_run_uuid", file=where, hint="pick a run with --packer-run-uuid UUID"
        )
    chosen = [b for b in builds if isinstance(b, dict) and b.get("packer_run_uuid") == wanted]
    if not chosen:
        runs = sorted({str(b.get("packer_run_uuid")) for b in builds if isinstance(b, dict)})
        raise InputError(
            f"the Packer manifest has no build of run {wanted}",
            file=where,
            hint=f"runs in this manifest: {', '.join(runs)}",
        )
    images: dict[str, str] = {}
    builder_types: set[str] = set()
    for index, build in enumerate(chosen):
        artifact = build.get("artifact_id")
        if not isinstance(artifact, str) or not artifact.strip():
            raise InputError(f"build {build.get('name', index)!r} has no artifact_id", file=where)
        builder_types.add(str(build.get("builder_type", "")))
        for region, image in _parse_artifact_id(artifact, where):
            if images.get(region, image) != image:
                raise InputError(
                    f"run {wanted} built two images for {region}: {images[region]} and {image}",
                    file=where,
                    hint="publish each build separately with --image REGION=ID",
                )
            images[region] = image
    return PackerImages(wanted, ",".join(sorted(builder_types)), images)


def _load(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("the Packer manifest does not exist", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the Packer manifest: {exc}", file=str(path)) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"the Packer manifest is not valid JSON: {exc.msg}", file=str(path), line=exc.lineno, column=exc.colno
        ) from None
    if not isinstance(data, dict):
        raise InputError("the Packer manifest must be a JSON object with 'builds'", file=str(path))
    return data


def _parse_artifact_id(artifact: str, where: str) -> list[tuple[str, str]]:
    pairs = []
    for item in artifact.split(","):
        region, sep, image = item.strip().partition(":")
        if not sep or not region or not image:
            raise InputError(
                f"artifact_id entry {item!r} is not REGION:IMAGE_ID",
                file=where,
                hint="only image builders (alicloud-ecs, amazon-ebs) produce region:image artifact IDs",
            )
        pairs.append((names.check("region", region), image))
    return pairs
