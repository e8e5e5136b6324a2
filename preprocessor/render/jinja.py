"""``.j2`` templates: rendered per region in jinja2's immutable sandbox.

Only files ending in ``.j2`` come here; ordinary templates never go through jinja2, so their
``{{ computenest::… }}`` placeholders and ``{{resolve:…}}`` references are safe. jinja2 is
imported only in this module. The sandbox refuses attribute access such as ``__class__`` or
``__globals__``; :class:`~jinja2.StrictUndefined` turns a misspelt name into an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

from preprocessor.errors import DeploypkgError, InputError

JINJA_SUFFIX = ".j2"


def _template_line(traceback: TracebackType | None, filename: str) -> int | None:
    """The template line of the innermost frame jinja2 attributed to ``filename``."""
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == filename:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


def render_jinja(
    text: str,
    display: str,
    *,
    region: str,
    image: Callable[[str], str],
    artifact_url: Callable[[str], str],
    package: Callable[[str], Mapping[str, Any]],
) -> str:
    """The text of a ``.j2`` file rendered for ``region``; newlines kept as the file writes them."""
    from jinja2 import StrictUndefined, TemplateSyntaxError
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    newline = "\r\n" if "\r\n" in text else "\n"
    environment = ImmutableSandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True, newline_sequence=newline
    )
    names = {"region": region, "image": image, "artifact_url": artifact_url, "package": package}
    try:
        code = environment.compile(text, name=display, filename=display)
        template = environment.template_class.from_code(environment, code, environment.make_globals(names), None)
        return template.render()
    except TemplateSyntaxError as error:
        raise InputError(
            f"jinja2 syntax error: {error.message}",
            file=display,
            line=error.lineno,
            rule="DPK004",
            hint="fix the template syntax (https://jinja.palletsprojects.com/templates/)",
        ) from None
    except DeploypkgError as error:
        if error.file is None:
            error.file = display
            error.line = _template_line(error.__traceback__, display)
        raise
    except SecurityError as error:
        raise InputError(
            f"jinja2 sandbox refused: {error}",
            file=display,
            line=_template_line(error.__traceback__, display),
            rule="DPK004",
            hint="templates may use region, image(name), artifact_url(name) and package(name) only",
        ) from None
    except Exception as error:  # UndefinedError, TypeError, ... raised by the template's own code
        raise InputError(
            f"jinja2 error: {type(error).__name__}: {error}",
            file=display,
            line=_template_line(error.__traceback__, display),
            rule="DPK004",
            hint="templates may use region, image(name), artifact_url(name) and package(name) only",
        ) from None
