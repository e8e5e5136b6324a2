"""Render benchmark: N templates × R regions against a moto server on 127.0.0.1.

Publishes a catalog into the moto server (an AMI with a copy per region reached through a
channel, a file distributed to every regional bucket), generates N templates from the aws
fixtures (CloudFormation YAML and JSON, Terraform), then prints, side by side in one run:

- render time ÷ validate time of the same files, next to the goal 1 + 0.05 × R (a region only
  splices and writes): medians of ``--repeat`` runs in which validate, render and a plain-Python
  write of render's output files (the write floor) are interleaved, with the median render's
  phases (load, validate, resolve, splice, check, manifest, write) and where the ratio goes,
  part by part, against what no renderer of this design can go below (load + one re-parse per
  template + the write floor);
- seconds per file at every size (validate per template; render per template at each region
  count, and per added region and template): linear scaling keeps them constant (goal: within
  20 % from 200 templates up);
- the number of object-store requests render makes (counted with botocore event hooks on every
  client), next to the number of distinct catalog documents and objects it needs (goal: equal,
  so independent of the template count; regions add only their own objects);
- with ``--memory``: the peak memory of renders of growing files × regions, each in a fresh
  process (``bench/render_memory.py``: tracemalloc peak and RSS high-water-mark growth; goal:
  independent of files × regions, as render writes each file into its staging directory as it
  is made).

Writing R×N small files dominates on a slow or shared disk and varies from run to run by whole
seconds; ``--scratch /dev/shm`` (tmpfs) shows render's own work without that noise.

    python bench/render.py                       # 50/200 templates × 5/20 regions
    python bench/render.py --templates 200 --regions 20 --repeat 5 [--scratch /dev/shm]
    python bench/render.py --scale               # adds 1,000 and 5,000 templates × 5 regions and
                                                 # 200 templates × 50 regions (minutes)
    python bench/render.py --memory [--scale]    # adds the peak-memory table
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any, NamedTuple

from motoserver import moto_server, use_moto
from wide_regions import REGIONS, install

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "fixtures" / "aws" / "templates"
SOURCE_AMI = "ami-0123456789abcdef0"
SCALE_CASES = ((1000, 5), (5000, 5), (200, 50))
"""What ``--scale`` adds: linear in the template count up to 5,000, in the region count up to 50."""
MEMORY_CASES = ((200, 5), (200, 20), (1000, 5), (1000, 20))
SCALE_MEMORY_CASES = ((5000, 5), (200, 50))
LINEARITY_FROM = 200
"""Per-file times are compared from this many templates up (below it, the catalog reads and
client set-up every render pays once are a large part of the time)."""
LINEARITY_GOAL = 0.20


def goal(regions: int) -> float:
    """The render ÷ validate goal: a region only splices and writes."""
    return 1 + 0.05 * regions


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


def store_setup_seconds(url: str, regions: int) -> tuple[float, float]:
    """What a render pays before its first request, and for signing in every region: (a new boto3
    session and its first client, signing one URL in each region). Signing for a region needs a
    client bound to it unless one client may sign for every region (an endpoint that does not
    depend on the region, as here); either way no request is sent."""
    from preprocessor.catalog.opening import open_store

    store = open_store(url)
    start = time.perf_counter()
    store.client("us-east-1")  # type: ignore[attr-defined]
    made = time.perf_counter()
    for region in REGIONS[:regions]:
        store.object_url(region, "bench-setup-bucket", "files/x", presign=True, expires=60)
    return made - start, time.perf_counter() - made


def run_case(
    url: str, base: Path, templates: int, regions: tuple[str, ...], counter: RequestCounter, repeat: int
) -> dict[str, Any]:
    """Validate, render and the write floor, interleaved ``repeat`` times (so a load swing on a
    shared machine hits all three); medians reported. Every render writes a fresh directory, and
    the previous one is removed outside the timings."""
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


class MemoryRow(NamedTuple):
    templates: int
    regions: int
    outputs: int
    traced_peak: int
    """After the inputs are loaded: resolve, splice, write."""
    traced_load_peak: int
    rss_peak_growth: int | None


def measure_memory(url: str, base: Path, templates: int, regions: tuple[str, ...]) -> MemoryRow:
    """One render's peak memory, in a fresh process (``bench/render_memory.py``)."""
    name = f"mem{templates}x{len(regions)}"
    directory = make_project(base / f"p{name}", url, templates, regions)
    out = base / f"out{name}"
    script = Path(__file__).resolve().parent / "render_memory.py"
    completed = subprocess.run(
        [sys.executable, str(script), str(directory), str(out), *regions],
        check=True,
        capture_output=True,
        text=True,
    )
    measured = json.loads(completed.stdout.strip().splitlines()[-1])
    shutil.rmtree(out)
    shutil.rmtree(base / f"p{name}")
    return MemoryRow(
        templates,
        len(regions),
        measured["outputs"],
        measured["traced_peak"],
        measured["traced_load_peak"],
        measured["rss_peak_growth"],
    )


