"""The validate checks, one small function each, bound to its rule by ``@image_check(ID)`` /
``@placeholder_check(ID)``: the rule (name, severity, summary) is in :mod:`preprocessor.rules`,
and a check returns only what is wrong and what to do, so it cannot report under another ID.

Checks of one kind are tried in the order they are defined here; the first that fires reports
and the rest are skipped, so a reference gets the one finding that matters most (a
``{{resolve:…}}`` expression is a dynamic reference, not also a non-literal). Render runs the
same placeholder checks before it substitutes (:func:`placeholder_finding`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

from preprocessor.computenest import IMAGE_RELATION, RelationFinding, namespace_of
from preprocessor.config import Association
from preprocessor.diagnostics import Diagnostic, finding
from preprocessor.model import (
    PLACEHOLDER_TYPES,
    ImageRef,
    Placeholder,
    PropertyRole,
    RefKind,
    Span,
    Template,
)
from preprocessor.oci.reference import image_name
from preprocessor.project import Project
from preprocessor.rules import RULES, Rule
from providers import ImageIdClass, Provider, all_providers

VALIDATE_RULE_IDS = tuple(rule.id for rule in RULES.values() if rule.validate)
"""Every rule ``deploypkg validate`` can report."""


class Found(NamedTuple):
    """What a check says: the finding's text; the rule and the place come from the check's binding."""

    message: str
    hint: str | None = None


class Context(NamedTuple):
    template: Template
    project: Project
    provider: Provider | None
    """The provider the reference's resource belongs to (else the template's, else the project's)."""


ImageCheck = Callable[[ImageRef, Context], "Found | None"]
PlaceholderCheck = Callable[[Placeholder, Context], "Found | None"]

IMAGE_CHECKS: list[tuple[Rule, frozenset[PropertyRole], ImageCheck]] = []
PLACEHOLDER_CHECKS: list[tuple[Rule, PlaceholderCheck]] = []

MACHINE_IMAGES = frozenset({PropertyRole.IMAGE_ID, PropertyRole.IMAGE_FAMILY})
CONTAINER_IMAGES = frozenset({PropertyRole.CONTAINER_IMAGE})
ALL_IMAGES = MACHINE_IMAGES | CONTAINER_IMAGES


def image_check(rule_id: str, roles: frozenset[PropertyRole] = MACHINE_IMAGES) -> Callable[[ImageCheck], ImageCheck]:
    """Register an image-reference check as the check of ``rule_id``, for references of ``roles``."""

    def register(check: ImageCheck) -> ImageCheck:
        IMAGE_CHECKS.append((RULES[rule_id], roles, check))
        return check

    return register


def placeholder_check(rule_id: str) -> Callable[[PlaceholderCheck], PlaceholderCheck]:
    """Register a placeholder check as the check of ``rule_id``."""

    def register(check: PlaceholderCheck) -> PlaceholderCheck:
        PLACEHOLDER_CHECKS.append((RULES[rule_id], check))
        return check

    return register


def _where(ref: ImageRef) -> str:
    return f"{ref.property} of {ref.resource} ({ref.resource_type})"


def _associate_hint(ctx: Context, value: str) -> str:
    config = ctx.project.config.path.name if ctx.project.config.path else "deploypkg.yaml"
    return f"map it to a package under 'associations:' in {config} (e.g. {value}: my-image)"


# --- image references ---------------------------------------------------------------


@image_check("DPK105")
def image_family(ref: ImageRef, ctx: Context) -> Found | None:
    """DPK105: ImageFamily picks a different image per region and over time."""
    if ref.role is not PropertyRole.IMAGE_FAMILY:
        return None
    return Found(
        f"{_where(ref)} selects the newest image of a family, which differs per region and over time",
        "set ImageId to a literal custom image ID associated with a package, and drop ImageFamily",
    )


@image_check("DPK106", ALL_IMAGES)
def dynamic_reference(ref: ImageRef, ctx: Context) -> Found | None:
    """DPK106: ``{{resolve:…}}`` (or EC2's ``resolve:ssm:``) is resolved by the cloud at deploy time."""
    if "{{resolve:" not in ref.value and not ref.value.startswith("resolve:ssm:") and not ref.resolved_at_deploy:
        return None
    return Found(
        f"{_where(ref)} is a dynamic reference resolved by the cloud at deploy time, never reviewed",
        "use a literal image ID associated with a package so every region gets a known, reviewed image",
    )


