"""Template loaders: ROS/CloudFormation JSON and YAML, Terraform HCL and JSON → one :class:`Template`.

``load_template`` returns ``None`` for a JSON/YAML file that is not a template, so a scan of a
whole repository stays quiet; it raises :class:`~preprocessor.errors.TemplateParseError` (DPK001
parse error, DPK003 malformed template) or :class:`~preprocessor.errors.InputError` (DPK002
unreadable) naming the file, with line and column where there is one. A broken part that does
not hide the rest — a duplicate key, a resource with no string Type — is a ``Template.defects``
entry instead, and the rest of the file is still read.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path

from preprocessor.errors import TemplateParseError
from preprocessor.model import Defect, LineIndex, Template, TemplateFormat
from preprocessor.paths import display_path
from preprocessor.templates.source import discover, iter_files, read_source
from preprocessor.templates.tree import no_gc_pauses
from providers import Dialect, ResourceSpec, all_providers, get_provider

__all__ = ["discover", "iter_files", "load_template", "load_text"]

# A JSON/YAML file that fails to parse is reported unless it is recognisably something else:
# a scan of a real repository meets editor configs with comments and Helm charts with {{ }}.
_GO_TEMPLATE = re.compile(r"\{\{-|\{\{\s*(?:\.|\$|if\b|range\b|with\b|define\b|include\b|template\b|end\b)")
_FIRST_JSON_KEY = re.compile(r'\s*\{\s*"((?:[^"\\\n]|\\.)*)"\s*:')
_FIRST_YAML_KEY = re.compile(
    r"(?:[ \t]*(?:#[^\n]*)?\r?\n)*(?:---[^\n]*\n)?[\"']?([^\s:\"'#\-\[{][^:\n\"']*?)[\"']?[ \t]*:(?:[ \t]|\r?\n|$)"
)
_SECTIONS = frozenset(
    {"Description", "Metadata", "Parameters", "Mappings", "Conditions", "Transform", "Resources", "Outputs",
     "Rules", "Locals", "Workspace"}
)  # fmt: skip
"""Top-level sections of ROS/CloudFormation-style templates, besides each provider's version key."""

_STRUCTURED_FORMATS: dict[tuple[Dialect | None, str], TemplateFormat] = {
    (Dialect.ROS, "json"): TemplateFormat.ROS_JSON,
    (Dialect.ROS, "yaml"): TemplateFormat.ROS_YAML,
    (Dialect.CLOUDFORMATION, "json"): TemplateFormat.CFN_JSON,
    (Dialect.CLOUDFORMATION, "yaml"): TemplateFormat.CFN_YAML,
}


@functools.cache
def _template_markers() -> tuple[re.Pattern[str], frozenset[str]]:
    """A pattern that says "this text is a template" and the keys a template may start with."""
    keys = sorted(p.template_version_key for p in all_providers().values() if p.template_version_key)
    hint = re.compile("|".join([*(re.escape(k) for k in keys), r"\bResources\b"]))
    return hint, _SECTIONS | frozenset(keys)


def _report_parse_error(text: str, kind: str, generic: bool = False) -> bool:
    """Whether a JSON/YAML parse error is ours to report: the text looks like a template, or
    nothing in it says it is something else (a truncated template may hold no key yet). An
    empty file is nothing at all. ``generic``: the name ends in ``.template``, which nginx,
    envsubst and many other tools use too, so YAML-looking text with no template key at its
    start is not taken for a broken template."""
    hint, sections = _template_markers()
    if hint.search(text):
        return True
    if not text.strip() or _GO_TEMPLATE.search(text):
        return False
    first = (_FIRST_JSON_KEY if kind == "json" else _FIRST_YAML_KEY).match(text)
    if first is None:
        return kind == "json" or not generic
    return first.group(1) in sections


def _kind(path: Path, text: str) -> str:
    name = path.name.lower()
    if name.endswith(".tf.json"):
        return "tf-json"
    if name.endswith(".tf"):
        return "tf"
    if name.endswith(".json"):
        return "json"
    if name.endswith((".yaml", ".yml")):
        return "yaml"
    return "json" if text.lstrip().startswith("{") else "yaml"


def load_template(path: Path, table: Mapping[str, ResourceSpec], display: str | None = None) -> Template | None:
    """Read and load one template file (see :func:`load_text`)."""
    shown = display if display is not None else display_path(path)
    text, bom = read_source(path, shown)
    return load_text(text, path, table, shown, bom)


def load_text(
    text: str, path: Path, table: Mapping[str, ResourceSpec], display: str | None = None, bom: bool = False
) -> Template | None:
    """Load a template from its decoded text (``utf-8-sig``, line endings kept)."""
    with no_gc_pauses():
        return _load_text(text, path, table, display if display is not None else display_path(path), bom)


def _load_text(text: str, path: Path, table: Mapping[str, ResourceSpec], shown: str, bom: bool) -> Template | None:
    lines = LineIndex(text)
    kind = _kind(path, text)
    if kind == "tf":
        from preprocessor.templates import terraform_hcl

        hcl = terraform_hcl.extract(text, lines, shown, table)
        return Template(path, shown, TemplateFormat.TERRAFORM_HCL, text, bom, None, hcl.image_refs, hcl.placeholders)
    if kind == "tf-json":
        from preprocessor.templates import jsonpos, terraform_json

        tree = jsonpos.parse_lazy(text, file=shown, lines=lines, sections=terraform_json.SECTIONS)
        tf = terraform_json.extract(tree, text, lines, shown, table)
        return Template(path, shown, TemplateFormat.TERRAFORM_JSON, text, bom, None, tf.image_refs, tf.placeholders)
    from preprocessor.templates import cfn
    from preprocessor.templates.tree import Node

    root: Node | None
    defects: list[Defect] = []
    try:
        if kind == "json":
            from preprocessor.templates import jsonpos

            root = jsonpos.parse_lazy(text, file=shown, lines=lines, defects=defects, sections=cfn.SECTIONS)
            next_document = None
        else:
            from preprocessor.templates import yamlpos

            document = yamlpos.compose(text, file=shown, lines=lines)
            root, next_document, defects = document.root, document.next_document, document.defects
    except TemplateParseError:
        if not _report_parse_error(text, kind, generic=path.name.lower().endswith(".template")):
            return None
        raise
    content = cfn.extract(root, text, lines, shown, table, defects)
    if content is None:
        return None
    if next_document is not None:
        line, column = lines.position(next_document)
        raise TemplateParseError(
            "a template must be a single YAML document, but another document ('---') follows",
            file=shown,
            line=line,
            column=column,
            hint="split the documents into separate files",
            rule="DPK003",
        )
    fmt = _STRUCTURED_FORMATS[get_provider(content.provider).template_dialect, kind]
    return Template(
        path,
        shown,
        fmt,
        text,
        bom,
        content.provider,
        content.image_refs,
        content.placeholders,
        content.suppressions,
        content.defects,
    )
