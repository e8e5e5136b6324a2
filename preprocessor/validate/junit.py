"""JUnit XML, as Jenkins, GitLab and Azure Pipelines show test results: one ``testcase`` per
file checked (passed when it has no finding), one ``failure`` per finding in it, its ``type``
the rule ID. Findings about no file are a testcase of their own."""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree import ElementTree

from preprocessor.diagnostics import Diagnostic
from preprocessor.output import diagnostic_line, summary

SUITE = "deploypkg validate"
CLASSNAME = "deploypkg.validate"
NO_FILE = "(the run)"


def _xml_text(text: str) -> str:
    """Text XML 1.0 can hold: the C0 controls it forbids become U+FFFD."""
    return "".join(c if c in "\t\n\r" or ord(c) >= 0x20 else "\ufffd" for c in text)


def format_junit(diagnostics: Sequence[Diagnostic], files: Sequence[str] = ()) -> str:
    by_file: dict[str, list[Diagnostic]] = {name: [] for name in files}
    for d in diagnostics:
        by_file.setdefault(d.file or NO_FILE, []).append(d)
    failures = sum(1 for found in by_file.values() if found)
    counts = {"tests": str(len(by_file)), "failures": str(failures), "errors": "0"}
    root = ElementTree.Element("testsuites", {"name": SUITE, **counts})
    suite = ElementTree.SubElement(root, "testsuite", {"name": SUITE, **counts, "skipped": "0"})
    for name, found in by_file.items():
        case = ElementTree.SubElement(suite, "testcase", {"classname": CLASSNAME, "name": _xml_text(name)})
        for d in found:
            failure = ElementTree.SubElement(
                case, "failure", {"type": d.rule_id, "message": _xml_text(f"{d.rule_id} {d.message}")}
            )
            failure.text = _xml_text(diagnostic_line(d))
    ElementTree.SubElement(suite, "system-out").text = summary(diagnostics)
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"
