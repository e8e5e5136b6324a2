"""The YAML composer: character offsets from both PyYAML parsers, short tags named as cfn-flip
names them, exact scalar spans, and clean errors for hostile input."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from cfn_tools import load_yaml
from cfn_tools.yaml_loader import CfnYamlLoader

from preprocessor.errors import TemplateParseError
from preprocessor.templates import yamlpos
from preprocessor.templates.tree import MappingNode, Node, ScalarNode, SequenceNode, StringNode, TaggedNode

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
YAML_FIXTURES = sorted([*FIXTURES.glob("alicloud/templates/*.yaml"), *FIXTURES.glob("aws/templates/*.yaml")], key=str)


def to_python(node: Node | None) -> Any:
    """The value cfn-flip's loader constructs for the same text (recursive: small inputs only)."""
    if node is None:
        return None
    if isinstance(node, TaggedNode):
        inner = to_python(node.value)
        if node.function == "Fn::GetAtt" and isinstance(inner, str):
            inner = inner.split(".", 1)
        return {node.function: inner}
    if isinstance(node, MappingNode):
        return {entry.key: to_python(entry.value) for entry in node.entries}
    if isinstance(node, SequenceNode):
        return [to_python(item) for item in node.items]
    if isinstance(node, StringNode):
        return node.value
    assert isinstance(node, ScalarNode)
    return yaml.safe_load(node.value) if node.value else None


def _python_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlpos, "_LOADER", CfnYamlLoader)


@pytest.mark.parametrize("path", YAML_FIXTURES, ids=lambda p: p.name)
def test_fixture_values_equal_cfn_flips_loader(path: Path) -> None:
    text = path.read_bytes().decode("utf-8-sig")
    assert to_python(yamlpos.compose(text).root) == load_yaml(text)


def _positions(node: Node | None) -> list[tuple[str, int, int, int, int]]:
    found: list[tuple[str, int, int, int, int]] = []
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        extra = (current.content_start, current.content_end) if isinstance(current, StringNode) else (-1, -1)
        found.append((type(current).__name__, current.start, current.end, *extra))
        if isinstance(current, MappingNode):
            stack.extend(entry.value for entry in current.entries)
        elif isinstance(current, SequenceNode):
            stack.extend(current.items)
        elif isinstance(current, TaggedNode):
            stack.append(current.value)
    return found


NON_ASCII_CRLF = (
    "Description: 'Ünïcödé 日本語 𝄞 text'\r\n"
    "Resources:\r\n"
    "  Web:   # 注释 with an astral 𝄞\r\n"
    "    Type: ALIYUN::ECS::Instance\r\n"
    "    Properties:\r\n"
    "      ImageId: m-bp1g7004ksh0oeuc1234\r\n"
    '      Name: "é\\u00e9 𝄞"\r\n'
    "      UserData: !Sub |\r\n"
    "        echo 𝄞 {{ computenest::file::app }}\r\n"
    "      Tags: [{Key: ü, Value: !Ref 'ALIYUN::Region'}]\r\n"
)


