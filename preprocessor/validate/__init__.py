"""Offline checks of templates against their project: rules with stable IDs, severity
overrides, inline and template-wide suppressions. Formatters live in
:mod:`preprocessor.validate.formats` and :mod:`preprocessor.validate.sarif`; scanning paths
(discovery, loading, grouping by project) in :mod:`preprocessor.validate.scan`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from preprocessor.diagnostics import Diagnostic
from preprocessor.model import Template
from preprocessor.paths import display_path
from preprocessor.project import Project
from preprocessor.validate.checks import check_template, relation_finding, unused_associations, used_keys
from preprocessor.validate.suppress import Suppressions, apply_overrides

__all__ = ["Diagnostic", "config_findings", "finish", "suppress_in_file", "validate_templates"]


def validate_templates(
    templates: Sequence[Template], project: Project, *, check_unused: bool = False
) -> list[Diagnostic]:
    """Every finding in ``templates`` (all of one project), sorted, after the project's
    severity overrides and the templates' suppressions.

    ``check_unused`` also reports associations no template in ``templates`` uses (DPK202):
    ask for it only when ``templates`` are all the templates of the project.
    """
    found = [d for template in templates for d in check_template(template, project)]
    found.extend(config_findings(project))
    if check_unused:
        used = {key for template in templates for key in used_keys(template)}
        associations = [(a, display_path(Path(a.source))) for a in project.all_associations()]
        found.extend(unused_associations(associations, used))
    return finish(found, project, templates)


def config_findings(project: Project) -> list[Diagnostic]:
    """What the project's Compute Nest config is reported for (DPK204/DPK205/DPK207)."""
    return [relation_finding(f, display_path(Path(f.source))) for f in project.config_findings]


def finish(
    found: Iterable[Diagnostic],
    project: Project,
    templates: Sequence[Template],
    other_texts: Mapping[str, str] | None = None,
) -> list[Diagnostic]:
    """Apply ``project``'s severity overrides and the suppressions of ``templates``, of the
    project's config files and of ``other_texts`` (display name → text: files read but not
    loaded, e.g. one that does not parse), then sort. No file is read again here."""
    texts = {display_path(Path(source)): text for source, text in project.source_texts.items()}
    texts.update(other_texts or {})
    texts.update((t.display, t.text) for t in templates)
    suppressions = Suppressions(
        texts, {t.display: t.metadata_suppressions for t in templates if t.metadata_suppressions}
    )
    kept = [d for d in apply_overrides(found, project.config.rule_severity) if not suppressions.suppressed(d)]
    return sorted(kept, key=Diagnostic.sort_key)


def suppress_in_file(
    found: Iterable[Diagnostic], display: str, text: str, file_wide: frozenset[str] = frozenset()
) -> list[Diagnostic]:
    """``found`` without what the file ``display`` (its ``text`` and its template-wide
    ``file_wide`` rule IDs) suppresses, as :func:`finish` would judge them; severity overrides
    are left to the caller. Lets a scan drop the file's text once its findings are judged."""
    suppressions = Suppressions({display: text}, {display: file_wide} if file_wide else {})
    return [d for d in found if not suppressions.suppressed(d)]
