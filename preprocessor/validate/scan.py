"""Validate paths: discover templates, load each with its project, check them per project.

A file that does not parse (DPK001/DPK003) or cannot be read (DPK002) becomes a diagnostic
and the scan goes on with the others. Unused associations (DPK202) are reported only for a
project whose whole directory the scan covered (a path given is the project's directory or
above it), so a pre-commit run on a few files does not report every association.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from preprocessor.config import Association
from preprocessor.diagnostics import Diagnostic
from preprocessor.errors import InputError, TemplateParseError
from preprocessor.model import Template
from preprocessor.paths import display_path
from preprocessor.project import Project, project_for, real_file_path, real_path
from preprocessor.rules import RULES
from preprocessor.validate import config_findings, finish, suppress_in_file
from preprocessor.validate.checks import check_template, is_used, unused_associations, used_keys
from preprocessor.validate.suppress import apply_overrides


class ScanResult(NamedTuple):
    diagnostics: list[Diagnostic]
    files: int
    """Templates checked (files that parsed as templates or failed to)."""
    unreadable: bool
    """Some input could not be read at all (DPK002): the exit code is 2."""
    checked: tuple[str, ...] = ()
    """The files checked, as shown (templates and files that failed to load)."""


class Loaded(NamedTuple):
    project: Project
    template: Template | None
    failure: Diagnostic | None
    text: str | None = None
    """The file's text when it could be read (a file that does not parse has one too): its
    suppression comments come from it, the file is never read again."""


def load_all(
    paths: Sequence[Path], explicit_config: Path | None = None, explicit_computenest: Path | None = None
) -> Iterator[Loaded]:
    """Each discovered file with its project, as a template or a failure diagnostic; files that
    are not templates are skipped."""
    from preprocessor.templates import discover, load_text
    from preprocessor.templates.source import read_source

    seen: set[Path] = set()
    for path in discover(paths):
        resolved = real_file_path(path)
        if resolved in seen:  # a file named twice (itself and through its directory) is checked once
            continue
        seen.add(resolved)
        project = project_for(path, explicit_config, explicit_computenest)
        display = display_path(path)
        text: str | None = None
        try:
            text, bom = read_source(path, display)
            template = load_text(text, path, project.table, display, bom)
        except TemplateParseError as error:
            yield Loaded(project, None, _failure(error, display, error.rule or "DPK001"), text)
            continue
        except InputError as error:
            yield Loaded(project, None, _failure(error, display, "DPK002"), text)
            continue
        if template is not None:
            yield Loaded(project, template, None, text)


def defect_diagnostics(template: Template) -> list[Diagnostic]:
    """The template's defects, each with its rule at its position (exit 2, as a parse error)."""
    return [
        Diagnostic(
            d.rule, RULES[d.rule].severity, d.message, template.display, d.line, d.column, d.line, d.column, d.hint
        )
        for d in template.defects
    ]


def _failure(error: InputError, display: str, rule_id: str) -> Diagnostic:
    line = error.line or 1
    column = error.column or 1
    return Diagnostic(rule_id, RULES[rule_id].severity, error.message, display, line, column, line, column, error.hint)


class Group:
    """What the scan keeps of one project's files once each is checked: their findings (after each
    file's own suppressions) and the association keys they use; a template itself only when it is
    also one of the project's config files, whose findings its ``Metadata`` suppressions then
    cover too. Nothing else of a template outlives its check, so memory does not grow with the
    file count."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.found: list[Diagnostic] = []
        """Findings in the scanned files, their own suppressions applied."""
        self.project_found: list[Diagnostic] = []
        """Findings in the project's config files (DPK202, Compute Nest relations)."""
        self.used: set[tuple[str, str]] = set()
        self.config_twins: list[Template] = []
        self._config_displays = {display_path(Path(source)) for source in project.source_texts}

    def add_template(self, template: Template) -> None:
        found = [*defect_diagnostics(template), *check_template(template, self.project)]
        self.found.extend(suppress_in_file(found, template.display, template.text, template.metadata_suppressions))
        self.used.update(used_keys(template))
        if template.display in self._config_displays:
            self.config_twins.append(template)

    def add_failure(self, failure: Diagnostic, text: str | None) -> None:
        if text is None or failure.file is None:
            self.found.append(failure)
        else:
            self.found.extend(suppress_in_file([failure], failure.file, text))

    def diagnostics(self) -> list[Diagnostic]:
        project = self.project
        return [
            *apply_overrides(self.found, project.config.rule_severity),
            *finish(self.project_found, project, self.config_twins),
        ]


def scan(
    paths: Sequence[Path], explicit_config: Path | None = None, explicit_computenest: Path | None = None
) -> ScanResult:
    groups: dict[int, Group] = {}
    checked: list[str] = []
    for loaded in load_all(paths, explicit_config, explicit_computenest):
        shown = (
            loaded.template.display if loaded.template is not None else loaded.failure.file if loaded.failure else None
        )
        if shown is not None:
            checked.append(shown)
        group = groups.get(id(loaded.project))
        if group is None:
            group = groups[id(loaded.project)] = Group(loaded.project)
        if loaded.template is not None:
            group.add_template(loaded.template)
        elif loaded.failure is not None:
            group.add_failure(loaded.failure, loaded.text)
    _report_configs(groups.values())
    _report_unused(groups.values(), [real_path(p) for p in paths if p.is_dir()])
    diagnostics = [d for group in groups.values() for d in group.diagnostics()]
    diagnostics.sort(key=Diagnostic.sort_key)
    return ScanResult(diagnostics, len(checked), any(d.rule_id == "DPK002" for d in diagnostics), tuple(checked))


def _report_configs(groups: Iterable[Group]) -> None:
    """Add each Compute Nest config's own findings once, to the first group that reads it."""
    reported: set[str] = set()
    for group in groups:
        project = group.project
        if project.computenest_config is None or str(project.computenest_config) in reported:
            continue
        reported.add(str(project.computenest_config))
        group.project_found.extend(config_findings(project))


def _report_unused(groups: Iterable[Group], scanned_dirs: list[Path]) -> None:
    """Add DPK202 to the group of each covered project whose association no template used.

    Several groups can share one config (templates next to different ``.computenest``
    directories): an association counts as used when any group that has it uses its key.
    """
    holders: dict[tuple[str, str, str], tuple[Association, list[Diagnostic]]] = {}
    used: set[tuple[str, str, str]] = set()
    for group in groups:
        for association in group.project.all_associations():
            ident = (association.source, association.namespace or "", association.key)
            holders.setdefault(ident, (association, group.project_found))
            if is_used(association, group.used):
                used.add(ident)
    for ident, (association, found) in holders.items():
        if ident in used or not _covered(Path(association.source), scanned_dirs):
            continue
        found.extend(unused_associations([(association, display_path(Path(association.source)))], set()))


def _project_dir(source: Path) -> Path:
    """The directory a config describes: ``deploypkg.yaml``'s own, ``.computenest/``'s parent."""
    parent = real_path(source).parent
    return parent.parent if parent.name == ".computenest" else parent


def _covered(source: Path, scanned_dirs: list[Path]) -> bool:
    directory = _project_dir(source)
    return any(directory.is_relative_to(scanned) for scanned in scanned_dirs)
