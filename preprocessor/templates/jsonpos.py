"""A JSON decoder that keeps positions, for ROS/CloudFormation ``.json`` and Terraform ``.tf.json``.

The standard library decoder forgets where values were; render needs the exact span of every
value to splice a replacement into the original text. This decoder returns the node tree of
:mod:`preprocessor.templates.tree`. It is iterative (an explicit stack, no recursion) with a
nesting limit, tokenizes with regular expressions and the C string scanner of :mod:`json`, and
rejects duplicate keys, which the standard decoder silently merges.

:func:`parse_lazy` is the fast way to the same tree: it builds nodes for the document and the
values of a few sections (a template's ``Resources``) and lets the C scanner of :mod:`json`
check every other container and find where it ends; such a container becomes a lazy node that
carries its plain value and builds its children, one level at a time, when someone reads them. Only valid JSON with no
duplicate key, no lone surrogate and no NaN takes that way: anything else is parsed again by the
exact decoder, so every error and defect is the same as :func:`parse` gives.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from json.decoder import JSONDecodeError, scanstring  # type: ignore[attr-defined]
from typing import Any

from preprocessor.errors import TemplateParseError
from preprocessor.model import Defect, LineIndex
from preprocessor.templates.tree import (
    Entry,
    LazyMappingNode,
    LazySequenceNode,
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    StringNode,
    no_gc_pauses,
)

MAX_DEPTH = 1000

_WS = re.compile(r"[ \t\n\r]*")
_PLAIN_STRING = re.compile(r'"([^"\\\x00-\x1f]*)"')
_PLAIN_KEY = re.compile(r'"([^"\\\x00-\x1f]*)"[ \t\n\r]*:[ \t\n\r]*')
_SEPARATOR = re.compile(r"[ \t\n\r]*([,\]}])[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|.)")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LITERALS = {"true", "false", "null"}

_SCANSTRING_MESSAGES = (
    ("Unterminated string", "unterminated string: the closing '\"' is missing"),
    ("Invalid control character", "a control character (newline, tab, ...) inside a string must be escaped"),
    ("Invalid \\uXXXX", "invalid \\u escape: it needs four hexadecimal digits"),
    ("Invalid \\escape", "invalid escape sequence in a string"),
)


def _lone_surrogate(text: str, start: int, end: int) -> int:
    """Offset of the first ``\\uD800``-``\\uDFFF`` escape in ``text[start:end]`` not part of a pair."""
    pending = -1  # offset of a high surrogate waiting for its low half
    for match in _ESCAPE.finditer(text, start, end):
        code = int(match.group(1), 16) if match.group(1) else -1
        if pending != -1:
            if 0xDC00 <= code <= 0xDFFF and match.start() == pending + 6:
                pending = -1
                continue
            return pending
        if 0xD800 <= code <= 0xDBFF:
            pending = match.start()
        elif 0xDC00 <= code <= 0xDFFF:
            return match.start()
    return pending if pending != -1 else start


class _Frame:
    __slots__ = ("drop", "entries", "is_object", "key", "key_end", "key_start", "seen", "start")

    def __init__(self, is_object: bool, start: int) -> None:
        self.is_object = is_object
        self.start = start
        self.entries: list[Entry] = []
        self.seen: dict[str, int] = {}
        self.drop = False
        """The member being read repeats a key: it is reported, not kept."""
        self.key = ""
        self.key_start = 0
        self.key_end = 0


class _Unchecked(Exception):
    """The fast scan met something only the exact decoder reports properly."""


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        raise _Unchecked
    return mapping


def _reject_constant(_name: str) -> None:
    raise _Unchecked  # NaN, Infinity, -Infinity: Python's json accepts them, JSON does not


_SKIP_VALUE: Callable[[str, int], tuple[Any, int]] = json.scanner.make_scanner(  # type: ignore[attr-defined]
    json.JSONDecoder(object_pairs_hook=_no_duplicate_keys, parse_constant=_reject_constant)
)
"""Checks one JSON value at an offset and returns it and where it ends (the C scanner where there
is one)."""

_FIND_END: Callable[[str, int], tuple[Any, int]] = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[attr-defined]
"""Where a value already checked by :data:`_SKIP_VALUE` ends (no hooks: it has no duplicate key)."""

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abAB]")


class _Parser:
    def __init__(
        self,
        text: str,
        file: str | None,
        lines: LineIndex,
        max_depth: int,
        defects: list[Defect] | None,
        sections: frozenset[str] | None = None,
    ) -> None:
        self.text = text
        self.file = file
        self.lines = lines
        self.max_depth = max_depth
        self.defects = defects
        self.level = _Level(text, lines)
        self.sections = sections
        """``None``: every container is built at once. Else only the document and the values of
        these keys of it are; every other container becomes a lazy node."""

    def fail(self, offset: int, message: str, hint: str | None = None) -> TemplateParseError:
        line, column = self.lines.position(min(offset, len(self.text)))
        return TemplateParseError(
            f"invalid JSON: {message}", file=self.file, line=line, column=column, hint=hint, rule="DPK001"
        )

    def string(self, pos: int) -> tuple[StringNode, int]:
        """The string whose opening quote is at ``pos``, and the offset after its closing quote."""
        text = self.text
        match = _PLAIN_STRING.match(text, pos)
        if match is not None:
            end = match.end()
            return StringNode(self.lines, pos, end, match.group(1), pos + 1, end - 1), end
        try:
            value, end = scanstring(text, pos + 1, True)
        except JSONDecodeError as exc:
            message = next((words for prefix, words in _SCANSTRING_MESSAGES if exc.msg.startswith(prefix)), exc.msg)
            raise self.fail(exc.pos, message) from None
        if _SURROGATE.search(value):
            offset = _lone_surrogate(text, pos + 1, end - 1)
            raise self.fail(
                offset,
                f"{text[offset : offset + 6]} is half of a UTF-16 surrogate pair, not a character",
                "remove it or write the whole pair",
            )
        return StringNode(self.lines, pos, end, value, pos + 1, end - 1), end

    def unexpected(self, pos: int, expected: str) -> TemplateParseError:
        text = self.text
        if pos >= len(text):
            return self.fail(pos, f"{expected}, but the file ends", "the file may be truncated")
        char = text[pos]
        if char == "'":
            return self.fail(pos, f"{expected}; JSON strings use double quotes, not single quotes")
        if text.startswith(("//", "/*"), pos):
            return self.fail(pos, f"{expected}; JSON does not allow comments")
        word = _WORD.match(text, pos)
        if word is not None:
            return self.fail(pos, f"{expected}, found {word.group()!r}")
        return self.fail(pos, f"{expected}, found {char!r}")

    def key(self, frame: _Frame, pos: int) -> int:
        """Read ``"key" :`` at ``pos`` into ``frame``; return the offset of the value."""
        text = self.text
        fast = _PLAIN_KEY.match(text, pos)
        if fast is not None:
            key = fast.group(1)
            if key not in frame.seen:
                frame.seen[key] = pos
                frame.key, frame.key_start, frame.key_end = key, pos, pos + len(key) + 2
                return fast.end()
        if not text.startswith('"', pos):
            if text.startswith("}", pos) and frame.entries:
                raise self.fail(pos, "a trailing comma before '}' is not allowed")
            raise self.unexpected(pos, "expected an object key in double quotes")
        node, end = self.string(pos)
        first = frame.seen.get(node.value)
        if first is not None:
            line, column = self.lines.position(first)
            message = f"duplicate key {node.value!r} (first defined at line {line}, column {column})"
            hint = "remove or rename one of them; JSON parsers disagree about which one wins"
            if self.defects is None:
                raise self.fail(pos, message, hint)
            here_line, here_column = self.lines.position(pos)
            self.defects.append(
                Defect(
                    "DPK001",
                    f"invalid JSON: {message}",
                    hint,
                    here_line,
                    here_column,
                    pos,
                    key=node.value,
                    parent=frame.start,
                )
            )
            frame.drop = True  # the first one is kept
        else:
            frame.seen[node.value] = pos
        frame.key, frame.key_start, frame.key_end = node.value, pos, end
        pos = _WS.match(text, end).end()  # type: ignore[union-attr]
        if not text.startswith(":", pos):
            raise self.unexpected(pos, f"expected ':' after the object key {node.value!r}")
        return _WS.match(text, pos + 1).end()  # type: ignore[union-attr]

    def lazy(self, pos: int, is_object: bool) -> Node:
        """The container at ``pos`` as a lazy node, once the C scanner has checked it."""
        try:
            plain, end = _SKIP_VALUE(self.text, pos)
        except (_Unchecked, ValueError, RecursionError, StopIteration):
            raise _Unchecked from None
        return _lazy_node(self.level, pos, end, plain)

    def parse(self) -> Node:
        text = self.text
        size = len(text)
        ws = _WS.match
        lines = self.lines
        sections = self.sections
        stack: list[_Frame] = []
        pos = ws(text, 0).end()  # type: ignore[union-attr]
        if pos >= size:
            raise self.fail(pos, "the file is empty or holds only whitespace")
        while True:
            # Read one value at ``pos``; containers push a frame and read their first member.
            value: Node
            char = text[pos] if pos < size else ""
            if (
                (char == "{" or char == "[")
                and stack
                and sections is not None
                and not (len(stack) == 1 and stack[0].is_object and stack[0].key in sections)
            ):
                value = self.lazy(pos, char == "{")
                pos = value.end
            elif char == "{" or char == "[":
                if len(stack) >= self.max_depth:
                    raise self.fail(pos, f"nesting is deeper than {self.max_depth} levels")
                is_object = char == "{"
                inner = ws(text, pos + 1).end()  # type: ignore[union-attr]
                close = "}" if is_object else "]"
                if text.startswith(close, inner):
                    end = inner + 1
                    value = MappingNode(lines, pos, end, []) if is_object else SequenceNode(lines, pos, end, [])
                    pos = end
                else:
                    frame = _Frame(is_object, pos)
                    stack.append(frame)
                    pos = self.key(frame, inner) if is_object else inner
                    continue
            elif char == '"':
                value, pos = self.string(pos)
            else:
                match = _NUMBER.match(text, pos)
                if match is None:
                    word = _WORD.match(text, pos)
                    if word is None or word.group() not in _LITERALS:
                        raise self.unexpected(
                            pos, "expected a value (string, number, object, array, true, false or null)"
                        )
                    match = word
                end = match.end()
                value = ScalarNode(lines, pos, end, match.group())
                pos = end
            # Attach the finished value to its parent; close every container that ends here.
            while True:
                if not stack:
                    pos = ws(text, pos).end()  # type: ignore[union-attr]
                    if pos < size:
                        raise self.unexpected(pos, "expected the end of the file after the JSON value")
                    return value
                frame = stack[-1]
                if frame.drop:
                    frame.drop = False
                elif frame.is_object:
                    frame.entries.append(Entry(frame.key, frame.key_start, frame.key_end, value))
                else:
                    frame.entries.append(Entry("", 0, 0, value))
                separator = _SEPARATOR.match(text, pos)
                if separator is None:
                    pos = ws(text, pos).end()  # type: ignore[union-attr]
                    char = ""
                else:
                    char = separator.group(1)
                    pos = separator.start(1)
                if char == ",":
                    pos = separator.end()  # type: ignore[union-attr]
                    if frame.is_object:
                        pos = self.key(frame, pos)
                    elif text.startswith("]", pos):
                        raise self.fail(pos, "a trailing comma before ']' is not allowed")
                    break
                if frame.is_object and char == "}":
                    stack.pop()
                    value = MappingNode(lines, frame.start, pos + 1, frame.entries)
                    pos += 1
                elif not frame.is_object and char == "]":
                    stack.pop()
                    items = [entry.value for entry in frame.entries]
                    value = SequenceNode(lines, frame.start, pos + 1, items)
                    pos += 1
                elif frame.is_object:
                    raise self.unexpected(pos, "expected ',' or '}' after an object member")
                else:
                    raise self.unexpected(pos, "expected ',' or ']' after an array element")


def parse(
    text: str,
    *,
    file: str | None = None,
    lines: LineIndex | None = None,
    max_depth: int = MAX_DEPTH,
    defects: list[Defect] | None = None,
) -> Node:
    """Parse ``text`` into a node tree; raise :class:`TemplateParseError` (rule DPK001) with the
    line and column of the first problem. With ``defects``, a duplicate key is appended to it
    (the first of the keys kept) instead of ending the parse."""
    with no_gc_pauses():
        return _Parser(text, file, lines if lines is not None else LineIndex(text), max_depth, defects).parse()


class _Level:
    """Builds one level of a lazy container from text the C scanner has already checked: no
    error can occur, and each member's plain value is known, so only positions are read."""

    __slots__ = ("lines", "text")

    def __init__(self, text: str, lines: LineIndex) -> None:
        self.text = text
        self.lines = lines

    def value(self, pos: int, plain: Any) -> tuple[Node, int]:
        text = self.text
        if isinstance(plain, (dict, list)):
            end = _FIND_END(text, pos)[1]
            return _lazy_node(self, pos, end, plain), end
        if isinstance(plain, str):
            match = _PLAIN_STRING.match(text, pos)
            end = match.end() if match is not None else scanstring(text, pos + 1, True)[1]
            return StringNode(self.lines, pos, end, plain, pos + 1, end - 1), end
        match = _NUMBER.match(text, pos) or _WORD.match(text, pos)
        assert match is not None
        end = match.end()
        return ScalarNode(self.lines, pos, end, match.group()), end

    def entries(self, node: LazyMappingNode) -> list[Entry]:
        text = self.text
        ws = _WS.match
        pos = node.start + 1
        entries: list[Entry] = []
        for key, plain in node.plain.items():
            pos = ws(text, pos).end()  # type: ignore[union-attr]
            key_start = pos
            match = _PLAIN_KEY.match(text, pos)
            if match is not None:
                key_end, pos = key_start + len(match.group(1)) + 2, match.end()
            else:
                key_end = scanstring(text, pos + 1, True)[1]
                pos = ws(text, key_end).end() + 1  # type: ignore[union-attr]
                pos = ws(text, pos).end()  # type: ignore[union-attr]
            value, pos = self.value(pos, plain)
            entries.append(Entry(key, key_start, key_end, value))
            pos = _SEPARATOR.match(text, pos).end()  # type: ignore[union-attr]
        return entries

    def items(self, node: LazySequenceNode) -> list[Node]:
        text = self.text
        ws = _WS.match
        pos = node.start + 1
        items: list[Node] = []
        for plain in node.plain:
            pos = ws(text, pos).end()  # type: ignore[union-attr]
            value, pos = self.value(pos, plain)
            items.append(value)
            pos = _SEPARATOR.match(text, pos).end()  # type: ignore[union-attr]
        return items


