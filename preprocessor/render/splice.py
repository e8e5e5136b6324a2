"""Splicing: edit a template's text at the spans the loader recorded, nothing else.

A rendered template equals its source byte for byte except the replaced spans, so comments,
key order, short tags, quoting, CRLF and the BOM survive. A template is cut at its spans once
(:func:`plan_splice`); each region's copy is then one join of the pieces and that region's values.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from preprocessor.errors import InputError
from preprocessor.model import Span, Template, TemplateFormat

# A value may land inside a JSON string, a YAML plain/quoted/block scalar or an HCL string
# template. Characters that could end or reinterpret any of those are refused outright:
# quotes, backslashes, whitespace and control characters, and HCL's "${" / "%{" openers.
_UNSAFE_CHARACTERS = re.compile(r"[\"'\\\s\x00-\x1f\x7f]")
_UNSAFE_SEQUENCES = ("${", "%{", "{{", "}}")


PROPERTY_KINDS = frozenset({"image", "container"})
"""Substitutions of a resource property's value (machine and container images); the other kinds
replace Compute Nest placeholders."""


class Substitution(NamedTuple):
    span: Span
    old: str
    """The source text of the span."""
    new: str
    what: str
    """``image``, ``container`` or the placeholder type (``file``, ``publicfile``, ``acrimage``, ``helmchart``)."""


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


ValueClass = tuple[str, frozenset[str], bool]


def value_class(value: str) -> ValueClass:
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


_VALUE_CLASSES: dict[str, ValueClass] = {}

_JSON_FORMATS = frozenset({TemplateFormat.ROS_JSON, TemplateFormat.CFN_JSON, TemplateFormat.TERRAFORM_JSON})
_YAML_FORMATS = frozenset({TemplateFormat.ROS_YAML, TemplateFormat.CFN_YAML})
_QUOTED_CONTENT_REFUSED = re.compile(r"[\"'\\\s$%]")
"""What the old text of a quoted value must not hold for its quotes alone to delimit it: its own
quotes, escapes, whitespace (YAML folds lines) and HCL's template openers."""


def sealed_context(template: Template, span: Span, old: str, placeholder: bool) -> str | None:
    """The lexical context of a span that the grammar alone seals: any safe value (see
    :func:`unsafe_reason`) spliced there reads back as exactly that value, whatever the rest of
    the template holds. ``None`` where the surroundings matter: a YAML plain scalar (``#`` after
    a blank starts a comment, a trailing ``:`` a mapping, ``[`` a sequence) and a placeholder in
    YAML, whose scalar style the text does not show; a bare JSON number.

    Sealed: the whole content of a quoted JSON, YAML or HCL string whose quotes are its only
    delimiters; a placeholder inside a JSON string, or inside an HCL string or heredoc when
    something else stands on its line (a line of the value alone could end a heredoc), in both
    cases with no ``$ % { }`` beside it (a value could complete ``${``, ``%{``, ``{{`` or ``}}``
    across its edge). Substitutions in sealed contexts need not be re-parsed in every template:
    once per context and value class in a render proves the rule on a real template
    (:class:`CheckedClasses`)."""
    text = template.text
    before = text[span.start - 1] if span.start > 0 else ""
    after = text[span.end] if span.end < len(text) else ""
    if placeholder:
        if before in _OPENERS or after in _OPENERS:
            return None
        if template.format in _JSON_FORMATS:
            return "json string"
        if template.format is TemplateFormat.TERRAFORM_HCL and not _alone_on_its_line(text, span):
            return "hcl string or heredoc"
        return None
    if not before or before not in "\"'" or after != before or _QUOTED_CONTENT_REFUSED.search(old):
        return None
    if template.format in _JSON_FORMATS:
        return "json string" if before == '"' else None
    if template.format in _YAML_FORMATS:
        return f"yaml {before}-quoted"
    return "hcl quoted" if before == '"' else None


_OPENERS = frozenset("${}%")


def _alone_on_its_line(text: str, span: Span) -> bool:
    line_start = text.rfind("\n", 0, span.start) + 1
    line_end = text.find("\n", span.end)
    return (
        not text[line_start : span.start].strip() and not text[span.end : line_end if line_end != -1 else None].strip()
    )


class CheckedClasses:
    """Which (format, sealed context, value class) a render has re-parsed and checked."""

    def __init__(self) -> None:
        self._done: set[tuple[TemplateFormat, str, ValueClass]] = set()

    def covers(self, template: Template, contexts: Sequence[str | None], classes: Sequence[ValueClass]) -> bool:
        """Whether every substitution is sealed and of a class already checked in its context."""
        done = self._done
        return all(
            context is not None and (template.format, context, value_class) in done
            for context, value_class in zip(contexts, classes, strict=True)
        )

    def add(self, template: Template, contexts: Sequence[str | None], classes: Sequence[ValueClass]) -> None:
        for context, value_class in zip(contexts, classes, strict=True):
            if context is not None:
                self._done.add((template.format, context, value_class))


class SplicePlan(NamedTuple):
    """A template's text cut at its substitution spans, once for every region it is rendered for."""

    pieces: tuple[str, ...]
    """The text around the spans, in text order: one more piece than there are spans."""
    order: tuple[int, ...]
    """For each span in text order, the index of its value in the caller's list."""

    def apply(self, values: Sequence[str]) -> str:
        """The text with the span of substitution ``i`` replaced by ``values[i]``."""
        pieces = self.pieces
        parts = [pieces[0]]
        for index, position in enumerate(self.order, 1):
            parts.append(values[position])
            parts.append(pieces[index])
        return "".join(parts)


def plan_splice(text: str, spans: Sequence[tuple[Span, str]]) -> SplicePlan:
    """Cut ``text`` at each (span, old text) pair.

    Spans must not overlap; each span's current text must equal ``old`` (a guard against
    positions computed for another version of the text).
    """
    order = sorted(range(len(spans)), key=lambda position: spans[position][0].start)
    pieces: list[str] = []
    cursor = 0
    previous = 0
    for position in order:
        span, old = spans[position]
        start, end = span.start, span.end
        if start < cursor:
            raise ValueError(f"overlapping substitutions at offset {previous}")
        if text[start:end] != old:
            raise ValueError(f"span {start}:{end} holds {text[start:end]!r}, expected {old!r}")
        pieces.append(text[cursor:start])
        cursor, previous = end, start
    pieces.append(text[cursor:])
    return SplicePlan(tuple(pieces), tuple(order))


def splice(text: str, substitutions: Sequence[Substitution]) -> str:
    """``text`` with each substitution's span replaced by its new value (see :func:`plan_splice`)."""
    plan = plan_splice(text, [(sub.span, sub.old) for sub in substitutions])
    return plan.apply([sub.new for sub in substitutions])


def expected_refs(template: Template, substitutions: Sequence[Substitution]) -> Counter[tuple[str, str, str, str]]:
    """(resource, property, kind, value) of every image reference after the substitutions."""
    new_value = {sub.span.start: sub.new for sub in substitutions if sub.what in PROPERTY_KINDS}
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
    replaced = {sub.span.start for sub in substitutions if sub.what not in PROPERTY_KINDS}
    kept = Counter((p.placeholder_type, p.name) for p in source.placeholders if p.span.start not in replaced)
    now = Counter((p.placeholder_type, p.name) for p in rendered.placeholders)
    if kept != now:
        raise InputError(
            "re-parsing the rendered file does not give the expected placeholders",
            file=display,
            hint="report this as a bug, with the template",
        )
