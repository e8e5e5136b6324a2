"""How fast ``deploypkg validate`` is against the bare parse of the same files, cold and at scale.

(a) throughput, in one process: validate (``scan``) of a corpus's templates ÷ the bare parse of the
    same files: ``.tf`` ÷ python-hcl2's parse tree, YAML ÷ cfn-flip's loader on libyaml's parser,
    JSON ÷ ``json.loads`` on 20 copies of the JSON files (so that parsing, not start-up, is
    measured). Goals: ``.tf`` and YAML <= 1.3, JSON <= 2.0.
(b) cold start, fresh processes: ``deploypkg validate`` of one ``.tf`` file ÷ the bare python-hcl2
    parse of it (goal <= 1.3); of one YAML and one JSON CloudFormation file ÷ ``cfn-lint`` (goal <= 0.10).
(c) scale: ``deploypkg validate`` of generated directories (copies of the repository's fixture
    templates, in the fixtures' projects) in a child process: ms per file (goal: constant within
    20 %) and peak RSS (goal: independent of the file count).

Every comparison runs its two sides interleaved and compares medians. Child processes get bytecode
caching (in a scratch ``PYTHONPYCACHEPREFIX``) whatever ``PYTHONDONTWRITEBYTECODE`` says, as an
installed tool has its ``.pyc`` files.

    python bench/validate_speed.py [--corpus DIR] [--runs 7] [--cold-runs 11]
                                   [--scale 1000,5000] [--scale-runs 3] [--skip throughput,cold,scale]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from validate_vs_cfnlint import CONFIG, SMALL_TEMPLATE, _script  # bench/ is on sys.path: a script beside it

from preprocessor.model import TemplateFormat
from preprocessor.validate.scan import load_all, scan

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
JSON_COPIES = 20
CONFIG_NAMES = ("deploypkg.yaml", "deploypkg.yml")
SKIPPED_DIRS = frozenset({".git", ".terraform", "node_modules", "catalog"})


RUSAGE_PROBE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": seconds, "maxrss_kib": usage.ru_maxrss, "exit": done.returncode}))
"""
"""Runs one command as the only child of a fresh process, so RUSAGE_CHILDREN's peak is its own."""


class Corpus(NamedTuple):
    tf: list[Path]
    yaml: list[Path]
    json: list[Path]
    cfn_yaml: list[Path]
    cfn_json: list[Path]
    configs: list[Path]
    """Project config files (deploypkg.yaml, .computenest/config.yaml), copied with templates."""


def _walk(root: Path) -> Iterable[Path]:
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d not in SKIPPED_DIRS)
        for name in sorted(files):
            yield Path(directory) / name


def _is_config(path: Path) -> bool:
    return path.name in CONFIG_NAMES or (path.parent.name == ".computenest" and path.suffix in (".yaml", ".yml"))


def load_corpus(root: Path) -> Corpus:
    """The corpus's files that deploypkg loads as templates and the bare parser parses too."""
    found = Corpus([], [], [], [], [], [p for p in _walk(root) if _is_config(p)])
    for loaded in load_all([root]):
        template = loaded.template
        if template is None:
            continue
        name = template.path.name.lower()
        if template.format is TemplateFormat.TERRAFORM_HCL:
            bucket, parser = found.tf, parse_tf
        elif name.endswith((".yaml", ".yml")):
            bucket, parser = found.yaml, parse_yaml
        elif name.endswith(".json") and not name.endswith(".tf.json"):
            bucket, parser = found.json, parse_json
        else:
            continue
        try:
            parser(template.text)
        except Exception:  # the baseline cannot read it: leave the file out of both sides
            continue
        bucket.append(template.path)
        if template.format is TemplateFormat.CFN_YAML:
            found.cfn_yaml.append(template.path)
        elif template.format is TemplateFormat.CFN_JSON:
            found.cfn_json.append(template.path)
    return found


# --- the bare parsers --------------------------------------------------------------------------


