"""``deploypkg catalog …``: the provider's commands. Parses arguments, calls
:mod:`preprocessor.catalog.operations`, prints the result; errors become exit codes in
:func:`preprocessor.cli.main` (2 bad input, 1 conflict / refusal / failed region).

The catalog is ``--catalog URL``, else ``$DEPLOYPKG_CATALOG``, else the project config's ``catalog:``
(:mod:`preprocessor.catalog.opening`, the AWS CLI's order).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import click

from preprocessor.catalog.opening import StoreOptions
from preprocessor.cli import terminal
from preprocessor.cli.options import ProviderName, catalog_url_option, format_option, store_options
from preprocessor.errors import InputError
from preprocessor.output import printable

F = TypeVar("F", bound=Callable[..., Any])


class StoreSettings(NamedTuple):
    """What the ``catalog`` group's options say, for its commands."""

    catalog: str | None
    config: Path | None
    store: StoreOptions


_catalog_option = catalog_url_option("the project config's")


class _WorkflowOrder(click.Group):
    """Commands listed in the order a provider uses them."""

    ORDER = ("init", "publish", "distribute", "release", "promote", "revoke", "service", "audit", "list", "show")

    def list_commands(self, ctx: click.Context) -> list[str]:
        known = super().list_commands(ctx)
        return [c for c in self.ORDER if c in known] + [c for c in known if c not in self.ORDER]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Whole summaries, wrapped, rather than click's cut to the space left on one line.
        rows = [(name, self.commands[name].get_short_help_str(limit=300)) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=_WorkflowOrder)
@click.option("--catalog", "catalog_url", metavar="URL", help="file://DIR or s3://BUCKET/PREFIX.")
@click.option(
    "--config", type=click.Path(dir_okay=False, path_type=Path), help="The project config (default: nearest)."
)
@store_options
@click.option("--region", "old_region", metavar="REGION", hidden=True, help="Deprecated spelling of --catalog-region.")
@click.pass_context
def catalog(
    ctx: click.Context,
    catalog_url: str | None,
    config: Path | None,
    store: StoreOptions,
    old_region: str | None,
) -> None:
    """Publish, distribute, release and promote package versions; manage services.

    Store options (--endpoint-url, --catalog-region, --addressing-style) go before the command:
    deploypkg catalog --endpoint-url http://127.0.0.1:5000 publish …
    """
    if old_region is not None:
        click.echo(
            "note: 'catalog --region' is deprecated and goes in a later release; use 'catalog --catalog-region'"
            " (--region after the command still names the regions it works on)",
            err=True,
        )
        store = store._replace(region=store.region or old_region)
    ctx.obj = StoreSettings(catalog_url, config, store)


def _open(ctx: click.Context, catalog_url: str | None, provider: str | None = None) -> Any:
    """The store named by the command line, the environment or the project config."""
    from preprocessor.catalog.opening import CATALOG_ENV, open_catalog
    from preprocessor.catalog.opening import catalog_url as chosen_url
    from preprocessor.config import load_config

    settings: StoreSettings = ctx.find_object(StoreSettings) or StoreSettings(None, None, StoreOptions())
    flag = catalog_url or settings.catalog
    # The config is read only when it decides (elsewhere it may be absent, or broken).
    configured = None if flag or os.environ.get(CATALOG_ENV) else load_config(settings.config).resolve_catalog_url()
    return open_catalog(chosen_url(flag, configured), settings.store, provider)


