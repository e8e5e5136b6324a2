"""``render_to_directory``: each region's copy of the templates, spliced, checked and written
atomically with its artifacts and a manifest.

Steps, one direction: discover and load → validate (refuse on errors) → resolve every
associated reference per region (cached, access-checked) → per region, splice (re-parse and
check once per template and value class) and write each file into a staging directory as it is
made → the manifest → move the staging directory into place.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from preprocessor.catalog.opening import StoreOptions
from preprocessor.catalog.store import Endpoint
from preprocessor.diagnostics import Diagnostic, finding
from preprocessor.errors import DeploypkgError, InputError
from preprocessor.model import ImageRef, Placeholder, Template
from preprocessor.names import PackageSpec, check, parse_package_spec
from preprocessor.paths import display_path
from preprocessor.render.jinja import JINJA_SUFFIX, render_jinja
from preprocessor.render.manifest import RegionOutput, compact_json, substitution_order
from preprocessor.render.output import StagedDirectory, check_out_dir
from preprocessor.render.presign import DEFAULT_EXPIRES, MAX_EXPIRES, credentials_expiry, utc_text
from preprocessor.render.records import RecordShape, RegionFields, record
from preprocessor.render.resolve import REGION_RULES, Artifact, ArtifactResolver
from preprocessor.render.sources import Source, input_root, load_sources, read_bytes
from preprocessor.render.splice import (
    PROPERTY_KINDS,
    CheckedClasses,
    SplicePlan,
    Substitution,
    check_value,
    plan_splice,
    sealed_context,
    value_class,
    verify_rendered,
)
from preprocessor.render.uses import Use, uses_of
from preprocessor.render.writer import RenderWriter
from preprocessor.rules import BAD_INPUT_RULES, Severity

if TYPE_CHECKING:
    from preprocessor.project import Project


class RenderOptions(NamedTuple):
    account: str | None = None
    """Whose access rules apply; default: the project config's ``account``."""
    expires: int = DEFAULT_EXPIRES
    endpoint: Endpoint = "public"
    config: Path | None = None
    all_regions: bool = False
    computenest_config: Path | None = None
    catalog: str | None = None
    """``--catalog``: wins over ``$DEPLOYPKG_CATALOG`` and each project config's ``catalog:``."""
    store: StoreOptions = StoreOptions()


class RenderReport(NamedTuple):
    out_dir: Path
    regions: tuple[str, ...]
    excluded: dict[str, str]
    """Region → why it was left out (``--all-regions``)."""
    files: dict[str, tuple[str, ...]]
    """Region → output paths (relative to the region directory)."""
    substitutions: int
    artifacts: dict[str, tuple[Artifact, ...]]
    warnings: tuple[Diagnostic, ...]
    """Findings below error severity, and render's own (DPK206, DPK309)."""
    seconds: dict[str, float]
    """Seconds spent per phase (:data:`PHASES`), for benchmarks (``bench/render.py``)."""


class ValidationRefused(DeploypkgError):
    """Validation found errors: render never guesses, so it writes nothing."""

    exit_code = 1

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        errors = sum(1 for d in diagnostics if d.severity is Severity.ERROR)
        super().__init__(
            f"validation found {errors} error(s); nothing was rendered",
            hint="fix them (see `deploypkg validate`) and render again",
        )
        self.diagnostics = list(diagnostics)
        if any(d.severity is Severity.ERROR and d.rule_id in BAD_INPUT_RULES for d in diagnostics):
            self.exit_code = 2  # a file that does not parse, or is not a well-formed template


PHASES = ("load", "validate", "resolve", "splice", "check", "manifest", "write")
"""Where a render's time goes: reading and parsing the inputs, validating them, resolving
references (catalog reads, access rules, HEAD and signing), splicing every region's copy (with
its manifest records; ``.j2`` files are rendered here), re-parsing spliced output as a check,
encoding each region's manifest entry and ``artifacts.json``, writing each file into the
staging directory as it is made, assembling ``manifest.json`` and moving the directory into place."""


REGISTRY_KINDS = frozenset({"acrimage", "container", "helmchart"})
"""Artifacts pulled from a registry: a pull-credential placeholder is for their registries."""


class _Prepared(NamedTuple):
    """What rendering a template needs that no region changes."""

    source: Source
    template: Template
    uses: list[Use]
    plan: SplicePlan
    records: list[RecordShape]
    """Each use's manifest record, encoded but for the region's fields."""
    unchanged: bytes | None
    """The output bytes when nothing is replaced."""
    contexts: tuple[str | None, ...]
    """Each use's sealed lexical context (see :func:`sealed_context`), or None."""


