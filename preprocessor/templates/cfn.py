"""ROS and CloudFormation templates (JSON or YAML, as a node tree): recognition, image
references, placeholders and the ``Metadata`` suppressions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import NamedTuple, cast

from preprocessor.errors import TemplateParseError
from preprocessor.model import Defect, ImageRef, LineIndex, Placeholder, PropertyRole, RefKind
from preprocessor.templates.placeholders import Marks, find_placeholders
from preprocessor.templates.tree import (
    Entry,
    LazyMappingNode,
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    StringNode,
    TaggedNode,
    children,
)
from providers import Provider, ResourceSpec, all_providers, image_producers

REFERENCE_FUNCTIONS = frozenset({"Ref", "Fn::GetAtt", "Fn::ImportValue"})
INTERPOLATION_FUNCTIONS = frozenset({"Fn::Sub", "Fn::Join"})
SECTIONS = frozenset({"Resources"})
"""The section the JSON loader reads at once; each resource in it stays a lazy node until read."""


class CfnTemplate(NamedTuple):
    provider: str
    image_refs: list[ImageRef]
    placeholders: list[Placeholder]
    suppressions: frozenset[str]
    defects: list[Defect]
    """The parser's (duplicate keys) and the malformed resources, each with its resource."""


def _invalid(file: str, node: Node, message: str, hint: str | None = None) -> TemplateParseError:
    span = node.span
    return TemplateParseError(message, file=file, line=span.line, column=span.column, hint=hint, rule="DPK003")


def _structured_providers() -> list[Provider]:
    return [p for p in all_providers().values() if p.template_dialect is not None]


def recognize(root: Node | None) -> str | None:
    """The provider whose structured template this is (by its version key, else by the first
    resource type a provider claims), or ``None`` when the document is not a template."""
    if not isinstance(root, MappingNode):
        return None
    keys = root.keys()
    providers = _structured_providers()
    for provider in providers:
        if provider.template_version_key and provider.template_version_key in keys:
            return provider.name
    resources = root.get("Resources")
    if not isinstance(resources, MappingNode):
        return None
    for entry in resources.entries:
        resource_type = _resource_type(entry.value)
        if resource_type is not None and "::" in resource_type:
            for provider in providers:
                if provider.owns_resource_type(resource_type):
                    return provider.name
    return None


def _resource_type(resource: Node) -> str | None:
    """A resource's Type when it is a string (read from a lazy JSON node's plain value if it has one)."""
    if isinstance(resource, LazyMappingNode):
        type_value = resource.plain.get("Type")
        return type_value if isinstance(type_value, str) else None
    type_node = resource.get("Type") if isinstance(resource, MappingNode) else None
    return type_node.value if isinstance(type_node, StringNode) else None


def _type_examples() -> str:
    prefixes = [prefix for p in _structured_providers() for prefix in p.resource_prefixes if "::" in prefix]
    return " or ".join(f"{prefix}…" for prefix in prefixes)


def _defect(node: Node, resource: str, message: str, hint: str | None = None) -> Defect:
    span = node.span
    return Defect("DPK003", message, hint, span.line, span.column, span.start, resource, unreadable=True)


def _resources(root: MappingNode, file: str, defects: list[Defect]) -> list[tuple[str, str, MappingNode]]:
    """(logical ID, type, resource node) of every well-formed resource; a malformed one is a
    DPK003 defect, the others are still read. DPK003 raised when Resources is not a mapping."""
    entry = root.entry("Resources")
    if entry is None:
        return []
    resources = entry.value
    if isinstance(resources, ScalarNode) and resources.value in ("", "null", "~"):
        return []
    if not isinstance(resources, MappingNode):
        raise _invalid(
            file,
            resources,
            "Resources must be a mapping from logical IDs to resources",
            "write Resources: {Name: {Type: ...}}",
        )
    found = []
    for entry in resource_entries(resources):
        problem = _malformed(entry.key, entry.value)
        if problem is not None:
            defects.append(problem)
            continue
        resource = cast(MappingNode, entry.value)
        found.append((entry.key, cast(str, _resource_type(resource)), resource))
    return found