def _pairs(values: Sequence[str], option: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        region, sep, image = value.partition("=")
        if not sep or not region or not image:
            raise InputError(f"{option} {value!r} is not REGION=ID", hint=f"for example {option} cn-hangzhou=m-…")
        if region in pairs and pairs[region] != image:
            raise InputError(f"{option} names {region} twice ({pairs[region]} and {image})")
        pairs[region] = image
    return pairs


# --- init / list / show


@catalog.command()
@_catalog_option
@click.option(
    "--provider",
    required=True,
    type=ProviderName(),
    help="The cloud whose regions, image IDs and object-store endpoints the catalog uses.",
)
@click.option("--bucket-pattern", required=True, metavar="PATTERN", help="Regional bucket names, e.g. myco-{region}.")
@click.option("--promotion-order", metavar="CH,CH,…", help="Channel promotion order (default dev,test,prod).")
@click.option(
    "--create-bucket", "bucket_regions", multiple=True, metavar="REGION", help="Also create this region's bucket."
)
@click.option(
    "--registry-pattern",
    metavar="HOST/NS",
    help="Each region's container registry and namespace, with {region}: registry.{region}.aliyuncs.com/acme"
    " (ACR), myinst-registry.{region}.cr.aliyuncs.com/acme (ACR Enterprise). Default: the provider's registry"
    " host, keeping the source's repository path.",
)
@click.option(
    "--registry",
    "registries",
    multiple=True,
    metavar="REGION=HOST/NS",
    help="One region's registry (repeatable); wins over --registry-pattern for that region.",
)
@click.pass_context
def init(
    ctx: click.Context,
    catalog_url: str | None,
    provider: str,
    bucket_pattern: str,
    promotion_order: str | None,
    bucket_regions: tuple[str, ...],
    registry_pattern: str | None,
    registries: tuple[str, ...],
) -> None:
    """Create an empty catalog (refused if one exists)."""
    from preprocessor import names
    from preprocessor.catalog import operations

    store = _open(ctx, catalog_url, provider)
    order = [c.strip() for c in promotion_order.split(",")] if promotion_order else []
    regions = [names.check("region", r) for r in bucket_regions]
    info = operations.init(store, provider, bucket_pattern, order, registry_pattern, _pairs(registries, "--registry"))
    for region in regions:
        store.create_bucket(region, info.bucket(region))
        click.echo(f"created bucket {info.bucket(region)} ({region})")
    click.echo(
        f"initialised {store.url}: provider {info.provider}, buckets {info.bucket_pattern}, "
        f"promotion {' → '.join(info.promotion_order)}"
    )


@catalog.command(name="status")
@_catalog_option
@click.argument("packages", nargs=-1, metavar="[PACKAGE]...")
@click.option("--region", "regions", multiple=True, metavar="REGION", help="Only these regions (repeatable).")
@format_option(["text", "json", "markdown"], "text: a table; json for a script; markdown for a review.", name="fmt")
@click.pass_context
def status_command(
    ctx: click.Context, catalog_url: str | None, packages: tuple[str, ...], regions: tuple[str, ...], fmt: str
) -> None:
    """Each version's copy per region (available, copying, failed, missing), status and channels."""
    from preprocessor import names
    from preprocessor.catalog import operations
    from preprocessor.catalog.status import status

    store = _open(ctx, catalog_url)
    if packages:
        from preprocessor.catalog.writes import read_info

        details = [operations.describe_package(store, name) for name in packages]
        order = read_info(store).promotion_order
    else:
        listing = operations.list_catalog(store)  # it has read catalog.json already
        details, order = listing.packages, listing.info.promotion_order
    matrix = status(details, [names.check("region", r) for r in regions], order)
    if fmt == "json":
        click.echo(json.dumps(matrix.to_json(), indent=2))
        return
    if fmt == "markdown":
        click.echo(matrix.to_markdown(), nl=False)
        return
    from rich.table import Table

    colours = {"available": "green", "copying": "yellow", "failed": "red", "missing": "dim"}
    table = Table()
    for column in ("package", "version", "status", "channels", *matrix.regions):
        table.add_column(column)
    for row in matrix.rows:
        cells = [f"[{colours[row.regions[r]]}]{row.regions[r]}" for r in matrix.regions]
        table.add_row(row.package, row.version, row.status, ", ".join(row.channels) or "-", *cells)
    _console().print(table)


@catalog.command(name="list")
@_catalog_option
@format_option(["text", "json"], "text for a person, json for a script.", name="fmt")
@click.pass_context
def list_command(ctx: click.Context, catalog_url: str | None, fmt: str) -> None:
    """List the packages, their versions and channels, and the services."""
    from preprocessor.catalog import operations

    listing = operations.list_catalog(_open(ctx, catalog_url))
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "catalog": listing.info.to_json(),
                    "packages": [_details_json(d) for d in listing.packages],
                    "services": [s.to_json() for s in listing.services],
                },
                indent=2,
            )
        )
        return
    from rich.table import Table

    table = Table(title=f"{listing.info.provider} catalog ({listing.info.bucket_pattern})")
    for column in ("package", "type", "versions", "channels", "owner"):
        table.add_column(column)
    for details in listing.packages:
        table.add_row(
            details.package.name,
            details.package.type.value,
            ", ".join(f"{v.version} ({v.status.value})" for v in details.versions),
            ", ".join(f"{c.name}→{c.version}" for c in details.channels),
            details.package.owner or "",
        )
    console = _console()
    console.print(table)
    for svc in listing.services:
        allowed = f", whitelist {', '.join(svc.whitelist)}" if svc.whitelist else ""
        console.print(f"service {svc.name}: {svc.visibility.value}{allowed}; packages {', '.join(svc.packages)}")