class _Resolved(NamedTuple):
    artifact: Artifact
    label: str
    """``package@version``, as the manifest shows it."""
    fields: RegionFields
    """What a manifest record of a use of it says about it."""


def _prepare(source: Source, template: Template, pull_secrets: bool) -> _Prepared:
    uses = uses_of(template, source.project, pull_secrets=pull_secrets)
    plan = plan_splice(template.text, [(use.span, use.old) for use in uses])
    file = source.output_text
    records = [
        RecordShape(
            {
                "file": file,
                "line": use.span.line,
                "column": use.span.column,
                "end_line": use.span.end_line,
                "end_column": use.span.end_column,
                "kind": use.kind,
                "resource": use.resource,
                "property": use.property,
                "old": use.old,
            }
        )
        for use in uses
    ]
    contexts = tuple(sealed_context(template, use.span, use.old, use.kind not in PROPERTY_KINDS) for use in uses)
    return _Prepared(source, template, uses, plan, records, None if uses else template.encoded(), contexts)


class _Renderer:
    def __init__(self, sources: list[Source], options: RenderOptions) -> None:
        self.sources = sources
        self.options = options
        self.signed_at = datetime.now(timezone.utc).replace(microsecond=0)
        self.resolvers: dict[tuple[str, str | None], ArtifactResolver] = {}
        """(catalog URL, account) → its resolver."""
        self._project_resolvers: dict[int, ArtifactResolver] = {}
        """id(project) → its resolver (the sources keep the projects alive)."""
        self._verified: set[tuple[int, tuple[tuple[str, frozenset[str], bool], ...]]] = set()
        """(template, value classes) whose spliced output was re-parsed and checked."""
        self._checked_classes = CheckedClasses()
        """Value classes checked in sealed contexts: a template using only those is not re-parsed."""
        self._prepared: dict[int, _Prepared] = {}
        """id(template) → its region-independent part (the sources keep the templates alive)."""
        self._region_artifacts: dict[tuple[int, PackageSpec, str], _Resolved] = {}
        self._safe_values: set[str] = set()
        """Values :func:`check_value` accepted (whether a value is safe depends on it alone)."""
        self.seconds: dict[str, float] = dict.fromkeys(PHASES, 0.0)
        """Seconds spent per phase of the render (see :data:`PHASES`)."""
        for source in sources:  # every template's uses, so a malformed one fails before any region
            if source.template is not None:
                self._prepared_for(source, source.template)

    def resolver(self, project: Project) -> ArtifactResolver:
        """The project's resolver: its catalog URL is worked out once per project, not per use."""
        found = self._project_resolvers.get(id(project))
        if found is None:
            found = self._resolver_for(project)
            self._project_resolvers[id(project)] = found
        return found

    def _resolver_for(self, project: Project) -> ArtifactResolver:
        from preprocessor.catalog.opening import catalog_url

        url = catalog_url(self.options.catalog, project.config.resolve_catalog_url())
        account = self.options.account or project.config.account
        key = (url, account)
        found = self.resolvers.get(key)
        if found is None:
            from preprocessor.catalog.opening import open_catalog_reader

            catalog = open_catalog_reader(url, self.options.store)
            store = catalog.store
            from providers import all_providers

            found = ArtifactResolver(
                catalog=catalog,
                store=store,
                account=account,
                expires=self.options.expires,
                endpoint=self.options.endpoint,
                signed_at=self.signed_at,
                credentials_expiry=lambda: _store_credentials_expiry(store),
                provider=all_providers().get(catalog.info().provider),
            )
            self.resolvers[key] = found
        return found

    def candidate_regions(self) -> list[str]:
        """``--all-regions``: the configured regions, else every region a used package has a copy in."""
        configured = sorted({region for source in self.sources for region in source.project.config.regions})
        if configured:
            return configured
        regions: set[str] = set()
        for source in self.sources:
            uses = self._prepared_for(source, source.template).uses if source.template is not None else []
            for use in uses:
                if use.spec is not None:
                    regions.update(self.resolver(source.project).resolve(use.spec).version.distributions)
        if not regions:
            raise InputError(
                "--all-regions found no region: no `regions` in the config and no package distributions",
                hint="list regions in deploypkg.yaml or pass --region",
            )
        return sorted(regions)

    def prefetch(self, regions: Sequence[str]) -> None:
        """Every template's artifacts in every region, built ahead: the first region's now, the
        others' in parallel while the regions render (see :meth:`ArtifactResolver.prefetch`;
        :meth:`close` stops that); a refusal surfaces where the render meets it."""
        started = time.perf_counter()
        wanted: dict[int, tuple[ArtifactResolver, dict[tuple[PackageSpec, str], None]]] = {}
        for prepared in self._prepared.values():
            if prepared.uses:
                resolver = self.resolver(prepared.source.project)
                pairs = wanted.setdefault(id(resolver), (resolver, {}))[1]
                pairs.update(dict.fromkeys((use.spec, use.kind) for use in prepared.uses if use.spec is not None))
        for resolver, pairs in wanted.values():
            resolver.prefetch(list(pairs), regions)
        self.seconds["resolve"] += time.perf_counter() - started

    def close(self) -> None:
        for resolver in self.resolvers.values():
            resolver.close()

    def render_region(self, region: str, writer: RenderWriter) -> RegionOutput:
        """Render every source for ``region``, each file handed to ``writer`` as soon as it is made."""
        result = RegionOutput(region)
        self._region_artifacts.clear()
        started = time.perf_counter()
        before = self.seconds["resolve"] + self.seconds["check"] + sum(writer.seconds.values())
        for source in self.sources:
            output = source.output_text
            if source.is_jinja:
                data = self._render_jinja(source, result)
            elif source.template is None:
                writer.copy(region, output, source.path)
                result.files.append(output)
                continue
            else:
                data = self._splice(self._prepared_for(source, source.template), result)
            writer.write(region, output, data, private=source.output in result.credential_files)
            result.files.append(output)
        writer.finish(result)
        nested = self.seconds["resolve"] + self.seconds["check"] + sum(writer.seconds.values()) - before
        self.seconds["splice"] += time.perf_counter() - started - nested
        return result

    def _prepared_for(self, source: Source, template: Template) -> _Prepared:
        """The region-independent part of a template's render, made once per template."""
        prepared = self._prepared.get(id(template))
        if prepared is None:
            prepared = _prepare(source, template, self.fills_pull_secrets(source.project, template))
            self._prepared[id(template)] = prepared
        return prepared

    def fills_pull_secrets(self, project: Project, template: Template) -> bool:
        """Whether ``template``'s pull-credential placeholders are filled: it has some, and the
        project's catalog provider issues short-lived registry pull tokens (ECR); else they are
        left for Compute Nest (DPK206). The catalog is opened only for a template that has them."""
        if not any(placeholder.is_credential() for placeholder in template.placeholders):
            return False
        provider = self.resolver(project).provider
        return provider is not None and provider.registry_pull_tokens and provider.registry_credentials is not None

    def _pull_secret(
        self, resolver: ArtifactResolver, pulled: list[Artifact], template: Template, use: Use, region: str
    ) -> tuple[str, str]:
        """The base64 docker config JSON (what a Kubernetes ``.dockerconfigjson`` holds) with a
        pull token for each registry the template's images and charts are in, in this region."""
        from preprocessor.errors import PolicyError
        from preprocessor.oci.reference import parse_reference

        provider = resolver.provider
        hosts = sorted({parse_reference(artifact.value).registry for artifact in pulled})

        def refusal(message: str, hint: str) -> PolicyError:
            span = use.span
            return PolicyError(
                message, file=template.display, line=span.line, column=span.column, hint=hint, rule="DPK311"
            )

        if not hosts or provider is None or provider.registry_credentials is None:
            raise refusal(
                f"{use.old} in {region}: the template uses no container image or chart, so there is no registry"
                " to get a pull token for",
                "use the placeholder in the template whose images it pulls, or pull inside the VPC with a role",
            )
        auths = {}
        for host in hosts:
            credentials = provider.registry_credentials(host)
            if credentials is None:
                raise refusal(
                    f"{use.old} in {region}: {host} is not a {provider.name} registry that issues pull tokens;"
                    " deploypkg never writes a static password into a template",
                    "keep the images in the provider's registry, or let the cluster pull with its own role"
                    " or the registry's credential helper",
                )
            auths[host] = {"auth": base64.b64encode(f"{credentials.username}:{credentials.secret}".encode()).decode()}
        config = json.dumps({"auths": auths}, separators=(",", ":")).encode()
        return base64.b64encode(config).decode("ascii"), ", ".join(hosts)

    def _artifact(self, resolver: ArtifactResolver, spec: PackageSpec, kind: str, region: str) -> _Resolved:
        """The region's artifact for (spec, kind), with its manifest label: resolved (and timed)
        once per region; the resolver's own caches keep catalog reads and HEADs once per run."""
        key = (id(resolver), spec, kind)
        found = self._region_artifacts.get(key)
        if found is None:
            started = time.perf_counter()
            try:
                artifact = resolver.artifact(spec, kind, region)
            finally:
                self.seconds["resolve"] += time.perf_counter() - started
            label = f"{artifact.package}@{artifact.version}"
            fields = RegionFields.of({"new": artifact.value, "package": label, "channel": artifact.channel})
            found = _Resolved(artifact, label, fields)
            self._region_artifacts[key] = found
        return found

    def _splice(self, prepared: _Prepared, result: RegionOutput, *, recheck: bool = False) -> bytes:
        """The region's copy of a prepared template. The re-parse check runs once per template and
        value-class signature (see :func:`value_class`), and not at all for a template whose every
        substitution is in a sealed context with a value class already checked there (see
        :func:`sealed_context`); every time with ``recheck`` (a jinja template is new in every
        region, so its identity is no key)."""
        from preprocessor.templates import load_text

        if prepared.unchanged is not None:
            return prepared.unchanged
        source, template, uses = prepared.source, prepared.template, prepared.uses
        resolver = self.resolver(source.project)
        region = result.name
        safe = self._safe_values
        found = [self._artifact(resolver, use.spec, use.kind, region) if use.spec is not None else None for use in uses]
        pulled = [
            r.artifact for r in found if r is not None and r.artifact.kind in ("acrimage", "container", "helmchart")
        ]
        values: list[str] = []
        records = result.substitutions
        for use, resolved, shape in zip(uses, found, prepared.records, strict=True):
            if resolved is None:  # a pull-credential placeholder: a token for the template's registries
                value, hosts = self._pull_secret(resolver, pulled, template, use, region)
                result.credential_files.add(prepared.source.output)
                said = RegionFields.of({"new": f"docker config JSON (base64) with pull tokens for {hosts}"})
                records.append((shape.order, shape.encode(said)))
                values.append(value)
                continue
            artifact, value = resolved.artifact, resolved.artifact.value
            if type(value) is not str or value not in safe:  # a malformed catalog may hold a non-string
                check_value(value, template.display, use.span, resolved.label)
                safe.add(value)
            result.artifacts[(artifact.package, artifact.version, artifact.kind)] = artifact
            records.append((shape.order, shape.encode(resolved.fields)))
            values.append(value)
        text = prepared.plan.apply(values)
        classes = tuple(value_class(value) for value in values)  # values checked above
        signature = (id(template), classes)
        checked = self._checked_classes
        if recheck or (signature not in self._verified and not checked.covers(template, prepared.contexts, classes)):
            started = time.perf_counter()
            substitutions = [
                Substitution(use.span, use.old, value, use.kind) for use, value in zip(uses, values, strict=True)
            ]
            reparsed = load_text(text, template.path, source.project.table, template.display, template.bom)
            verify_rendered(template, reparsed, substitutions, template.display)
            if not recheck:
                self._verified.add(signature)
                checked.add(template, prepared.contexts, classes)
            self.seconds["check"] += time.perf_counter() - started
        return template.encoded(text)

    def _render_jinja(self, source: Source, result: RegionOutput) -> bytes:
        from preprocessor.templates import load_text

        raw = read_bytes(source.path)
        bom = raw.startswith(b"\xef\xbb\xbf")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise InputError(
                f"not UTF-8: {error.reason} at byte {error.start}", file=display_path(source.path), rule="DPK002"
            ) from None
        project = source.project
        resolver = self.resolver(project)
        shown = display_path(source.path)
        region = result.name

        written: set[str] = set()

        def artifact(name: str, kind: str) -> Artifact:
            if kind == "image":
                association = project.image_association(name)
            else:
                association = project.placeholder_association(kind, name)
            spec = association.spec if association is not None else parse_package_spec(name)
            found = self._artifact(resolver, spec, kind, region).artifact
            written.add(found.value)
            result.artifacts[(found.package, found.version, found.kind)] = found
            said = record(
                {
                    "file": source.output_text,
                    "kind": f"jinja:{kind}",
                    "name": name,
                    "new": found.value,
                    "package": f"{found.package}@{found.version}",
                    "channel": found.channel,
                }
            )
            result.substitutions.append((substitution_order(said), compact_json(said)))
            return found

        def package(name: str) -> dict[str, Any]:
            association = project.any_association(name)
            spec = association.spec if association is not None else parse_package_spec(name)
            resolved = resolver.check_usable(spec, region)
            return {
                "name": resolved.package.name,
                "type": resolved.package.type.value,
                "version": resolved.version.version,
                "channel": resolved.channel,
            }

        rendered = render_jinja(
            text,
            shown,
            region=region,
            image=lambda name: artifact(name, "image").value,
            artifact_url=lambda name: artifact(name, "file").value,
            package=package,
        )
        output_path = source.path.with_name(source.path.name[: -len(JINJA_SUFFIX)])
        template = load_text(rendered, output_path, project.table, f"{shown} ({region})", bom)
        if template is None:
            return (b"\xef\xbb\xbf" if bom else b"") + rendered.encode("utf-8")
        # The IDs image() wrote are this region's copies, not associated literals: not DPK102 findings.
        produced = {(ref.span.line, ref.span.column) for ref in template.image_refs if ref.value in written}
        found = _validate([template], project)
        _refuse_on_errors([d for d in found if not (d.rule_id == "DPK102" and (d.line, d.column) in produced)])
        prepared = _prepare(source, template, self.fills_pull_secrets(project, template))
        return self._splice(prepared, result, recheck=True)


