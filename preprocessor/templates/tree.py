"""The node tree the JSON and YAML loaders share: mappings keep key order and key spans,
strings keep the span of their raw content, and every node knows its source span.

Nodes store character offsets only; a :class:`~preprocessor.model.Span` (line and column
too) is computed on demand from the document's :class:`~preprocessor.model.LineIndex`,
so building a tree for a large file costs no line lookups.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from preprocessor.model import LineIndex, Span


class Node:
    __slots__ = ("end", "lines", "start")

    def __init__(self, lines: LineIndex, start: int, end: int) -> None:
        self.lines = lines
        self.start = start
        self.end = end

    @property
    def span(self) -> Span:
        return self.lines.span(self.start, self.end)


class Entry(NamedTuple):
    key: str
    key_start: int
    key_end: int
    value: Node


class MappingNode(Node):
    __slots__ = ("entries",)

    def __init__(self, lines: LineIndex, start: int, end: int, entries: list[Entry]) -> None:
        super().__init__(lines, start, end)
        self.entries = entries

    def get(self, key: str) -> Node | None:
        for entry in self.entries:
            if entry.key == key:
                return entry.value
        return None

    def entry(self, key: str) -> Entry | None:
        for entry in self.entries:
            if entry.key == key:
                return entry
        return None

    def keys(self) -> list[str]:
        return [entry.key for entry in self.entries]


class SequenceNode(Node):
    __slots__ = ("items",)

    def __init__(self, lines: LineIndex, start: int, end: int, items: list[Node]) -> None:
        super().__init__(lines, start, end)
        self.items = items


_MAPPING_ENTRIES = MappingNode.__dict__["entries"]
_SEQUENCE_ITEMS = SequenceNode.__dict__["items"]


def _built(node: LazyMappingNode | LazySequenceNode, slot: Any) -> list[Any]:
    """The node's children in ``slot``, built by the node's builder the first time they are read."""
    try:
        return slot.__get__(node)  # type: ignore[no-any-return]
    except AttributeError:
        build: Callable[[Any], list[Any]] = node.build
        children = build(node)
        slot.__set__(node, children)
        return children


class LazyMappingNode(MappingNode):
    """A mapping whose entries are built from the text when first read (the JSON loader's fast
    path: ``build`` reads them, one level). ``plain`` is its value as the standard decoder gives
    it, for questions that need no position."""

    __slots__ = ("build", "plain")

    def __init__(
        self,
        lines: LineIndex,
        start: int,
        end: int,
        build: Callable[[LazyMappingNode], list[Entry]],
        plain: dict[str, Any],
    ) -> None:
        Node.__init__(self, lines, start, end)
        self.build = build
        self.plain = plain

    @property
    def entries(self) -> list[Entry]:
        return _built(self, _MAPPING_ENTRIES)

    @entries.setter
    def entries(self, entries: list[Entry]) -> None:
        _MAPPING_ENTRIES.__set__(self, entries)


class LazySequenceNode(SequenceNode):
    """A sequence whose items are built from the text when first read (see :class:`LazyMappingNode`)."""

    __slots__ = ("build", "plain")

    def __init__(
        self, lines: LineIndex, start: int, end: int, build: Callable[[LazySequenceNode], list[Node]], plain: list[Any]
    ) -> None:
        Node.__init__(self, lines, start, end)
        self.build = build
        self.plain = plain

    @property
    def items(self) -> list[Node]:
        return _built(self, _SEQUENCE_ITEMS)

    @items.setter
    def items(self, items: list[Node]) -> None:
        _SEQUENCE_ITEMS.__set__(self, items)


class StringNode(Node):
    """A string value. ``content_start``/``content_end`` delimit its raw source text: between
    the quotes for a quoted string, the whole token for a plain YAML scalar."""

    __slots__ = ("content_end", "content_start", "plain", "value")

    def __init__(
        self,
        lines: LineIndex,
        start: int,
        end: int,
        value: str,
        content_start: int,
        content_end: int,
        plain: bool = False,
    ) -> None:
        self.lines = lines  # assigned here rather than through super(): the JSON decoder makes many
        self.start = start
        self.end = end
        self.value = value
        self.content_start = content_start
        self.content_end = content_end
        self.plain = plain

    @property
    def content_span(self) -> Span:
        return self.lines.span(self.content_start, self.content_end)


class ScalarNode(Node):
    """A number, boolean or null; ``value`` is its source text."""

    __slots__ = ("value",)

    def __init__(self, lines: LineIndex, start: int, end: int, value: str) -> None:
        super().__init__(lines, start, end)
        self.value = value


class TaggedNode(Node):
    """A YAML short-form intrinsic function such as ``!Ref x``; ``function`` is its long
    name (``Ref``, ``Fn::Sub``, ``Fn::MergeMapToList``)."""

    __slots__ = ("function", "value")

    def __init__(self, lines: LineIndex, start: int, end: int, function: str, value: Node) -> None:
        super().__init__(lines, start, end)
        self.function = function
        self.value = value


def children(node: Node) -> Iterator[tuple[str | None, Node]]:
    """Direct children with the mapping key that leads to each (``None`` for list items
    and the argument of a tagged function)."""
    if isinstance(node, MappingNode):
        for entry in node.entries:
            yield entry.key, entry.value
    elif isinstance(node, SequenceNode):
        for item in node.items:
            yield None, item
    elif isinstance(node, TaggedNode):
        yield None, node.value


@contextmanager
def no_gc_pauses() -> Iterator[None]:
    """Pause the cyclic garbage collector while building a tree: the tree has no cycles, and
    collections triggered by its many new objects would otherwise dominate on large files."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