def _console() -> Any:
    """A rich console; wide when printing to a pipe or file, so IDs and keys are never cut."""
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console = Console(width=240)
    return console


def _details_json(details: Any) -> dict[str, Any]:
    return {
        "package": details.package.to_json(),
        "versions": [v.to_json() for v in details.versions],
        "channels": [c.to_json() for c in details.channels],
    }


@catalog.command()
@_catalog_option
@click.argument("name")
@click.argument("version", required=False)
@format_option(["text", "json"], "text for a person, json for a script.", name="fmt")
@click.pass_context
def show(ctx: click.Context, catalog_url: str | None, name: str, version: str | None, fmt: str) -> None:
    """Show a package (all versions) or one version with its regional distributions."""
    from preprocessor.catalog import operations

    details = operations.describe_package(_open(ctx, catalog_url), name, version)
    if fmt == "json":
        data = _details_json(details)
        click.echo(json.dumps(data["versions"][0] if version else data, indent=2))
        return
    from rich.table import Table

    console = _console()
    pkg = details.package
    console.print(f"{pkg.name}: {pkg.type.value}" + (f", owner {pkg.owner}" if pkg.owner else ""))
    if pkg.description:
        console.print(pkg.description)
    for channel in details.channels:
        console.print(f"channel {channel.name} → {channel.version}")
    for ver in details.versions:
        heading = f"{ver.version}: {ver.status.value}"
        if ver.revoked_reason:
            heading += f" ({ver.revoked_reason})"
        table = Table(title=heading, title_justify="left")
        for column in ("region", "status", "artifact", "sha256", "updated", "error"):
            table.add_column(column)
        for region, dist in sorted(ver.distributions.items()):
            marker = " (source)" if region == ver.source.region else ""
            table.add_row(
                region + marker,
                dist.status.value,
                dist.value or "",
                (dist.sha256 or "")[:12],
                dist.updated_at or "",
                dist.error or "",
            )
        console.print(table)


# --- publish


