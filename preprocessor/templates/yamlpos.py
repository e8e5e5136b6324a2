"""ROS/CloudFormation YAML with positions: PyYAML events (the C parser when available) composed
into the node tree of :mod:`preprocessor.templates.tree`.

Short-form intrinsic functions (``!Ref``, ``!GetAtt``, ``!Sub``, any ``!Fn…`` including ROS-only
ones such as ``!MergeMapToList``) are named the way cfn-flip's ``CfnYamlLoader`` names them
(``Ref``/``Condition`` as written, everything else ``Fn::`` + the tag), and scalars are resolved
with that loader's resolver. Composition is our own and iterative because PyYAML's composer
recurses once per nesting level and we need: a nesting limit instead of a ``RecursionError``;
aliases that share one node (a "billion laughs" bomb stays as small as its text); duplicate
keys reported; and the raw content span of every scalar.

Mark ``index`` values are character offsets into the ``str`` we pass, for the pure-Python and
the C parser alike (the tests check both with non-ASCII text and CRLF line endings).
"""

from __future__ import annotations

from typing import Any, cast

import yaml
from cfn_tools.yaml_loader import FN_PREFIX, UNCONVERTED_SUFFIXES, CfnYamlLoader
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from preprocessor.errors import TemplateParseError
from preprocessor.model import Defect, LineIndex
from preprocessor.templates.tree import (
    Entry,
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    StringNode,
    TaggedNode,
    no_gc_pauses,
)

MAX_DEPTH = 1000
_LIBYAML_DEPTH_LIMIT = "maximum nesting depth"
_STR_TAG = "tag:yaml.org,2002:str"


def _make_loader() -> type[Any]:
    """cfn-flip's loader, with libyaml's parser when PyYAML has it (same events, same offsets)."""
    if not getattr(yaml, "__with_libyaml__", False):  # pragma: no cover - PyYAML without libyaml
        return cast("type[Any]", CfnYamlLoader)
    from yaml.cyaml import CParser  # type: ignore[attr-defined]

    class FastCfnLoader(CParser, CfnYamlLoader):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

    return FastCfnLoader


_LOADER = _make_loader()
_IMPLICIT_FIRST_CHARACTERS: frozenset[str] | None = (
    None if None in _LOADER.yaml_implicit_resolvers else frozenset(_LOADER.yaml_implicit_resolvers)
)
"""First characters for which a plain scalar may resolve to something other than a string (the
resolver looks its patterns up by the first character); ``None`` when a pattern is filed for any."""


def function_name(tag: str) -> str | None:
    """``!Ref`` → ``Ref``, ``!Sub`` → ``Fn::Sub`` (cfn-flip's rule); ``None`` for other tags."""
    if not tag.startswith("!") or tag.startswith("!!") or len(tag) < 2:
        return None
    suffix = tag[1:]
    return suffix if suffix in UNCONVERTED_SUFFIXES else FN_PREFIX + suffix


class YamlDocument:
    """The first document of a YAML stream; ``next_document`` is the offset where another one
    starts, if one follows."""

    __slots__ = ("defects", "next_document", "root")

    def __init__(
        self, root: Node | None, next_document: int | None = None, defects: list[Defect] | None = None
    ) -> None:
        self.root = root
        self.next_document = next_document
        self.defects = defects or []
        """Duplicate keys: each reported, the first of them kept."""

    @property
    def more_documents(self) -> bool:
        return self.next_document is not None


class _Collection:
    __slots__ = ("anchor", "entries", "flow", "function", "is_mapping", "items", "key", "seen", "start")

    def __init__(self, is_mapping: bool, start: int, flow: bool, anchor: str | None, function: str | None) -> None:
        self.is_mapping = is_mapping
        self.start = start
        self.flow = flow
        self.anchor = anchor
        self.function = function
        self.entries: list[Entry] = []
        self.items: list[Node] = []
        self.seen: dict[str, int] = {}
        self.key: Node | None = None


