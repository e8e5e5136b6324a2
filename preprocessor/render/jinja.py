"""``.j2`` templates: rendered per region in jinja2's immutable sandbox, within limits.

Only files ending in ``.j2`` come here; ordinary templates never go through jinja2, so their
``{{ computenest::… }}`` placeholders and ``{{resolve:…}}`` references are safe. jinja2 is
imported only in this module. The sandbox refuses attribute access such as ``__class__`` or
``__globals__``; :class:`~jinja2.StrictUndefined` turns a misspelt name into an error.

A template is code, so one render of one file for one region is also bounded; past a limit the
render stops with DPK004 naming the file (and the line where jinja2 knows it):

| limit            | value         | what it bounds                                                    |
|------------------|---------------|-------------------------------------------------------------------|
| ``MAX_VALUE``    | 1 Mi items    | a string or list built by ``*``, ``+``, ``%``, ``~``, and the     |
|                  |               | growing filters and ``str`` methods (join, replace, indent,       |
|                  |               | wordwrap, format, expandtabs): checked before they run            |
| ``MAX_INT_BITS`` | 65,536 bits   | an integer built by ``*`` or ``**`` (``9 ** 99999999`` never runs) |
| ``MAX_ARGUMENT`` | 1 Mi          | an integer passed to a call or filter (``'x'.center(10 ** 9)``)   |
| ``MAX_RANGE``    | 100,000 items | one ``range()`` (jinja2's sandbox)                                |
| ``MAX_STEPS``    | 1,000,000     | loop iterations plus calls (macros, methods, ``image()``…)        |
| ``MAX_OUTPUT``   | 8 Mi chars    | the text produced: every ``{{ … }}`` value and every loop or      |
|                  |               | macro body's literal text each time it runs; and the rendered file |

The template's syntax tree is rewritten before compiling so that every ``for`` loop iterates
through ``budget_iterate``, every macro and ``{% call %}`` body starts by charging its
literal text, and every ``~`` goes through ``budget_concat``: the only ways a template
repeats work (loops, recursion) or grows text without an operator all pass a check.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from preprocessor.errors import DeploypkgError, InputError

if TYPE_CHECKING:
    from jinja2 import nodes
    from jinja2.sandbox import ImmutableSandboxedEnvironment

JINJA_SUFFIX = ".j2"

# The limits (see the table above). Far above what a deployment template needs, far below what
# exhausts a CI runner: the hostile-input tests run render under a 1.5 GiB address-space limit.
MAX_VALUE = 1 << 20
MAX_INT_BITS = 1 << 16
MAX_ARGUMENT = MAX_VALUE
MAX_STEPS = 1_000_000
MAX_OUTPUT = 8 << 20

_HINT = "templates may use region, image(name), artifact_url(name) and package(name) only"
_LIMIT_HINT = "make the template do less work (the limits are listed in preprocessor/render/jinja.py)"
_PRINTF_FIELD = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
"""A printf-style conversion's width and precision (``%-10.3f``, ``%(name)*s``)."""
_FORMAT_FIELD = re.compile(r"\{[^{}]*\}")
"""A ``str.format`` replacement field (``{0:>10}``)."""
_DIGITS = re.compile(r"\d+")


class LimitExceeded(Exception):
    """A template went past one of this module's limits."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _length(value: Any) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple) else None


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Raise :class:`LimitExceeded` if ``left <operator> right`` would build too big a value."""
    if operator == "*":
        for sequence, count in ((left, right), (right, left)):
            size = _length(sequence)
            if size is not None and _is_int(count) and size * max(count, 0) > MAX_VALUE:
                raise LimitExceeded(f"'*' would build a value of {size * count:,} items (limit {MAX_VALUE:,})")
        if _is_int(left) and _is_int(right) and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise LimitExceeded(f"'*' would build an integer of over {MAX_INT_BITS:,} bits")
    elif operator == "**":
        growing = _is_int(left) and _is_int(right) and right > 0 and abs(left) > 1
        if growing and left.bit_length() * right > MAX_INT_BITS:
            raise LimitExceeded(f"'**' would build an integer of over {MAX_INT_BITS:,} bits")
    elif operator == "+":
        sizes = (_length(left), _length(right))
        if sizes[0] is not None and sizes[1] is not None and sizes[0] + sizes[1] > MAX_VALUE:
            raise LimitExceeded(f"'+' would build a value of {sizes[0] + sizes[1]:,} items (limit {MAX_VALUE:,})")
    elif operator == "%" and isinstance(left, str):
        _check_printf(left, right)


def _check_printf(form: str, arguments: Any) -> None:
    for match in _PRINTF_FIELD.finditer(form):
        for number in match.groups():
            if number == "*":
                values = arguments if isinstance(arguments, tuple) else (arguments,)
                if any(_is_int(value) and abs(value) > MAX_VALUE for value in values):
                    raise LimitExceeded(f"'%' with a '*' width over {MAX_VALUE:,}")
            elif number is not None and (len(number) > 7 or int(number) > MAX_VALUE):
                raise LimitExceeded(f"'%' with a width or precision of {number} (limit {MAX_VALUE:,})")


