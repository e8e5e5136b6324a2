"""Terraform HCL (``.tf``) through python-hcl2 8.x's Lark parse tree and its position metadata.

python-hcl2 parses the text it is given plus one appended newline, so Lark's ``start_pos`` /
``end_pos`` are character offsets into our text (CRLF kept, BOM already removed); the tests
check this. This module (and with it ``hcl2`` and ``lark``) is imported only when a ``.tf``
file is loaded, keeping ``validate`` of other formats fast.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple, TypeAlias, TypeGuard

from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

from preprocessor.errors import InputError, TemplateParseError
from preprocessor.model import ImageRef, LineIndex, Placeholder, PropertyRole, RefKind
from preprocessor.templates.builders import with_builder
from preprocessor.templates.hcl_parser import parse_tree
from preprocessor.templates.placeholders import find_placeholders
from providers import ResourceSpec

HclTree: TypeAlias = Tree[Token]

MAX_HCL_CHARACTERS = 8 * 1024 * 1024
"""Bigger ``.tf`` files are refused (DPK002): python-hcl2 would take a minute on 50 MiB."""
STRING_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))|\$\$\{|%%\{", re.DOTALL)
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_LITERAL_TREES = frozenset({"literal_value", "int_lit", "float_lit"})
_HEREDOCS = frozenset({"heredoc_template", "heredoc_template_trim"})

_TOKEN_WORDS = {
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "LSQB": "'['",
    "RSQB": "']'",
    "LPAR": "'('",
    "RPAR": "')'",
    "EQ": "'='",
    "COLON": "':'",
    "COMMA": "','",
    "DOT": "'.'",
    "DBLQUOTE": "a quoted string",
    "NAME": "a name",
    "NL_OR_COMMENT": "the end of the line",
    "INTERP_START": "'${'",
    "QMARK": "'?'",
    "INT_LITERAL": "a number",
    "FLOAT_LITERAL": "a number",
    "$END": "the end of the file",
}


class TerraformContent(NamedTuple):
    image_refs: list[ImageRef]
    placeholders: list[Placeholder]


def _fail(file: str, lines: LineIndex, offset: int, message: str, hint: str | None = None) -> TemplateParseError:
    line, column = lines.position(offset)
    return TemplateParseError(message, file=file, line=line, column=column, hint=hint, rule="DPK001")


def _invalid(file: str, lines: LineIndex, offset: int, message: str, hint: str | None = None) -> TemplateParseError:
    """A well-formed HCL file that is not a well-formed Terraform configuration (DPK003)."""
    error = _fail(file, lines, offset, message, hint)
    error.rule = "DPK003"
    return error


def _describe_token(token: Token) -> str:
    if token.type == "$END":
        return "the end of the file"
    if token.type == "NL_OR_COMMENT":
        return "a line break" if not str(token).lstrip().startswith(("#", "//", "/*")) else "a comment"
    value = str(token).strip()
    first_line = value.splitlines()[0] if value else ""
    return repr(first_line[:40]) if first_line else token.type


def _unclosed_quote(exc: UnexpectedToken) -> int | None:
    """Where the string that runs to the end of the file opens, if that is the problem."""
    if "DBLQUOTE" not in exc.expected:
        return None
    state = getattr(getattr(exc, "interactive_parser", None), "parser_state", None)
    values = getattr(state, "value_stack", None) or []
    quotes = [value for value in values if isinstance(value, Token) and value.type == "DBLQUOTE"]
    return quotes[-1].start_pos if quotes and quotes[-1].start_pos is not None else None


def parse(text: str, file: str, lines: LineIndex) -> HclTree:
    """The Lark parse tree of ``text``; :class:`TemplateParseError` (DPK001) in words otherwise."""
    size = len(text)
    if size > MAX_HCL_CHARACTERS:
        raise InputError(
            f"the file holds {size / 2**20:.0f} MiB of HCL, more than the {MAX_HCL_CHARACTERS // 2**20} MiB "
            "deploypkg parses (python-hcl2 needs about a second per MiB)",
            file=file,
            hint="split it into several .tf files: Terraform reads every .tf file of a module",
            rule="DPK002",
        )
    hint = "check the syntax here; Terraform 0.11-only syntax must be upgraded to HCL2 (terraform 0.12upgrade)"
    try:
        tree: HclTree = parse_tree(text)
    except UnexpectedCharacters as exc:
        offset = min(exc.pos_in_stream or 0, size)
        char = text[offset] if offset < size else ""
        raise _fail(file, lines, offset, f"invalid HCL: unexpected character {char!r}", hint) from None
    except UnexpectedToken as exc:
        token = exc.token
        opening = _unclosed_quote(exc) if token.type == "$END" else None
        if opening is not None:
            raise _fail(file, lines, opening, "invalid HCL: unterminated string: the closing '\"' is missing") from None
        offset = size if token.type == "$END" or token.start_pos is None else min(token.start_pos, size)
        if token.type == "NL_OR_COMMENT":
            offset = min(offset, size)
        words = sorted({_TOKEN_WORDS.get(name, "") for name in exc.expected} - {""})
        expected = f"; expected {', '.join(words[:6])}" if words else ""
        raise _fail(file, lines, offset, f"invalid HCL: unexpected {_describe_token(token)}{expected}", hint) from None
    except UnexpectedEOF:
        raise _fail(file, lines, size, "invalid HCL: the file ends in the middle of a block or expression") from None
    except RecursionError:
        raise TemplateParseError(
            "invalid HCL: the file is nested too deeply to parse", file=file, rule="DPK001"
        ) from None
    except LarkError as exc:
        raise TemplateParseError(f"invalid HCL: {str(exc).splitlines()[0]}", file=file, rule="DPK001") from None
    return tree


def _is_tree(node: Any, *names: str) -> TypeGuard[HclTree]:
    return isinstance(node, Tree) and (not names or node.data in names)


def _tree(node: HclTree | Token) -> HclTree:
    """A child the grammar guarantees to be a subtree."""
    if not isinstance(node, Tree):
        raise TypeError(f"unexpected token {node!r} in the HCL parse tree")
    return node


def _subtrees(tree: HclTree) -> list[HclTree]:
    return [child for child in tree.children if isinstance(child, Tree)]


def _name(tree: HclTree) -> str:
    """The text of an identifier/keyword label or attribute name, or a quoted label's content."""
    if tree.data == "string":
        return "".join(str(part.children[0]) for part in _subtrees(tree) if not _is_tree(part.children[0]))
    token = tree.children[0]
    return _name(token) if isinstance(token, Tree) else str(token)


