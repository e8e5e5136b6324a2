"""Distribution of a 64 MiB file to 4 regions against a moto S3 server this script starts on
127.0.0.1, measured side by side in one run:

1. bytes that pass through the client on the S3 server-side path (aws provider: CopyObject), goal 0
   — counted from every request and response body by botocore events on the store's clients
   (HEAD responses carry no body; a GetObject body counts its Content-Length);
2. peak memory of the streamed path (alicloud provider: ranged GET → UploadPart, because OSS copies
   only within one region), goal: bounded by the part size, not the file size — tracemalloc peak of
   Python allocations, and the RSS high-water mark (``VmHWM`` after resetting it) where Linux allows;
3. parallel (4 regions at once) vs sequential (``--parallel 1``) wall time, on both paths.

Usage: python bench/distribute.py [--size-mib 64] [--regions 4]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from motoserver import moto_server, use_moto

MiB = 1024 * 1024
REGIONS = {
    "aws": ("us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1", "ap-southeast-2"),
    "alicloud": ("cn-hangzhou", "cn-beijing", "cn-shanghai", "cn-shenzhen", "cn-qingdao"),
}


class Run(NamedTuple):
    label: str
    seconds: float
    body_bytes: int
    traced_peak: int | None
    rss_peak_delta: int | None


def reset_rss_peak() -> int | None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return rss_field("VmRSS")
    except OSError:
        return None


def rss_field(name: str) -> int | None:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1]) * 1024
    return None


class BodyCounter:
    """Request and response body bytes of every S3 call made through the given clients."""

    def __init__(self) -> None:
        self.total = 0

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-send.s3", self._request)
        client.meta.events.register("after-call.s3", self._response)

    def _request(self, request: Any, **_: Any) -> None:
        length = request.headers.get("Content-Length")
        self.total += int(length) if length else 0

    def _response(self, http_response: Any, model: Any, **_: Any) -> None:
        if model.http.get("method") == "HEAD":
            return  # HEAD's Content-Length is the object's size; no body is sent
        if model.has_streaming_output:
            length = http_response.headers.get("content-length")  # read by the caller after this event
            self.total += int(length) if length else 0
        else:
            self.total += len(http_response.content)


@contextmanager
def temporary_file(size: int) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="deploypkg-bench-") as directory:
        path = Path(directory) / "payload.bin"
        with path.open("wb") as handle:
            for _ in range(size // MiB):
                handle.write(os.urandom(MiB))
            handle.write(os.urandom(size % MiB))
        yield path


def one_run(
    label: str, provider: str, payload: Path, regions: int, parallel: int, trace: bool, **store_options: Any
) -> Run:
    import boto3

    from preprocessor.catalog import operations
    from preprocessor.catalog.model import PackageType
    from preprocessor.catalog.opening import open_store

    tag = uuid.uuid4().hex[:8]
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=f"bench-{tag}-catalog")
    url = f"s3://bench-{tag}-catalog/catalog"
    store: Any = open_store(url, provider=provider, **store_options)
    info = operations.init(store, provider, f"bench-{tag}-{{region}}")
    source, *targets = REGIONS[provider][: regions + 1]
    for region in (source, *targets):
        store.create_bucket(region, info.bucket(region))
    operations.publish(
        store, operations.PublishRequest("payload", "1.0.0", PackageType.FILE, region=source, file=payload)
    )

    counter = BodyCounter()
    for region in (source, *targets):
        counter.attach(store.client(region))
    rss_before = reset_rss_peak()
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    outcomes = operations.distribute(
        store, "payload", "1.0.0", targets, operations.DistributeOptions(parallel=parallel)
    )
    seconds = time.perf_counter() - started
    traced = None
    if trace:
        traced = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    rss_peak = rss_field("VmHWM") if rss_before is not None else None
    failed = [o for o in outcomes if o.error]
    if failed:
        raise SystemExit(f"{label}: distribution failed: {failed}")
    for region in targets:  # the bytes really are there, and nothing was skipped
        head = s3.head_object(Bucket=info.bucket(region), Key=outcomes[0].value or "")
        assert head["ContentLength"] == payload.stat().st_size, region
    assert not any(o.skipped for o in outcomes)
    for region in (source, *targets):  # free the moto server's memory for the next run
        bucket = info.bucket(region)
        for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=item["Key"])
    rss_delta = rss_peak - rss_before if rss_peak is not None and rss_before is not None else None
    return Run(label, seconds, counter.total, traced, rss_delta)


def run_in_child(label: str, provider: str, payload: Path, regions: int, parallel: int, part: int | None) -> Run:
    command = [sys.executable, __file__, "--child", label, provider, str(payload), str(regions), str(parallel)]
    if part is not None:
        command.append(str(part))
    completed = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if completed.returncode != 0:
        raise SystemExit(f"{label}: {completed.stderr.strip()}")
    return Run(*json.loads(completed.stdout.strip().splitlines()[-1]))


def child(argv: list[str]) -> None:
    label, provider, payload, regions, parallel, *part = argv
    options = {"stream_part_size": int(part[0])} if part else {}
    trace = provider == "alicloud"
    run = one_run(label, provider, Path(payload), int(regions), int(parallel), trace, **options)
    print(json.dumps(list(run)))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=64)
    parser.add_argument("--regions", type=int, default=4)
    args = parser.parse_args()
    size = args.size_mib * MiB
    regions = args.regions

    part = 16 * MiB
    plan = [
        ("server-side, parallel", "aws", regions, None),
        ("server-side, sequential", "aws", 1, None),
        ("streamed, parallel", "alicloud", regions, part),
        ("streamed, sequential", "alicloud", 1, part),
        ("streamed, parallel, 8 MiB parts", "alicloud", regions, part // 2),
        ("streamed, seq., 8 MiB parts", "alicloud", 1, part // 2),
    ]
    with moto_server() as endpoint, temporary_file(size) as payload:
        use_moto(endpoint)
        # Each run in a fresh process, so its RSS high-water mark is its own.
        runs = [
            run_in_child(label, provider, payload, regions, par, part_size) for label, provider, par, part_size in plan
        ]

    total = size * regions
    print(f"distribute {args.size_mib} MiB to {regions} regions (moto server {endpoint}); stream part 16 MiB\n")
    print(f"{'run':30} {'wall s':>8} {'body bytes via client':>22} {'traced peak':>12} {'RSS peak Δ':>11}")
    for run in runs:
        traced = f"{run.traced_peak / MiB:.1f} MiB" if run.traced_peak is not None else "-"
        rss = f"{run.rss_peak_delta / MiB:.1f} MiB" if run.rss_peak_delta is not None else "n/a"
        print(f"{run.label:30} {run.seconds:8.2f} {run.body_bytes:22,} {traced:>12} {rss:>11}")
    server_par, server_seq, stream_par, stream_seq, stream_par_small, stream_small = runs
    print()
    print(
        f"S3 server-side path: {server_par.body_bytes:,} body bytes through the client for {total:,} bytes "
        f"distributed (ratio {server_par.body_bytes / total:.6f}; goal 0) — API XML and catalog JSON only"
    )
    print(
        f"streamed path: {stream_seq.body_bytes:,} body bytes through the client "
        f"(ratio {stream_seq.body_bytes / total:.2f}: each byte read once and written once)"
    )
    print("  peak memory: one part per region in flight, so bounded by part size × parallel regions")
    for run, part_size, par in (
        (stream_seq, part, 1),
        (stream_small, part // 2, 1),
        (stream_par, part, regions),
        (stream_par_small, part // 2, regions),
    ):
        if run.traced_peak is not None:
            print(
                f"  {run.label}: traced peak {run.traced_peak / MiB:.1f} MiB = "
                f"{run.traced_peak / (part_size * par):.2f} × (part size × {par}), "
                f"{run.traced_peak / size:.2f} × file size"
            )
    print(
        f"parallel vs sequential wall time: server-side {server_seq.seconds / server_par.seconds:.2f}×, "
        f"streamed {stream_seq.seconds / stream_par.seconds:.2f}× (sequential time / parallel time, parallel={regions})"
    )
    print(
        f"  CPU cores here: {os.cpu_count()}; moto serves every region from one Python process, so parallel regions "
        "compete for its GIL — against real S3/OSS each region's copy runs on the provider's side"
    )


if __name__ == "__main__":
    main()