FOR_EACH = "Fn::ForEach::"


def resource_entries(resources: MappingNode) -> Iterable[Entry]:
    """The entry (logical ID, resource node) of each resource, including those an ``Fn::ForEach::Name``
    loop (the AWS::LanguageExtensions transform) makes: ``[Identifier, Collection, {ID: resource}]``,
    whose logical IDs are templates such as ``${Identifier}Bucket``; loops may nest."""
    stack = [resources]
    while stack:
        mapping = stack.pop()
        for entry in mapping.entries:
            loop = entry.value
            if entry.key.startswith(FOR_EACH) and isinstance(loop, SequenceNode) and len(loop.items) == 3:
                body = loop.items[2]
                if isinstance(body, MappingNode):
                    stack.append(body)
                    continue
            yield entry


def _malformed(logical_id: str, resource: Node) -> Defect | None:
    if isinstance(resource, LazyMappingNode):
        plain = resource.plain
        properties = plain.get("Properties")
        if isinstance(plain.get("Type"), str) and (properties is None or isinstance(properties, dict)):
            return None  # well formed, known without building the node
    if not isinstance(resource, MappingNode):
        return _defect(resource, logical_id, f"resource {logical_id!r} must be a mapping with a Type")
    type_node = resource.get("Type")
    if type_node is None:
        return _defect(
            resource,
            logical_id,
            f"resource {logical_id!r} has no Type",
            f"add Type: {_type_examples()} to the resource",
        )
    if not isinstance(type_node, StringNode):
        return _defect(
            type_node,
            logical_id,
            f"the Type of resource {logical_id!r} must be a string",
            "a tagged Type (such as !Rain::Module) is a preprocessor's: run it first, then check its output",
        )
    properties = resource.get("Properties")
    if (
        properties is not None
        and not isinstance(properties, MappingNode)
        and intrinsic(properties) is None
        and not (isinstance(properties, ScalarNode) and properties.value in ("", "null", "~"))
    ):
        return _defect(properties, logical_id, f"the Properties of resource {logical_id!r} must be a mapping")
    return None


def _locate(defects: list[Defect], root: MappingNode) -> list[Defect]:
    """Each parser defect with the logical ID of the resource it lies in."""
    resources = root.get("Resources")
    entries = list(resource_entries(resources)) if isinstance(resources, MappingNode) else []
    located = []
    for defect in defects:
        repeated_resource = isinstance(resources, MappingNode) and defect.parent == resources.start
        repeated_resources = defect.parent == root.start and defect.key == "Resources"
        if repeated_resource or repeated_resources:
            defect = defect._replace(unreadable=True)  # what the dropped one holds is never read
        else:
            inside = [e.key for e in entries if e.key_start <= defect.offset < e.value.end]
            defect = defect._replace(resource=inside[0]) if inside else defect
        located.append(defect)
    return located


def intrinsic(node: Node) -> str | None:
    """The function name of an intrinsic function node (``!Sub …`` or ``{"Fn::Sub": …}``)."""
    if isinstance(node, TaggedNode):
        return node.function
    if isinstance(node, LazyMappingNode):  # its plain value answers without building it
        if len(node.plain) != 1:
            return None
        key = next(iter(node.plain))
        return key if key == "Ref" or key.startswith("Fn::") else None
    if isinstance(node, MappingNode) and len(node.entries) == 1:
        key = node.entries[0].key
        if key == "Ref" or key.startswith("Fn::"):
            return key
    return None


def _kind(function: str) -> RefKind:
    if function in REFERENCE_FUNCTIONS:
        return RefKind.REFERENCE
    if function in INTERPOLATION_FUNCTIONS:
        return RefKind.INTERPOLATION
    return RefKind.FUNCTION