@pytest.mark.parametrize("text", [NON_ASCII_CRLF, NON_ASCII_CRLF.replace("\r\n", "\n")])
def test_c_and_python_parsers_give_the_same_character_offsets(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = _positions(yamlpos.compose(text).root)
    _python_loader(monkeypatch)
    slow = _positions(yamlpos.compose(text).root)
    assert yamlpos._LOADER is CfnYamlLoader
    assert fast == slow
    root = yamlpos.compose(text).root
    assert isinstance(root, MappingNode)
    resources = root.get("Resources")
    assert isinstance(resources, MappingNode)
    web = resources.get("Web")
    assert isinstance(web, MappingNode)
    properties = web.get("Properties")
    assert isinstance(properties, MappingNode)
    image = properties.get("ImageId")
    assert isinstance(image, StringNode) and image.plain
    assert text[image.content_start : image.content_end] == "m-bp1g7004ksh0oeuc1234"
    assert (image.content_span.line, image.content_span.column) == (6, 16)
    name = properties.get("Name")
    assert isinstance(name, StringNode)
    assert name.value == "éé 𝄞"
    assert text[name.content_start : name.content_end] == "é\\u00e9 𝄞"


def test_libyaml_is_used_when_available() -> None:
    from yaml.cyaml import CParser  # fails if PyYAML is built without libyaml

    assert issubclass(yamlpos._LOADER, CParser)
    assert issubclass(yamlpos._LOADER, CfnYamlLoader)


@pytest.mark.parametrize(
    ("source", "function", "inner"),
    [
        ("!Ref Param", "Ref", "Param"),
        ("!Condition IsProd", "Condition", "IsProd"),
        ("!GetAtt Res.Attr", "Fn::GetAtt", "Res.Attr"),
        ("!Sub 'm-${Suffix}'", "Fn::Sub", "m-${Suffix}"),
        ("!FindInMap [Map, Key, Id]", "Fn::FindInMap", None),
        ("!MergeMapToList [{a: [1]}]", "Fn::MergeMapToList", None),
        ("!Base64Decode aGk=", "Fn::Base64Decode", "aGk="),
        ("&anchor !If [C, a, b]", "Fn::If", None),
    ],
)
def test_short_tags(source: str, function: str, inner: str | None) -> None:
    text = f"Value: {source}\n"
    root = yamlpos.compose(text).root
    assert isinstance(root, MappingNode)
    node = root.get("Value")
    assert isinstance(node, TaggedNode)
    assert node.function == function
    assert text[node.start : node.end] == source
    if inner is not None:
        assert isinstance(node.value, StringNode)
        assert node.value.value == inner
        assert inner in text[node.value.content_start : node.value.content_end]


def test_block_scalar_content_span() -> None:
    text = "A: |\n  line one\n  line two\n\nB: 1\n"
    root = yamlpos.compose(text).root
    assert isinstance(root, MappingNode)
    block = root.get("A")
    assert isinstance(block, StringNode)
    assert block.value == "line one\nline two\n"
    assert text[block.content_start : block.content_end] == "line one\n  line two"


def test_block_collection_span_ends_at_its_last_value() -> None:
    text = "A:\n  Fn::FindInMap:\n    - M\n    - K   # comment\n\n# more\nB: 1\n"
    root = yamlpos.compose(text).root
    assert isinstance(root, MappingNode)
    value = root.get("A")
    assert value is not None
    assert text[value.start : value.end] == "Fn::FindInMap:\n    - M\n    - K"


def test_a_duplicate_key_is_a_defect_at_the_second_key_and_the_first_is_kept() -> None:
    text = "Resources:\n  A: {Type: X}\n  B: {}\n  A: {Type: Y}\n"
    document = yamlpos.compose(text, file="t.yaml")
    (defect,) = document.defects
    assert (defect.rule, defect.line, defect.column, defect.key) == ("DPK001", 4, 3, "A")
    assert "duplicate key 'A' (first defined at line 2, column 3)" in defect.message
    assert document.root is not None
    resources = document.root.get("Resources")
    assert resources is not None and [e.key for e in resources.entries] == ["A", "B"]
    assert resources.get("A").get("Type").value == "X"


def test_tabs_give_a_parse_error_with_a_hint() -> None:
    text = "Resources:\n\tWeb:\n\t\tType: X\n"
    with pytest.raises(TemplateParseError) as caught:
        yamlpos.compose(text, file="t.yaml")
    assert caught.value.line == 2 and caught.value.column == 1
    assert caught.value.hint is not None and "tabs" in caught.value.hint


def test_syntax_error_position_and_words() -> None:
    text = "A: 1\nB: [1, 2\nC: 3\n"
    with pytest.raises(TemplateParseError) as caught:
        yamlpos.compose(text, file="t.yaml")
    assert caught.value.message.startswith("invalid YAML: ")
    assert (caught.value.line, caught.value.column) == (3, 2)
    assert caught.value.rule == "DPK001"


def test_unknown_alias() -> None:
    with pytest.raises(TemplateParseError, match="alias"):
        yamlpos.compose("A: *nothing\n")


def test_alias_bomb_stays_small_and_fast() -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 12):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    text = "\n".join(lines) + "\n"
    started = time.perf_counter()
    root = yamlpos.compose(text).root
    assert isinstance(root, MappingNode)
    last = root.get("a11")
    assert isinstance(last, SequenceNode) and last.items[0] is root.get("a10")
    assert time.perf_counter() - started < 2


_FLOW = "[" * 10_000 + "]" * 10_000
_BLOCK = "".join(f"{'  ' * level}k{level}:\n" for level in range(10_000)) + "  " * 10_000 + "x\n"


@pytest.mark.parametrize("parser", ["libyaml", "python"])
@pytest.mark.parametrize(
    ("text", "lines"),
    # Where the 1001st level opens: the flow case on its one line; the block case at the key that
    # opens it (libyaml counts indentation levels) or at the value below it (our own count).
    [(_FLOW, {1}), (_BLOCK, {1000, 1001})],
    ids=["flow", "block"],
)
def test_deep_nesting_is_a_clean_error(
    text: str, lines: set[int], parser: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whichever parser stops first (libyaml has a limit of its own), the user gets deploypkg's
    DPK001 with the file and the line where the nesting goes too deep, quickly."""
    if parser == "python":
        monkeypatch.setattr(yamlpos, "_LOADER", CfnYamlLoader)
    started = time.perf_counter()
    with pytest.raises(TemplateParseError) as raised:
        yamlpos.compose(text, file="deep.yaml")
    error = raised.value
    assert (error.rule, error.file, error.message) == ("DPK001", "deep.yaml", "nesting is deeper than 1000 levels")
    assert error.line in lines
    assert time.perf_counter() - started < 10


def test_multiple_documents_are_flagged() -> None:
    document = yamlpos.compose("a: 1\n---\nb: 2\n")
    assert document.more_documents
    assert not yamlpos.compose("a: 1\n").more_documents


def test_empty_stream() -> None:
    assert yamlpos.compose("").root is None
    assert yamlpos.compose("# only a comment\n").root is None


def test_non_string_scalars_keep_their_source_text() -> None:
    root = yamlpos.compose("a: 12\nb: true\nc:\nd: '12'\n").root
    assert isinstance(root, MappingNode)
    assert isinstance(root.get("a"), ScalarNode)
    assert isinstance(root.get("b"), ScalarNode)
    null = root.get("c")
    assert isinstance(null, ScalarNode) and null.value == ""
    assert isinstance(root.get("d"), StringNode)


@pytest.mark.parametrize("parser", ["libyaml", "python"])
def test_an_unclosed_construct_says_where_it_began(monkeypatch: pytest.MonkeyPatch, parser: str) -> None:
    """The parser notices an unclosed ``[`` lines later; the finding names both places."""
    if parser == "python":
        _python_loader(monkeypatch)
    text = "Resources:\n  Web:\n    Properties:\n      ImageId: [m-bp1g7004ksh0oeuc1234\n      Zone: a\n"
    with pytest.raises(TemplateParseError) as caught:
        yamlpos.compose(text, file="t.yaml")
    error = caught.value
    assert (error.line, error.rule) == (5, "DPK001")
    assert "flow sequence that starts at 4:16" in error.message