def spread(values: list[float]) -> float:
    """How far apart the largest and smallest are, relative to the smallest."""
    return max(values) / min(values) - 1 if values and min(values) > 0 else 0.0


def print_linearity(rows: list[dict[str, Any]]) -> None:
    """Seconds per file at each size: constant when validate and render scale linearly."""
    print("\nseconds per file (linear scaling keeps each line constant; compared from "
          f"{LINEARITY_FROM} templates up, goal: within {LINEARITY_GOAL:.0%})")  # fmt: skip
    largest: dict[int, dict[str, Any]] = {}
    for row in rows:  # validate once per template count (the region count does not change it)
        if row["templates"] not in largest or row["regions"] > largest[row["templates"]]["regions"]:
            largest[row["templates"]] = row
    per_template = {n: row["validate"] / n for n, row in sorted(largest.items())}
    compared = [v for n, v in per_template.items() if n >= LINEARITY_FROM]
    print(
        "  validate, ms per template: "
        + ", ".join(f"{n} → {v * 1000:.3f}" for n, v in per_template.items())
        + (f"; spread {spread(compared):.0%}" if len(compared) > 1 else "")
    )
    for regions in sorted({row["regions"] for row in rows}):
        same = sorted((row for row in rows if row["regions"] == regions), key=lambda row: row["templates"])
        values = {row["templates"]: row["render"] / row["templates"] for row in same}
        compared = [v for n, v in values.items() if n >= LINEARITY_FROM]
        # What each added template costs: free of the catalog reads and set-up every render pays once.
        marginal = {
            f"{a['templates']}→{b['templates']}": (b["render"] - a["render"]) / (b["templates"] - a["templates"])
            for a, b in itertools.pairwise(same)
        }
        print(
            f"  render × {regions} regions, ms per template: "
            + ", ".join(f"{n} → {v * 1000:.3f}" for n, v in values.items())
            + (f"; spread {spread(compared):.0%}" if len(compared) > 1 else "")
            + (
                "; per added template: "
                + ", ".join(f"{k} → {v * 1000:.3f}" for k, v in marginal.items())
                + (f" (spread {spread(list(marginal.values())):.0%})" if len(marginal) > 1 else "")
                if marginal
                else ""
            )
        )
    for templates in sorted({row["templates"] for row in rows}):
        same = sorted((row for row in rows if row["templates"] == templates), key=lambda row: row["regions"])
        if len(same) < 2:
            continue
        marginal = {
            f"{a['regions']}→{b['regions']}": (b["render"] - a["render"]) / ((b["regions"] - a["regions"]) * templates)
            for a, b in itertools.pairwise(same)
        }
        per_output = {row["regions"]: row["render"] / (row["templates"] * row["regions"]) for row in same}
        print(
            f"  render of {templates} templates, ms per added region and template: "
            + ", ".join(f"{k} → {v * 1000:.3f}" for k, v in marginal.items())
            + (f" (spread {spread(list(marginal.values())):.0%})" if len(marginal) > 1 else "")
            + "; ms per output file: "
            + ", ".join(f"{r} regions → {v * 1000:.3f}" for r, v in per_output.items())
        )