def _block_parts(block: HclTree) -> tuple[list[str], HclTree | None]:
    labels: list[str] = []
    body: HclTree | None = None
    for child in block.children:
        if _is_tree(child, "body"):
            body = child
        elif _is_tree(child, "identifier", "keyword", "literal_value", "string"):
            labels.append(_name(child))
    return labels, body


def _attribute_parts(attribute: HclTree) -> tuple[str, HclTree]:
    return _name(_tree(attribute.children[0])), _tree(attribute.children[-1])


def _unwrap(expression: HclTree) -> HclTree:
    """The expression inside ``expr_term`` wrappers and parentheses."""
    while expression.data == "expr_term":
        inner = _subtrees(expression)
        inner = [tree for tree in inner if tree.data != "new_line_or_comment"]
        if len(inner) != 1:
            break
        expression = inner[0]
    return expression


def _is_traversal(expression: HclTree) -> bool:
    """``var.x``, ``local.x``, ``data.t.n.attr``, ``module.m.out``, ``aws_x.y.id``: attribute
    access from a name, with no index, splat or call."""
    node = _unwrap(expression)
    while node.data == "get_attr_expr_term":
        node = _unwrap(_tree(node.children[0]))
    return node.data == "identifier"


def decode_string(raw: str) -> str:
    def replace(match: re.Match[str]) -> str:
        text = match.group()
        if text == "$${":
            return "${"
        if text == "%%{":
            return "%{"
        if match.group(1) or match.group(2):
            return chr(int(match.group(1) or match.group(2), 16))
        return _SIMPLE_ESCAPES.get(match.group(3), text)

    return STRING_ESCAPE.sub(replace, raw)


def classify(expression: HclTree) -> RefKind:
    node = _unwrap(expression)
    if node.data == "string":
        parts = [part.children[0] for part in _subtrees(node)]
        templated = [part for part in parts if _is_tree(part)]
        if not templated:
            return RefKind.LITERAL
        if len(parts) == 1 and _is_tree(parts[0], "interpolation"):
            inner = classify(_subtrees(_tree(parts[0]))[0])
            return RefKind.INTERPOLATION if inner is RefKind.LITERAL else inner
        return RefKind.INTERPOLATION
    if node.data in _HEREDOCS:
        return RefKind.INTERPOLATION
    if node.data in _LITERAL_TREES:
        return RefKind.LITERAL
    if _is_traversal(node):
        return RefKind.REFERENCE
    return RefKind.FUNCTION


