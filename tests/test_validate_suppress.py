"""Inline suppression comments and severity overrides, as units."""

from __future__ import annotations

from preprocessor.diagnostics import Diagnostic
from preprocessor.rules import Severity
from preprocessor.validate.suppress import apply_overrides, line_suppressions


def test_directives_in_yaml_hcl_and_terraform_json_comments() -> None:
    text = "\n".join(
        [
            "a: 1  # deploypkg: ignore=DPK103",  # 1: its own line only
            "  # deploypkg: ignore=DPK101, dpk102 because the image is built per region",  # 2: and line 3
            "b: 2",
            '  image_id = "x" // deploypkg: ignore=DPK107',  # 4
            '  "//": "deploypkg: ignore=DPK101",',  # 5: and line 6
            '  "image_id": "${var.x}"',
            "c: '# deploypkg is mentioned, ignore=nothing'",  # 7: no directive
        ]
    )
    assert line_suppressions(text) == {
        1: frozenset({"DPK103"}),
        2: frozenset({"DPK101", "DPK102"}),
        3: frozenset({"DPK101", "DPK102"}),
        4: frozenset({"DPK107"}),
        5: frozenset({"DPK101"}),
        6: frozenset({"DPK101"}),
    }


def test_crlf_lines_are_numbered_like_lf_lines() -> None:
    assert line_suppressions("a: 1\r\n# deploypkg: ignore=DPK104\r\nb: 2\r\n") == {
        2: frozenset({"DPK104"}),
        3: frozenset({"DPK104"}),
    }


def test_overrides_change_severity_or_drop() -> None:
    found = [
        Diagnostic("DPK103", Severity.WARNING, "m", "f", 1, 1, 1, 2),
        Diagnostic("DPK105", Severity.WARNING, "m", "f", 2, 1, 2, 2),
        Diagnostic("DPK101", Severity.ERROR, "m", "f", 3, 1, 3, 2),
    ]
    kept = apply_overrides(found, {"DPK103": Severity.ERROR, "DPK105": None})
    assert [(d.rule_id, d.severity) for d in kept] == [("DPK103", Severity.ERROR), ("DPK101", Severity.ERROR)]