def _lazy_node(level: _Level, start: int, end: int, plain: dict[str, Any] | list[Any]) -> Node:
    if isinstance(plain, dict):
        return LazyMappingNode(level.lines, start, end, level.entries, plain)
    return LazySequenceNode(level.lines, start, end, level.items, plain)


def parse_lazy(
    text: str,
    *,
    file: str | None = None,
    lines: LineIndex | None = None,
    defects: list[Defect] | None = None,
    sections: frozenset[str] = frozenset(),
) -> Node:
    """The tree :func:`parse` returns, built at once only for the document and the values of its
    ``sections`` (a template's ``Resources``); every other container is built when first read,
    and until then offers its plain value (``plain``: a resource's Type without building it)."""
    lines = lines if lines is not None else LineIndex(text)
    found = len(defects) if defects is not None else 0
    if _SURROGATE_ESCAPE.search(text) is None:
        try:
            with no_gc_pauses():
                return _Parser(text, file, lines, MAX_DEPTH, defects, sections).parse()
        except _Unchecked:
            if defects is not None:
                del defects[found:]  # the exact decoder finds them again, with the rest
    return parse(text, file=file, lines=lines, defects=defects)


def to_python(node: Node) -> object:
    """The plain Python value of a node tree (for tests and small lookups); iterative."""
    import json

    results: dict[int, object] = {}
    stack: list[tuple[Node, bool]] = [(node, False)]
    while stack:
        current, expanded = stack.pop()
        if isinstance(current, StringNode):
            results[id(current)] = current.value
        elif isinstance(current, ScalarNode):
            results[id(current)] = json.loads(current.value)
        elif isinstance(current, MappingNode):
            if expanded:
                results[id(current)] = {e.key: results[id(e.value)] for e in current.entries}
            else:
                stack.append((current, True))
                stack.extend((e.value, False) for e in current.entries)
        elif isinstance(current, SequenceNode):
            if expanded:
                results[id(current)] = [results[id(item)] for item in current.items]
            else:
                stack.append((current, True))
                stack.extend((item, False) for item in current.items)
    return results[id(node)]
