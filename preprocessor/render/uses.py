"""What a template asks render to replace: associated image literals and artifact placeholders,
each with its span, kind and package. A placeholder it cannot resolve is refused with the
finding validate's own check gives (DPK201/DPK203), even when the project turned that rule off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from preprocessor.errors import InputError
from preprocessor.model import PLACEHOLDER_TYPES, ImageRef, Placeholder, RefKind, Span, Template
from preprocessor.names import PackageSpec
from preprocessor.validate.checks import Context, placeholder_context, placeholder_finding

if TYPE_CHECKING:
    from preprocessor.project import Project


class Use(NamedTuple):
    """One reference to substitute: where, what kind, which package."""

    span: Span
    old: str
    kind: str
    spec: PackageSpec | None
    """The package; ``None`` for a pull-credential placeholder (filled from the registries)."""
    resource: str | None
    property: str | None


def uses_of(template: Template, project: Project, *, pull_secrets: bool = False) -> list[Use]:
    """What render replaces in ``template``; ``pull_secrets``: also the pull-credential
    placeholders (the provider issues pull tokens), else they are left in place."""
    uses: list[Use] = []
    for ref in template.image_refs:
        association = project.image_association(ref.value) if ref.kind is RefKind.LITERAL else None
        if association is not None:
            kind = "image" if ref.role.is_machine_image else "container"
            uses.append(_use(template, ref, kind, association.spec))
    ctx: Context | None = None
    for placeholder in template.placeholders:
        if placeholder.is_credential():
            if pull_secrets:
                uses.append(_use(template, placeholder, "pullsecret", None))
            continue  # else Compute Nest's to fill in at deploy time (DPK206)
        association = project.placeholder_association(placeholder.placeholder_type, placeholder.name)
        if association is None or placeholder.placeholder_type not in PLACEHOLDER_TYPES:
            ctx = ctx or placeholder_context(template, project)
            refusal = placeholder_finding(placeholder, ctx)
            assert refusal is not None, "a placeholder render cannot resolve is one validate reports"
            raise InputError.of(refusal)
        uses.append(_use(template, placeholder, placeholder.placeholder_type, association.spec))
    return uses


def _use(template: Template, ref: ImageRef | Placeholder, kind: str, spec: PackageSpec | None) -> Use:
    span = ref.span
    resource = ref.resource
    prop = ref.property
    return Use(span, template.text[span.start : span.end], kind, spec, resource, prop)
