"""Splicing: edit a template's text at the spans the loader recorded, nothing else.

A rendered template equals its source byte for byte except the replaced spans, so comments,
key order, short tags, quoting, CRLF and the BOM survive. Replacements are applied from the
end of the text backwards, so earlier offsets stay valid.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from preprocessor.errors import InputError
from preprocessor.model import Span, Template

# A value may land inside a JSON string, a YAML plain/quoted/block scalar or an HCL string
# template. Characters that could end or reinterpret any of those are refused outright:
# quotes, backslashes, whitespace and control characters, and HCL's "${" / "%{" openers.
_UNSAFE_CHARACTERS = re.compile(r"[\"'\\\s\x00-\x1f\x7f]")
_UNSAFE_SEQUENCES = ("${", "%{", "{{", "}}")


class Substitution(NamedTuple):
    span: Span
    old: str
    """The source text of the span."""
    new: str
    what: str
    """``image`` or the placeholder type (``file``, ``publicfile``, ``acrimage``, ``helmchart``)."""


def unsafe_reason(value: str) -> str | None:
    """Why ``value`` cannot be spliced into a quoted or plain scalar, or None if it can."""
    if not value:
        return "it is empty"
    bad = _UNSAFE_CHARACTERS.search(value)
    if bad is not None:
        return f"it contains {bad.group()!r}"
    for sequence in _UNSAFE_SEQUENCES:
        if sequence in value:
            return f"it contains {sequence!r}"
    return None


def check_value(value: str, file: str, span: Span, origin: str) -> None:
    """Refuse a replacement that could break out of its quoting context."""
    reason = unsafe_reason(value)
    if reason is not None:
        raise InputError(
            f"refusing to write the value {value!r} from {origin}: {reason}",
            file=file,
            line=span.line,
            column=span.column,
            hint="a replacement must be a plain token (no quotes, backslashes, whitespace or '${'); "
            "fix the catalog entry",
        )


def value_class(value: str) -> tuple[str, frozenset[str], bool]:
    """What a parser can tell about a safe value without its exact characters: the type a YAML
    plain scalar of it resolves to, the punctuation it holds, whether it starts with a letter
    or digit.

    Two renders of a template whose values differ only within one class tokenize alike: every
    value is free of quotes, escapes, whitespace and interpolation openers (:func:`unsafe_reason`),
    so the parser's state before and after each span is the same, and the value read back is the
    span's text. The re-parse check therefore runs once per template and value-class signature.
    """
    known = _VALUE_CLASSES.get(value)
    if known is None:
        import yaml

        implicit = yaml.resolver.Resolver.yaml_implicit_resolvers.get(value[:1], [])
        tag = next((tag for tag, pattern in implicit if pattern.match(value)), "tag:yaml.org,2002:str")
        known = (tag, frozenset(c for c in value if not c.isalnum()), value[:1].isalnum())
        _VALUE_CLASSES[value] = known
    return known


_VALUE_CLASSES: dict[str, tuple[str, frozenset[str], bool]] = {}


def splice(text: str, substitutions: Iterable[Substitution]) -> str:
    """``text`` with each substitution's span replaced by its new value.

    Spans must not overlap; each span's current text must equal ``old`` (a guard against
    positions computed for another version of the text).
    """
    ordered = sorted(substitutions, key=lambda sub: sub.span.start, reverse=True)
    parts: list[str] = []
    cursor = len(text)
    for sub in ordered:
        start, end = sub.span.start, sub.span.end
        if end > cursor:
            raise ValueError(f"overlapping substitutions at offset {start}")
        if text[start:end] != sub.old:
            raise ValueError(f"span {start}:{end} holds {text[start:end]!r}, expected {sub.old!r}")
        parts.append(text[end:cursor])
        parts.append(sub.new)
        cursor = start
    parts.append(text[:cursor])
    return "".join(reversed(parts))


def expected_refs(template: Template, substitutions: Sequence[Substitution]) -> Counter[tuple[str, str, str, str]]:
    """(resource, property, kind, value) of every image reference after the substitutions."""
    new_value = {sub.span.start: sub.new for sub in substitutions if sub.what == "image"}
    return Counter(
        (ref.resource, ref.property, ref.kind.value, new_value.get(ref.span.start, ref.value))
        for ref in template.image_refs
    )


def verify_rendered(
    source: Template, rendered: Template | None, substitutions: Sequence[Substitution], display: str
) -> None:
    """The re-parsed output must carry the new values and nothing else may have moved.

    Image references are compared as a multiset of (resource, property, kind, value);
    every replaced placeholder must be gone and every other one still there.
    """
    if rendered is None:
        raise InputError(
            "the rendered file is no longer recognised as a template", file=display, hint="report this as a bug"
        )
    want = expected_refs(source, substitutions)
    got = Counter((ref.resource, ref.property, ref.kind.value, ref.value) for ref in rendered.image_refs)
    if want != got:
        missing = sorted(want - got)
        extra = sorted(got - want)
        raise InputError(
            f"re-parsing the rendered file does not give the expected image references "
            f"(missing {missing}, unexpected {extra})",
            file=display,
            hint="report this as a bug, with the template",
        )
    replaced = {sub.span.start for sub in substitutions if sub.what != "image"}
    kept = Counter((p.placeholder_type, p.name) for p in source.placeholders if p.span.start not in replaced)
    now = Counter((p.placeholder_type, p.name) for p in rendered.placeholders)
    if kept != now:
        raise InputError(
            "re-parsing the rendered file does not give the expected placeholders",
            file=display,
            hint="report this as a bug, with the template",
        )