def _fail(file: str | None, lines: LineIndex, offset: int, message: str, hint: str | None = None) -> TemplateParseError:
    line, column = lines.position(offset)
    return TemplateParseError(message, file=file, line=line, column=column, hint=hint, rule="DPK001")


def _content_start(text: str, start: int, end: int) -> int:
    """Skip a node's anchor and tag (``&a !Ref``) and the blanks after them."""
    pos = start
    while pos < end and text[pos] in "&!":
        while pos < end and text[pos] not in " \t\r\n":
            pos += 1
        while pos < end and text[pos] in " \t\r\n":
            pos += 1
    return pos


def _scalar(loader: Any, text: str, lines: LineIndex, event: Any) -> Node:
    start, end = event.start_mark.index, event.end_mark.index
    style = event.style or None
    first = _content_start(text, start, end) if text.startswith(("&", "!"), start) else start
    tag = event.tag
    function = function_name(tag) if tag else None
    if style in ("'", '"'):
        node: Node = StringNode(lines, first, end, event.value, first + 1, end - 1)
    elif style in ("|", ">"):
        # Content: from the line after the header to the last non-blank character.
        header_end = text.find("\n", first, end)
        body_start = header_end + 1 if header_end != -1 else end
        while body_start < end and text[body_start] in " \t":
            body_start += 1
        body_end = end
        while body_end > body_start and text[body_end - 1] in " \t\r\n":
            body_end -= 1
        node = StringNode(lines, first, body_end, event.value, body_start, body_end)
    else:
        resolved = tag if tag and function is None and tag != "!" else None
        if resolved is None:
            value = event.value
            implicit = _IMPLICIT_FIRST_CHARACTERS
            if value and implicit is not None and value[0] not in implicit:
                resolved = _STR_TAG  # what the resolver returns when no pattern is filed under that character
            else:
                resolved = loader.resolve(yaml.ScalarNode, value, event.implicit)
        if function is not None or resolved == _STR_TAG:
            node = StringNode(lines, first, end, event.value, first, end, plain=True)
        else:
            node = ScalarNode(lines, first, end, event.value)
    if function is not None:
        return TaggedNode(lines, start, end, function, node)
    return node


def _opened_at(exc: yaml.MarkedYAMLError, lines: LineIndex, size: int) -> str:
    """Where the construct the parser was inside began (``that starts at 6:16``), when that is not
    where it stopped: an unclosed ``[`` is found only lines later, the user needs both places."""
    start, stop = exc.context_mark, exc.problem_mark
    if start is None or stop is None or start.index == stop.index:
        return ""
    line, column = lines.position(min(start.index, size))
    return f" that starts at {line}:{column}"


def compose(
    text: str, *, file: str | None = None, lines: LineIndex | None = None, max_depth: int = MAX_DEPTH
) -> YamlDocument:
    """Compose the first YAML document of ``text``; raise :class:`TemplateParseError` (DPK001)."""
    lines = lines if lines is not None else LineIndex(text)
    loader = _LOADER(text)
    try:
        with no_gc_pauses():
            return _compose(loader, text, file, lines, max_depth)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        offset = mark.index if mark is not None else 0
        problem = exc.problem or "invalid YAML"
        if _LIBYAML_DEPTH_LIMIT in problem:
            # libyaml (PyYAML >= 6.0.4 bundles one that stops at 1000 levels itself) can trip before
            # our own limit sees the event; the user gets one message whichever parser stops first.
            raise _fail(file, lines, offset, _too_deep(max_depth)) from None
        hint = None
        if text.startswith("\t", offset) or "'\\t'" in problem:
            problem = f"{problem}: a tab character"
            hint = "YAML indentation must use spaces, not tabs"
        context = f" ({exc.context}{_opened_at(exc, lines, len(text))})" if exc.context else ""
        raise _fail(file, lines, offset, f"invalid YAML: {problem}{context}", hint) from None
    except yaml.reader.ReaderError as exc:
        raise _fail(file, lines, min(exc.position, len(text)), f"invalid YAML: {exc.reason}") from None
    except yaml.YAMLError as exc:
        raise TemplateParseError(f"invalid YAML: {exc}", file=file, rule="DPK001") from None
    finally:
        loader.dispose()


