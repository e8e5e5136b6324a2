"""The position-keeping JSON decoder: values equal the standard decoder's, spans are exact,
errors carry a line, a column and words, and hostile nesting gives a clean error."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from preprocessor.errors import TemplateParseError
from preprocessor.model import LineIndex
from preprocessor.templates import jsonpos
from preprocessor.templates.tree import MappingNode, Node, ScalarNode, SequenceNode, StringNode


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
def test_errors_have_line_column_and_words(text: str, line: int, column: int, words: str) -> None:
    with pytest.raises(TemplateParseError) as caught:
        jsonpos.parse(text, file="t.json")
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


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_deep_nesting_is_a_clean_error_not_a_recursion_error(opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    text = opener * 10_000 + "1" + closer * 10_000
    started = time.perf_counter()
    with pytest.raises(TemplateParseError, match="nesting is deeper than 1000 levels") as caught:
        jsonpos.parse(text)
    assert caught.value.line == 1 and caught.value.column is not None
    assert time.perf_counter() - started < 2


def test_nesting_up_to_the_limit_parses() -> None:
    text = "[" * 1000 + "]" * 1000
    assert isinstance(jsonpos.parse(text), SequenceNode)


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
