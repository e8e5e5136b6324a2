"""Render benchmark: N templates × R regions against a moto server on 127.0.0.1.

Publishes a catalog into the moto server (an AMI with a copy per region reached through a
channel, a file distributed to every regional bucket), generates N templates from the aws
fixtures (CloudFormation YAML and JSON, Terraform), then prints, side by side in one run:

- render time ÷ validate time of the same files (goal ≤ 1.5): medians of ``--repeat`` runs in
  which validate, render and a plain-Python write of render's output files (the write floor)
  are interleaved, with the median render's phases (load, validate, resolve, splice, check,
  manifest, write) and where the ratio goes, part by part, against what no renderer of this
  design can go below (load + one re-parse per template + the write floor);
- the number of object-store requests render makes (counted with botocore event hooks on every
  client), next to the number of distinct catalog documents and objects it needs (goal: equal,
  so independent of the template count; regions add only their own objects).

Writing R×N small files dominates on a slow or shared disk and varies from run to run by whole
seconds; ``--scratch /dev/shm`` (tmpfs) shows render's own work without that noise.

    python bench/render.py                       # 50/200 templates × 5/20 regions
    python bench/render.py --templates 200 --regions 20 --repeat 5 [--scratch /dev/shm]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from motoserver import moto_server, use_moto

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "fixtures" / "aws" / "templates"
REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1", "eu-west-1",
    "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-1", "ap-south-1",
    "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
    "ap-east-1", "me-south-1",
)  # fmt: skip
SOURCE_AMI = "ami-0123456789abcdef0"


class RequestCounter:
    """Counts every HTTP request any botocore client in this process sends, by operation."""

    def __init__(self) -> None:
        self.operations: Counter[str] = Counter()
        self.enabled = False

    def install(self) -> None:
        import boto3.session

        original = boto3.session.Session.client
        counter = self

        def client(session: Any, *args: Any, **kwargs: Any) -> Any:
            made = original(session, *args, **kwargs)
            made.meta.events.register("before-call", counter._before_call)
            made.meta.events.register("before-send", counter._before_send)
            return made

        boto3.session.Session.client = client  # type: ignore[method-assign]

    def _before_call(self, model: Any, **_: Any) -> None:
        if self.enabled:
            self.operations[model.name] += 1

    def _before_send(self, request: Any, **_: Any) -> None:
        if self.enabled:
            self.operations["HTTP requests"] += 1


def publish_catalog(url: str, regions: tuple[str, ...], work: Path) -> None:
    from preprocessor.catalog import operations
    from preprocessor.catalog.model import PackageType, Visibility
    from preprocessor.catalog.opening import open_store

    store = open_store(url)
    bucket = url.removeprefix("s3://").split("/", 1)[0]
    store.create_bucket("us-east-1", bucket)  # type: ignore[attr-defined]
    pattern = f"bench-art-{uuid.uuid4().hex[:8]}-{{region}}"
    operations.init(store, "aws", pattern)
    for region in regions:
        store.create_bucket(region, pattern.format(region=region))  # type: ignore[attr-defined]
    bundle = work / "app-bundle.tar.gz"
    bundle.write_bytes(os.urandom(64 * 1024))
    operations.publish(
        store, operations.PublishRequest("app-bundle", "1.0.0", PackageType.FILE, region=regions[0], file=bundle)
    )
    operations.distribute(store, "app-bundle", "1.0.0", list(regions[1:]))
    operations.release(store, "app-bundle", "1.0.0")
    images = {region: f"ami-{index:017x}" if index else SOURCE_AMI for index, region in enumerate(regions)}
    operations.publish(store, operations.PublishRequest("web-ami", "1.0.0", PackageType.ECS_IMAGE, images=images))
    operations.release(store, "web-ami", "1.0.0")
    for channel in ("dev", "test", "prod"):
        operations.promote(store, "web-ami", "1.0.0", channel)
    operations.service(store, "demo-service", Visibility.PUBLIC, packages=["web-ami", "app-bundle"])


def make_project(root: Path, url: str, templates: int, regions: tuple[str, ...]) -> Path:
    root.mkdir(parents=True)
    (root / "deploypkg.yaml").write_text(
        f"provider: aws\ncatalog: {url}\nregions: [{', '.join(regions)}]\n"
        f"associations:\n  {SOURCE_AMI}: web-ami#prod\n  app-bundle: app-bundle\n"
    )
    seeds = [SEEDS / "cfn-web.yaml", SEEDS / "cfn-fleet.json", SEEDS / "main.tf"]
    directory = root / "templates"
    for index in range(templates):
        seed = seeds[index % len(seeds)]
        target = directory / f"stack{index // 50:02d}" / f"t{index:03d}-{seed.name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(seed, target)
    return directory


def timed(function: Any, *args: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def read_outputs(out: Path) -> list[tuple[str, bytes]]:
    return [(path.relative_to(out).as_posix(), path.read_bytes()) for path in sorted(out.rglob("*")) if path.is_file()]


def settle() -> None:
    """Flush dirty pages and pending deletes (ext4 mounted with ``discard`` trims on commit) so
    that no measurement pays for the one before it."""
    os.sync()


def write_floor(files: list[tuple[str, bytes]], scratch: Path) -> float:
    """Seconds this filesystem takes just to write render's output files (same paths, same bytes,
    each directory made once, each file one os.open/os.write/os.close): the floor under any
    renderer that writes R copies of N templates."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    root = str(scratch)
    paths = [(os.path.join(root, relative), data) for relative, data in files]
    start = time.perf_counter()
    for directory in sorted({os.path.dirname(path) for path, _ in paths}):
        os.makedirs(directory, exist_ok=True)
    for path, data in paths:
        descriptor = os.open(path, flags, 0o666)
        os.write(descriptor, data)
        os.close(descriptor)
    return time.perf_counter() - start