def _too_deep(max_depth: int) -> str:
    return f"nesting is deeper than {max_depth} levels"


def _start(event: Any) -> int:
    return int(event.start_mark.index)


def _end(event: Any) -> int:
    return int(event.end_mark.index)


def _compose(loader: Any, text: str, file: str | None, lines: LineIndex, max_depth: int) -> YamlDocument:
    get = loader.get_event
    loader.get_event()  # StreamStart
    if loader.check_event(yaml.StreamEndEvent):
        return YamlDocument(None)
    defects: list[Defect] = []
    get()  # DocumentStart
    anchors: dict[str, Node] = {}
    stack: list[_Collection] = []
    root: Node | None = None
    while root is None:
        event: Any = get()
        node: Node | None = None
        if (
            isinstance(event, yaml.ScalarEvent)
            and stack
            and stack[-1].key is None
            and stack[-1].is_mapping
            and not event.anchor
            and not event.tag
            and event.style in (None, "", "'", '"')
        ):
            # A mapping key: only its text and span are kept, so it needs no resolving.
            start, end = _start(event), _end(event)
            stack[-1].key = StringNode(lines, start, end, event.value, start, end)
            continue
        if isinstance(event, yaml.ScalarEvent):
            node = _scalar(loader, text, lines, event)
            if event.anchor:
                anchors[event.anchor] = node
        elif isinstance(event, yaml.AliasEvent):
            found = anchors.get(event.anchor or "")
            if found is None:
                raise _fail(file, lines, _start(event), f"invalid YAML: unknown alias *{event.anchor}")
            node = found
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if len(stack) >= max_depth:
                raise _fail(file, lines, _start(event), _too_deep(max_depth))
            function = function_name(event.tag) if event.tag else None
            stack.append(
                _Collection(
                    isinstance(event, yaml.MappingStartEvent),
                    _start(event),
                    bool(event.flow_style),
                    event.anchor,
                    function,
                )
            )
            continue
        else:  # MappingEnd / SequenceEnd
            done = stack.pop()
            if done.flow:
                end = event.end_mark.index
            else:
                last = done.entries[-1].value if done.entries else (done.items[-1] if done.items else None)
                end = last.end if last is not None else _start(event)
            start = _content_start(text, done.start, end) if done.function else done.start
            inner: Node = (
                MappingNode(lines, start, end, done.entries)
                if done.is_mapping
                else SequenceNode(lines, start, end, done.items)
            )
            node = TaggedNode(lines, done.start, end, done.function, inner) if done.function else inner
            if done.anchor:
                anchors[done.anchor] = node
        if not stack:
            root = node
            break
        parent = stack[-1]
        if not parent.is_mapping:
            parent.items.append(node)
        elif parent.key is None:
            parent.key = node
        else:
            key_node = parent.key
            parent.key = None
            if isinstance(key_node, (StringNode, ScalarNode)):
                key = key_node.value
            else:
                raise _fail(file, lines, key_node.start, "a mapping key must be a plain value, not a list or mapping")
            first = parent.seen.get(key)
            if first is not None:
                line, column = lines.position(first)
                here_line, here_column = lines.position(key_node.start)
                defects.append(
                    Defect(
                        "DPK001",
                        f"duplicate key {key!r} (first defined at line {line}, column {column})",
                        "remove or rename one of them",
                        here_line,
                        here_column,
                        key_node.start,
                        key=key,
                        parent=parent.start,
                    )
                )
                continue  # the first one is kept
            parent.seen[key] = key_node.start
            parent.entries.append(Entry(key, key_node.start, key_node.end, node))
    get()  # DocumentEnd
    if loader.check_event(yaml.StreamEndEvent):
        return YamlDocument(root, None, defects)
    return YamlDocument(root, _start(loader.peek_event()), defects)