def _store_credentials_expiry(store: Any) -> datetime | None:
    """When an S3 store's signing credentials expire (assumed roles, credential processes, SSO),
    if they do: the credentials of the store's own boto3 session, the one its URLs are signed with."""
    credentials = getattr(store, "credentials", None)
    return credentials_expiry(credentials()) if credentials is not None else None


def _validate(templates: list[Template], project: Project) -> list[Diagnostic]:
    from preprocessor.validate import validate_templates

    return [*validate_templates(templates, project), *(d for t in templates for d in defect_findings(t))]


def defect_findings(template: Template) -> list[Diagnostic]:
    """A template's defects for render: an error (refused, nothing written) where the defect is
    in a value render replaces or in that value's resource, or is a resource deploypkg could not
    read (it may hold a value to replace); elsewhere a warning, and the file is rendered: the
    defect is copied as it is, and it cannot change what render writes."""
    replaced: list[ImageRef | Placeholder] = [
        *template.image_refs,
        *(p for p in template.placeholders if not p.is_credential()),
    ]
    resources = {r.resource for r in replaced if r.resource is not None}
    found = []
    for d in template.defects:
        touches = d.resource in resources or any(r.span.start <= d.offset < r.span.end for r in replaced)
        if d.unreadable:
            message = f"{d.message} — render cannot tell whether a value in this resource should be replaced"
            severity = Severity.ERROR
        elif touches:
            where = f"resource {d.resource!r}" if d.resource else "a replaced value"
            message = f"{d.message} — in {where}, whose values render replaces"
            severity = Severity.ERROR
        else:
            message = f"{d.message} — rendered anyway: it is in no value render replaces nor in its resource"
            severity = Severity.WARNING
        found.append(
            Diagnostic(d.rule, severity, message, template.display, d.line, d.column, d.line, d.column, d.hint)
        )
    return found


