"""Hostile and broken input: every case of ``tests/hostile/corpus.py`` through the real CLI.

Each case runs ``validate`` (and a representative subset ``refs``) in a child process with a
time budget and an address-space limit (``hostile/harness.py``): the answer is the expected exit
code, a message naming the file (and line), never a traceback or an internal error.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hostile.corpus import (
    ALI_IMAGE,
    AWS_IMAGE,
    CONFIG,
    FORMATS,
    ROS_JSON,
    Case,
    Expect,
    Format,
    all_cases,
    jinja_cases,
    project,
)
from hostile.harness import MEMORY_LIMIT, Zygote, check, run_case, run_limited
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
VANISH = Path(__file__).resolve().parent / "hostile" / "vanish.py"
CASES = all_cases()
FULL_START = {
    "truncated-ros-yaml-crlf-inside-string",
    "deep-hcl-blocks",
    "unreadable-file",
    "yaml-billion-laughs",
    "bom-tf-hcl",
}
UNASSOCIATED = "m-2zeb3kq6nfv9wd8x9999"


def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 100
    assert {case.expect for case in CASES} == set(Expect)
    assert MEMORY_LIMIT <= 2 * 1024**3


@pytest.fixture(scope="module")
def zygote() -> Iterator[Zygote]:
    running = Zygote()
    yield running
    running.close()


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in CASES])
def test_validate(case: Case, tmp_path: Path, zygote: Zygote) -> None:
    case.build(tmp_path)
    check(case, run_case(case, "validate", tmp_path, zygote), tmp_path)


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in CASES if case.refs])
def test_refs(case: Case, tmp_path: Path, zygote: Zygote) -> None:
    case.build(tmp_path)
    check(case, run_case(case, "refs", tmp_path, zygote), tmp_path, "refs")


RENDER_REGIONS = {
    "alicloud": (("cn-hangzhou", ALI_IMAGE), ("cn-beijing", "m-2zeb3kq6nfv9wd8x1234")),
    "aws": (("us-east-1", AWS_IMAGE), ("us-west-2", "ami-0fedcba9876543210")),
}
"""The image each region's copy of the fixture catalogs' web-image / web-ami has."""


def _listing(root: Path) -> list[str]:
    return sorted(name for name in os.listdir(root) if not name.startswith(".deploypkg-test-"))


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in CASES if case.refs])
def test_render(case: Case, tmp_path: Path, zygote: Zygote) -> None:
    """A broken input stops the render with nothing written; a clean one is spliced exactly."""
    case.build(tmp_path)
    provider = "aws" if "provider: aws" in (tmp_path / "deploypkg.yaml").read_text(encoding="utf-8") else "alicloud"
    shutil.copytree(FIXTURES / provider / "catalog", tmp_path / "catalog")
    regions = RENDER_REGIONS[provider]
    before = _listing(tmp_path)
    args = ["render", case.target, *case.options, *(f"--region={region}" for region, _ in regions), "--out", "out"]
    outcome = zygote.run(args, tmp_path, case.budget)
    check(case, outcome, tmp_path, "render")
    if outcome.exit_code != 0:
        assert _listing(tmp_path) == before, "a failed render left something behind"
        return
    assert (tmp_path / "out" / "manifest.json").is_file()
    if case.target != "templates" or case.expect is not Expect.CLEAN:
        return
    inputs = [p for p in sorted((tmp_path / "templates").rglob("*")) if p.is_file() and not p.is_symlink()]
    (source_region, source_image), (other_region, other_image) = regions
    for path in inputs:
        relative = path.relative_to(tmp_path / "templates")
        original = path.read_bytes()
        source_copy, other_copy = (
            tmp_path / "out" / source_region / relative,
            tmp_path / "out" / other_region / relative,
        )
        if case.id.startswith(("bom-", "crlf-")):
            assert source_copy.is_file() and other_copy.is_file(), f"{relative} was not rendered"
        if source_copy.is_file():
            assert source_copy.read_bytes() == original, f"{relative}: the source region's copy changed"
        if other_copy.is_file():
            expected = original.replace(source_image.encode(), other_image.encode())
            assert other_copy.read_bytes() == expected, f"{relative}: more than the image ID changed"


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in jinja_cases()])
def test_render_jinja(case: Case, tmp_path: Path, zygote: Zygote) -> None:
    """Hostile ``.j2`` files: refused by the sandbox or a budget, with DPK004 and the line."""
    case.build(tmp_path)
    shutil.copytree(FIXTURES / "alicloud" / "catalog", tmp_path / "catalog")
    before = _listing(tmp_path)
    args = ["render", case.target, "--region=cn-hangzhou", "--region=cn-beijing", "--out", "out"]
    outcome = zygote.run(args, tmp_path, case.budget)
    check(case, outcome, tmp_path, "render")
    if outcome.exit_code != 0:
        assert _listing(tmp_path) == before, "a failed render left something behind"
    else:
        rendered = (tmp_path / "out" / "cn-beijing" / "web.yaml").read_text(encoding="utf-8")
        assert "web in cn-beijing" in rendered and "m-2zeb3kq6nfv9wd8x1234" in rendered, rendered


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in CASES if case.id in FULL_START])
def test_validate_from_a_fresh_interpreter(case: Case, tmp_path: Path) -> None:
    """A few cases through ``python -m preprocessor`` itself: the forked children behave the same."""
    case.build(tmp_path)
    args = ["-m", "preprocessor", "validate", case.target, *case.options]
    check(case, run_limited(args, tmp_path, case.budget), tmp_path)


def _mixed_directory(root: Path) -> Path:
    """Two good templates (one with a finding) among broken files of every kind."""
    templates = project(root)
    (templates / "a-truncated.json").write_text(ROS_JSON[:200], encoding="utf-8")
    (templates / "b-finding.json").write_text(
        ROS_JSON.replace("m-bp1g7004ksh0oeuc1234", UNASSOCIATED), encoding="utf-8"
    )
    (templates / "c-binary.yaml").write_bytes(bytes(range(256)) * 4)
    (templates / "d-latin1.tf").write_bytes(b'# caf\xe9\nresource "alicloud_instance" "x" {}\n')
    (templates / "e-good.json").write_text(ROS_JSON, encoding="utf-8")
    (templates / "f-loop.yaml").symlink_to("f-loop.yaml")
    return templates


def test_a_broken_file_does_not_hide_the_others_validate(tmp_path: Path) -> None:
    _mixed_directory(tmp_path)
    outcome = run_limited(["-m", "preprocessor", "validate", "templates"], tmp_path, 20)
    assert outcome.exit_code == 2, outcome.output
    assert "Traceback" not in outcome.output and "internal error" not in outcome.output
    for name in ("a-truncated.json", "c-binary.yaml", "d-latin1.tf", "f-loop.yaml"):
        assert name in outcome.output, f"{name} not reported:\n{outcome.output}"
    finding = re.search(r"b-finding\.json:(\d+):\d+:.*DPK102", outcome.output)
    assert finding is not None, f"the finding in the good file is not reported:\n{outcome.output}"
    assert int(finding.group(1)) == ROS_JSON[: ROS_JSON.index("m-bp1g7004")].count("\n") + 1


def test_a_broken_file_does_not_hide_the_others_refs(tmp_path: Path) -> None:
    _mixed_directory(tmp_path)
    outcome = run_limited(["-m", "preprocessor", "refs", "templates"], tmp_path, 20)
    assert outcome.exit_code == 2, outcome.output
    assert "Traceback" not in outcome.output and "internal error" not in outcome.output
    assert UNASSOCIATED in outcome.output and "m-bp1g7004ksh0oeuc1234" in outcome.output, outcome.output
    for name in ("a-truncated.json", "c-binary.yaml", "d-latin1.tf", "f-loop.yaml"):
        assert name in outcome.output, f"{name} not reported:\n{outcome.output}"


@pytest.mark.parametrize("command", ["validate", "refs"])
def test_a_file_vanishing_mid_scan_is_named_and_the_rest_scanned(tmp_path: Path, command: str) -> None:
    templates = project(tmp_path)
    (templates / "gone.json").write_text(ROS_JSON, encoding="utf-8")
    (templates / "stays.json").write_text(ROS_JSON.replace("m-bp1g7004ksh0oeuc1234", UNASSOCIATED), encoding="utf-8")
    outcome = run_limited([str(VANISH), "gone.json", "--", command, "templates"], tmp_path, 20)
    assert not (templates / "gone.json").exists(), "the hook did not run: the scan never listed the directory"
    assert outcome.exit_code == 2, outcome.output
    assert "Traceback" not in outcome.output and "internal error" not in outcome.output
    assert "gone.json" in outcome.output, outcome.output
    assert UNASSOCIATED in outcome.output or "DPK102" in outcome.output, outcome.output


def test_a_directory_vanishing_mid_scan_does_not_crash(tmp_path: Path) -> None:
    templates = project(tmp_path)
    (templates / "sub").mkdir()
    (templates / "sub" / "inner.json").write_text(ROS_JSON, encoding="utf-8")
    (templates / "stays.json").write_text(ROS_JSON.replace("m-bp1g7004ksh0oeuc1234", UNASSOCIATED), encoding="utf-8")
    outcome = run_limited([str(VANISH), "sub", "--", "validate", "templates"], tmp_path, 20)
    assert not (templates / "sub").exists(), "the hook did not run: the scan never listed the directory"
    assert outcome.exit_code in (1, 2), outcome.output
    assert "Traceback" not in outcome.output and "internal error" not in outcome.output
    assert "stays.json" in outcome.output, outcome.output


def test_bom_and_crlf_positions_in_refs(tmp_path: Path) -> None:
    """A BOM and CRLF line ends do not shift the reported line and column of a reference."""
    text = "\ufeff" + ROS_JSON.replace("\n", "\r\n")
    templates = project(tmp_path)
    (templates / "web.json").write_bytes(text.encode("utf-8"))
    outcome = run_limited(["-m", "preprocessor", "refs", "templates"], tmp_path, 20)
    assert outcome.exit_code == 0, outcome.output
    line = ROS_JSON[: ROS_JSON.index("m-bp1g7004")].count("\n") + 1
    column = len(ROS_JSON[: ROS_JSON.index("m-bp1g7004")].rsplit("\n", 1)[1]) + 1
    assert f"web.json:{line}:{column}" in outcome.output, outcome.output


# ------------------------------------------------------------------ mutations (hypothesis)
# Beyond the fixed corpus: random edits of every base template, loaded and checked in-process.
# Anything but a template, None or a DeploypkgError (with the file named) is a crash. The text is
# what a file can decode to (no lone surrogates: invalid UTF-8 is refused before, DPK002).

SYNTAX = "{}[]()\"':,=#&*!|>-$%\\\t\n\r ~@`<?.0123456789abcxyzAZ_\ufeff\u00e9\u7f51\U0001f600\x00\x01\x85\u2028"


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        operation = draw(st.sampled_from(["delete", "insert", "replace", "duplicate-line", "truncate"]))
        if operation == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 20)) :]
        elif operation == "insert":
            text = text[:at] + draw(st.text(alphabet=SYNTAX, min_size=1, max_size=8)) + text[at:]
        elif operation == "replace" and at < len(text):
            text = text[:at] + draw(st.sampled_from(SYNTAX)) + text[at + 1 :]
        elif operation == "duplicate-line":
            start = text.rfind("\n", 0, at) + 1
            end = text.find("\n", at)
            line = text[start : end + 1] if end != -1 else text[start:] + "\n"
            text = text[:start] + line + text[start:]
        elif operation == "truncate":
            text = text[:at]
    return text


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from preprocessor.project import project_for

    found = {}
    for provider in ("alicloud", "aws"):
        root = tmp_path_factory.mktemp(provider)
        templates = project(root, provider)
        found[provider] = (project_for(templates / "x.json"), templates)
    return found


@pytest.mark.parametrize("fmt", [pytest.param(fmt, id=fmt.key) for fmt in FORMATS])
def test_random_edits_never_crash_the_loaders_or_the_rules(fmt: Format, projects: dict[str, Any]) -> None:
    from preprocessor.errors import DeploypkgError
    from preprocessor.templates import load_text
    from preprocessor.validate.checks import check_template

    project_, templates = projects[fmt.provider]
    path = templates / fmt.filename

    @settings(
        max_examples=60 if fmt.key == "tf-hcl" else 150,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(text=mutated(fmt.text))
    def run(text: str) -> None:
        try:
            template = load_text(text, path, project_.table, fmt.filename)
        except DeploypkgError as error:
            assert error.file == fmt.filename, error.render()
            assert error.render().strip()
            return
        if template is not None:
            list(check_template(template, project_))
            template.encoded()

    run()


@pytest.mark.parametrize("provider", ["alicloud", "aws"])
def test_random_edits_never_crash_the_config_parser(provider: str, tmp_path: Path) -> None:
    from preprocessor.config import parse_config
    from preprocessor.errors import DeploypkgError

    path = tmp_path / "deploypkg.yaml"

    @settings(max_examples=150, deadline=None, derandomize=True, database=None)
    @given(text=mutated(CONFIG[provider]))
    def run(text: str) -> None:
        path.write_text(text, encoding="utf-8")
        try:
            parse_config(path)
        except DeploypkgError as error:
            assert error.file is not None and error.file.endswith("deploypkg.yaml"), error.render()

    run()


def test_random_edits_never_crash_the_computenest_reader(tmp_path: Path) -> None:
    from preprocessor.computenest import read_relations
    from preprocessor.errors import DeploypkgError

    source = (FIXTURES / "alicloud" / ".computenest" / "config.yaml").read_text(encoding="utf-8")
    path = tmp_path / "config.yaml"

    @settings(max_examples=150, deadline=None, derandomize=True, database=None)
    @given(text=mutated(source))
    def run(text: str) -> None:
        path.write_text(text, encoding="utf-8")
        try:
            read_relations(path)
        except DeploypkgError as error:
            assert error.file is not None and error.file.endswith("config.yaml"), error.render()

    run()


# ------------------------------------------------------------------ a hostile --out


def _render_project(root: Path) -> None:
    templates = project(root)
    (templates / "web.json").write_text(ROS_JSON, encoding="utf-8")
    shutil.copytree(FIXTURES / "alicloud" / "catalog", root / "catalog")


def _tree(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("kind", ["web-app-manifest", "copied-render-manifest", "extra-file-beside-a-render"])
def test_render_never_replaces_a_directory_it_did_not_write(kind: str, tmp_path: Path) -> None:
    """Render replaces --out as a whole, so it must be sure the directory is its own output: a
    manifest.json of another tool, or files no render wrote, make it refuse (exit 2), untouched."""
    _render_project(tmp_path)
    target = tmp_path / "webapp"
    if kind == "web-app-manifest":
        target.mkdir()
        (target / "manifest.json").write_text('{"name": "my-pwa", "start_url": "/"}\n', encoding="utf-8")
    else:
        done = run_limited(
            ["-m", "preprocessor", "render", "templates", "--region=cn-hangzhou", "--out", "webapp"], tmp_path, 20
        )
        assert done.exit_code == 0, done.output
        if kind == "copied-render-manifest":
            for entry in target.iterdir():
                if entry.is_dir():
                    shutil.rmtree(entry)
    (target / "src").mkdir()
    (target / "src" / "app.js").write_text("precious\n", encoding="utf-8")
    before = _tree(target)
    outcome = run_limited(
        ["-m", "preprocessor", "render", "templates", "--region=cn-hangzhou", "--out", "webapp"], tmp_path, 20
    )
    assert outcome.exit_code == 2, outcome.output
    assert "webapp" in outcome.output and "Traceback" not in outcome.output, outcome.output
    assert _tree(target) == before, "render changed a directory it did not write"
