"""Copy a two-platform container image to 4 regional registries: deploypkg's copy by digest vs
``skopeo copy --all`` (Debian's skopeo), side by side in one run, against real registries
(Debian's docker-registry, one process per region on 127.0.0.1). Printed:

1. wall time of each, 4 regions at once (deploypkg: one process copying the 4 regions on 4
   threads, as ``distribute`` does; skopeo: 4 processes at once), medians of interleaved runs,
   and the ratio deploypkg ÷ skopeo (goal ≤ 1.0);
2. peak memory (the RSS high-water mark of each process, from the kernel's accounting of the
   finished child) for two layer sizes: bounded by the chunk size, not the layer size;
3. blob bytes through deploypkg's client for a copy within one registry (goal 0: mounted).

Each run copies into fresh repositories, so no blob is already there.

Usage: python bench/oci_copy.py [--layer-mib 110] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the tests' registry and OCI-layout helpers

from registry_testing import Layout, Registry, push, start_registry  # noqa: E402

from preprocessor.oci.client import CHUNK  # noqa: E402

MiB = 1024 * 1024
REGIONS = 4

COPY = """
import sys, json
from concurrent.futures import ThreadPoolExecutor
from preprocessor.oci.client import RegistryClient
from preprocessor.oci.copy import copy_reference
from preprocessor.oci.reference import Reference, parse_reference
source = parse_reference(sys.argv[1])
targets = [Reference(host, sys.argv[2], "1.0") for host in sys.argv[3:]]
clients = {}
def client_for(host):
    return clients.setdefault(host, RegistryClient(host))
for host in {source.registry, *(t.registry for t in targets)}:
    client_for(host)
with ThreadPoolExecutor(len(targets)) as pool:
    digests = list(pool.map(lambda t: copy_reference(source, t, client_for).digest, targets))
assert len(set(digests)) == 1
print(json.dumps({"bytes": sum(c.bytes_streamed for c in clients.values())}))
"""


CPU: dict[str, list[float]] = {"deploypkg": [], "skopeo": []}
"""User + system seconds of each run's processes."""


