"""``render_to_directory``: each region's copy of the templates, spliced, checked and written
atomically with its artifacts and a manifest.

Steps, one direction: discover and load → validate (refuse on errors) → resolve every
associated reference per region (cached, access-checked) → splice, re-parse, check → stage
everything in a temporary directory → move it into place.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, NamedTuple

from preprocessor.catalog.store import Endpoint
from preprocessor.errors import DeploypkgError, InputError
from preprocessor.model import Template
from preprocessor.names import check, parse_package_spec
from preprocessor.render.jinja import JINJA_SUFFIX, render_jinja
from preprocessor.render.manifest import ARTIFACTS_NAME, RegionOutput, artifacts_document, manifest_document
from preprocessor.render.output import MANIFEST_NAME, StagedDirectory, check_out_dir, json_bytes
from preprocessor.render.presign import DEFAULT_EXPIRES, MAX_EXPIRES, credentials_expiry, utc_text
from preprocessor.render.resolve import REGION_RULES, Artifact, ArtifactResolver
from preprocessor.render.sources import Source, display, input_root, load_sources, read_bytes
from preprocessor.render.splice import Substitution, check_value, splice, value_class, verify_rendered
from preprocessor.render.uses import Use, uses_of
from preprocessor.rules import Severity

if TYPE_CHECKING:
    from preprocessor.project import Project
    from preprocessor.validate.diagnostic import Diagnostic


class RenderOptions(NamedTuple):
    account: str | None = None
    """Whose access rules apply; default: the project config's ``account``."""
    expires: int = DEFAULT_EXPIRES
    endpoint: Endpoint = "public"
    config: Path | None = None
    all_regions: bool = False


class RenderWarning(NamedTuple):
    rule: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None

    def render(self) -> str:
        where = ":".join(str(part) for part in (self.file, self.line, self.column) if part is not None)
        return f"{where}: {self.rule} {self.message}" if where else f"{self.rule} {self.message}"


class RenderReport(NamedTuple):
    out_dir: Path
    regions: tuple[str, ...]
    excluded: dict[str, str]
    """Region → why it was left out (``--all-regions``)."""
    files: dict[str, tuple[str, ...]]
    """Region → output paths (relative to the region directory)."""
    substitutions: int
    artifacts: dict[str, tuple[Artifact, ...]]
    warnings: tuple[RenderWarning, ...]


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