def _too_big(what: str, size: int) -> None:
    if size > MAX_VALUE:
        raise LimitExceeded(f"{what} would build a value of {size:,} characters (limit {MAX_VALUE:,})")


def _check_arguments(values: Iterable[Any]) -> None:
    for value in values:
        if _is_int(value) and abs(value) > MAX_ARGUMENT:
            raise LimitExceeded(f"an argument of {value:,} (limit {MAX_ARGUMENT:,})")


def _check_format(form: str) -> None:
    """``str.format`` fields: no width or precision over the limit (``{:999999999}``)."""
    for field in _FORMAT_FIELD.findall(form):
        for number in _DIGITS.findall(field.partition(":")[2]):
            if len(number) > 7 or int(number) > MAX_VALUE:
                raise LimitExceeded(f"a format field {field} (limit {MAX_VALUE:,})")


def _check_replace(what: str, text: str, old: Any, new: Any) -> None:
    insertions = len(text) + 1 if str(old) == "" else text.count(str(old))
    _too_big(what, len(text) + insertions * len(str(new)))


def _items(value: Any) -> list[Any] | tuple[Any, ...] | str:
    """An iterable as something with a length (a generator is read once, here)."""
    return value if isinstance(value, list | tuple | str) else list(value)


# Filters whose result can be far bigger than their input, with the check made before they run;
# each gets the filter's arguments by name (and may replace one, e.g. a generator read into a list).
def _filter_join(arguments: dict[str, Any]) -> None:
    items = arguments["value"] = _items(arguments["value"])
    _too_big("join", len(str(arguments.get("d", ""))) * len(items) + sum(len(str(item)) for item in items))


def _filter_replace(arguments: dict[str, Any]) -> None:
    _check_replace("replace", str(arguments["s"]), arguments["old"], arguments["new"])


def _filter_indent(arguments: dict[str, Any]) -> None:
    text, width = str(arguments["s"]), arguments.get("width", 4)
    prefix = len(width) if isinstance(width, str) else width if _is_int(width) else 0
    _too_big("indent", len(text) + (text.count("\n") + 1) * prefix)


def _filter_format(arguments: dict[str, Any]) -> None:
    _check_printf(str(arguments["value"]), tuple(arguments.get("args", ())))


def _filter_wordwrap(arguments: dict[str, Any]) -> None:
    text, width = str(arguments["s"]), arguments.get("width", 79)
    lines = len(text) // max(width, 1) + 1 if _is_int(width) else 1
    _too_big("wordwrap", len(text) + lines * len(str(arguments.get("wrapstring") or "\n")))


