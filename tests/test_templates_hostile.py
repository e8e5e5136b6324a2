"""Hostile and broken input, as far as the loaders are concerned: every outcome is a template,
``None`` (not a template) or a DeploypkgError naming the file, within bounded time and memory."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from preprocessor.errors import DeploypkgError, TemplateParseError
from preprocessor.model import Template
from preprocessor.templates import load_text
from providers import resource_table

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TABLE = resource_table()
SUFFIXES = (".json", ".yaml", ".template", ".tf", ".tf.json")
FIXTURE_FILES = sorted(
    path
    for path in [*FIXTURES.glob("alicloud/templates/*"), *FIXTURES.glob("aws/templates/*")]
    if path.name.endswith(SUFFIXES)
)


def outcome(text: str, name: str) -> Template | DeploypkgError | None:
    try:
        return load_text(text, Path(name), TABLE, name)
    except DeploypkgError as error:
        assert error.file == name
        assert error.exit_code == 2
        return error


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_truncated_fixtures(path: Path) -> None:
    text = path.read_bytes().decode("utf-8-sig")
    started = time.perf_counter()
    errors = 0
    for cut in range(0, len(text), max(1, len(text) // 40)):
        result = outcome(text[:cut], path.name)
        if isinstance(result, TemplateParseError):
            errors += 1
            assert result.line is not None and result.column is not None, result.message
    assert errors > 0
    assert time.perf_counter() - started < 30


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("list.json", "[1, 2]", None),
        ("string.json", '"ROSTemplateFormatVersion"', None),
        ("number.json", "12", None),
        ("null.json", "null", None),
        ("list.yaml", "- ROSTemplateFormatVersion\n", None),
        ("scalar.yaml", "Resources\n", None),
        ("empty.yaml", "", None),
        ("empty.json", "", None),
        ("empty.template", "", None),
        ("list.tf.json", "[]", "DPK003"),
        ("empty.tf.json", "", "DPK001"),
        ("resources-string.yaml", "ROSTemplateFormatVersion: '2015-09-01'\nResources: oops\n", "DPK003"),
        (
            "properties-list.yaml",
            "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  A:\n    Type: ALIYUN::ECS::Instance\n"
            "    Properties: [1]\n",
            "DPK003",
        ),
        ("empty.tf", "", "ok"),
        ("comment.tf", "# nothing here\n", "ok"),
        ("nul.yaml", "ROSTemplateFormatVersion: '2015-09-01'\nDescription: \x00\n", "DPK001"),
        ("control.yaml", "ROSTemplateFormatVersion: '2015-09-01'\nDescription: \x07\n", "DPK001"),
        ("merge.yaml", "ROSTemplateFormatVersion: '2015-09-01'\nA: &a {x: 1}\nB: {<<: *a}\n", "ok"),
        ("complex-key.yaml", "ROSTemplateFormatVersion: '2015-09-01'\n? [a, b]\n: c\n", "DPK001"),
        ("tagged-key.yaml", "ROSTemplateFormatVersion: '2015-09-01'\n!Ref a: c\n", "DPK001"),
        ("lone-surrogate.json", '{"ROSTemplateFormatVersion": "\\ud800"}', "DPK001"),
    ],
)
def test_odd_documents(name: str, text: str, expected: str | None) -> None:
    result = outcome(text, name)
    if expected is None:
        assert result is None
    elif expected == "ok":
        assert isinstance(result, Template)
    elif isinstance(result, Template):  # a broken resource: reported, the rest of the file still read
        assert [d.rule for d in result.defects] == [expected], result
    else:
        assert isinstance(result, DeploypkgError) and result.rule == expected, result


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("deep.json", '{"ROSTemplateFormatVersion": "x", "Metadata": ' + "[" * 10_000 + "]" * 10_000 + "}"),
        ("deep.tf.json", '{"locals": ' + '{"a":' * 10_000 + "1" + "}" * 10_001),
        ("deep.yaml", "ROSTemplateFormatVersion: x\nMetadata: " + "[" * 10_000 + "]" * 10_000 + "\n"),
        ("deep-block.yaml", "ROSTemplateFormatVersion: x\n" + "".join(f"{' ' * i}k:\n" for i in range(0, 10_000))),
    ],
)
def test_deep_nesting(name: str, text: str) -> None:
    started = time.perf_counter()
    result = outcome(text, name)
    assert isinstance(result, TemplateParseError) and "nesting is deeper than 1000 levels" in result.message
    assert time.perf_counter() - started < 10


def test_deep_hcl_nesting_parses_without_recursion_error() -> None:
    text = "locals {\n  x = " + "[" * 10_000 + "]" * 10_000 + "\n}\n"
    started = time.perf_counter()
    assert isinstance(outcome(text, "deep.tf"), Template)
    assert time.perf_counter() - started < 20


def test_very_long_lines() -> None:
    long = "x" * 2_000_000
    ros = {
        "ROSTemplateFormatVersion": "2015-09-01",
        "Resources": {
            "A": {
                "Type": "ALIYUN::ECS::Instance",
                "Properties": {
                    "UserData": long + " {{ computenest::file::app-bundle }}",
                    "ImageId": "m-bp1g7004ksh0oeuc1234",
                },
            }
        },
    }
    started = time.perf_counter()
    for name, text in (
        ("long.json", json.dumps(ros)),
        ("long.yaml", json.dumps(ros)),  # JSON is YAML: one long flow line
        (
            "long.tf",
            f'resource "alicloud_instance" "a" {{ user_data = "{long} {{{{ computenest::file::app-bundle }}}}" '
            'image_id = "m-bp1g7004ksh0oeuc1234" }\n',
        ),
    ):
        result = outcome(text, name)
        assert isinstance(result, Template), result
        assert [p.name for p in result.placeholders] == ["app-bundle"]
        [ref] = result.image_refs
        assert result.text[ref.span.start : ref.span.end] == "m-bp1g7004ksh0oeuc1234" and ref.span.line == 1
    assert time.perf_counter() - started < 60


_FIFTY_MB = r"""
import json, resource, sys, time
from pathlib import Path
from preprocessor.templates import load_text
from providers import resource_table
resources = {
    f"Server{i}": {
        "Type": "ALIYUN::ECS::Instance",
        "Properties": {
            "ImageId": "m-bp1g7004ksh0oeuc1234",
            "UserData": "echo {{ computenest::file::app-bundle }} " + "x" * 300,
            "Tags": [{"Key": "k", "Value": "v"}],
        },
    }
    for i in range(95_000)
}
text = json.dumps({"ROSTemplateFormatVersion": "2015-09-01", "Resources": resources}, indent=1)
del resources
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
template = load_text(text, Path(sys.argv[1]), resource_table())
elapsed = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"mb": len(text) / 1e6, "seconds": elapsed, "refs": len(template.image_refs),
                  "placeholders": len(template.placeholders), "peak_mb": peak / 1024, "before_mb": before / 1024}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("name", ["big.json", "big.yaml"])