@catalog.command()
@_catalog_option
@click.argument("name")
@click.argument("version")
@click.option(
    "--type",
    "kind",
    type=click.Choice(["ecs-image", "file", "container-image", "helm-chart"]),
    help="What the version is (an existing package's versions must all be of its type).",
)
@click.option("--image", "images", multiple=True, metavar="REGION=ID", help="ecs-image: an image in a region.")
@click.option(
    "--from-packer", type=click.Path(dir_okay=False, path_type=Path), help="ecs-image: a Packer manifest.json."
)
@click.option("--packer-run-uuid", metavar="UUID", help="The Packer run to import (default: the last run).")
@click.option(
    "--marketplace",
    metavar="CODE",
    help="ecs-image: a marketplace image by commodity code; its --image IDs are recorded, never copied.",
)
@click.option("--file", "file_path", type=click.Path(dir_okay=False, path_type=Path), help="file: the file.")
@click.option(
    "--copyable",
    is_flag=True,
    help="ecs-image: a new package whose customers may also copy it into their accounts (aws: snapshot permission).",
)
@click.option(
    "--public", is_flag=True, help="file: a new package anyone may download (computenest::publicfile), public-read."
)
@click.option("--region", metavar="REGION", help="The source region (file: where it is uploaded).")
@click.option("--image-ref", metavar="REF", help="container-image: the image reference.")
@click.option("--chart", metavar="REF", help="helm-chart: the chart reference (oci://…).")
@click.option("--owner", metavar="ACCOUNT", help="The owner account of a new package.")
@click.option("--description", default="", help="A new package's description.")
@click.option("--replace-draft", is_flag=True, help="Replace an existing draft (never a published version).")
@click.pass_context
def publish(
    ctx: click.Context,
    catalog_url: str | None,
    name: str,
    version: str,
    kind: str | None,
    images: tuple[str, ...],
    from_packer: Path | None,
    packer_run_uuid: str | None,
    marketplace: str | None,
    file_path: Path | None,
    copyable: bool,
    public: bool,
    region: str | None,
    image_ref: str | None,
    chart: str | None,
    owner: str | None,
    description: str,
    replace_draft: bool,
) -> None:
    """Create a draft version of a package (and the package if it is new)."""
    from preprocessor.catalog import operations
    from preprocessor.catalog.model import PackageType

    image_map = _pairs(images, "--image")
    if from_packer is not None:
        from preprocessor.catalog.packer import read_manifest

        if image_map:
            raise InputError("give either --image or --from-packer, not both")
        if kind not in (None, "ecs-image"):
            raise InputError("--from-packer publishes an ecs-image version", hint="leave out --type or use ecs-image")
        kind = "ecs-image"
        imported = read_manifest(from_packer, packer_run_uuid)
        image_map = imported.images
        region = region or imported.source_region
        click.echo(f"imported Packer run {imported.run_uuid}: {', '.join(f'{r}={i}' for r, i in image_map.items())}")
    elif packer_run_uuid is not None:
        raise InputError("--packer-run-uuid needs --from-packer")
    if kind is None:
        raise InputError(
            "say what is published with --type", hint="--type ecs-image | file | container-image | helm-chart"
        )
    request = operations.PublishRequest(
        package=name,
        version=version,
        type=PackageType(kind),
        images=image_map,
        region=region,
        file=file_path,
        image_ref=image_ref,
        chart_ref=chart,
        owner=owner,
        description=description,
        replace_draft=replace_draft,
        marketplace=marketplace,
        public=public,
        copyable=copyable,
    )
    store = _open(ctx, catalog_url)
    if file_path is not None and file_path.is_file() and sys.stderr.isatty() and not terminal.quiet():
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task(f"upload {file_path.name}", total=file_path.stat().st_size)
            result = operations.publish(store, request, lambda n: bar.advance(task, n))
    else:
        result = operations.publish(store, request)
    ver = result.version
    if result.created_package:
        click.echo(f"created package {name} ({kind})")
    what = "replaced draft" if result.replaced_draft else "published draft"
    source = ver.source
    artifact = source.image_id or source.object_key or source.image_ref or source.chart_ref
    sold = f" (marketplace {source.marketplace})" if source.marketplace else ""
    click.echo(f"{what} {name} {version}: source {source.region} {artifact}{sold}")
    if source.object_key:
        state = "uploaded" if result.uploaded else "already there, not uploaded again"
        click.echo(f"  bucket {source.bucket}: {source.object_key} ({source.size} bytes, {state})")
    others = [r for r in ver.distributions if r != source.region]
    if others:
        click.echo(f"  also available in {', '.join(others)}")
    if ver.source.object_key:
        _share(ctx, store, [name])  # a public file's object: public-read (images change at release)


# --- distribute


class _PlainReporter:
    """On standard error, a line when a region starts, per change of a cloud-side copy's state
    (or 25 points of its progress) and when it fails: for logs and pipes."""

    def __init__(self) -> None:
        self._shown: dict[str, tuple[str, int]] = {}

    def start(self, region: str, total: int | None) -> None:
        size = f" ({total} bytes)" if total is not None else ""
        click.echo(f"{region}: distributing{size}", err=True)

    def advance(self, region: str, amount: int) -> None:
        pass

    def status(self, region: str, state: str, percent: int | None) -> None:
        step = (percent or 0) // 25
        if self._shown.get(region) == (state, step):
            return
        self._shown[region] = (state, step)
        click.echo(f"{region}: {state}{f' {percent}%' if percent is not None else ''}", err=True)

    def finish(self, region: str, outcome: Any) -> None:
        # Each region's outcome is also a line on standard output; a failure is said here too,
        # where errors go, an available region only once.
        if outcome.error:
            click.echo(f"{region}: failed: {outcome.error} ({outcome.seconds:.1f} s)", err=True)