@image_check("DPK108")
def built_in_the_stack(ref: ImageRef, ctx: Context) -> Found | None:
    """DPK108 (info): the image is built by a resource of the same template or module."""
    if ref.built_by is None:
        return None
    return Found(
        f"{_where(ref)} is the image {ref.built_by} builds in the same stack: it is made in the region the"
        " stack runs in, so there is nothing to map",
        "nothing to do (render leaves it as it is)",
    )


@image_check("DPK101", ALL_IMAGES)
def not_literal(ref: ImageRef, ctx: Context) -> Found | None:
    """DPK101: only a literal image ID can be mapped per region."""
    if ref.kind is RefKind.LITERAL:
        return None
    what = {
        RefKind.REFERENCE: "a reference",
        RefKind.FUNCTION: "a function",
        RefKind.INTERPOLATION: "an interpolated string",
    }[ref.kind]
    noun = "image ID" if ref.role.is_machine_image else "image reference"
    return Found(
        f"{_where(ref)} is {what} ({_short(ref.value)}), not a literal {noun}; only literals can be mapped per region",
        f"write the source region's {noun} literally and associate it with a package in deploypkg.yaml",
    )


def _terraform_name_prefix(ref: ImageRef, ctx: Context, found: ImageIdClass) -> bool:
    return found is ImageIdClass.NAME_PREFIX and ctx.template.format.is_terraform


def _related(ref: ImageRef, ctx: Context) -> bool:
    return ctx.project.is_related(ref.value, IMAGE_RELATION)


@image_check("DPK107")
def malformed_image_id(ref: ImageRef, ctx: Context) -> Found | None:
    """DPK107: the literal is not an image ID of the provider (an associated literal is a key)."""
    if ctx.provider is None or _related(ref, ctx):
        return None
    found = ctx.provider.classify_image(ref.value)
    if found is not ImageIdClass.MALFORMED and not _terraform_name_prefix(ref, ctx, found):
        return None
    extra = " (name prefixes are resolved by ROS only, not by Terraform)" if found is ImageIdClass.NAME_PREFIX else ""
    return Found(
        f"{_where(ref)} {ref.value!r} is not a valid {ctx.provider.name} image ID{extra}",
        f"fix the value: {ctx.provider.image_id_help}",
    )


def _unassociated(ref: ImageRef, ctx: Context, wanted: ImageIdClass) -> bool:
    return ctx.provider is not None and not _related(ref, ctx) and ctx.provider.classify_image(ref.value) is wanted


@image_check("DPK102")
def custom_image_not_associated(ref: ImageRef, ctx: Context) -> Found | None:
    """DPK102: a custom image exists in one region only."""
    if not _unassociated(ref, ctx, ImageIdClass.CUSTOM):
        return None
    return Found(
        f"custom image {ref.value} in {_where(ref)} exists in one region only and no association maps it to a package",
        _associate_hint(ctx, ref.value),
    )


@image_check("DPK103")
def public_image_name(ref: ImageRef, ctx: Context) -> Found | None:
    """DPK103: a public image's availability differs per region."""
    if not _unassociated(ref, ctx, ImageIdClass.PUBLIC):
        return None
    return Found(
        f"public image {ref.value} in {_where(ref)} is not available in every region, and is retired over time",
        "build a custom image from it, publish it as a package and associate its ID; or suppress this if you"
        " checked the target regions",
    )


@image_check("DPK104")
def image_name_prefix(ref: ImageRef, ctx: Context) -> Found | None:
    """DPK104: a ROS name prefix resolves to a different image per region."""
    if not _unassociated(ref, ctx, ImageIdClass.NAME_PREFIX):
        return None
    return Found(
        f"{_where(ref)} {ref.value!r} is an image name prefix: ROS picks the newest matching image, which differs"
        " per region and over time",
        "use a literal custom image ID associated with a package",
    )