def test_fifty_megabyte_template_in_bounded_time_and_memory(name: str) -> None:
    completed = subprocess.run(
        [sys.executable, "-c", _FIFTY_MB, name], capture_output=True, text=True, timeout=300, check=True
    )
    measured = json.loads(completed.stdout)
    assert measured["mb"] > 50
    assert measured["refs"] == 95_000 and measured["placeholders"] == 95_000
    # ~8 s (JSON) / ~25 s (YAML) on an idle machine; generous bounds for a loaded CI runner.
    assert measured["seconds"] < 150, measured
    assert measured["peak_mb"] < 3_000, measured


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(SUFFIXES),
    st.text(alphabet=st.sampled_from(list('{}[]":,\n\r\t -!&*|>#$%=.\\abRTesourc0123')), max_size=200),
)
def test_random_text_never_crashes(suffix: str, text: str) -> None:
    outcome(text, "fuzz" + suffix)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(FIXTURE_FILES), st.data())
def test_mutated_fixtures_never_crash(path: Path, data: st.DataObject) -> None:
    text = path.read_bytes().decode("utf-8-sig")
    position = data.draw(st.integers(0, len(text)))
    insert = data.draw(
        st.sampled_from(["{", "}", "[", "]", '"', "'", ":", "\t", "\n", "${", "!Ref ", "&a ", "*a", "#"])
    )
    outcome(text[:position] + insert + text[position:], path.name)