def _image_ref(
    node: Node,
    text: str,
    file: str,
    logical_id: str,
    spec: ResourceSpec,
    path: str,
    role: PropertyRole,
    lines: LineIndex,
) -> ImageRef:
    if isinstance(node, StringNode):
        kind, span, value = RefKind.LITERAL, node.content_span, node.value
    elif isinstance(node, ScalarNode):
        kind, span, value = RefKind.LITERAL, node.span, node.value
    else:
        function = intrinsic(node)
        kind = _kind(function) if function is not None else RefKind.FUNCTION
        span, value = node.span, text[node.start : node.end]
    return ImageRef(file, span, logical_id, spec.resource_type, path, kind, value, role, spec.provider)


_DEPLOY_TIME_TYPE = "AWS::SSM::Parameter::Value<"
_ESCAPE = re.compile(r"\\[uUx]")
"""An escape that could spell a character of a string differently in the text."""


def _deploy_time_parameters(root: MappingNode, text: str) -> set[str]:
    """Parameters the cloud resolves at deploy time (CloudFormation's SSM parameter types)."""
    parameters = root.get("Parameters")
    found: set[str] = set()
    if not isinstance(parameters, MappingNode) or (_DEPLOY_TIME_TYPE not in text and not _ESCAPE.search(text)):
        return found  # no parameter can have that type
    if isinstance(parameters, LazyMappingNode):
        for name, declared_plain in parameters.plain.items():
            declared_type = declared_plain.get("Type") if isinstance(declared_plain, dict) else None
            if isinstance(declared_type, str) and declared_type.startswith(_DEPLOY_TIME_TYPE):
                found.add(name)
        return found
    for entry in parameters.entries:
        declared = entry.value.get("Type") if isinstance(entry.value, MappingNode) else None
        if isinstance(declared, (StringNode, ScalarNode)) and declared.value.startswith(_DEPLOY_TIME_TYPE):
            found.add(entry.key)
    return found


def _ref_target(node: Node) -> str | None:
    """The parameter a ``Ref`` names (``!Ref X`` or ``{"Ref": "X"}``)."""
    if intrinsic(node) != "Ref":
        return None
    argument = node.value if isinstance(node, TaggedNode) else cast(MappingNode, node).entries[0].value
    return argument.value if isinstance(argument, (StringNode, ScalarNode)) else None


def _stack_target(node: Node) -> str | None:
    """The resource a ``Ref`` or ``Fn::GetAtt`` names (``!GetAtt X.ImageId``, ``[X, ImageId]``)."""
    function = intrinsic(node)
    if function == "Ref":
        return _ref_target(node)
    if function != "Fn::GetAtt":
        return None
    argument = node.value if isinstance(node, TaggedNode) else cast(MappingNode, node).entries[0].value
    if isinstance(argument, (StringNode, ScalarNode)):
        return argument.value.split(".", 1)[0]
    if (
        isinstance(argument, SequenceNode)
        and argument.items
        and isinstance(argument.items[0], (StringNode, ScalarNode))
    ):
        return cast(ScalarNode, argument.items[0]).value
    return None


