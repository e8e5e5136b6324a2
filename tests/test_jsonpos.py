"""The position-keeping JSON decoder: values equal the standard decoder's, spans are exact,
errors carry a line, a column and words, and hostile nesting gives a clean error. The lazy
decoder (``parse_lazy``) gives the same tree, the same errors and the same defects."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from preprocessor.errors import TemplateParseError
from preprocessor.model import Defect, LineIndex
from preprocessor.templates import jsonpos
from preprocessor.templates.tree import LazyMappingNode, MappingNode, Node, ScalarNode, SequenceNode, StringNode


def _all_nodes(node: Node) -> list[Node]:
    found, stack = [], [node]
    while stack:
        current = stack.pop()
        found.append(current)
        if isinstance(current, MappingNode):
            stack.extend(entry.value for entry in current.entries)
        elif isinstance(current, SequenceNode):
            stack.extend(current.items)
    return found


def test_values_keys_and_spans() -> None:
    text = '{\r\n  "Ré": "m-1",\r\n  "n": [1, -2.5e3, true, null],\r\n  "esc": "a\\"b\\u00e9"\r\n}'
    root = jsonpos.parse(text)
    assert isinstance(root, MappingNode)
    assert root.keys() == ["Ré", "n", "esc"]
    assert (root.start, root.end) == (0, len(text))
    value = root.get("Ré")
    assert isinstance(value, StringNode)
    assert value.value == "m-1"
    assert text[value.start : value.end] == '"m-1"'
    assert text[value.content_start : value.content_end] == "m-1"
    span = value.content_span
    assert (span.line, span.column, span.end_line, span.end_column) == (2, 10, 2, 13)
    entry = root.entry("Ré")
    assert entry is not None and text[entry.key_start : entry.key_end] == '"Ré"'
    numbers = root.get("n")
    assert isinstance(numbers, SequenceNode)
    assert [item.value for item in numbers.items if isinstance(item, ScalarNode)] == ["1", "-2.5e3", "true", "null"]
    assert numbers.span.line == 3 and numbers.span.column == 8
    escaped = root.get("esc")
    assert isinstance(escaped, StringNode)
    assert escaped.value == 'a"bé'
    assert text[escaped.content_start : escaped.content_end] == 'a\\"b\\u00e9'
    assert jsonpos.to_python(root) == json.loads(text)


def test_every_node_span_is_its_own_text() -> None:
    data = {"a": [{"b": "x"}, [], {}, "", 0, False], "c": {"d": {"e": "é𝄞"}}}
    text = json.dumps(data, indent=3, ensure_ascii=False)
    for node in _all_nodes(jsonpos.parse(text)):
        assert json.loads(text[node.start : node.end]) == jsonpos.to_python(node)


def _lazy(text: str, **options: Any) -> Node:
    return jsonpos.parse_lazy(text, **options)


_decoders: dict[str, Callable[..., Node]] = {"exact": jsonpos.parse, "lazy": _lazy}


def _signature(node: Node) -> list[tuple[object, ...]]:
    """Every node of a tree in document order: its kind, span, key span and value."""
    found: list[tuple[object, ...]] = []
    stack: list[tuple[Node, tuple[object, ...]]] = [(node, ())]
    while stack:
        current, key = stack.pop()
        if isinstance(current, MappingNode):
            found.append(("mapping", current.start, current.end, *key))
            stack.extend((e.value, (e.key, e.key_start, e.key_end)) for e in reversed(current.entries))
        elif isinstance(current, SequenceNode):
            found.append(("sequence", current.start, current.end, *key))
            stack.extend((item, ()) for item in reversed(current.items))
        elif isinstance(current, StringNode):
            found.append(("string", current.start, current.end, current.content_start, current.value, *key))
        elif isinstance(current, ScalarNode):
            found.append(("scalar", current.start, current.end, current.value, *key))
    return found


def _outcome(parse: Callable[..., Node], text: str) -> object:
    defects: list[Defect] = []
    try:
        root = parse(text, file="t.json", defects=defects)
    except TemplateParseError as error:
        return ("error", error.message, error.line, error.column, error.hint)
    return _signature(root), defects


# Text without lone surrogates: the decoder refuses those (they cannot be written as UTF-8).
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | text,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=5), children, max_size=4
        )
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(json_values, st.booleans(), st.sampled_from([None, 0, 2]))
def test_agrees_with_the_standard_decoder(value: object, ascii_only: bool, indent: int | None) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only, indent=indent)
    root = jsonpos.parse(text)
    assert jsonpos.to_python(root) == json.loads(text)
    for node in _all_nodes(root):
        assert json.loads(text[node.start : node.end]) == jsonpos.to_python(node)


# Which top-level values are built at once with their members: none, a template's resources, or
# keys the generated values often have.
_sections = st.sampled_from([frozenset(), frozenset({"Resources"}), frozenset({"", "0", "A", "a"})])


@settings(max_examples=150, deadline=None)
@given(json_values, st.sampled_from([None, 0, 2]), _sections)
def test_the_lazy_tree_is_the_exact_tree(value: object, indent: int | None, sections: frozenset[str]) -> None:
    text = json.dumps(value, indent=indent)
    assert _signature(jsonpos.parse_lazy(text, sections=sections)) == _signature(jsonpos.parse(text))


# Edits that break JSON in the ways people do: a lost or extra bracket, quote, comma or colon,
# a repeated key, a lone surrogate, a NaN, a comment.
_edits = st.sampled_from(["", "{", "}", "[", "]", '"', ",", ":", '"a": 1,', '"k": 0, "k": 1', "\\ud800", "NaN", "//"])


@settings(max_examples=300, deadline=None)
@given(json_values, st.data(), _sections)
def test_broken_json_gets_the_same_error_or_defects_from_both(
    value: object, data: st.DataObject, sections: frozenset[str]
) -> None:
    text = json.dumps({"Resources": {"R": {"Properties": value}}, "k": 0}, indent=1)
    at = data.draw(st.integers(min_value=0, max_value=len(text)))
    cut = data.draw(st.integers(min_value=0, max_value=2))
    edited = text[:at] + data.draw(_edits) + text[at + cut :]
    lazy = functools.partial(jsonpos.parse_lazy, sections=sections)
    assert _outcome(lazy, edited) == _outcome(jsonpos.parse, edited)


def test_a_duplicate_key_deep_in_a_lazy_value_is_the_same_defect() -> None:
    # One repeated key where nodes are built at once, then one inside a lazy value.
    text = '{"A": 1, "A": 2, "Resources": {"R": {"Properties": {"Tags": [{"Key": 1, "Key": 2}]}}}}'
    resources = functools.partial(jsonpos.parse_lazy, sections=frozenset({"Resources"}))
    assert _outcome(resources, text) == _outcome(jsonpos.parse, text)
    _, defects = _outcome(resources, text)  # type: ignore[misc]
    assert [(d.key, d.column) for d in defects] == [("A", 10), ("Key", 73)]


def test_lazy_values_are_built_only_when_read() -> None:
    text = '{"Resources": {"R": {"Type": "T", "Properties": {"ImageId": "m-1", "Tags": [1]}}}}'
    root = jsonpos.parse_lazy(text, sections=frozenset({"Resources"}))
    resource = root.get("Resources").get("R")  # type: ignore[union-attr]
    properties = resource.get("Properties")  # type: ignore[union-attr]
    assert isinstance(properties, LazyMappingNode)
    assert "entries" not in _built_slots(properties)
    image = properties.get("ImageId")
    assert isinstance(image, StringNode) and text[image.content_start : image.content_end] == "m-1"
    assert "entries" in _built_slots(properties)


def _built_slots(node: Node) -> set[str]:
    return {name for name in ("entries", "items") if name in dir(type(node)) and _has_slot_value(node, name)}


def _has_slot_value(node: Node, name: str) -> bool:
    slot = (MappingNode if name == "entries" else SequenceNode).__dict__[name]
    try:
        slot.__get__(node)
    except AttributeError:
        return False
    return True


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ('{"a": 1,}', 1, 9, "trailing comma before '}'"),
        ('{\n  "a": 1\n  "b": 2\n}', 3, 3, "expected ',' or '}' after an object member"),
        ("[1, 2\n", 2, 1, "expected ',' or ']' after an array element, but the file ends"),
        ('{"a": "abc', 1, 7, "unterminated string"),
        ('{"a":\n "x\ty"}', 2, 4, "control character"),
        ('{"a": "\\q"}', 1, 8, "invalid escape"),
        ('{"a" 1}', 1, 6, "expected ':' after the object key 'a'"),
        ("{'a': 1}", 1, 2, "double quotes"),
        ('{"a": tru}', 1, 7, "found 'tru'"),
        ('{"a": NaN}', 1, 7, "found 'NaN'"),
        ('{"a": 1} {"b": 2}', 1, 10, "expected the end of the file"),
        ('{\n  // comment\n  "a": 1}', 2, 3, "comments"),
        ("", 1, 1, "empty"),
        ("  \r\n ", 2, 2, "empty"),
        ("[1,]", 1, 4, "trailing comma before ']'"),
        ('{"a": "m-\\ud800x"}', 1, 10, "\\ud800 is half of a UTF-16 surrogate pair"),
        ('{"a": "\\udc00\\ud800"}', 1, 8, "\\udc00 is half"),
        ('{"a": "\\ud83d\\ud83d\\ude00"}', 1, 8, "\\ud83d is half"),
    ],
)
@pytest.mark.parametrize("decoder", ["exact", "lazy"])
def test_errors_have_line_column_and_words(text: str, line: int, column: int, words: str, decoder: str) -> None:
    with pytest.raises(TemplateParseError) as caught:
        _decoders[decoder](text, file="t.json")
    error = caught.value
    assert (error.line, error.column) == (line, column), error.message
    assert words in error.message
    assert error.file == "t.json" and error.rule == "DPK001"


def test_surrogate_pairs_and_escaped_backslashes_are_fine() -> None:
    root = jsonpos.parse('{"a": "\\ud83d\\ude00 \\\\ud800"}')
    assert jsonpos.to_python(root) == {"a": "\U0001f600 \\ud800"}


def test_duplicate_key_reports_the_second_key() -> None:
    text = '{\n  "Resources": {},\n  "Outputs": {},\n    "Resources": []\n}'
    with pytest.raises(TemplateParseError) as caught:
        jsonpos.parse(text)
    assert (caught.value.line, caught.value.column) == (4, 5)
    assert "duplicate key 'Resources' (first defined at line 2, column 3)" in caught.value.message


def test_duplicate_key_with_escapes_is_still_a_duplicate() -> None:
    with pytest.raises(TemplateParseError, match="duplicate key 'ab'"):
        jsonpos.parse('{"ab": 1, "a\\u0062": 2}')


@pytest.mark.parametrize("decoder", ["exact", "lazy"])
@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_deep_nesting_is_a_clean_error_not_a_recursion_error(opener: str, decoder: str) -> None:
    closer = "]" if opener == "[" else "}"
    text = opener * 10_000 + "1" + closer * 10_000
    started = time.perf_counter()
    with pytest.raises(TemplateParseError, match="nesting is deeper than 1000 levels") as caught:
        _decoders[decoder](text)
    assert caught.value.line == 1 and caught.value.column is not None
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize("decoder", ["exact", "lazy"])
def test_nesting_up_to_the_limit_parses(decoder: str) -> None:
    text = "[" * 1000 + "]" * 1000
    root = _decoders[decoder](text)
    assert _signature(root) == _signature(jsonpos.parse(text))


def test_throughput_on_a_five_megabyte_template() -> None:
    resources = {
        f"Server{i}": {
            "Type": "ALIYUN::ECS::Instance",
            "Properties": {"ImageId": f"m-bp1{i:017d}", "Tags": [{"Key": 'k"q', "Value": i}], "Flag": True},
        }
        for i in range(19_000)
    }
    text = json.dumps({"ROSTemplateFormatVersion": "2015-09-01", "Resources": resources}, indent=2)
    assert len(text) > 5_000_000
    started = time.perf_counter()
    root = jsonpos.parse(text, lines=LineIndex(text))
    elapsed = time.perf_counter() - started
    assert jsonpos.to_python(root) == json.loads(text)
    # Unloaded this runs at ~4-5 MB/s; the bound leaves room for a busy CI machine.
    assert elapsed < 15, f"{len(text) / 1e6 / elapsed:.1f} MB/s"
