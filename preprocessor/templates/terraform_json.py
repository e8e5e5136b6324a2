"""Terraform JSON configuration (``.tf.json``), read with the position-keeping JSON decoder.

``{"resource": {"TYPE": {"NAME": {...}}}}``, where Terraform also allows a list of objects at
each of these levels and for nested blocks. Strings are templates: one that is exactly
``"${traversal}"`` is a reference, exactly ``"${other expression}"`` a function, and any other
string with ``${`` or ``%{`` an interpolation.
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping
from typing import NamedTuple

from preprocessor.errors import TemplateParseError
from preprocessor.model import ImageRef, LineIndex, Placeholder, PropertyRole, RefKind
from preprocessor.templates.builders import with_builder
from preprocessor.templates.placeholders import Marks, find_placeholders
from preprocessor.templates.tree import MappingNode, Node, ScalarNode, SequenceNode, StringNode, children
from providers import ResourceSpec

SECTIONS = frozenset({"resource"})
"""The block the JSON loader reads at once; each resource type in it stays a lazy node until read."""
TEMPLATE_SEQUENCE = re.compile(r"(?<!\$)\$\{|(?<!%)%\{")
WHOLE_INTERPOLATION = re.compile(r"\$\{~?\s*([^{}]*?)\s*~?\}")
TRAVERSAL = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)+")


class TerraformContent(NamedTuple):
    image_refs: list[ImageRef]
    placeholders: list[Placeholder]


def _objects(node: Node) -> list[MappingNode]:
    """A JSON object, or each object of a list of objects (Terraform allows both)."""
    if isinstance(node, MappingNode):
        return [node]
    if isinstance(node, SequenceNode):
        return [item for item in node.items if isinstance(item, MappingNode)]
    return []


def _items(node: Node) -> list[Node]:
    """The elements of a JSON array; any other value stands as one."""
    return list(node.items) if isinstance(node, SequenceNode) else [node]


def resource_bodies(
    root: MappingNode, types_wanted: Container[str] | None = None
) -> list[tuple[str, str, MappingNode]]:
    """(type, name, body) of every ``resource`` block (of the types wanted, when given)."""
    found = []
    for entry in root.entries:
        if entry.key != "resource":
            continue
        for types in _objects(entry.value):
            for type_entry in types.entries:
                if types_wanted is not None and type_entry.key not in types_wanted:
                    continue
                for names in _objects(type_entry.value):
                    for name_entry in names.entries:
                        for body in _objects(name_entry.value):
                            found.append((type_entry.key, name_entry.key, body))
    return found


def classify_string(value: str) -> RefKind:
    if TEMPLATE_SEQUENCE.search(value) is None:
        return RefKind.LITERAL
    whole = WHOLE_INTERPOLATION.fullmatch(value)
    if whole is not None:
        return RefKind.REFERENCE if TRAVERSAL.fullmatch(whole.group(1)) else RefKind.FUNCTION
    return RefKind.INTERPOLATION


def _values(body: MappingNode, path: tuple[str, ...]) -> list[Node]:
    found: list[Node] = []
    stack: list[tuple[Node, int]] = [(body, 0)]
    while stack:
        node, depth = stack.pop()
        for mapping in _objects(node):
            child = mapping.get(path[depth])
            if child is None:
                continue
            if depth == len(path) - 1:
                found.append(child)
            else:
                stack.append((child, depth + 1))
    return found


def _image_ref(
    node: Node, text: str, file: str, name: str, spec: ResourceSpec, path: str, role: PropertyRole
) -> ImageRef:
    if isinstance(node, StringNode):
        kind = classify_string(node.value)
        if kind is RefKind.LITERAL:
            return ImageRef(
                file, node.content_span, name, spec.resource_type, path, kind, node.value, role, spec.provider
            )
    elif isinstance(node, ScalarNode):
        return ImageRef(
            file, node.span, name, spec.resource_type, path, RefKind.LITERAL, node.value, role, spec.provider
        )
    else:
        kind = RefKind.FUNCTION
    return with_builder(
        ImageRef(
            file, node.span, name, spec.resource_type, path, kind, text[node.start : node.end], role, spec.provider
        )
    )


def extract(root: Node, text: str, lines: LineIndex, file: str, table: Mapping[str, ResourceSpec]) -> TerraformContent:
    if not isinstance(root, MappingNode):
        span = root.span
        raise TemplateParseError(
            "a .tf.json file must hold one JSON object (with keys such as resource, variable, output)",
            file=file,
            line=span.line,
            column=span.column,
            rule="DPK003",
        )
    refs: list[ImageRef] = []
    for resource_type, name, body in resource_bodies(root, table):
        spec = table[resource_type]
        for prop in spec.properties:
            values = _values(body, prop.path)
            if prop.each_item:
                values = [
                    item for value in values for item in (value.items if isinstance(value, SequenceNode) else [value])
                ]
            for value in values:
                refs.append(_image_ref(value, text, file, f"{resource_type}.{name}", spec, prop.dotted, prop.role))
    refs.sort(key=lambda ref: ref.span.start)
    return TerraformContent(refs, _placeholders(root, text, lines, file))


def _placeholders(root: MappingNode, text: str, lines: LineIndex, file: str) -> list[Placeholder]:
    """Placeholders in every string, with the resource and attribute path each stands in."""
    marks = Marks(text)
    if not marks:
        return []
    context = {
        id(body): (f"{resource_type}.{name}", resource_type) for resource_type, name, body in resource_bodies(root)
    }
    placeholders: list[Placeholder] = []
    seen: set[int] = set()
    stack: list[tuple[Node, tuple[str, str] | None, tuple[str, ...]]] = [(root, None, ())]
    while stack:
        node, owner, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        owner = context.get(id(node), owner)
        if id(node) in context:
            path = ()
        if isinstance(node, StringNode):
            placeholders.extend(
                find_placeholders(
                    text,
                    node.content_start,
                    node.content_end,
                    lines,
                    file,
                    owner[0] if owner else None,
                    owner[1] if owner else None,
                    ".".join(path) if owner and path else None,
                )
            )
            continue
        for key, child in children(node):
            if key == "//" or not marks.within(child.start, child.end):  # "//": Terraform JSON's comment
                continue
            stack.append((child, owner, (*path, key) if key is not None else path))
    placeholders.sort(key=lambda placeholder: placeholder.span.start)
    return placeholders