class _Renderer:
    def __init__(self, sources: list[Source], options: RenderOptions) -> None:
        self.sources = sources
        self.options = options
        self.signed_at = datetime.now(timezone.utc).replace(microsecond=0)
        self.resolvers: dict[tuple[str, str | None], ArtifactResolver] = {}
        self._verified: set[tuple[int, tuple[tuple[str, frozenset[str], bool], ...]]] = set()
        """(template, value classes) whose spliced output was re-parsed and checked."""
        self._uses: dict[int, list[Use]] = {
            id(source): uses_of(source.template, source.project) for source in sources if source.template is not None
        }

    def resolver(self, project: Project) -> ArtifactResolver:
        url = project.config.resolve_catalog_url()
        if not url:
            raise InputError(
                "no catalog configured",
                file=str(project.config.path) if project.config.path else None,
                hint="set `catalog: file://DIR` or `catalog: s3://BUCKET/PREFIX` in deploypkg.yaml",
            )
        account = self.options.account or project.config.account
        key = (url, account)
        found = self.resolvers.get(key)
        if found is None:
            from preprocessor.catalog.catalog import Catalog
            from preprocessor.catalog.store import open_store

            store = open_store(url)
            found = ArtifactResolver(
                catalog=Catalog(store),
                store=store,
                account=account,
                expires=self.options.expires,
                endpoint=self.options.endpoint,
                signed_at=self.signed_at,
                credentials_expiry=lambda: _store_credentials_expiry(store),
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
            for use in self._uses.get(id(source), ()):
                resolved = self.resolver(source.project).resolve(use.spec)
                regions.update(resolved.version.distributions)
        if not regions:
            raise InputError(
                "--all-regions found no region: no `regions` in the config and no package distributions",
                hint="list regions in deploypkg.yaml or pass --region",
            )
        return sorted(regions)

    def render_region(self, region: str) -> RegionOutput:
        result = RegionOutput(region)
        for source in self.sources:
            if source.is_jinja:
                self._render_jinja(source, result)
            elif source.template is None:
                result.copies[source.relative] = source.path
            else:
                uses = self._uses[id(source)]
                result.files[source.output] = self._splice(source, source.template, uses, result)
        return result

    def _splice(self, source: Source, template: Template, uses: list[Use], result: RegionOutput) -> bytes:
        from preprocessor.templates import load_text

        if not uses:
            return template.encoded()
        resolver = self.resolver(source.project)
        substitutions: list[Substitution] = []
        for use in uses:
            artifact = resolver.artifact(use.spec, use.kind, result.name)
            check_value(artifact.value, template.display, use.span, f"{artifact.package}@{artifact.version}")
            substitutions.append(Substitution(use.span, use.old, artifact.value, use.kind))
            result.artifacts[(artifact.package, artifact.version, artifact.kind)] = artifact
            result.substitutions.append(
                {
                    "file": source.output.as_posix(),
                    "line": use.span.line,
                    "column": use.span.column,
                    "end_line": use.span.end_line,
                    "end_column": use.span.end_column,
                    "kind": use.kind,
                    "resource": use.resource,
                    "property": use.property,
                    "old": use.old,
                    "new": artifact.value,
                    "package": f"{artifact.package}@{artifact.version}",
                    "channel": artifact.channel,
                }
            )
        text = splice(template.text, substitutions)
        signature = (id(template), tuple(value_class(sub.new) for sub in substitutions))
        if signature not in self._verified:
            reparsed = load_text(text, template.path, source.project.table, template.display, template.bom)
            verify_rendered(template, reparsed, substitutions, template.display)
            self._verified.add(signature)
        return template.encoded(text)

    def _render_jinja(self, source: Source, result: RegionOutput) -> None:
        from preprocessor.templates import load_text

        raw = read_bytes(source.path)
        bom = raw.startswith(b"\xef\xbb\xbf")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise InputError(
                f"not UTF-8: {error.reason} at byte {error.start}", file=display(source.path), rule="DPK002"
            ) from None
        project = source.project
        resolver = self.resolver(project)
        shown = display(source.path)
        region = result.name

        written: set[str] = set()

        def artifact(name: str, kind: str) -> Artifact:
            association = project.associations.get(name)
            spec = association.spec if association is not None else parse_package_spec(name)
            found = resolver.artifact(spec, kind, region)
            written.add(found.value)
            result.artifacts[(found.package, found.version, found.kind)] = found
            result.substitutions.append(
                {
                    "file": source.output.as_posix(),
                    "kind": f"jinja:{kind}",
                    "name": name,
                    "new": found.value,
                    "package": f"{found.package}@{found.version}",
                    "channel": found.channel,
                }
            )
            return found

        def package(name: str) -> dict[str, Any]:
            association = project.associations.get(name)
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
            result.files[source.output] = (b"\xef\xbb\xbf" if bom else b"") + rendered.encode("utf-8")
            return
        # The IDs image() wrote are this region's copies, not associated literals: not DPK102 findings.
        produced = {(ref.span.line, ref.span.column) for ref in template.image_refs if ref.value in written}
        found = _validate([template], project)
        _refuse_on_errors([d for d in found if not (d.rule_id == "DPK102" and (d.line, d.column) in produced)])
        result.files[source.output] = self._splice(source, template, uses_of(template, project), result)


def _store_credentials_expiry(store: Any) -> datetime | None:
    """When an S3 store's signing credentials expire (assumed roles, credential processes, SSO),
    if they do: resolved through the same boto3 credential chain and profile the store signs with."""
    options = getattr(store, "options", None)
    if options is None or not hasattr(options, "profile"):
        return None
    import boto3

    return credentials_expiry(boto3.session.Session(profile_name=options.profile).get_credentials())


def _validate(templates: list[Template], project: Project) -> list[Diagnostic]:
    from preprocessor.validate import validate_templates

    return list(validate_templates(templates, project))


def _refuse_on_errors(diagnostics: list[Diagnostic]) -> None:
    if any(d.severity is Severity.ERROR for d in diagnostics):
        raise ValidationRefused(sorted(diagnostics, key=lambda d: d.sort_key()))


def _warnings_of(diagnostics: list[Diagnostic]) -> list[RenderWarning]:
    return [
        RenderWarning(d.rule_id, d.message, d.file, d.line, d.column)
        for d in sorted(diagnostics, key=lambda d: d.sort_key())
        if d.severity is not Severity.ERROR
    ]


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
    sources = load_sources(inputs, root, out, options.config)

    diagnostics: list[Diagnostic] = []
    by_project: dict[int, tuple[Project, list[Template]]] = {}
    for source in sources:
        if source.template is not None:
            by_project.setdefault(id(source.project), (source.project, []))[1].append(source.template)
    for project, templates in by_project.values():
        diagnostics.extend(_validate(templates, project))
    _refuse_on_errors(diagnostics)
    warnings = _warnings_of(diagnostics)

    renderer = _Renderer(sources, options)
    excluded: dict[str, str] = {}
    rendered: list[RegionOutput] = []
    for region in renderer.candidate_regions() if options.all_regions else wanted:
        try:
            rendered.append(renderer.render_region(region))
        except DeploypkgError as error:
            if not options.all_regions or error.rule not in REGION_RULES:
                raise
            excluded[region] = error.render()
    if not rendered:
        from preprocessor.errors import PolicyError

        reasons = "; ".join(f"{region}: {reason}" for region, reason in excluded.items())
        raise PolicyError(f"no region can use every referenced package ({reasons})", rule="DPK301")

    for resolver in renderer.resolvers.values():
        if resolver.cut_short and resolver.credentials_expire_at is not None:
            warnings.append(
                RenderWarning(
                    "DPK309",
                    f"the signing credentials expire at {utc_text(resolver.credentials_expire_at)}, before the "
                    f"requested {options.expires} s: presigned URLs from {resolver.store.url} die then",
                )
            )
    manifest = manifest_document(renderer.resolvers, rendered, excluded, options.expires, options.endpoint)
    outputs: list[tuple[PurePosixPath, bytes | Path]] = [
        (PurePosixPath(MANIFEST_NAME), json_bytes(manifest, compact=True))
    ]
    for done in rendered:
        region_dir = PurePosixPath(done.name)
        outputs.extend((region_dir / relative, data) for relative, data in done.files.items())
        outputs.extend((region_dir / relative, source_path) for relative, source_path in done.copies.items())
        outputs.append((region_dir / ARTIFACTS_NAME, json_bytes(artifacts_document(done))))
    with StagedDirectory(target) as staged:
        staged.write_all(outputs)
        staged.commit()
    return RenderReport(
        out_dir=target,
        regions=tuple(region.name for region in rendered),
        excluded=excluded,
        files={
            region.name: tuple(sorted(p.as_posix() for p in (*region.files, *region.copies))) for region in rendered
        },
        substitutions=sum(len(region.substitutions) for region in rendered),
        artifacts={region.name: tuple(sorted(region.artifacts.values())) for region in rendered},
        warnings=tuple(warnings),
    )