# --- container images ----------------------------------------------------------------

_PACKAGE_HINT = "publish it as a container-image package and associate the reference with it in deploypkg.yaml"


@image_check("DPK114", CONTAINER_IMAGES)
def malformed_container_image(ref: ImageRef, ctx: Context) -> Found | None:
    """DPK114: the literal is not an image reference at all (associated literals are keys)."""
    if _related(ref, ctx) or image_name(ref.value) is not None:
        return None
    return Found(
        f"{_where(ref)} {ref.value!r} is not a container image reference",
        "write [HOST[:PORT]/]REPOSITORY[:TAG][@sha256:…], e.g. registry.cn-hangzhou.aliyuncs.com/acme/web:1.4.0",
    )


@image_check("DPK113", CONTAINER_IMAGES)
def moving_container_tag(ref: ImageRef, ctx: Context) -> Found | None:
    """DPK113: no tag, or ``latest``, and no digest: what it names changes over time."""
    parsed = image_name(ref.value)
    if parsed is None or _related(ref, ctx) or parsed.digest or parsed.tag not in (None, "latest"):
        return None
    shown = f"tag {parsed.tag!r}" if parsed.tag else "no tag (it means 'latest')"
    return Found(
        f"container image {ref.value} in {_where(ref)} has {shown}, which moves: regions and restarts can run"
        " different images",
        "pin a version tag or a digest (@sha256:…), or " + _PACKAGE_HINT,
    )


@image_check("DPK111", CONTAINER_IMAGES)
def regional_container_image(ref: ImageRef, ctx: Context) -> Found | None:
    """DPK111: a literal in one region's registry: every other region pulls across regions."""
    parsed = image_name(ref.value)
    if parsed is None or ctx.provider is None or _related(ref, ctx):
        return None
    region = ctx.provider.registry_region(parsed.registry)
    if region is None:
        return None
    return Found(
        f"container image {ref.value} in {_where(ref)} is in the {region} registry: other regions pull it across"
        " regions, over the internet (slow, and impossible from a VPC without NAT)",
        _PACKAGE_HINT + "; render then writes each region's copy, pinned by digest",
    )


@image_check("DPK112", CONTAINER_IMAGES)
def public_container_image(ref: ImageRef, ctx: Context) -> Found | None:
    """DPK112: a literal pulled from outside the provider's registries (Docker Hub, …)."""
    parsed = image_name(ref.value)
    if parsed is None or ctx.provider is None or _related(ref, ctx):
        return None
    if ctx.provider.registry_region(parsed.registry) is not None:
        return None
    return Found(
        f"container image {ref.value} in {_where(ref)} is pulled from {parsed.registry}, outside the"
        f" {ctx.provider.name} registries: an instance in a VPC needs a NAT gateway or an EIP to reach it,"
        " and its rate limits apply",
        "copy it into your registry, " + _PACKAGE_HINT,
    )