def print_memory(memory: list[MemoryRow]) -> None:
    MiB = 1024 * 1024
    print(
        "\npeak memory of one render in a fresh process (after a warm-up render; goal: independent of "
        "files × regions)\n"
        f"{'templates':>9} {'regions':>7} {'outputs':>7} {'traced peak MiB, loading':>24} "
        f"{'after loading':>13} {'KiB per output':>14} {'RSS peak growth MiB':>19}"
    )
    for row in memory:
        growth = f"{row.rss_peak_growth / MiB:.1f}" if row.rss_peak_growth is not None else "n/a"
        print(
            f"{row.templates:>9} {row.regions:>7} {row.outputs:>7} {row.traced_load_peak / MiB:>24.1f} "
            f"{row.traced_peak / MiB:>13.1f} {row.traced_peak / row.outputs / 1024:>14.2f} {growth:>19}"
        )
    by_templates: dict[int, list[MemoryRow]] = {}
    for row in memory:
        by_templates.setdefault(row.templates, []).append(row)
    for templates, same in sorted(by_templates.items()):
        if len(same) > 1:
            low, high = min(same, key=lambda r: r.regions), max(same, key=lambda r: r.regions)
            print(
                f"  {templates} templates: {low.regions} → {high.regions} regions changes the traced peak after "
                f"loading {high.traced_peak / low.traced_peak:.2f}× (outputs {high.outputs / low.outputs:.1f}×)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--templates", type=int, nargs="*", default=[50, 200])
    parser.add_argument("--regions", type=int, nargs="*", default=[5, 20])
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs per case (medians reported)")
    parser.add_argument(
        "--scale",
        action="store_true",
        help="add 1,000 and 5,000 templates × 5 regions and 200 templates × 50 regions (and, with --memory, "
        "5,000 × 5 and 200 × 50); these run --scale-repeat times",
    )
    parser.add_argument("--scale-repeat", type=int, default=1, help="interleaved runs per --scale case")
    parser.add_argument("--memory", action="store_true", help="measure peak memory of growing files × regions")
    parser.add_argument(
        "--scratch", type=Path, default=None, help="where projects and outputs go (default: the system temp dir)"
    )
    args = parser.parse_args()
    cases = [(templates, regions, args.repeat) for templates in args.templates for regions in args.regions]
    if args.scale:
        cases += [(t, r, args.scale_repeat) for t, r in SCALE_CASES if (t, r) not in {(c[0], c[1]) for c in cases}]
    memory_cases = [*MEMORY_CASES, *(SCALE_MEMORY_CASES if args.scale else ())] if args.memory else []
    most = max(regions for _, regions, _ in [*cases, *((t, r, 0) for t, r in memory_cases)])
    if most > len(REGIONS):
        parser.error(f"at most {len(REGIONS)} regions")
    with moto_server() as endpoint, tempfile.TemporaryDirectory(prefix="deploypkg-bench-", dir=args.scratch) as scratch:
        use_moto(endpoint)
        install()
        counter = RequestCounter()
        counter.install()
        base = Path(scratch)
        url = f"s3://bench-catalog-{uuid.uuid4().hex[:8]}/catalog"
        publish_catalog(url, REGIONS[:most], base)
        # Warm-up (imports, parser tables) so neither side pays one-time costs.
        run_case(url, base / "warm", 3, REGIONS[:1], counter, 1)
        print(
            f"median of {args.repeat} interleaved runs per case ({args.scale_repeat} for --scale cases); "
            "seconds unless marked"
        )
        print(f"{'templates':>9} {'regions':>7} {'outputs':>7} {'validate':>8} {'render':>7} "
              f"{'render/validate':>15} {'goal':>5} {'write floor':>11} {'floor/validate':>14} "
              f"{'(render-floor)/validate':>23} {'requests':>8} {'needed':>6}")  # fmt: skip
        rows = []
        for templates, regions, repeat in cases:
            row = run_case(url, base, templates, REGIONS[:regions], counter, repeat)
            rows.append(row)
            ratio = row["render"] / row["validate"]
            own = (row["render"] - row["floor"]) / row["validate"]
            print(
                f"{row['templates']:>9} {row['regions']:>7} {row['outputs']:>7} {row['validate']:>8.3f} "
                f"{row['render']:>7.3f} {ratio:>15.2f} {goal(row['regions']):>5.2f} {row['floor']:>11.3f} "
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
        session_seconds, signing_seconds = store_setup_seconds(url, regions=most)
        print(
            f"\nfixed cost inside every render (part of its resolve phase): a fresh S3 store's boto3 session and "
            f"first client {session_seconds:.3f} s; signing one URL in each of {most} regions {signing_seconds:.3f} s"
        )
        missed = [row for row in rows if row["render"] / row["validate"] > goal(row["regions"])]
        print(
            "\nrender/validate against the goal 1 + 0.05 × R: "
            + ", ".join(
                f"{row['templates']}×{row['regions']} {row['render'] / row['validate']:.2f} "
                f"({'met' if row not in missed else 'NOT met'}, goal {goal(row['regions']):.2f})"
                for row in rows
            )
        )
        if all(row["phases"] for row in rows):
            print(
                "where render/validate goes (each part ÷ validate). The floor is what a renderer of this design "
                "cannot go below:\nit loads what validate loads, re-parses as a check each template that has a "
                "value outside a sealed context (a YAML\nplain scalar) and one template per sealed context and "
                "value class, and writes R×N files (plain-Python write floor)."
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
        print_linearity(rows)
        if memory_cases:
            print_memory([measure_memory(url, base, t, REGIONS[:r]) for t, r in memory_cases])


if __name__ == "__main__":
    main()