def store_setup_seconds(url: str, regions: int) -> float:
    """What a render pays before its first request: a new boto3 session (its service model is
    loaded per session) and one client per region (SigV4 scopes are per region)."""
    from preprocessor.catalog.opening import open_store

    store = open_store(url)
    start = time.perf_counter()
    for region in REGIONS[:regions]:
        store.client(region)  # type: ignore[attr-defined]
    return time.perf_counter() - start


def run_case(
    url: str, base: Path, templates: int, regions: tuple[str, ...], counter: RequestCounter, repeat: int
) -> dict[str, Any]:
    """Validate, render and the write floor, interleaved ``repeat`` times (so a load swing on a
    shared machine hits all three); medians reported. Every render writes a fresh directory, and
    the previous one is removed outside the timings."""
    import json

    from preprocessor.project import clear_cache
    from preprocessor.render import RenderOptions, render_to_directory
    from preprocessor.validate.scan import scan

    name = f"{templates}x{len(regions)}"
    directory = make_project(base / f"p{name}", url, templates, regions)
    validates: list[float] = []
    renders: list[float] = []
    floors: list[float] = []
    phases: list[dict[str, float]] = []
    report: Any = None
    requests: Counter[str] = Counter()
    files: list[tuple[str, bytes]] = []
    out = base / f"out{name}"

    def measure_floor(attempt: int) -> None:
        settle()
        floors.append(write_floor(files, base / f"floor{name}-{attempt}"))

    for attempt in range(repeat):
        # The floor goes first in every other run: on a shared disk the first burst of writes
        # after the previous run's deletes tends to be the slow one.
        floor_first = attempt % 2 == 1
        if floor_first:
            measure_floor(attempt)
        settle()
        clear_cache()
        validate_seconds, result = timed(scan, [directory], None)
        assert not any(d.severity.value == "error" for d in result.diagnostics), result.diagnostics
        validates.append(validate_seconds)
        settle()
        clear_cache()
        out = base / f"out{name}-{attempt}"
        counter.operations.clear()
        counter.enabled = True
        render_seconds, report = timed(render_to_directory, [directory], list(regions), out, RenderOptions())
        counter.enabled = False
        if attempt == 0:
            requests = Counter(counter.operations)
            files = read_outputs(out)  # later renders differ only in signatures
        renders.append(render_seconds)
        phases.append(getattr(report, "seconds", {}))  # (renders from before phases were timed have none)
        if not floor_first:
            measure_floor(attempt)
        shutil.rmtree(base / f"floor{name}-{attempt}")
        if attempt + 1 < repeat:
            shutil.rmtree(out)
    manifest = json.loads((out / "manifest.json").read_text())
    documents = sum(len(catalog["documents"]) for catalog in manifest["catalogs"])
    objects = sum(1 for artifacts in report.artifacts.values() for a in artifacts if a.kind in ("file", "publicfile"))
    shutil.rmtree(out)
    return {
        "templates": templates,
        "regions": len(regions),
        "outputs": len(files),
        "validate": statistics.median(validates),
        "fastest": (min(validates), min(renders), min(floors)),
        "render": statistics.median_low(renders),
        "floor": statistics.median(floors),
        # The phases of the median render (not per-phase medians, which need not add up).
        "phases": phases[renders.index(statistics.median_low(renders))],
        "requests": requests["HTTP requests"],
        "by_operation": {k: v for k, v in sorted(requests.items()) if k != "HTTP requests"},
        "needed": documents + objects + requests["ListObjectsV2"],
        "documents": documents,
        "objects": objects,
    }