def _short(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# --- placeholders ---------------------------------------------------------------------


@placeholder_check("DPK201")
def unknown_placeholder_package(placeholder: Placeholder, ctx: Context) -> Found | None:
    """DPK201: the placeholder names no associated package."""
    if placeholder.placeholder_type not in PLACEHOLDER_TYPES or not placeholder.name:
        return None
    project = ctx.project
    namespace = namespace_of(placeholder.placeholder_type)
    if project.is_related(placeholder.name, namespace):
        return None
    config = ctx.project.config.path.name if ctx.project.config.path else "deploypkg.yaml"
    return Found(
        f"placeholder {placeholder.placeholder_type}::{placeholder.name} names no package: no association for"
        f" {placeholder.name!r}",
        f"add '{placeholder.name}: <package>' under 'associations:' in {config}"
        + (f", or a {namespace} entry in {project.computenest_config.name}" if project.computenest_config else "")
        + ", or fix the name",
    )


@placeholder_check("DPK203")
def malformed_placeholder(placeholder: Placeholder, ctx: Context) -> Found | None:
    """DPK203: ``{{ computenest::… }}`` with an unknown type or an empty name (Compute Nest's
    pull-credential placeholders are known: render leaves them to Compute Nest, DPK206)."""
    if (placeholder.placeholder_type in PLACEHOLDER_TYPES and placeholder.name) or placeholder.is_credential():
        return None
    if placeholder.placeholder_type not in PLACEHOLDER_TYPES:
        problem = f"unknown placeholder type {placeholder.placeholder_type!r}"
    else:
        problem = "a placeholder with an empty name"
    return Found(
        f"malformed placeholder: {problem}",
        "write {{ computenest::TYPE::NAME }} with TYPE one of file, publicfile, acrimage, helmchart and the"
        " name of an association (or {{ computenest::acr::dockerconfigjson }},"
        " {{ computenest::helm::dockerconfigjson }})",
    )


# --- the template as a whole ----------------------------------------------------------


def check_template(template: Template, project: Project) -> Iterator[Diagnostic]:
    """Every raw finding in one template (before severity overrides and suppressions)."""
    providers = all_providers()
    default = template.provider or project.config.provider
    for ref in template.image_refs:
        spec = project.table.get(ref.resource_type)
        owner = ref.provider or (spec.provider if spec is not None else None) or default
        ctx = Context(template, project, providers.get(owner or ""))
        for rule, roles, image_rule in IMAGE_CHECKS:
            if ref.role not in roles:
                continue
            found = image_rule(ref, ctx)
            if found is not None:
                yield finding(rule.id, ref.file, ref.span, found.message, found.hint)
                break
    ctx = placeholder_context(template, project)
    for placeholder in template.placeholders:
        found_here = placeholder_finding(placeholder, ctx)
        if found_here is not None:
            yield found_here


def placeholder_context(template: Template, project: Project) -> Context:
    """Placeholders belong to no resource: the template's provider, else the project's."""
    provider = template.provider or project.config.provider
    return Context(template, project, all_providers().get(provider or ""))


def placeholder_finding(placeholder: Placeholder, ctx: Context) -> Diagnostic | None:
    """The first placeholder check that fires, as a finding; render refuses on it too, whatever
    severity the project gives the rule (a placeholder it cannot resolve is never left in place)."""
    for rule, check in PLACEHOLDER_CHECKS:
        found = check(placeholder, ctx)
        if found is not None:
            return finding(rule.id, placeholder.file, placeholder.span, found.message, found.hint)
    return None


def used_keys(template: Template) -> Iterator[tuple[str, str]]:
    """The (relation section, key) pairs a template uses: literal image IDs and placeholder names."""
    for ref in template.image_refs:
        if ref.kind is RefKind.LITERAL and ref.role is not PropertyRole.IMAGE_FAMILY:
            yield IMAGE_RELATION, ref.value
    for placeholder in template.placeholders:
        namespace = namespace_of(placeholder.placeholder_type)
        if placeholder.name and namespace is not None:
            yield namespace, placeholder.name


def is_used(association: Association, used: set[tuple[str, str]]) -> bool:
    """A ``deploypkg.yaml`` key serves every kind of reference; a Compute Nest relation only its own."""
    if association.namespace is not None:
        return (association.namespace, association.key) in used
    return any(key == association.key for _, key in used)


def unused_association(association: Association, display: str) -> Diagnostic:
    """DPK202: an association no template of the scan uses."""
    span = Span(0, 0, association.line, association.column, association.line, association.column + len(association.key))
    return finding(
        "DPK202",
        display,
        span,
        f"association {association.key!r} -> {association.spec} is used by no template",
        "remove it, or fix the template or key that should use it (a stale key after an image rebuild is common)",
    )


def unused_associations(
    associations: Iterable[tuple[Association, str]], used: set[tuple[str, str]]
) -> Iterator[Diagnostic]:
    for association, display in associations:
        if not is_used(association, used):
            yield unused_association(association, display)


def relation_finding(relation: RelationFinding, display: str) -> Diagnostic:
    """DPK204/DPK205/DPK207: a Compute Nest relation that maps to no package, at its line in the config."""
    span = Span(0, 0, relation.line, relation.column, relation.line, relation.column + relation.length)
    return finding(relation.rule_id, display, span, relation.message, relation.hint)
