"""Splicing edits exactly the recorded spans; on every fixture template the diff between
source and rendered output is exactly the replaced spans."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest

from preprocessor.errors import InputError
from preprocessor.model import LineIndex, Span
from preprocessor.render.splice import Substitution, check_value, splice, unsafe_reason

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"


def _sub(text: str, old: str, new: str, occurrence: int = 0) -> Substitution:
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(old, start + 1)
    return Substitution(LineIndex(text).span(start, start + len(old)), old, new, "image")


def test_splice_replaces_only_the_spans_and_keeps_crlf_and_comments() -> None:
    text = '# keep me\r\nImageId: "m-aaaaaaaaaaaaaaaaaaaa" # and me\r\nOther: m-aaaaaaaaaaaaaaaaaaaa\r\n'
    subs = [
        _sub(text, "m-aaaaaaaaaaaaaaaaaaaa", "m-bbbbbbbbbbbbbbbbbbbbbbbb", 0),
        _sub(text, "m-aaaaaaaaaaaaaaaaaaaa", "m-c", 1),
    ]
    out = splice(text, subs)
    assert out == '# keep me\r\nImageId: "m-bbbbbbbbbbbbbbbbbbbbbbbb" # and me\r\nOther: m-c\r\n'


def test_splice_order_of_substitutions_does_not_matter() -> None:
    text = "a=X; b=Y; c=Z"
    subs = [_sub(text, "X", "xx"), _sub(text, "Y", ""), _sub(text, "Z", "zzz")]
    assert splice(text, subs) == splice(text, list(reversed(subs))) == "a=xx; b=; c=zzz"


def test_splice_refuses_stale_and_overlapping_spans() -> None:
    text = "abcdef"
    with pytest.raises(ValueError, match="expected"):
        splice(text, [Substitution(Span(0, 2, 1, 1, 1, 3), "xy", "z", "image")])
    with pytest.raises(ValueError, match="overlapping"):
        splice(
            text,
            [
                Substitution(Span(0, 3, 1, 1, 1, 4), "abc", "1", "image"),
                Substitution(Span(2, 4, 1, 3, 1, 5), "cd", "2", "image"),
            ],
        )


@pytest.mark.parametrize(
    "value",
    ['m-"x', "m-'x", "a\\b", "a\nb", "a b", "a\tb", "x${var.y}", "x%{if}", "{{ x }}", "", "a\x00b", "a\r"],
)
def test_values_that_could_break_quoting_are_refused(value: str) -> None:
    assert unsafe_reason(value) is not None
    with pytest.raises(InputError) as caught:
        check_value(value, "t.yaml", Span(0, 1, 3, 4, 3, 5), "pkg@1")
    assert caught.value.line == 3 and caught.value.column == 4


@pytest.mark.parametrize(
    "value",
    [
        "m-2zeb3kq6nfv9wd8x1234",
        "ami-0fedcba9876543210",
        "registry.cn-beijing.aliyuncs.com/demo/web-frontend:1.0.0",
        "oci://registry.cn-beijing.aliyuncs.com/demo-charts/web-chart:1.0.0",
        "https://b.s3.us-west-2.amazonaws.com/files/k.tar.gz?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=ab",
    ],
)
def test_ordinary_values_are_accepted(value: str) -> None:
    assert unsafe_reason(value) is None


# --- every fixture template: the diff is exactly the replaced spans ---------------------------------


def _fixture_templates(root: Path) -> list[Path]:
    from preprocessor.project import project_for
    from preprocessor.templates import discover, load_template

    found = [p for p in discover([root]) if not p.name.endswith(".j2")]
    return sorted(p for p in found if load_template(p, project_for(p).table) is not None)


def _changed_ranges(before: str, after: str) -> list[tuple[int, int]]:
    """Source ranges difflib reports as replaced, deleted or inserted at."""
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    return [(i1, i2) for tag, i1, i2, _, _ in matcher.get_opcodes() if tag != "equal"]


@pytest.mark.parametrize(
    ("project", "region"),
    [("alicloud", "cn-beijing"), ("alicloud", "cn-hangzhou"), ("aws", "us-west-2"), ("aws", "eu-west-1")],
)
def test_every_fixture_differs_from_its_source_exactly_at_the_replaced_spans(
    project: str, region: str, tmp_path: Path
) -> None:
    from preprocessor.render import RenderOptions, render_to_directory

    root = FIXTURES / project / "templates"
    out = tmp_path / "out"
    render_to_directory([root], [region], out, RenderOptions())
    manifest = json.loads((out / "manifest.json").read_text())
    substitutions = manifest["regions"][region]["substitutions"]
    templates = _fixture_templates(root)
    assert len(templates) >= 3, "the fixture has templates"
    replaced_somewhere = False
    for path in templates:
        relative = path.relative_to(root).as_posix()
        source_bytes = path.read_bytes()
        output_bytes = (out / region / relative).read_bytes()
        mine = [s for s in substitutions if s["file"] == relative]
        if not mine:
            assert output_bytes == source_bytes, relative
            continue
        replaced_somewhere = True
        # The BOM and the line endings survive.
        assert output_bytes.startswith(b"\xef\xbb\xbf") == source_bytes.startswith(b"\xef\xbb\xbf")
        assert output_bytes.count(b"\r\n") == source_bytes.count(b"\r\n")
        before = source_bytes.decode("utf-8-sig")
        after = output_bytes.decode("utf-8-sig")
        # Rebuild the output from the manifest's spans alone: it must be the rendered file.
        index = LineIndex(before)
        rebuilt = before
        for sub in sorted(mine, key=lambda s: (s["line"], s["column"]), reverse=True):
            start = index.offset(sub["line"], sub["column"])
            end = index.offset(sub["end_line"], sub["end_column"])
            assert before[start:end] == sub["old"]
            rebuilt = rebuilt[:start] + sub["new"] + rebuilt[end:]
        assert rebuilt == after, relative
        # And difflib sees nothing changed outside those spans.
        spans = [(index.offset(s["line"], s["column"]), index.offset(s["end_line"], s["end_column"])) for s in mine]
        for start, end in _changed_ranges(before, after):
            assert any(lo <= start and end <= hi for lo, hi in spans), (relative, before[start:end])
    assert replaced_somewhere