def parse_tf(text: str) -> object:
    import hcl2

    return hcl2.parses_to_tree(text)


def _cfn_loader() -> type[Any]:
    """cfn-flip's ``CfnYamlLoader`` on libyaml's C parser (PyYAML's pure-Python one without libyaml)."""
    import yaml
    from cfn_tools.yaml_loader import CfnYamlLoader

    if not getattr(yaml, "__with_libyaml__", False):
        loader: type[Any] = CfnYamlLoader
        return loader
    from yaml.constructor import SafeConstructor
    from yaml.cyaml import CParser  # type: ignore[attr-defined]
    from yaml.resolver import Resolver

    class CfnCLoader(CParser, CfnYamlLoader):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

    return CfnCLoader


_LOADER: list[type[Any]] = []


def parse_yaml(text: str) -> object:
    import yaml

    if not _LOADER:
        _LOADER.append(_cfn_loader())
    return yaml.load(text, Loader=_LOADER[0])  # cfn-flip's loader is a SafeLoader


def parse_json(text: str) -> object:
    return json.loads(text)


def _without_gc(parser: Callable[[str], object], text: str) -> object:
    enabled = gc.isenabled()
    gc.disable()
    try:
        return parser(text)
    finally:
        if enabled:
            gc.enable()


def _read(path: Path) -> str:
    with open(path, encoding="utf-8-sig", newline="") as file:
        return file.read()