def _refuse_on_errors(diagnostics: list[Diagnostic]) -> None:
    if any(d.severity is Severity.ERROR for d in diagnostics):
        raise ValidationRefused(sorted(diagnostics, key=lambda d: d.sort_key()))


def _credential_placeholders(templates: Iterable[Template]) -> list[Diagnostic]:
    """DPK206 for each pull-credential placeholder render leaves in place."""
    return [
        finding(
            "DPK206",
            template.display,
            p.span,
            f"{template.text[p.span.start : p.span.end]} is left in place: it names no package; Compute Nest fills"
            " in a docker config JSON for the service's registry when it deploys the template",
        )
        for template in templates
        for p in template.placeholders
        if p.is_credential()
    ]


def _warnings_of(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in sorted(diagnostics, key=lambda d: d.sort_key()) if d.severity is not Severity.ERROR]


def render_to_directory(
    paths: Sequence[Path | str], regions: Sequence[str], out_dir: Path | str, options: RenderOptions
) -> RenderReport:
    """Render ``paths`` for each region into ``out_dir/<region>/…``; atomic: on any error
    ``out_dir`` is exactly as it was."""
    inputs = [Path(p) for p in paths]
    if not inputs:
        raise InputError("no input paths given", hint="pass the templates or directories to render")
    for path in inputs:
        if not path.exists():
            raise InputError(f"{path} does not exist", file=str(path))
    if options.all_regions and regions:
        raise InputError("give either --region or --all-regions, not both")
    if not options.all_regions and not regions:
        raise InputError("no region given", hint="pass --region R (repeatable) or --all-regions")
    wanted = list(dict.fromkeys(check("region", region) for region in regions))
    if options.account is not None:
        check("account", options.account)
    if not 1 <= options.expires <= MAX_EXPIRES:
        raise InputError(
            f"presigned URL expiry {options.expires} s is out of range",
            hint=f"use 1 to {MAX_EXPIRES} seconds (SigV4 allows at most 7 days)",
        )
    target = Path(out_dir)
    out = check_out_dir(target, inputs)
    root = input_root(inputs)
    started = time.perf_counter()
    sources = load_sources(inputs, root, out, options.config, options.computenest_config)
    for provider in {id(s.project.provider): s.project.provider for s in sources if s.project.provider}.values():
        for region in wanted:
            provider.check_region(region)  # a typo is bad input, not "not available in cn-hangzou"
    loaded = time.perf_counter()

    diagnostics: list[Diagnostic] = []
    by_project: dict[int, tuple[Project, list[Template]]] = {}
    for source in sources:
        if source.template is not None:
            by_project.setdefault(id(source.project), (source.project, []))[1].append(source.template)
    for project, templates in by_project.values():
        diagnostics.extend(_validate(templates, project))
    _refuse_on_errors(diagnostics)
    warnings = _warnings_of(diagnostics)
    validated = time.perf_counter()

    renderer = _Renderer(sources, options)
    warnings.extend(
        _credential_placeholders(
            source.template
            for source in sources
            if source.template is not None and not renderer.fills_pull_secrets(source.project, source.template)
        )
    )
    renderer.seconds["load"] = loaded - started
    renderer.seconds["validate"] = validated - loaded
    excluded: dict[str, str] = {}
    regions_to_render = renderer.candidate_regions() if options.all_regions else wanted
    try:
        renderer.prefetch(regions_to_render)
        return _render_regions(renderer, regions_to_render, target, options, excluded, warnings)
    finally:
        renderer.close()


