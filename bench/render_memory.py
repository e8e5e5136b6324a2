"""Peak memory of one render, measured in a fresh process (``bench/render.py --memory`` runs it).

    python bench/render_memory.py PROJECT_DIR OUT_DIR REGION...

The environment must already point boto3 at the catalog's store (``motoserver.use_moto``). One
warm-up render for the first region (imports, parser tables, botocore's models) runs first; then
the render of every region is measured: the tracemalloc peak of Python allocations while the
inputs load and after they are loaded (resolve, splice, write: where output used to pile up),
and the growth of the RSS high-water mark (``VmHWM``, reset through ``/proc/self/clear_refs``
where Linux allows). Prints one JSON object.
"""

from __future__ import annotations

import json
import shutil
import sys
import tracemalloc
from pathlib import Path
from typing import Any


def rss_field(name: str) -> int | None:
    try:
        lines = Path("/proc/self/status").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith(name + ":"):
            return int(line.split()[1]) * 1024
    return None


def reset_rss_peak() -> int | None:
    """Reset the RSS high-water mark; the RSS now, or None where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return None
    return rss_field("VmRSS")


def main() -> None:
    from wide_regions import install

    from preprocessor.project import clear_cache
    from preprocessor.render import RenderOptions, engine, render_to_directory

    install()

    project, out, regions = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
    warm = out.with_name(out.name + "-warm")
    render_to_directory([project], regions[:1], warm, RenderOptions())
    shutil.rmtree(warm)
    clear_cache()
    load_peak: list[int] = []
    load_sources = engine.load_sources

    def loading(*args: Any, **kwargs: Any) -> Any:
        loaded = load_sources(*args, **kwargs)
        load_peak.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.reset_peak()
        return loaded

    engine.load_sources = loading  # type: ignore[assignment]
    rss_before = reset_rss_peak()
    tracemalloc.start()
    report = render_to_directory([project], regions, out, RenderOptions())
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    hwm = rss_field("VmHWM")
    outputs = sum(len(files) for files in report.files.values())
    print(
        json.dumps(
            {
                "traced_peak": traced_peak,
                "traced_load_peak": load_peak[0],
                "rss_peak_growth": hwm - rss_before if hwm is not None and rss_before is not None else None,
                "outputs": outputs,
            }
        )
    )


if __name__ == "__main__":
    main()