def _amount_column(download_column: type[Any]) -> Any:
    """Bytes for a file's task; ``NN%`` for a cloud-side image copy (its task's ``unit`` is ``%``)."""

    class AmountColumn(download_column):  # type: ignore[misc]
        def render(self, task: Any) -> Any:
            if task.fields.get("unit") == "%":
                from rich.text import Text

                return Text(f"{task.completed:.0f}%", style="progress.download")
            return super().render(task)

    return AmountColumn()


class _RichReporter:
    """A rich progress bar per region (interactive terminals)."""

    def __init__(self, regions: Sequence[str]) -> None:
        from rich.progress import BarColumn, DownloadColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            _amount_column(DownloadColumn),
            TimeElapsedColumn(),
            transient=False,
        )
        self.tasks = {region: self.progress.add_task(region, total=None, start=False) for region in regions}

    def start(self, region: str, total: int | None) -> None:
        task = self.tasks[region]
        self.progress.update(task, total=total)
        self.progress.start_task(task)

    def advance(self, region: str, amount: int) -> None:
        self.progress.advance(self.tasks[region], amount)

    def status(self, region: str, state: str, percent: int | None) -> None:
        shown = f"{region} {state}"
        if percent is None:
            self.progress.update(self.tasks[region], description=shown)
        else:
            self.progress.update(self.tasks[region], description=shown, total=100, completed=percent, unit="%")

    def finish(self, region: str, outcome: Any) -> None:
        task = self.tasks[region]
        label = f"{region} [green]{outcome.status.value}" if not outcome.error else f"{region} [red]{outcome.error}"
        total = self.progress.tasks[task].total
        self.progress.update(task, description=label, completed=total if total is not None else 1, total=total or 1)


@catalog.command()
@_catalog_option
@click.argument("name")
@click.argument("version")
@click.option("--region", "regions", multiple=True, required=True, metavar="REGION", help="A region to distribute to.")
@click.option("--parallel", default=4, show_default=True, type=click.IntRange(1, 64), help="Regions at a time.")
@click.option(
    "--image",
    "images",
    multiple=True,
    metavar="REGION=ID",
    help="A copy made outside deploypkg (clouds it cannot copy on).",
)
@click.option("--image-ref-pattern", metavar="PATTERN", help="Regional reference pattern: {region} {path} {account}.")
@click.option(
    "--wait",
    "wait_seconds",
    metavar="SECONDS",
    default=1800.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds to wait for each machine-image copy (a rerun waits again).",
)
@click.option(
    "--poll",
    "poll_seconds",
    metavar="SECONDS",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0.05),
    help="Seconds between checks of a machine-image copy.",
)
@click.pass_context
def distribute(
    ctx: click.Context,
    catalog_url: str | None,
    name: str,
    version: str,
    regions: tuple[str, ...],
    parallel: int,
    images: tuple[str, ...],
    image_ref_pattern: str | None,
    wait_seconds: float,
    poll_seconds: float,
) -> None:
    """Copy a version to more regions; a rerun resumes (what is there is skipped)."""
    from preprocessor.catalog import operations

    store = _open(ctx, catalog_url)
    options = operations.DistributeOptions(
        parallel=parallel,
        images=_pairs(images, "--image"),
        image_ref_pattern=image_ref_pattern,
        image_wait_seconds=wait_seconds,
        image_poll_seconds=poll_seconds,
    )
    ordered = list(dict.fromkeys(regions))
    if terminal.quiet():
        from preprocessor.catalog.distribute import SilentReporter

        outcomes = operations.distribute(store, name, version, ordered, options, SilentReporter())
    elif sys.stderr.isatty():
        reporter = _RichReporter(ordered)
        with reporter.progress:
            outcomes = operations.distribute(store, name, version, ordered, options, reporter)
    else:
        outcomes = operations.distribute(store, name, version, ordered, options, _PlainReporter())
    failed = 0
    for outcome in outcomes:
        if outcome.error:
            failed += 1
            click.echo(f"{outcome.region}: {outcome.status.value}: {outcome.error}")
        else:
            how = "already there" if outcome.skipped else f"done in {outcome.seconds:.1f} s"
            click.echo(f"{outcome.region}: {outcome.status.value} {outcome.value} ({how})")
    _share(ctx, store, [name])
    if failed:
        click.echo(
            f"deploypkg: {failed} of {len(outcomes)} regions did not complete; fix the cause and rerun "
            f"the same command (done regions are skipped)",
            err=True,
        )
        ctx.exit(1)