def _image_ref(
    expression: HclTree,
    text: str,
    lines: LineIndex,
    file: str,
    name: str,
    spec: ResourceSpec,
    path: str,
    role: PropertyRole,
) -> ImageRef:
    kind = classify(expression)
    node = _unwrap(expression)
    start, end = expression.meta.start_pos, expression.meta.end_pos
    if kind is RefKind.LITERAL and node.data == "string":
        start, end = node.meta.start_pos + 1, node.meta.end_pos - 1
        value = decode_string(text[start:end])
    else:
        value = text[start:end]
    return with_builder(
        ImageRef(file, lines.span(start, end), name, spec.resource_type, path, kind, value, role, spec.provider)
    )


def _tuple_items(expression: HclTree) -> list[HclTree]:
    """The elements of a ``[a, b]`` list expression; any other expression stands as one."""
    node = _unwrap(expression)
    if node.data != "tuple":
        return [expression]
    return [child for child in _subtrees(node) if child.data == "expr_term"]


def _object_items(expression: HclTree) -> Iterator[tuple[str, HclTree]]:
    node = _unwrap(expression)
    if node.data != "object":
        return
    for element in _subtrees(node):
        if element.data != "object_elem":
            continue
        key_tree, value = _tree(element.children[0]), _tree(element.children[-1])
        key_expression = _subtrees(key_tree)[0] if _subtrees(key_tree) else key_tree
        key_node = _unwrap(key_expression)
        if key_node.data in ("identifier", "string", "keyword"):
            yield _name(key_node), value


def _dynamic_contents(body: HclTree) -> list[HclTree]:
    """The ``content`` bodies of a ``dynamic "NAME" { … }`` block: what each generated block holds."""
    contents = []
    for child in _subtrees(body):
        if child.data == "block":
            labels, content = _block_parts(child)
            if labels == ["content"] and content is not None:
                contents.append(content)
    return contents


def _values(body: HclTree, path: tuple[str, ...], misplaced: list[HclTree]) -> list[HclTree]:
    """Expressions at ``path`` in a block body: nested blocks (every repetition, and the content of
    ``dynamic`` blocks) or object attributes. A block where the attribute belongs goes to ``misplaced``."""
    found: list[HclTree] = []
    stack: list[tuple[HclTree, int]] = [(body, 0)]
    while stack:
        node, depth = stack.pop()
        wanted, last = path[depth], depth == len(path) - 1
        if node.data == "body":
            for child in reversed(_subtrees(node)):
                if child.data == "attribute":
                    name, expression = _attribute_parts(child)
                    if name == wanted:
                        if last:
                            found.append(expression)
                        else:
                            stack.append((expression, depth + 1))
                elif child.data == "block" and last:
                    if _block_parts(child)[0] == [wanted]:
                        misplaced.append(child)
                elif child.data == "block":
                    labels, block_body = _block_parts(child)
                    if labels == [wanted] and block_body is not None:
                        stack.append((block_body, depth + 1))
                    elif labels == ["dynamic", wanted] and block_body is not None:
                        stack.extend((content, depth + 1) for content in _dynamic_contents(block_body))
        else:
            for name, expression in reversed(list(_object_items(node))):
                if name == wanted:
                    if last:
                        found.append(expression)
                    else:
                        stack.append((expression, depth + 1))
    return found


def _resources(tree: HclTree, lines: LineIndex, file: str) -> list[tuple[str, str, HclTree]]:
    body = _subtrees(tree)[0]
    found = []
    for block in _subtrees(body):
        if block.data != "block":
            continue
        labels, block_body = _block_parts(block)
        if not labels or labels[0] != "resource" or block_body is None:
            continue
        if len(labels) != 3:
            raise _invalid(
                file,
                lines,
                block.meta.start_pos,
                f"a resource block needs exactly two labels, a type and a name; this one has {len(labels) - 1}",
                'write resource "TYPE" "NAME" { … }',
            )
        found.append((labels[1], labels[2], block_body))
    return found