_FILTER_CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "join": _filter_join,
    "replace": _filter_replace,
    "indent": _filter_indent,
    "format": _filter_format,
    "wordwrap": _filter_wordwrap,
}


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` refusing integer arguments over the limit, and checked first if it grows text."""
    skip = 2 if hasattr(function, "jinja_pass_arg") else 1  # (context or environment,) value
    check = _FILTER_CHECKS.get(name)
    signature = inspect.signature(function) if check is not None else None

    @functools.wraps(function)  # keeps jinja_pass_arg: jinja2 still passes the context
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _check_arguments((*args[skip:], *kwargs.values()))
        if signature is None or check is None:
            return function(*args, **kwargs)
        bound = signature.bind(*args, **kwargs)
        check(bound.arguments)
        return function(*bound.args, **bound.kwargs)

    return bounded


def _check_string_method(method: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """The arguments for a call of ``method`` (a generator for ``join`` is read into a list)."""
    text, name = method.__self__, method.__name__
    if name == "join" and args:
        items = _items(args[0])
        _too_big("join", len(text) * len(items) + sum(len(item) for item in items if isinstance(item, str)))
        return (items, *args[1:])
    if name == "replace" and len(args) >= 2:
        _check_replace("replace", text, args[0], args[1])
    elif name == "expandtabs" and args and _is_int(args[0]):
        _too_big("expandtabs", len(text) * max(args[0], 1))
    elif name in ("format", "format_map"):
        _check_format(text)
    return args


def _literal_size(body: list[nodes.Node]) -> int:
    """Characters of literal text a loop or macro body writes each time it runs (nested bodies
    included: an over-estimate, never an under-estimate)."""
    from jinja2 import nodes

    size = 0
    for statement in body:
        outputs = [statement] if isinstance(statement, nodes.Output) else []
        for output in [*outputs, *statement.find_all(nodes.Output)]:
            for child in output.nodes:
                if isinstance(child, nodes.TemplateData):
                    size += len(child.data)
                elif isinstance(child, nodes.Const):
                    size += len(str(child.value))
    return size


@functools.cache
def _environment_class() -> type[ImmutableSandboxedEnvironment]:
    """The bounded sandbox (defined on first use: jinja2 is imported only when a .j2 file is rendered)."""
    from jinja2.runtime import Context
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class BoundedSandbox(ImmutableSandboxedEnvironment):
        """jinja2's immutable sandbox that counts the work and text of one render."""

        intercepted_binops = frozenset({"*", "**", "+", "%"})

        def __init__(self, **options: Any) -> None:
            super().__init__(finalize=self.budget_output, **options)
            self.filters = {name: _bounded_filter(name, function) for name, function in self.filters.items()}
            self.budget_steps = 0
            self.budget_written = 0

        def budget_step(self, characters: int = 0) -> None:
            self.budget_steps += 1
            self.budget_written += characters
            if self.budget_steps > MAX_STEPS:
                raise LimitExceeded(f"more than {MAX_STEPS:,} loop iterations and calls")
            if self.budget_written > MAX_OUTPUT:
                raise LimitExceeded(f"more than {MAX_OUTPUT:,} characters of output")

        def budget_output(self, value: Any) -> str:
            """``finalize``: every ``{{ … }}`` value, counted as it is written."""
            text = str(value)
            self.budget_written += len(text)
            if self.budget_written > MAX_OUTPUT:
                raise LimitExceeded(f"more than {MAX_OUTPUT:,} characters of output")
            return text

        def budget_iterate(self, iterable: Iterable[Any], literal: int) -> Iterator[Any]:
            """What every ``for`` loop iterates: one step, and its body's text, per item."""
            for item in iterable:
                self.budget_step(literal)
                yield item

        def budget_charge(self, literal: int) -> str:
            """Called first in every macro and ``{% call %}`` body."""
            self.budget_step(literal)
            return ""

        def budget_concat(self, *parts: Any) -> str:
            """``a ~ b``, bounded like ``+``."""
            texts = [str(part) for part in parts]
            size = sum(len(text) for text in texts)
            if size > MAX_VALUE:
                raise LimitExceeded(f"'~' would build a string of {size:,} characters (limit {MAX_VALUE:,})")
            return "".join(texts)

        def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
            check_binop(operator, left, right)
            return super().call_binop(context, operator, left, right)

        def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
            self.budget_step()
            owner = getattr(obj, "__self__", None)
            if owner is not self:
                _check_arguments((*args, *kwargs.values()))
            method = getattr(obj, "__wrapped__", obj)  # the sandbox wraps str.format / format_map
            if isinstance(getattr(method, "__self__", None), str):
                args = _check_string_method(method, args)
            return super().call(context, obj, *args, **kwargs)

    return BoundedSandbox


def _bounded(template: nodes.Template, environment: ImmutableSandboxedEnvironment) -> nodes.Template:
    """``template`` with every loop, macro body and ``~`` routed through the environment's counters."""
    from jinja2 import nodes
    from jinja2.visitor import NodeTransformer

    def hook(name: str, arguments: list[Any], line: int) -> nodes.Call:
        return nodes.Call(nodes.EnvironmentAttribute(name), arguments, [], None, None, lineno=line)

    class Bound(NodeTransformer):
        def visit_For(self, node: nodes.For) -> nodes.Node:
            self.generic_visit(node)
            node.iter = hook("budget_iterate", [node.iter, nodes.Const(_literal_size(node.body))], node.lineno)
            return node

        def visit_Macro(self, node: nodes.Macro) -> nodes.Node:
            return self._charged(node)

        def visit_CallBlock(self, node: nodes.CallBlock) -> nodes.Node:
            return self._charged(node)

        def _charged(self, node: nodes.Macro | nodes.CallBlock) -> nodes.Node:
            self.generic_visit(node)
            charge = hook("budget_charge", [nodes.Const(_literal_size(node.body))], node.lineno)
            node.body.insert(0, nodes.ExprStmt(charge, lineno=node.lineno))
            return node

        def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
            self.generic_visit(node)
            return hook("budget_concat", list(node.nodes), node.lineno)

    bounded = Bound().visit(template)
    bounded.set_environment(environment)
    return bounded  # type: ignore[no-any-return]


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

    newline = "\r\n" if "\r\n" in text else "\n"
    environment = _environment_class()(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True, newline_sequence=newline
    )
    names = {"region": region, "image": image, "artifact_url": artifact_url, "package": package}
    try:
        tree = _bounded(environment.parse(text, name=display, filename=display), environment)
        code = environment.compile(tree, name=display, filename=display)
        template = environment.template_class.from_code(environment, code, environment.make_globals(names), None)
        pieces: list[str] = []
        size = 0
        for piece in template.generate():
            size += len(piece)
            if size > MAX_OUTPUT:
                raise LimitExceeded(f"the rendered file is over {MAX_OUTPUT:,} characters")
            pieces.append(piece)
        return "".join(pieces)
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
    except LimitExceeded as error:
        raise _runtime_error(f"jinja2 template exceeds a limit: {error}", error, display, _LIMIT_HINT) from None
    except SecurityError as error:
        raise _runtime_error(f"jinja2 sandbox refused: {error}", error, display, _HINT) from None
    except Exception as error:  # UndefinedError, TypeError, ... raised by the template's own code
        raise _runtime_error(f"jinja2 error: {type(error).__name__}: {error}", error, display, _HINT) from None


def _runtime_error(message: str, error: BaseException, display: str, hint: str) -> InputError:
    """DPK004 at the template line the running code had reached when ``error`` was raised."""
    return InputError(
        message, file=display, line=_template_line(error.__traceback__, display), rule="DPK004", hint=hint
    )