def breakdown(row: dict[str, Any]) -> str:
    phases, validate = row["phases"], row["validate"]
    floor = phases["load"] + phases["check"] + row["floor"]
    above_floor = phases["write"] - row["floor"]
    measured = sum(phases.values())
    return (
        f"{row['templates']:>4} × {row['regions']:>2}: {row['render'] / validate:5.2f} = floor {floor / validate:.2f} "
        f"(load {phases['load'] / validate:.2f} + check {phases['check'] / validate:.2f} + write floor "
        f"{row['floor'] / validate:.2f}) + resolve {phases['resolve'] / validate:.2f} + splice "
        f"{phases['splice'] / validate:.2f} + manifest {phases['manifest'] / validate:.2f} + validate rules "
        f"{phases['validate'] / validate:.2f} + write above floor {above_floor / validate:.2f} + unaccounted "
        f"{(row['render'] - measured) / validate:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--templates", type=int, nargs="*", default=[50, 200])
    parser.add_argument("--regions", type=int, nargs="*", default=[5, 20])
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs per case (medians reported)")
    parser.add_argument(
        "--scratch", type=Path, default=None, help="where projects and outputs go (default: the system temp dir)"
    )
    args = parser.parse_args()
    with moto_server() as endpoint, tempfile.TemporaryDirectory(prefix="deploypkg-bench-", dir=args.scratch) as scratch:
        use_moto(endpoint)
        counter = RequestCounter()
        counter.install()
        base = Path(scratch)
        url = f"s3://bench-catalog-{uuid.uuid4().hex[:8]}/catalog"
        most = max(args.regions)
        publish_catalog(url, REGIONS[:most], base)
        # Warm-up (imports, parser tables) so neither side pays one-time costs.
        run_case(url, base / "warm", 3, REGIONS[:1], counter, 1)
        print(f"median of {args.repeat} interleaved runs per case; seconds unless marked")
        print(f"{'templates':>9} {'regions':>7} {'outputs':>7} {'validate':>8} {'render':>7} "
              f"{'render/validate':>15} {'write floor':>11} {'floor/validate':>14} {'(render-floor)/validate':>23} "
              f"{'requests':>8} {'needed':>6}")  # fmt: skip
        rows = []
        for templates in args.templates:
            for regions in args.regions:
                row = run_case(url, base, templates, REGIONS[:regions], counter, args.repeat)
                rows.append(row)
                ratio = row["render"] / row["validate"]
                own = (row["render"] - row["floor"]) / row["validate"]
                print(
                    f"{row['templates']:>9} {row['regions']:>7} {row['outputs']:>7} {row['validate']:>8.3f} "
                    f"{row['render']:>7.3f} {ratio:>15.2f} {row['floor']:>11.3f} "
                    f"{row['floor'] / row['validate']:>14.2f} {own:>23.2f} {row['requests']:>8} {row['needed']:>6}"
                )
                fastest_validate, fastest_render, fastest_floor = row["fastest"]
                print(
                    f"    fastest runs: validate {fastest_validate:.3f}, render {fastest_render:.3f} "
                    f"(÷ validate {fastest_render / fastest_validate:.2f}), write floor {fastest_floor:.3f} "
                    "(interference on a shared machine only ever adds time)"
                )
                print(
                    "    render phases: "
                    + ", ".join(f"{phase} {seconds:.3f}" for phase, seconds in row["phases"].items())
                    + f"; requests by operation {row['by_operation']} (needed: {row['documents']} documents "
                    f"+ {row['objects']} objects + {row['by_operation'].get('ListObjectsV2', 0)} listings)"
                )
        setup = store_setup_seconds(url, regions=max(args.regions))
        print(
            f"\nfixed cost inside every render (part of its resolve phase): a fresh S3 store's boto3 session and "
            f"first client, plus one client per further region: {setup:.3f} s for {max(args.regions)} regions"
        )
        worst = max(row["render"] / row["validate"] for row in rows)
        print(f"\nworst render/validate ratio: {worst:.2f} (goal ≤ 1.5: {'met' if worst <= 1.5 else 'NOT met'})")
        if all(row["phases"] for row in rows):
            print(
                "where render/validate goes (each part ÷ validate). The floor is what a renderer of this design "
                "cannot go below:\nit loads what validate loads, re-parses each template once as a check, and "
                "writes R×N files (plain-Python write floor)."
            )
            for row in rows:
                print("  " + breakdown(row))
        extra = [row for row in rows if row["requests"] != row["needed"]]
        print(
            "object-store requests = distinct documents + objects + listings needed, in every case"
            if not extra
            else f"requests exceed the documents, objects and listings needed in {len(extra)} case(s)"
        )
        by_regions: dict[int, set[int]] = {}
        for row in rows:
            by_regions.setdefault(row["regions"], set()).add(row["requests"])
        same = all(len(counts) == 1 for counts in by_regions.values())
        print(
            "requests independent of the template count: "
            + ("yes" if same else "NO")
            + "; per region count: "
            + ", ".join(f"{regions} regions → {sorted(counts)}" for regions, counts in sorted(by_regions.items()))
        )


if __name__ == "__main__":
    main()