def _property_values(properties: Node, path: tuple[str, ...]) -> list[Node]:
    """Values at ``path`` under ``properties``; lists are walked element by element, and an
    intrinsic function standing for a whole intermediate mapping is returned as the value."""
    found: list[Node] = []
    stack: list[tuple[Node, int]] = [(properties, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, MappingNode) and intrinsic(node) is None:
            child = node.get(path[depth])
            if child is None:
                continue
            if depth == len(path) - 1:
                found.append(child)
            else:
                stack.append((child, depth + 1))
        elif isinstance(node, SequenceNode):
            stack.extend((item, depth) for item in reversed(node.items))
        elif depth > 0 and intrinsic(node) is not None:
            found.append(node)
    return found


def _items(node: Node) -> list[Node]:
    """The elements of a list value; any other value (a function, a scalar) stands as one."""
    return list(node.items) if isinstance(node, SequenceNode) else [node]


def _placeholders(root: MappingNode, text: str, lines: LineIndex, file: str) -> list[Placeholder]:
    """Placeholders in every string of the document, each node visited once (aliases share nodes)."""
    marks = Marks(text)
    if not marks:
        return []
    resource_ids = set()
    resources = root.get("Resources")
    if isinstance(resources, MappingNode):
        resource_ids = {id(entry.value) for entry in resources.entries}
    found: list[Placeholder] = []
    seen: set[int] = set()
    # (node, logical ID, type, property path or None when outside Properties)
    stack: list[tuple[Node, str | None, str | None, tuple[str, ...] | None]] = [(root, None, None, None)]
    while stack:
        node, resource, resource_type, prop = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, StringNode):
            found.extend(
                find_placeholders(
                    text,
                    node.content_start,
                    node.content_end,
                    lines,
                    file,
                    resource,
                    resource_type,
                    ".".join(prop) if prop else None,
                )
            )
            continue
        if node is resources and isinstance(node, MappingNode):
            for entry in node.entries:
                if marks.within(entry.value.start, entry.value.end):
                    stack.append((entry.value, entry.key, _resource_type(entry.value), None))
            continue
        in_resource = id(node) in resource_ids
        for key, child in children(node):
            if not marks.within(child.start, child.end):
                continue  # no placeholder can be in it
            if in_resource:
                stack.append((child, resource, resource_type, () if key == "Properties" else None))
            elif prop is not None and key is not None and key != "Ref" and not key.startswith("Fn::"):
                stack.append((child, resource, resource_type, (*prop, key)))
            else:
                stack.append((child, resource, resource_type, prop))
    found.sort(key=lambda placeholder: placeholder.span.start)
    return found


def _suppressions(root: MappingNode, file: str) -> frozenset[str]:
    metadata = root.get("Metadata")
    own = metadata.get("deploypkg") if isinstance(metadata, MappingNode) else None
    ignore = own.get("ignore") if isinstance(own, MappingNode) else None
    if ignore is None:
        return frozenset()
    if isinstance(ignore, StringNode):
        return frozenset(part.strip() for part in ignore.value.split(",") if part.strip())
    if isinstance(ignore, SequenceNode) and all(isinstance(item, StringNode) for item in ignore.items):
        return frozenset(item.value.strip() for item in ignore.items if isinstance(item, StringNode))
    raise _invalid(file, ignore, "Metadata.deploypkg.ignore must be a list of rule IDs", "e.g. ignore: [DPK103]")


def extract(
    root: Node | None,
    text: str,
    lines: LineIndex,
    file: str,
    table: Mapping[str, ResourceSpec],
    parse_defects: list[Defect] | None = None,
) -> CfnTemplate | None:
    """The template's content, or ``None`` when the document is not a ROS/CloudFormation template."""
    provider = recognize(root)
    if provider is None or not isinstance(root, MappingNode):
        return None
    refs: list[ImageRef] = []
    resolved_parameters = _deploy_time_parameters(root, text)
    # A YAML alias shares its anchor's node: the value has one place in the text, so it is one
    # reference (splicing that place changes every alias of it).
    seen: set[int] = set()
    defects = _locate(list(parse_defects or []), root)
    resources = _resources(root, file, defects)
    producers = image_producers()
    builders = {logical_id: resource_type for logical_id, resource_type, _ in resources if resource_type in producers}
    for logical_id, resource_type, resource in resources:
        spec = table.get(resource_type)
        properties = resource.get("Properties") if spec is not None else None
        if spec is None or properties is None:
            continue
        for prop in spec.properties:
            values = _property_values(properties, prop.path)
            if prop.each_item:
                values = [item for value in values for item in _items(value)]
            for value in values:
                if id(value) not in seen:
                    seen.add(id(value))
                    ref = _image_ref(value, text, file, logical_id, spec, prop.dotted, prop.role, lines)
                    if _ref_target(value) in resolved_parameters:
                        ref = ref._replace(resolved_at_deploy=True)
                    builder = _stack_target(value)
                    if builder in builders:
                        ref = ref._replace(built_by=f"{builder} ({builders[builder]})")
                    refs.append(ref)
    refs.sort(key=lambda ref: ref.span.start)
    defects.sort(key=lambda d: d.offset)
    return CfnTemplate(provider, refs, _placeholders(root, text, lines, file), _suppressions(root, file), defects)