# --- release / revoke / promote / service


@catalog.command()
@_catalog_option
@click.argument("name")
@click.argument("version")
@click.option("--region", "regions", multiple=True, metavar="REGION", help="Require these (default: all recorded).")
@click.pass_context
def release(ctx: click.Context, catalog_url: str | None, name: str, version: str, regions: tuple[str, ...]) -> None:
    """Publish a draft: it becomes immutable and usable in every available region."""
    from preprocessor.catalog import operations

    store = _open(ctx, catalog_url)
    ver = operations.release(store, name, version, regions)
    click.echo(f"released {name} {version}: available in {', '.join(ver.available_regions())}")
    _share(ctx, store, [name])


@catalog.command()
@_catalog_option
@click.argument("name")
@click.argument("version")
@click.option("--reason", required=True, help="Why the version must not be used any more.")
@click.pass_context
def revoke(ctx: click.Context, catalog_url: str | None, name: str, version: str, reason: str) -> None:
    """Revoke a version: render refuses it from now on."""
    from preprocessor.catalog import operations

    store = _open(ctx, catalog_url)
    ver = operations.revoke(store, name, version, reason)
    click.echo(f"revoked {name} {version} at {ver.revoked_at}: {ver.revoked_reason}")
    _share(ctx, store, [name])


@catalog.command()
@_catalog_option
@click.argument("name")
@click.argument("version")
@click.option(
    "--channel", required=True, metavar="CHANNEL", help="The channel to point at the version (dev, test, prod…)."
)
@click.pass_context
def promote(ctx: click.Context, catalog_url: str | None, name: str, version: str, channel: str) -> None:
    """Point a channel at a published version, in the catalog's promotion order."""
    from preprocessor.catalog import operations

    result = operations.promote(
        _open(ctx, catalog_url), name, version, channel, on_tag=lambda ref: click.echo(f"tagged {ref}")
    )
    click.echo(f"{name}#{channel} → {result.version}")


@catalog.command()
@_catalog_option
@click.argument("name")
@click.option(
    "--visibility",
    type=click.Choice(["public", "private"]),
    help="public: anyone (or the whitelist, if it has accounts) may use its packages; private: the whitelist only.",
)
@click.option(
    "--allow",
    "allow",
    multiple=True,
    metavar="ACCOUNT",
    help="Whitelist an account (replaces the list; '' empties it).",
)
@click.option("--allow-add", "allow_add", multiple=True, metavar="ACCOUNT", help="Add an account to the whitelist.")
@click.option(
    "--allow-remove", "allow_remove", multiple=True, metavar="ACCOUNT", help="Remove an account from the whitelist."
)
@click.option("--package", "packages", multiple=True, metavar="NAME", help="Associate a package (replaces the list).")
@click.option("--owner", metavar="ACCOUNT", help="The account that owns the service (always allowed).")
@click.pass_context
def service(
    ctx: click.Context,
    catalog_url: str | None,
    name: str,
    visibility: str | None,
    allow: tuple[str, ...],
    allow_add: tuple[str, ...],
    allow_remove: tuple[str, ...],
    packages: tuple[str, ...],
    owner: str | None,
) -> None:
    """Create or update a service (options left out keep their values)."""
    from preprocessor.catalog import operations
    from preprocessor.catalog.model import Visibility

    store = _open(ctx, catalog_url)
    result = operations.service(
        store,
        name,
        Visibility(visibility) if visibility else None,
        [a for a in allow if a] if allow else None,  # --allow '' empties the whitelist
        list(packages) if packages else None,
        owner,
        allow_add,
        allow_remove,
    )
    whitelist = f", whitelist {', '.join(result.whitelist)}" if result.whitelist else ""
    click.echo(f"service {name}: {result.visibility.value}{whitelist}; packages {', '.join(result.packages) or '-'}")
    _share(ctx, store, None)  # a package left the service, or joined it: every image's audience may change


