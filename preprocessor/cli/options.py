"""Options shared by several commands, declared once so their names, defaults and help agree."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from preprocessor.cli.terminal import note

if TYPE_CHECKING:
    _TextParamType = click.ParamType[str, Any]
else:  # click before 8.5 has no subscriptable ParamType
    _TextParamType = click.ParamType


class ProviderName(_TextParamType):
    """A registered provider's name; the list (entry-point providers included) is read only when
    it is needed, so defining a command loads no provider."""

    name = "provider"

    def _names(self) -> list[str]:
        from providers import all_providers

        return sorted(all_providers())

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "[" + "|".join(self._names()) + "]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        names = self._names()
        if value in names:
            return str(value)
        self.fail(f"{value!r} is not a provider; use one of: {', '.join(names)}", param, ctx)


config_option = click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Use this deploypkg.yaml for every template (default: the nearest one above each template).",
)

computenest_config_option = click.option(
    "--computenest-config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read Compute Nest relations from this file (e.g. .computenest/config-international.yaml) instead"
    " of the nearest .computenest/config.yaml; overrides deploypkg.yaml's `computenest: config:`.",
)

account_option = click.option(
    "--account",
    metavar="ID",
    help="Apply the catalog's access rules for this account (default: the config's `account`).",
)

expires_option = click.option(
    "--expires", default="1h", show_default=True, help="Presigned URL lifetime: seconds, or 15m, 1h, 7d (max 7d)."
)

_ENDPOINT_KINDS = click.Choice(["public", "internal"])


def endpoint_option(function: F) -> F:
    """``--url-endpoint public|internal``: which object-store endpoint presigned URLs are for
    (``--endpoint``, the old spelling, still works for a release, with a note)."""

    @functools.wraps(function)
    def chosen(*args: Any, url_endpoint: str | None, old_endpoint: str | None, **kwargs: Any) -> Any:
        if old_endpoint is not None:
            click.echo("note: --endpoint is deprecated and goes in a later release; use --url-endpoint", err=True)
        kwargs["endpoint"] = url_endpoint or old_endpoint or "public"
        return function(*args, **kwargs)

    chosen = click.option(
        "--endpoint", "old_endpoint", type=_ENDPOINT_KINDS, hidden=True, help="Deprecated spelling of --url-endpoint."
    )(chosen)
    chosen = click.option(
        "--url-endpoint",
        type=_ENDPOINT_KINDS,
        help="Sign URLs for the public or the in-region (internal) object-store endpoint [default: public]."
        " Not the same as --endpoint-url, which says where the object-store API is.",
    )(chosen)
    return chosen  # type: ignore[return-value]


F = TypeVar("F", bound=Callable[..., Any])


def format_option(choices: Sequence[str], help_text: str, name: str = "output_format") -> Callable[[F], F]:
    """``--format`` (default ``text``), the same in every command; ``name`` is the parameter's."""
    return click.option(
        "--format", name, type=click.Choice(list(choices)), default="text", show_default=True, help=help_text
    )


def store_options(function: F) -> F:
    """``--endpoint-url``, ``--catalog-region`` and ``--addressing-style``, handed to the command as
    one ``store`` (:class:`~preprocessor.catalog.opening.StoreOptions`), the same in every command
    that opens a catalog (the bucket's region is ``--catalog-region``: ``--region`` names regions
    to work on)."""

    @functools.wraps(function)
    def collected(
        *args: Any, endpoint_url: str | None, catalog_region: str | None, addressing_style: str | None, **kwargs: Any
    ) -> Any:
        from preprocessor.catalog.opening import StoreOptions

        kwargs["store"] = StoreOptions(endpoint_url, catalog_region, addressing_style)
        return function(*args, **kwargs)

    for option in reversed(
        (
            click.option(
                "--endpoint-url", metavar="URL", help="S3-compatible endpoint (default: boto3's, AWS_ENDPOINT_URL)."
            ),
            click.option("--catalog-region", metavar="REGION", help="Region of the catalog bucket."),
            click.option(
                "--addressing-style", type=click.Choice(["auto", "virtual", "path"]), help="S3 addressing style."
            ),
        )
    ):
        collected = option(collected)
    return collected  # type: ignore[return-value]


def catalog_url_option(configured: str) -> Callable[[F], F]:
    """``--catalog URL``; ``configured`` says whose config's ``catalog:`` is the last default."""
    return click.option(
        "--catalog",
        "catalog_url",
        metavar="URL",
        help=f"file://DIR or s3://BUCKET/PREFIX (default: $DEPLOYPKG_CATALOG, then {configured} catalog).",
    )


def catalog_options(function: F) -> F:
    """``--catalog`` and the :func:`store_options`, as render and plan take them."""
    return catalog_url_option("each config's")(store_options(function))


def note_skipped_files(paths: tuple[Path, ...]) -> None:
    """Say on stderr which files named on the command line are not templates and were skipped."""
    from preprocessor.output import printable
    from preprocessor.templates.source import TEMPLATE_SUFFIXES, is_template_name

    for path in paths:
        if path.is_file() and not is_template_name(path.name):
            shown = printable(str(path))
            note(f"note: {shown} skipped: not a template file name ({', '.join(TEMPLATE_SUFFIXES)})")


def note_missing_config(paths: tuple[Path, ...], explicit: Path | None, hints: list[str | None]) -> None:
    """Say once, before the findings, that no ``deploypkg.yaml`` was found and where deploypkg
    looked, when findings tell the user to edit one."""
    if explicit is not None or not any(hint and "deploypkg.yaml" in hint for hint in hints):
        return
    from preprocessor.config import find_config

    if find_config(list(paths)) is not None:
        return
    from preprocessor.output import printable

    starts = printable(
        ", ".join(sorted({str(Path(p).resolve() if Path(p).is_dir() else Path(p).resolve().parent) for p in paths}))
    )
    note(
        f"note: no deploypkg.yaml in {starts} or any directory above, nor in the working directory"
        " or above; the hints below that name deploypkg.yaml mean one you create at the project's root"
    )


def write_atomically(path: Path, text: str, option: str = "--output-file") -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory, so a reader
    never sees half a report. A path that cannot be written is bad usage (exit 2), named."""
    import os
    import tempfile

    from preprocessor.errors import InputError

    directory = os.path.dirname(os.path.abspath(path))  # beside the name given: a link is replaced, not followed
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    except OSError as exc:
        raise InputError(
            f"cannot write the report: {exc.strerror or exc}", file=str(path), hint=f"check the {option} path"
        ) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise InputError(
            f"cannot write the report: {exc.strerror or exc}", file=str(path), hint=f"check the {option} path"
        ) from None
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_report(target: Path, text: str, option: str) -> None:
    """``text`` to standard output when ``target`` is ``-``, else atomically to the file."""
    if str(target) == "-":
        click.echo(text, nl=False)
    else:
        write_atomically(target, text, option)
