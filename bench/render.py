"""Render benchmark: N templates × R regions against a moto server on 127.0.0.1.

Publishes a catalog into the moto server (an AMI with a copy per region reached through a
channel, a file distributed to every regional bucket), generates N templates from the aws
fixtures (CloudFormation YAML and JSON, Terraform), then prints, side by side in one run:

- render time ÷ validate time of the same files (goal ≤ 1.5), and
- the number of object-store requests render makes (counted with botocore event hooks on every
  client), next to the number of distinct catalog documents and objects it needs (goal: equal,
  so independent of the template count; regions add only their own objects).

    python bench/render.py                       # 50/200 templates × 5/20 regions
    python bench/render.py --templates 200 --regions 20
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "fixtures" / "aws" / "templates"
REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1", "eu-west-1",
    "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-1", "ap-south-1",
    "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
    "ap-east-1", "me-south-1",
)  # fmt: skip
SOURCE_AMI = "ami-0123456789abcdef0"


@contextmanager
def moto_server() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit("moto server did not start") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


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
    from preprocessor.catalog.store import open_store

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


def write_floor(out: Path, scratch: Path) -> float:
    """Seconds this filesystem takes just to write render's output files (same paths, same bytes):
    the floor under any renderer that writes R copies of N templates."""
    files = [(path.relative_to(out), path.read_bytes()) for path in sorted(out.rglob("*")) if path.is_file()]
    start = time.perf_counter()
    for directory in sorted({scratch / relative.parent for relative, _ in files}):
        directory.mkdir(parents=True, exist_ok=True)
    for relative, data in files:
        (scratch / relative).write_bytes(data)
    return time.perf_counter() - start


def store_setup_seconds(url: str, regions: int) -> float:
    """What a render pays before its first request: a new boto3 session (its service model is
    loaded per session) and one client per region (SigV4 scopes are per region)."""
    from preprocessor.catalog.store import open_store

    store = open_store(url)
    start = time.perf_counter()
    for region in REGIONS[:regions]:
        store.client(region)  # type: ignore[attr-defined]
    return time.perf_counter() - start


def run_case(url: str, base: Path, templates: int, regions: tuple[str, ...], counter: RequestCounter) -> dict[str, Any]:
    from preprocessor.project import clear_cache
    from preprocessor.render import RenderOptions, render_to_directory
    from preprocessor.validate.scan import scan

    directory = make_project(base / f"p{templates}x{len(regions)}", url, templates, regions)
    clear_cache()
    validate_seconds, result = timed(scan, [directory], None)
    assert not any(d.severity.value == "error" for d in result.diagnostics), result.diagnostics
    out = base / f"out{templates}x{len(regions)}"
    counter.operations.clear()
    counter.enabled = True
    render_seconds, report = timed(render_to_directory, [directory], list(regions), out, RenderOptions())
    counter.enabled = False
    import json

    floor = write_floor(out, base / f"floor{templates}x{len(regions)}")
    manifest = json.loads((out / "manifest.json").read_text())
    documents = sum(len(catalog["documents"]) for catalog in manifest["catalogs"])
    objects = sum(1 for artifacts in report.artifacts.values() for a in artifacts if a.kind in ("file", "publicfile"))
    return {
        "templates": templates,
        "regions": len(regions),
        "outputs": sum(len(files) for files in report.files.values()),
        "validate": validate_seconds,
        "floor": floor,
        "render": render_seconds,
        "requests": counter.operations["HTTP requests"],
        "by_operation": {k: v for k, v in sorted(counter.operations.items()) if k != "HTTP requests"},
        "needed": documents + objects + counter.operations["ListObjectsV2"],
        "documents": documents,
        "objects": objects,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--templates", type=int, nargs="*", default=[50, 200])
    parser.add_argument("--regions", type=int, nargs="*", default=[5, 20])
    args = parser.parse_args()
    with moto_server() as endpoint, tempfile.TemporaryDirectory(prefix="deploypkg-bench-") as scratch:
        os.environ.update(
            AWS_ACCESS_KEY_ID="AKIDBENCH",
            AWS_SECRET_ACCESS_KEY="bench-secret",
            AWS_DEFAULT_REGION="us-east-1",
            AWS_ENDPOINT_URL=endpoint,
            AWS_CONFIG_FILE=os.devnull,
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
            AWS_EC2_METADATA_DISABLED="true",
        )
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            os.environ.pop(name, None)
        counter = RequestCounter()
        counter.install()
        base = Path(scratch)
        url = f"s3://bench-catalog-{uuid.uuid4().hex[:8]}/catalog"
        most = max(args.regions)
        publish_catalog(url, REGIONS[:most], base)
        # Warm-up (imports, parser tables) so neither side pays one-time costs.
        run_case(url, base / "warm", 3, REGIONS[:1], counter)
        print(f"{'templates':>9} {'regions':>7} {'outputs':>7} {'validate s':>10} {'render s':>9} "
              f"{'render/validate':>15} {'write floor s':>13} {'(render-floor)/validate':>23} "
              f"{'requests':>8} {'needed':>6}  requests by operation")  # fmt: skip
        rows = []
        for templates in args.templates:
            for regions in args.regions:
                row = run_case(url, base, templates, REGIONS[:regions], counter)
                rows.append(row)
                ratio = row["render"] / row["validate"]
                own = (row["render"] - row["floor"]) / row["validate"]
                print(
                    f"{row['templates']:>9} {row['regions']:>7} {row['outputs']:>7} {row['validate']:>10.3f} "
                    f"{row['render']:>9.3f} {ratio:>15.2f} {row['floor']:>13.3f} {own:>23.2f} "
                    f"{row['requests']:>8} {row['needed']:>6}  "
                    f"{row['by_operation']} (needed: {row['documents']} documents + {row['objects']} objects "
                    f"+ {row['by_operation'].get('ListObjectsV2', 0)} listings)"
                )
        setup = store_setup_seconds(url, regions=max(args.regions))
        print(
            f"\nfixed cost inside every render: a fresh S3 store's boto3 session and first client, plus one client "
            f"per further region: {setup:.3f} s for {max(args.regions)} regions"
        )
        worst = max(row["render"] / row["validate"] for row in rows)
        worst_own = max((row["render"] - row["floor"]) / row["validate"] for row in rows)
        extra = [row for row in rows if row["requests"] != row["needed"]]
        print(f"\nworst render/validate ratio: {worst:.2f} (goal ≤ 1.5: {'met' if worst <= 1.5 else 'NOT met'})")
        print(f"worst (render - write floor)/validate: {worst_own:.2f} (render's own work, beyond writing R×N files)")
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
