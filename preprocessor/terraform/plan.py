"""``deploypkg plan``: render a Terraform module per region into work directories and run
``terraform init`` + ``terraform plan`` in each.

Order: find terraform (fail fast, before any rendering), render every region into a scratch
directory with :func:`preprocessor.render.render_to_directory` (all regions or none), mirror
each region's tree into its work directory (keeping ``.terraform/``), then run the regions.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

from preprocessor.catalog.opening import StoreOptions
from preprocessor.errors import InputError
from preprocessor.output import diagnostic_line
from preprocessor.terraform.arguments import check_plan_arguments, plan_file
from preprocessor.terraform.binary import find_terraform, terraform_environment
from preprocessor.terraform.output import PrefixedOutput
from preprocessor.terraform.runner import RegionResult, RegionRun, aggregate_exit_codes, run_regions
from preprocessor.terraform.summary import PLAN_FILE, RegionPlan, region_plan
from preprocessor.terraform.workdir import sync_tree

DEFAULT_WORK_DIR = Path(".deploypkg") / "plan"
MANIFEST_NAME = "manifest.json"
LOCK_NAME = ".plan.lock"


class PlanOptions(NamedTuple):
    regions: tuple[str, ...] = ()
    all_regions: bool = False
    account: str | None = None
    config: Path | None = None
    computenest_config: Path | None = None
    catalog: str | None = None
    store: StoreOptions = StoreOptions()
    work_dir: Path | None = None
    """Parent of the region work directories; default ``<module>/.deploypkg/plan``."""
    parallel: int = 1
    terraform: str | None = None
    """The binary (``--terraform``); else ``$TERRAFORM``, else ``terraform`` on PATH."""
    terraform_args: tuple[str, ...] = ()
    """Passed through to ``terraform plan``."""
    expires: int | None = None
    """Presigned URL lifetime in seconds (render's default when None)."""
    endpoint: str = "public"
    """``public`` or ``internal``: which object-store endpoint presigned URLs are for."""
    summary: bool = False
    """Read each region's plan back (``-out``, added as ``deploypkg.tfplan`` if not given)."""


class PlanReport(NamedTuple):
    work_root: Path
    results: list[RegionResult]
    render_seconds: float
    plugin_cache: Path | None
    plans: list[RegionPlan] | None = None
    """With ``summary``: what each region's saved plan does (``terraform show -json``)."""

    @property
    def exit_code(self) -> int:
        return aggregate_exit_codes(result.exit_code for result in self.results)


def work_root_for(module_dir: Path, work_dir: Path | None) -> Path:
    return (work_dir if work_dir is not None else module_dir / DEFAULT_WORK_DIR).resolve()


def check_module_dir(module_dir: Path) -> None:
    if not module_dir.is_dir():
        raise InputError(f"{module_dir} is not a directory", hint="give the directory of a Terraform root module")
    if not any(module_dir.glob("*.tf")) and not any(module_dir.glob("*.tf.json")):
        raise InputError(
            f"{module_dir} contains no .tf or .tf.json file",
            hint="give the directory of a Terraform root module (where you would run terraform plan)",
        )


def check_work_root(module_dir: Path, work_root: Path) -> None:
    """A work root inside the module must be in a directory the loaders skip (``.deploypkg``),
    or the next plan would render the previous work directories as part of the module."""
    from preprocessor.templates.source import SKIPPED_DIRECTORIES

    module = module_dir.resolve()
    if work_root != module and module not in work_root.parents:
        return
    if not any(part in SKIPPED_DIRECTORIES for part in work_root.relative_to(module).parts):
        raise InputError(
            f"--work-dir {work_root} is inside the module {module_dir}: later plans would render it as a source",
            hint=f"use a directory outside {module_dir}, or one under {module_dir / '.deploypkg'}",
        )


def check_region_dir(module_dir: Path, region_dir: Path) -> None:
    """Mirroring into a region directory deletes what is not rendered: never let it hold the module."""
    module = module_dir.resolve()
    if region_dir == module or region_dir in module.parents:
        raise InputError(
            f"the work directory {region_dir} contains the module {module_dir}; planning would overwrite it",
            hint="choose another --work-dir",
        )


def _prepare_work_root(work_root: Path, default_location: bool) -> None:
    work_root.mkdir(parents=True, exist_ok=True)
    if default_location:
        # Keep the scratch tree out of version control without touching the user's .gitignore.
        ignore = work_root.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# created by deploypkg plan: work directories, never committed\n*\n")


@contextlib.contextmanager
def work_root_lock(work_root: Path) -> Iterator[None]:
    """One plan at a time per work root: a second one would mirror files under a running terraform."""
    import fcntl

    with open(work_root / LOCK_NAME, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(
                f"another deploypkg plan is using the work directories in {work_root}",
                hint="wait for it to finish, or give this one its own --work-dir",
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def render_work_dirs(module_dir: Path, work_root: Path, options: PlanOptions, output: PrefixedOutput) -> list[str]:
    """Render the module for every region into scratch space, then mirror each region into
    ``work_root/<region>``. Work directories are touched only when every region rendered."""
    from preprocessor.render import RenderOptions, render_to_directory

    started = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix=".render-", dir=work_root))
    try:
        rendered = scratch / "out"
        render_options = RenderOptions(
            account=options.account,
            endpoint="internal" if options.endpoint == "internal" else "public",
            config=options.config,
            all_regions=options.all_regions,
            computenest_config=options.computenest_config,
            catalog=options.catalog,
            store=options.store,
        )
        if options.expires is not None:
            render_options = render_options._replace(expires=options.expires)
        report = render_to_directory([module_dir], list(options.regions), rendered, render_options)
        for warning in report.warnings:
            output.message(diagnostic_line(warning))
        for region, reason in report.excluded.items():
            output.message(f"region {region} left out: {reason}")
        for region in report.regions:
            check_region_dir(module_dir, work_root / region)
        withheld: set[Path] = set()
        for region in report.regions:
            withheld.update(sync_tree(rendered / region, work_root / region))
        for relative in sorted(withheld):
            output.message(
                f"warning: {module_dir / relative} is not copied into the work directories: "
                "Terraform owns it there (local state belongs to one deployment, not to every region)"
            )
        if (rendered / MANIFEST_NAME).is_file():
            shutil.copy2(rendered / MANIFEST_NAME, work_root / MANIFEST_NAME)
        output.message(
            f"rendered {len(report.regions)} region(s), {report.substitutions} substitution(s) "
            f"in {time.monotonic() - started:.1f}s into {work_root}"
        )
        return list(report.regions)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def plan(
    module_dir: Path, options: PlanOptions, output: PrefixedOutput, environ: Mapping[str, str] | None = None
) -> PlanReport:
    environ = os.environ if environ is None else environ
    terraform = find_terraform(options.terraform, environ)
    if options.parallel < 1:
        raise InputError(f"--parallel must be at least 1, not {options.parallel}")
    if options.regions and options.all_regions:
        raise InputError("give either --region or --all-regions, not both")
    if not options.regions and not options.all_regions:
        raise InputError("no region given", hint="name regions with --region R (repeatable) or use --all-regions")
    check_module_dir(module_dir)
    check_plan_arguments(options.terraform_args, 2 if options.all_regions else len(options.regions))
    env, cache = terraform_environment(environ)
    work_root = work_root_for(module_dir, options.work_dir)
    check_work_root(module_dir, work_root)
    _prepare_work_root(work_root, options.work_dir is None)

    with work_root_lock(work_root):
        started = time.monotonic()
        regions = render_work_dirs(module_dir, work_root, options, output)
        render_seconds = time.monotonic() - started
        runs = [RegionRun(region, work_root / region) for region in regions]
        args = options.terraform_args
        saved = plan_file(args)
        if options.summary and saved is None:
            saved = PLAN_FILE
            args = (*args, f"-out={PLAN_FILE}")
        results = run_regions(runs, terraform, args, env, output, options.parallel)
        plans = None
        if options.summary:
            plans = [region_plan(r, work_root / r.region, terraform, env, saved or PLAN_FILE) for r in results]
    return PlanReport(work_root, results, render_seconds, cache, plans)