def _render_regions(
    renderer: _Renderer,
    regions_to_render: Sequence[str],
    target: Path,
    options: RenderOptions,
    excluded: dict[str, str],
    warnings: list[Diagnostic],
) -> RenderReport:
    """Render each region into the staging directory, write the manifest, publish."""
    rendered: list[RegionOutput] = []
    with StagedDirectory(target) as staged:
        writer = RenderWriter(staged)
        for region in regions_to_render:
            try:
                rendered.append(renderer.render_region(region, writer))
            except DeploypkgError as error:
                if not options.all_regions or error.rule not in REGION_RULES:
                    raise
                writer.drop(region)
                excluded[region] = error.render()
        if not rendered:
            from preprocessor.errors import PolicyError

            reasons = "; ".join(f"{region}: {reason}" for region, reason in excluded.items())
            raise PolicyError(f"no region can use every referenced package ({reasons})", rule="DPK301")

        for resolver in renderer.resolvers.values():
            if resolver.cut_short and resolver.credentials_expire_at is not None:
                warnings.append(
                    finding(
                        "DPK309",
                        None,
                        None,
                        f"the signing credentials expire at {utc_text(resolver.credentials_expire_at)}, before the "
                        f"requested {options.expires} s: presigned URLs from {resolver.store.url} die then",
                        "use credentials that live as long as the URLs must, or a shorter --expires",
                    )
                )
        writer.write_manifest(renderer.resolvers, excluded, options.expires, options.endpoint)
        started = time.perf_counter()
        staged.commit()
        writer.seconds["write"] += time.perf_counter() - started
    renderer.seconds.update(writer.seconds)
    files: dict[str, tuple[str, ...]] = {}
    for region_output in rendered:  # regions usually list the same files: one tuple for all of them
        listed = tuple(sorted(region_output.files))
        previous = next(reversed(files.values()), None)
        files[region_output.name] = previous if previous == listed else listed
    return RenderReport(
        out_dir=target,
        regions=tuple(region.name for region in rendered),
        excluded=excluded,
        files=files,
        substitutions=sum(region.substitution_count for region in rendered),
        artifacts={region.name: tuple(sorted(region.artifacts.values())) for region in rendered},
        warnings=tuple(warnings),
        seconds=dict(renderer.seconds),
    )