# --- (a) throughput ----------------------------------------------------------------------------


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def interleaved(sides: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """Median seconds of each side, run in turn ``runs`` times after one warm-up each."""
    for action in sides.values():
        action()
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(runs):
        for name, action in sides.items():
            times[name].append(_timed(action))
    return {name: statistics.median(values) for name, values in times.items()}


def replicate(files: Sequence[Path], root: Path, target: Path, configs: Sequence[Path], count: int) -> list[Path]:
    """``count`` files copied from ``files`` round after round under ``target``, each copy in a
    ``copy-N/`` directory beside where its original is, below the corpus's config files (copied
    once, at their places): every copy belongs to its original's project, so the project count
    stays the corpus's, whatever ``count``."""
    for config in configs:
        destination = target / config.relative_to(root)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(config, destination)
    copied = []
    for index in range(count):
        round_, which = divmod(index, len(files))
        relative = files[which].relative_to(root)
        destination = target / relative.parent / f"copy-{round_:04d}" / relative.name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(files[which], destination)
        copied.append(destination)
    return copied


def throughput(corpus: Corpus, root: Path, scratch: Path, runs: int) -> list[tuple[str, float | None, float]]:
    copies = replicate(corpus.json, root, scratch / "json", corpus.configs, JSON_COPIES * len(corpus.json))
    rows: list[tuple[str, float | None, float]] = []
    cases: list[tuple[str, list[Path], Callable[[str], object], float]] = [
        (".tf ÷ python-hcl2 parse tree", corpus.tf, parse_tf, 1.3),
        ("YAML ÷ cfn-flip loader on libyaml", corpus.yaml, parse_yaml, 1.3),
        (f"JSON ÷ json.loads ({JSON_COPIES} copies)", copies, parse_json, 2.0),
    ]
    for label, files, parser, goal in cases:
        if not files:
            rows.append((f"{label}: no such files in the corpus", None, goal))
            continue

        def validate(files: list[Path] = files) -> object:
            return scan(files)

        # Each result dropped at once, as validate drops each template: a list of them all would
        # make every later collection of the cyclic GC walk the earlier trees.
        def bare(files: list[Path] = files, parser: Callable[[str], object] = parser) -> None:
            for path in files:
                parser(_read(path))

        def bare_no_gc(files: list[Path] = files, parser: Callable[[str], object] = parser) -> None:
            for path in files:
                _without_gc(parser, _read(path))

        medians = interleaved({"validate": validate, "bare": bare, "bare_no_gc": bare_no_gc}, runs)
        size = sum(path.stat().st_size for path in files)
        no_gc = medians["bare_no_gc"]
        detail = (
            f"{label}: {len(files)} files, {size / 2**20:.1f} MiB; validate {medians['validate'] * 1000:.0f} ms,"
            f" bare {medians['bare'] * 1000:.0f} ms (with the cyclic GC paused per file, as validate's loaders"
            f" pause it: {no_gc * 1000:.0f} ms, ratio {medians['validate'] / no_gc:.2f})"
        )
        rows.append((detail, medians["validate"] / medians["bare"], goal))
    return rows


# --- (b) cold start ----------------------------------------------------------------------------


def child_env(scratch: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
    return env


def _run(command: Sequence[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def _median_file(files: Sequence[Path]) -> Path | None:
    return sorted(files, key=lambda p: (p.stat().st_size, str(p)))[len(files) // 2] if files else None


def _builtin_cfn(scratch: Path) -> tuple[Path, Path]:
    from cfn_flip import to_json

    (scratch / "cfn").mkdir(exist_ok=True)
    (scratch / "cfn" / "deploypkg.yaml").write_text(CONFIG, encoding="utf-8")
    yaml_file, json_file = scratch / "cfn" / "stack.yaml", scratch / "cfn" / "stack.json"
    yaml_file.write_text(SMALL_TEMPLATE, encoding="utf-8")
    json_file.write_text(to_json(SMALL_TEMPLATE), encoding="utf-8")
    return yaml_file, json_file


def cold_start(corpus: Corpus, scratch: Path, runs: int) -> list[tuple[str, float | None, float]]:
    env = child_env(scratch)
    deploypkg = _script("deploypkg")
    builtin_yaml, builtin_json = _builtin_cfn(scratch)
    bare_tf = "import sys, hcl2; hcl2.parses_to_tree(open(sys.argv[1], encoding='utf-8-sig').read())"
    rows: list[tuple[str, float | None, float]] = []
    tf_file = _median_file(corpus.tf)
    cases: list[tuple[str, Path | None, list[str], float]] = [
        ("one .tf: validate ÷ bare python-hcl2 parse", tf_file, [sys.executable, "-c", bare_tf], 1.3),
    ]
    cfn_lint = [_script("cfn-lint")]
    for kind, files, builtin in (("YAML", corpus.cfn_yaml, builtin_yaml), ("JSON", corpus.cfn_json, builtin_json)):
        cases.append((f"one {kind}: validate ÷ cfn-lint", _median_file(files) or builtin, cfn_lint, 0.10))
    for label, file, baseline, goal in cases:
        if file is None:
            rows.append((f"{label}: no such file in the corpus", None, goal))
            continue
        sides = {"validate": [deploypkg, "validate", str(file)], "baseline": [*baseline, str(file)]}
        medians = interleaved({name: _bind(_run, command, env, file.parent) for name, command in sides.items()}, runs)
        detail = (
            f"{label} ({_shown(file)}, {file.stat().st_size} bytes): validate {medians['validate'] * 1000:.0f} ms,"
            f" baseline {medians['baseline'] * 1000:.0f} ms"
        )
        rows.append((detail, medians["validate"] / medians["baseline"], goal))
    return rows


def _bind(run: Callable[[Sequence[str], dict[str, str], Path], float], *args: Any) -> Callable[[], float]:
    return lambda: run(*args)


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return path.name


# --- (c) scale ---------------------------------------------------------------------------------


def generate(count: int, target: Path) -> Path:
    """``count`` templates: copies of the fixture templates, in the fixtures' projects."""
    fixtures = load_corpus(FIXTURES)
    replicate(sorted({*fixtures.tf, *fixtures.yaml, *fixtures.json}), FIXTURES, target, fixtures.configs, count)
    return target


def _measured(command: Sequence[str], env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", RUSAGE_PROBE, *command], env=env, capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(done.stdout)
    return result


def scale(sizes: Sequence[int], scratch: Path, runs: int) -> list[str]:
    env = child_env(scratch)
    deploypkg = _script("deploypkg")
    directories = {size: generate(size, scratch / f"scale-{size}") for size in sizes}
    commands = {size: [deploypkg, "validate", "--format", "json", str(path)] for size, path in directories.items()}
    _measured(commands[sizes[0]], env)  # bytecode and file-system cache
    seconds: dict[int, list[float]] = {size: [] for size in sizes}
    peaks: dict[int, list[float]] = {size: [] for size in sizes}
    for _ in range(runs):
        for size in sizes:
            result = _measured(commands[size], env)
            seconds[size].append(result["seconds"])
            peaks[size].append(result["maxrss_kib"] / 1024)
    lines = []
    per_file = {size: statistics.median(seconds[size]) / size * 1000 for size in sizes}
    peak = {size: statistics.median(peaks[size]) for size in sizes}
    for size in sizes:
        lines.append(
            f"  {size:6d} templates: {statistics.median(seconds[size]):6.2f} s, {per_file[size]:.2f} ms per file,"
            f" peak RSS {peak[size]:.0f} MiB"
        )
    if len(sizes) > 1:
        small, large = min(sizes), max(sizes)
        ratio = per_file[large] / per_file[small]
        lines.append(
            f"  ms per file {large} ÷ {small} = {ratio:.2f} (goal 0.8-1.2):"
            f" {'met' if 0.8 <= ratio <= 1.2 else 'NOT met'}"
        )
        growth = peak[large] - peak[small]
        per_thousand = growth / (large - small) * 1000
        lines.append(
            f"  peak RSS {large} − {small} templates = {growth:+.1f} MiB ({per_thousand:+.2f} MiB per 1,000 files;"
            " goal: independent of the file count)"
        )
    return lines


# --- the report --------------------------------------------------------------------------------


def _verdict(ratio: float | None, goal: float) -> str:
    if ratio is None:
        return ""
    return f"  ratio {ratio:.2f} (goal <= {goal:g}): {'met' if ratio <= goal else 'NOT met'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=FIXTURES, help="templates to measure (default: fixtures/)")
    parser.add_argument("--runs", type=int, default=7, help="in-process throughput runs per side")
    parser.add_argument("--cold-runs", type=int, default=11, help="fresh-process runs per side")
    parser.add_argument("--scale", default="1000,5000", help="template counts for the scale runs ('' skips them)")
    parser.add_argument("--scale-runs", type=int, default=3)
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: throughput, cold, scale")
    args = parser.parse_args()
    skip = {part.strip() for part in args.skip.split(",") if part.strip()}
    root = args.corpus.resolve()
    corpus = load_corpus(root)
    print(
        f"corpus {root}: {len(corpus.tf)} .tf, {len(corpus.yaml)} YAML, {len(corpus.json)} JSON templates"
        f" ({len(corpus.cfn_yaml)} + {len(corpus.cfn_json)} CloudFormation)"
    )
    with tempfile.TemporaryDirectory(prefix="validate-speed-") as name:
        scratch = Path(name)
        if "throughput" not in skip:
            print(f"(a) throughput, one process, medians of {args.runs} interleaved runs")
            for detail, ratio, goal in throughput(corpus, root, scratch, args.runs):
                print(f"  {detail}\n{_verdict(ratio, goal)}")
        if "cold" not in skip:
            print(f"(b) cold start, fresh processes, medians of {args.cold_runs} interleaved runs")
            for detail, ratio, goal in cold_start(corpus, scratch, args.cold_runs):
                print(f"  {detail}\n{_verdict(ratio, goal)}")
        sizes = [int(size) for size in args.scale.split(",") if size.strip()]
        if "scale" not in skip and sizes:
            print(f"(c) scale, generated copies of fixtures/, medians of {args.scale_runs} runs")
            for line in scale(sorted(sizes), scratch, args.scale_runs):
                print(line)


if __name__ == "__main__":
    main()