def _measure(command: list[str], tool: str | None = None) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (KiB) and stdout of one child process."""
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    if tool is not None:
        CPU[tool].append(usage.ru_utime + usage.ru_stime)
    out = process.stdout.read() if process.stdout else ""
    err = process.stderr.read() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[0]} failed: {err[-2000:]}")
    return wall, usage.ru_maxrss, out


def _fresh_skopeo_cache(work: Path) -> dict[str, str]:
    """An empty blob-info cache for the next skopeo run: skopeo remembers where it has seen each
    blob and mounts from there, which would turn a fresh copy into a mount. As root the cache is
    /var/lib/containers/cache (removed here); otherwise under $XDG_DATA_HOME (a new directory)."""
    if os.geteuid() == 0:
        shutil.rmtree("/var/lib/containers/cache", ignore_errors=True)
        return dict(os.environ)
    data_home = Path(tempfile.mkdtemp(prefix="skopeo-cache-", dir=work))
    return {**os.environ, "XDG_DATA_HOME": str(data_home)}


def _skopeo_all(source: str, repository: str, hosts: list[str], policy: Path) -> tuple[float, int]:
    """4 skopeo processes at once; the wall time of all, the largest peak RSS among them."""
    env = _fresh_skopeo_cache(policy.parent)
    started = time.monotonic()
    processes = [
        subprocess.Popen(
            [
                "skopeo",
                "--policy",
                str(policy),
                "copy",
                "--all",
                "--quiet",
                "--src-tls-verify=false",
                "--dest-tls-verify=false",
                f"docker://{source}",
                f"docker://{host}/{repository}:1.0",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        for host in hosts
    ]
    peak = 0
    cpu = 0.0
    for process in processes:
        _, status, usage = os.wait4(process.pid, 0)
        cpu += usage.ru_utime + usage.ru_stime
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"skopeo failed: {process.stderr.read().decode()[-2000:] if process.stderr else ''}")
        peak = max(peak, usage.ru_maxrss)
    CPU["skopeo"].append(cpu)
    return time.monotonic() - started, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layer-mib", type=int, default=110, help="size of each platform's own layer")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for program in ("docker-registry", "skopeo"):
        if shutil.which(program) is None:
            raise SystemExit(f"{program} is needed: apt-get install docker-registry skopeo")
    work = Path(tempfile.mkdtemp(prefix="oci-bench-"))
    registries: list[Registry] = []
    try:
        source = start_registry(work / "source")
        targets = [start_registry(work / f"region{i}") for i in range(REGIONS)]
        registries = [source, *targets]
        policy = work / "policy.json"
        policy.write_text('{"default": [{"type": "insecureAcceptAnything"}]}')
        sizes = {}
        for layer_mib in (args.layer_mib // 4, args.layer_mib):
            layout = Layout(work / f"layout-{layer_mib}")
            layout.multi_platform("1.0", layer_size=layer_mib * MiB)
            push(layout, "1.0", f"{source.host}/acme/web{layer_mib}:1.0")
            sizes[layer_mib] = sum(p.stat().st_size for p in (layout.root / "blobs" / "sha256").iterdir())
        hosts = [t.host for t in targets]
        print(f"image: 2 platforms, {sizes[args.layer_mib] / MiB:.0f} MiB of blobs; {REGIONS} regional registries")
        results: dict[str, list[tuple[float, int]]] = {"deploypkg": [], "skopeo": []}
        small: list[int] = []
        for run in range(args.runs):
            for tool in ("deploypkg", "skopeo") if run % 2 == 0 else ("skopeo", "deploypkg"):
                repository = f"bench/{tool}-{run}"
                src = f"{source.host}/acme/web{args.layer_mib}:1.0"
                if tool == "deploypkg":
                    wall, peak, _ = _measure([sys.executable, "-c", COPY, src, repository, *hosts], tool)
                    results[tool].append((wall, peak))
                else:
                    results[tool].append(_skopeo_all(src, repository, hosts, policy))
            _, peak_small, _ = _measure(
                [
                    sys.executable,
                    "-c",
                    COPY,
                    f"{source.host}/acme/web{args.layer_mib // 4}:1.0",
                    f"bench/s-{run}",
                    *hosts,
                ]
            )
            small.append(peak_small)
        _, _, same = _measure(
            [sys.executable, "-c", COPY, f"{source.host}/acme/web{args.layer_mib}:1.0", "mirror/web", source.host]
        )
        deploypkg_wall = statistics.median(w for w, _ in results["deploypkg"])
        skopeo_wall = statistics.median(w for w, _ in results["skopeo"])
        print(f"\n{'':12}{'median wall s':>14}{'median CPU s':>14}{'peak RSS MiB':>14}")
        for tool, runs in results.items():
            wall = statistics.median(w for w, _ in runs)
            print(f"{tool:12}{wall:14.2f}{statistics.median(CPU[tool]):14.2f}{max(p for _, p in runs) / 1024:14.1f}")
        print(f"({args.runs} interleaved runs, {REGIONS} regions at once; CPU: the tool's own processes)")
        ratio = deploypkg_wall / skopeo_wall
        print(f"\nwall deploypkg ÷ skopeo = {ratio:.2f} (goal ≤ 1.0: {'met' if ratio <= 1.0 else 'NOT met'})")
        big, little = max(p for _, p in results["deploypkg"]) / 1024, max(small) / 1024
        bounded = big - little < args.layer_mib / 4
        verdict = "bounded by the chunk size, not the layer size" if bounded else "grows with the layer"
        print(
            f"deploypkg peak RSS: {little:.1f} MiB with {args.layer_mib // 4} MiB layers, {big:.1f} MiB with"
            f" {args.layer_mib} MiB layers ({CHUNK // MiB} MiB chunks, {REGIONS} regions at once): {verdict}"
        )
        print(f"same-registry copy: {same.strip()} blob bytes through the client (goal 0: mounted)")
        return 0
    finally:
        for registry in registries:
            registry.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