def _check_unique_attributes(tree: HclTree, lines: LineIndex, file: str) -> None:
    """Terraform rejects an attribute set twice in one body ("Attribute redefined").

    Bodies hold attributes and blocks, blocks hold bodies, and expressions never hold either, so
    only that chain is walked. Of several offending bodies the deepest (then the first) is
    reported, the order in which a walk of every subtree meets them."""
    first: tuple[int, int, HclTree, int] | None = None
    stack: list[tuple[HclTree, int]] = [(_subtrees(tree)[0], 0)]
    while stack:
        body, depth = stack.pop()
        seen: dict[str, int] | None = {}  # None once this body's first duplicate is found
        for child in _subtrees(body):
            if child.data == "block":
                nested = _block_parts(child)[1]
                if nested is not None:
                    stack.append((nested, depth + 1))
            elif child.data == "attribute" and seen is not None:
                name = _attribute_parts(child)[0]
                start = child.meta.start_pos
                if name not in seen:
                    seen[name] = start
                    continue
                if first is None or (-depth, start) < (-first[0], first[1]):
                    first = (depth, start, child, seen[name])
                seen = None
    if first is not None:
        _, start, attribute, previous = first
        name = _attribute_parts(attribute)[0]
        line, column = lines.position(previous)
        raise _fail(
            file,
            lines,
            start,
            f"invalid HCL: the attribute {name!r} is set twice in one block (first at line {line}, column {column})",
            "remove one of them; Terraform rejects a redefined attribute",
        )


def _placeholders(
    tree: HclTree, resources: list[tuple[str, str, HclTree]], text: str, lines: LineIndex, file: str
) -> list[Placeholder]:
    owners = {id(body): (f"{rtype}.{name}", rtype) for rtype, name, body in resources}
    found: list[Placeholder] = []
    stack: list[tuple[HclTree, tuple[str, str] | None, tuple[str, ...]]] = [(tree, None, ())]
    while stack:
        node, owner, prop = stack.pop()
        if id(node) in owners:
            owner, prop = owners[id(node)], ()
        if node.data in ("string", *_HEREDOCS):
            start, end = node.meta.start_pos, node.meta.end_pos
            found.extend(
                find_placeholders(
                    text,
                    start,
                    end,
                    lines,
                    file,
                    owner[0] if owner else None,
                    owner[1] if owner else None,
                    ".".join(prop) if owner and prop else None,
                )
            )
            continue
        for child in _subtrees(node):
            child_prop = prop
            if owner is not None and child.data == "attribute":
                child_prop = (*prop, _attribute_parts(child)[0])
            elif owner is not None and child.data == "block":
                labels, _ = _block_parts(child)
                if len(labels) == 2 and labels[0] == "dynamic":
                    child_prop = (*prop, labels[1])
                elif labels and labels != ["content"]:
                    child_prop = (*prop, labels[0])
            stack.append((child, owner, child_prop))
    found.sort(key=lambda placeholder: placeholder.span.start)
    return found


def extract(text: str, lines: LineIndex, file: str, table: Mapping[str, ResourceSpec]) -> TerraformContent:
    tree = parse(text, file, lines)
    _check_unique_attributes(tree, lines, file)
    resources = _resources(tree, lines, file)
    refs: list[ImageRef] = []
    for resource_type, name, body in resources:
        spec = table.get(resource_type)
        if spec is None:
            continue
        for prop in spec.properties:
            misplaced: list[HclTree] = []
            expressions = _values(body, prop.path, misplaced)
            if prop.each_item:
                expressions = [item for expression in expressions for item in _tuple_items(expression)]
            for expression in expressions:
                refs.append(
                    _image_ref(expression, text, lines, file, f"{resource_type}.{name}", spec, prop.dotted, prop.role)
                )
            if misplaced:
                raise _invalid(
                    file,
                    lines,
                    misplaced[0].meta.start_pos,
                    f"{prop.path[-1]} of {resource_type}.{name} is written as a block; it is an attribute",
                    f'write {prop.path[-1]} = "…"',
                )
    refs.sort(key=lambda ref: ref.span.start)
    # Placeholders are found only in text holding "computenest::" (find_placeholders): skip the walk.
    placeholders = _placeholders(tree, resources, text, lines, file) if "computenest::" in text else []
    return TerraformContent(refs, placeholders)