def _share(ctx: click.Context, store: Any, names: list[str] | None) -> None:
    """Make the machine images' launch permissions follow the catalog after a change, printing
    each change; a cloud error after the catalog changed says how to finish (exit 1)."""
    from preprocessor.catalog import permissions
    from preprocessor.errors import DeploypkgError

    try:
        synced = permissions.sync(store, names)
    except DeploypkgError as error:
        _permissions_failed(ctx, [error.message])
        return
    for change in synced.drift:
        click.echo(
            f"permissions {change.package} {change.version} {change.region} {change.image_id}: {change.describe()}"
        )
    if synced.failed:
        _permissions_failed(ctx, [_failure_line(f) for f in synced.failed])


def _failure_line(f: Any) -> str:
    return f"{f.package} {f.version} {f.region} {f.image_id}: {f.reason}"


def _permissions_failed(ctx: click.Context, reasons: list[str]) -> None:
    lines = "\n".join(f"  {printable(reason)}" for reason in reasons)
    click.echo(
        f"deploypkg: the catalog changed, but setting image permissions failed:\n{lines}\n"
        "  hint: fix the cause, then run: deploypkg catalog audit --fix",
        err=True,
    )
    ctx.exit(1)


@catalog.command()
@_catalog_option
@click.argument("packages", nargs=-1, metavar="[PACKAGE]...")
@click.option("--fix", is_flag=True, help="Set every drifted image's permissions to what the catalog says.")
@format_option(["text", "json"], "text for a person, json for a script.", name="fmt")
@click.pass_context
def audit(ctx: click.Context, catalog_url: str | None, packages: tuple[str, ...], fix: bool, fmt: str) -> None:
    """Compare each image copy's launch permissions, and whether each file's objects are public,
    with what the catalog says (exit 1 on drift)."""
    from preprocessor.catalog import permissions

    store = _open(ctx, catalog_url)
    names = list(packages) or None
    drifts, failed = permissions.sync(store, names) if fix else permissions.audit(store, names)
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "fixed": fix,
                    "drift": [_drift_record(d) for d in drifts],
                    "failed": [_failure_record(f) for f in failed],
                },
                indent=2,
            )
        )
    else:
        for d in drifts:
            click.echo(f"{d.package} {d.version} {d.region} {d.image_id}: {d.describe()}{' (fixed)' if fix else ''}")
        for f in failed:
            click.echo(f"{printable(_failure_line(f))} ({'not fixed' if fix else 'not read'})")
        if not drifts and not failed:
            click.echo("every image copy's permissions are what the catalog says")
    ctx.exit(1 if failed or (drifts and not fix) else 0)


def _permissions_record(kind: str, permissions: Any) -> dict[str, Any]:
    if kind == "object":
        return {"public": permissions.public}
    record = {"public": permissions.public, "accounts": sorted(permissions.accounts)}
    if permissions.copiers or permissions.copiers_partial:
        record["copiers"] = sorted(permissions.copiers | permissions.copiers_partial)
    return record


def _copy_record(c: Any) -> dict[str, Any]:
    """Which copy a drift or a failure is about: the image, or the file's object."""
    return {
        "kind": c.kind,
        "package": c.package,
        "version": c.version,
        "region": c.region,
        "image_id" if c.kind == "image" else "object": c.image_id,
    }


def _failure_record(f: Any) -> dict[str, Any]:
    return {**_copy_record(f), "error": f.reason}


def _drift_record(d: Any) -> dict[str, Any]:
    return {
        **_copy_record(d),
        "wanted": _permissions_record(d.kind, d.wanted),
        "actual": _permissions_record(d.kind, d.actual),
    }
