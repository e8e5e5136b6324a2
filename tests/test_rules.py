"""A rule is one unit: its ID, name, severity and summary in preprocessor/rules.py, its check
bound to that ID, and docs/rules.md saying the same. Render refuses with validate's own finding."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import FIXTURES, REPO

from preprocessor.errors import InputError
from preprocessor.render import RenderOptions, render_to_directory
from preprocessor.rules import RULES
from preprocessor.validate.checks import IMAGE_CHECKS, PLACEHOLDER_CHECKS, VALIDATE_RULE_IDS

DOC = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
ROW = re.compile(r"^\| \[(DPK\d{3})\]\(#(dpk\d{3})\) \| ([a-z-]+) \| ([a-z]+)(?: \(([^)]*)\))? \|$", re.MULTILINE)
HEADING = re.compile(r"^### (DPK\d{3}) ([a-z-]+) \(([a-z]+)[^)]*\)$", re.MULTILINE)


def test_docs_list_every_rule_with_its_name_and_severity() -> None:
    rows = {m.group(1): m for m in ROW.finditer(DOC)}
    headings = {m.group(1): m for m in HEADING.finditer(DOC)}
    assert set(rows) == set(RULES) == set(headings)
    for rule in RULES.values():
        row, heading = rows[rule.id], headings[rule.id]
        assert row.group(2) == rule.id.lower() and f'<a id="{rule.id.lower()}"></a>' in DOC
        assert (row.group(3), row.group(4)) == (rule.name, rule.severity.value), rule.id
        assert (heading.group(2), heading.group(3)) == (rule.name, rule.severity.value), rule.id
        where = row.group(5) or ""
        if rule.validate:
            assert "render" not in where, f"{rule.id} is reported by validate, but the docs say {where!r}"
        elif rule.id != "DPK010":  # a config error stops every command, validate included
            assert "render" in where, f"{rule.id} is not reported by validate; the docs should say who reports it"


def test_every_rule_id_in_the_code_is_a_known_rule() -> None:
    used: set[str] = set()
    for path in [*(REPO / "preprocessor").rglob("*.py"), *(REPO / "providers").rglob("*.py")]:
        used.update(re.findall(r"\bDPK\d{3}\b", path.read_text(encoding="utf-8")))
    assert used <= set(RULES), sorted(used - set(RULES))
    assert set(RULES) <= used, f"rules nothing reports: {sorted(set(RULES) - used)}"


def test_each_check_is_bound_to_one_validate_rule() -> None:
    bound = [rule.id for rule, _, _ in IMAGE_CHECKS] + [rule.id for rule, _ in PLACEHOLDER_CHECKS]
    assert len(bound) == len(set(bound))
    assert set(bound) <= set(VALIDATE_RULE_IDS)
    # most telling first: a family, a dynamic reference, an image the stack builds, then a non-literal
    assert [rule.id for rule, _, _ in IMAGE_CHECKS][:4] == ["DPK105", "DPK106", "DPK108", "DPK101"]


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        ("computenest::acrimage::web-frontend", "computenest::docker::web-frontend", "DPK203"),
        ("computenest::acrimage::web-frontend", "computenest::acrimage::no-such-package", "DPK201"),
    ],
)
def test_render_refuses_a_placeholder_with_the_finding_validate_gives(
    tmp_path: Path, old: str, new: str, rule: str
) -> None:
    import shutil

    from preprocessor.project import clear_cache, project_for
    from preprocessor.validate import validate_templates
    from preprocessor.validate.scan import load_all

    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "alicloud", root)
    web = root / "templates" / "ros-app.yaml"
    web.write_text(web.read_text().replace(old, new))
    clear_cache()
    (loaded,) = load_all([web])
    assert loaded.template is not None
    (found,) = [d for d in validate_templates([loaded.template], project_for(web)) if d.rule_id == rule]
    config = root / "deploypkg.yaml"
    config.write_text(config.read_text() + f"rules:\n  {rule}: off\n")  # off for validate; render still refuses
    clear_cache()
    with pytest.raises(InputError) as caught:
        render_to_directory([web], ["cn-beijing"], tmp_path / "out", RenderOptions())
    error = caught.value
    assert (error.rule, error.message, error.hint, error.line, error.column) == (
        found.rule_id,
        found.message,
        found.hint,
        found.line,
        found.column,
    )
    assert not (tmp_path / "out").exists()
