"""Associations read from a Compute Nest project's ``.computenest/config.yaml``.

Compute Nest keeps the link between a template and its deployment packages under
``Service.DeployMetadata.SupplierDeployMetadata``::

    ArtifactRelation:                       # keyed by the literal ImageId of the template
      m-bp1ab5ek0o5xqa1y9abc:
        ArtifactId: ${Artifact.DbImage.ArtifactId}
        ArtifactVersion: draft
      ecs_image_web:                        # any string: Compute Nest matches it literally
        ArtifactId: artifact-294b0a26e269458eb6b9
    FileArtifactRelation:                   # keyed by the placeholder text
      '{{ computenest::file::app-bundle }}':
        ArtifactId: ${Artifact.AppBundle.ArtifactId}
    AcrImageArtifactRelation: ...           # '{{ computenest::acrimage::NAME }}'
    HelmChartArtifactRelation: ...          # '{{ computenest::helmchart::NAME }}'

and describes each artifact under the top-level ``Artifact.<Key>`` map.

Each relation section is a namespace of its own, as in Compute Nest: ``ImageId: dify`` related
to an image and ``{{ computenest::helmchart::dify }}`` related to a chart are two associations.

Which package an entry names (the rule, in order):

1. ``ArtifactId: ${Artifact.<Key>.ArtifactId}``: the package ``deploypkg.yaml`` maps ``<Key>``
   or the artifact's ``ArtifactName`` to under ``computenest: artifacts:``; else the package
   name derived from ``ArtifactName`` (or from ``<Key>`` when the artifact has no name) by
   :func:`package_name_for` (``7DaysToDie`` → ``7daystodie``, ``Chart_Argoworkflow`` →
   ``chart_argoworkflow``). A ``<Key>`` the config does not define is DPK205.
2. ``ArtifactId: artifact-…`` (an existing artifact, as computenest-cli reads a value starting
   with ``artifact``): the package ``deploypkg.yaml`` maps that artifact ID to under
   ``computenest: artifacts:``; unmapped, DPK204 at that line.

A relation that maps to no package is a finding (DPK204/DPK205) at its line, never a refusal of
the project: its key is still known as related, so the templates that use it get no second
finding, and render refuses them only because of this one. ``ArtifactVersion`` is not used:
Compute Nest's version numbers are not catalog versions, so an entry means "the newest
published version"; pin a version or channel in ``deploypkg.yaml`` instead. Keys
``deploypkg.yaml`` already maps (as associations) are left out without being checked.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import NamedTuple

import yaml

from preprocessor.config import Association, compose_config, is_config_file, read_config_text
from preprocessor.model import PLACEHOLDER_TYPES
from preprocessor.names import PACKAGE_NAME, PackageSpec

COMPUTENEST_DIR = ".computenest"
CONFIG_FILE = "config.yaml"
WHAT = "Compute Nest config"

IMAGE_RELATION = "ArtifactRelation"
# relation section (a namespace of keys) -> placeholder types its keys may use (None: literal image IDs)
RELATIONS: dict[str, tuple[str, ...] | None] = {
    IMAGE_RELATION: None,
    "FileArtifactRelation": ("file", "publicfile"),
    "AcrImageArtifactRelation": ("acrimage",),
    "HelmChartArtifactRelation": ("helmchart",),
}
_NAMESPACE_OF_TYPE = {kind: relation for relation, kinds in RELATIONS.items() for kind in kinds or ()}
assert set(_NAMESPACE_OF_TYPE) == set(PLACEHOLDER_TYPES)

_PLACEHOLDER_KEY = re.compile(r"\{\{\s*computenest::([a-z]+)::([^\s{}]+)\s*\}\}")
_ARTIFACT_REF = re.compile(r"\$\{Artifact\.([^.{}]+)\.ArtifactId\}")
_ARTIFACT_ID = re.compile(r"artifact[0-9A-Za-z_-]*")  # computenest-cli: "starts with artifact"
_RELATION_PATH = ("Service", "DeployMetadata", "SupplierDeployMetadata")
_NOT_IN_NAME = re.compile(r"[^a-z0-9._-]+")


def namespace_of(placeholder_type: str) -> str | None:
    """The relation section whose keys a placeholder of this type is looked up in."""
    return _NAMESPACE_OF_TYPE.get(placeholder_type)


def package_name_for(artifact_name: str) -> str | None:
    """The catalog package name of a Compute Nest artifact name (deterministic, documented):
    lower case; every run of characters a package name cannot hold becomes one ``-``; ``..``
    becomes ``.``; leading and trailing ``-``, ``.``, ``_`` are dropped; at most 128 characters.
    ``None`` when nothing is left (a name with no ASCII letter or digit)."""
    name = _NOT_IN_NAME.sub("-", artifact_name.lower())
    while ".." in name:
        name = name.replace("..", ".")
    name = name.strip("-._")[:128].rstrip("-._")
    return name if PACKAGE_NAME.fullmatch(name) else None


class RelationFinding(NamedTuple):
    """A relation that maps to no package: reported at its line, the project checked as usual."""

    rule_id: str
    message: str
    hint: str
    source: str
    line: int
    column: int
    length: int


class Relations(NamedTuple):
    associations: dict[tuple[str, str], Association]
    """(relation section, key) → association."""
    unmapped: dict[tuple[str, str], RelationFinding]
    """(relation section, key) → why that related key maps to no package."""
    findings: list[RelationFinding]
    """Every finding of the config, in file order (those of ``unmapped`` among them)."""


def find_computenest_config(start: Path, stop: Path | None) -> Path | None:
    """``.computenest/config.yaml`` in ``start`` or a directory above it, not going above ``stop``
    (when ``start`` is under ``stop``; otherwise only ``start`` itself is looked at).
    Cached: a scan asks once per template directory."""
    return _find(Path(os.path.realpath(start)), Path(os.path.realpath(stop)) if stop is not None else None)


def computenest_config_in(start: Path, stop: Path | None) -> Path | None:
    """:func:`find_computenest_config` of directories already resolved (absolute, links followed)."""
    return _find(start, stop)


@functools.lru_cache(maxsize=4096)
def _find(here: Path, stop: Path | None) -> Path | None:
    """``here``'s own config, else its parent's answer (cached: each directory is looked at once)
    while ``here`` is strictly below ``stop``."""
    candidate = here / COMPUTENEST_DIR / CONFIG_FILE
    if is_config_file(candidate):
        return candidate
    if stop is not None and here != stop and here.is_relative_to(stop):
        return _find(here.parent, stop)
    return None


def clear_cache() -> None:
    """Forget where Compute Nest configs were found (for long-running callers)."""
    _find.cache_clear()


def read_relations(
    path: Path, skip: Collection[str] = (), artifacts: Mapping[str, Association] | None = None
) -> Relations:
    """The relations of a Compute Nest config; keys in ``skip`` (already mapped by
    ``deploypkg.yaml``) are left out without being checked; ``artifacts`` is ``deploypkg.yaml``'s
    ``computenest: artifacts:`` (artifact ID, key or name → package)."""
    return relations_from_text(read_text(path), path, skip, artifacts)


def read_text(path: Path) -> str:
    """The config's text, read as safely as a template (a regular file of bounded size)."""
    return read_config_text(path, WHAT)


def relations_from_text(
    text: str, path: Path, skip: Collection[str] = (), artifacts: Mapping[str, Association] | None = None
) -> Relations:
    """:func:`read_relations` of the config's text as already read from ``path``."""
    root = compose_config(text, path, WHAT)
    relations = Relations({}, {}, [])
    if not isinstance(root, yaml.MappingNode):
        return relations
    resolver = _Resolver(path, _artifact_names(_child(root, "Artifact")), artifacts or {})
    section: yaml.Node | None = root
    for step in _RELATION_PATH:
        section = _child(section, step)
    if section is None:
        return relations
    for relation, placeholder_types in RELATIONS.items():
        entries = _child(section, relation)
        if entries is None or _is_null(entries):
            continue
        if not isinstance(entries, yaml.MappingNode):
            _not_a_mapping(path, relation, placeholder_types, entries, relations)
            continue
        for key_node, body in entries.value:
            key = _association_key(path, key_node, relation, placeholder_types)
            if isinstance(key, RelationFinding):
                relations.findings.append(key)
                continue
            if key in skip:
                continue
            resolved = resolver.package(key, relation, body, key_node)
            if isinstance(resolved, RelationFinding):
                relations.unmapped[(relation, key)] = resolved
                relations.findings.append(resolved)
            else:
                line, column = key_node.start_mark.line + 1, key_node.start_mark.column + 1
                relations.associations[(relation, key)] = Association(
                    key, resolved, str(path), line, column, namespace=relation
                )
    relations.findings.extend(resolver.collisions())
    relations.findings.sort(key=lambda f: (f.line, f.column))
    return relations


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for key_node, value in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return value  # type: ignore[no-any-return]
    return None


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null")


def _scalar(node: yaml.Node | None) -> str | None:
    if isinstance(node, yaml.ScalarNode) and not _is_null(node):
        return str(node.value)
    return None


def _artifact_names(artifacts: yaml.Node | None) -> dict[str, tuple[str | None, yaml.Node]]:
    """Artifact key → (its ArtifactName if it has one, the node to report a bad name at)."""
    names: dict[str, tuple[str | None, yaml.Node]] = {}
    if not isinstance(artifacts, yaml.MappingNode):
        return names
    for key_node, body in artifacts.value:
        key = _scalar(key_node)
        if key is None:
            continue
        name_node = _child(body, "ArtifactName")
        name = _scalar(name_node)
        names[key] = (name, name_node if name is not None and name_node is not None else key_node)
    return names


def _finding_at(path: Path, node: yaml.Node, rule_id: str, message: str, hint: str, length: int = 1) -> RelationFinding:
    return RelationFinding(
        rule_id, message, hint, str(path), node.start_mark.line + 1, node.start_mark.column + 1, length
    )


def _association_key(
    path: Path, key_node: yaml.Node, relation: str, placeholder_types: tuple[str, ...] | None
) -> str | RelationFinding:
    """The key a relation entry associates, or DPK207 when it cannot be one."""
    key = _scalar(key_node)
    if key is None or not key.strip():
        return _finding_at(
            path, key_node, "DPK207", f"a key of {relation} must be a non-empty string", "write the key as a string"
        )
    if placeholder_types is None:
        return key
    match = _PLACEHOLDER_KEY.fullmatch(key.strip())
    if match is None or match.group(1) not in placeholder_types:
        examples = " or ".join(f"'{{{{ computenest::{kind}::NAME }}}}'" for kind in placeholder_types)
        return _finding_at(
            path,
            key_node,
            "DPK207",
            f"{relation} key {key!r} is not a placeholder it can hold",
            f"write {examples}",
            len(key),
        )
    return match.group(2)


def _not_a_mapping(
    path: Path, relation: str, placeholder_types: tuple[str, ...] | None, entries: yaml.Node, relations: Relations
) -> None:
    """DPK207 for a relation section that is not a mapping. The keys of a list of one-key
    mappings (``- key: {ArtifactId: …}``) still count as related, so the templates that use them
    are not reported a second time for the same cause."""
    finding = _finding_at(
        path,
        entries,
        "DPK207",
        f"{relation} must be a mapping of keys to artifacts, not a {_shape(entries)}",
        "write each entry as 'KEY:' with ArtifactId below it, without the leading '- '",
    )
    relations.findings.append(finding)
    if not isinstance(entries, yaml.SequenceNode):
        return
    for item in entries.value:
        if not isinstance(item, yaml.MappingNode):
            continue
        for key_node, _body in item.value:
            key = _association_key(path, key_node, relation, placeholder_types)
            if isinstance(key, str):
                relations.unmapped[(relation, key)] = finding


def _shape(node: yaml.Node) -> str:
    return "list" if isinstance(node, yaml.SequenceNode) else "single value"


class _Resolver:
    """Relation body → package, with the artifacts of the config and ``deploypkg.yaml``'s mapping."""

    def __init__(
        self, path: Path, names: dict[str, tuple[str | None, yaml.Node]], mapped: Mapping[str, Association]
    ) -> None:
        self.path = path
        self.names = names
        self.mapped = mapped
        self.derived: dict[str, dict[str, yaml.Node]] = {}
        """Derived package name → the artifact names that gave it (a clash is a finding)."""

    def finding(self, rule_id: str, node: yaml.Node, message: str, hint: str, length: int = 1) -> RelationFinding:
        return _finding_at(self.path, node, rule_id, message, hint, length)

    def package(self, key: str, relation: str, body: yaml.Node, key_node: yaml.Node) -> PackageSpec | RelationFinding:
        id_node = _child(body, "ArtifactId")
        artifact_id = _scalar(id_node)
        if id_node is None or artifact_id is None:
            return self.finding(
                "DPK205",
                key_node,
                f"the {relation} entry {key!r} has no ArtifactId",
                "add ArtifactId: ${Artifact.<Key>.ArtifactId} naming an artifact of this config",
                len(key),
            )
        written = artifact_id.strip()
        reference = _ARTIFACT_REF.fullmatch(written)
        if reference is not None:
            return self._defined(reference.group(1), key, id_node)
        if _ARTIFACT_ID.fullmatch(written):
            found = self.mapped.get(written)
            if found is not None:
                return found.spec
            return self.finding(
                "DPK204",
                id_node,
                f"{key!r} is related to the existing artifact {written}, which maps to no package",
                f"map it under 'computenest: artifacts:' in deploypkg.yaml (e.g. {written}: my-package)",
                len(artifact_id),
            )
        return self.finding(
            "DPK205",
            id_node,
            f"ArtifactId {artifact_id!r} of {key!r} is neither ${{Artifact.<Key>.ArtifactId}} nor an artifact ID",
            "write ArtifactId: ${Artifact.<Key>.ArtifactId} for an artifact of this config, or the artifact-… ID",
            len(artifact_id),
        )

    def _defined(self, artifact_key: str, key: str, id_node: yaml.Node) -> PackageSpec | RelationFinding:
        if artifact_key not in self.names:
            defined = ", ".join(sorted(self.names)) or "none"
            return self.finding(
                "DPK205",
                id_node,
                f"no artifact {artifact_key!r} in this config (ArtifactId of {key!r})",
                f"define Artifact.{artifact_key}, or name one of the artifacts it defines ({defined})",
                len(id_node.value),
            )
        name, name_node = self.names[artifact_key]
        for candidate in (artifact_key, name):
            if candidate is not None and candidate in self.mapped:
                return self.mapped[candidate].spec
        source = name if name is not None else artifact_key
        package = package_name_for(source)
        if package is None:
            return self.finding(
                "DPK204",
                name_node,
                f"artifact {artifact_key!r} ({source!r}) gives no package name: it has no letter or digit a"
                " package name can hold",
                f"map it under 'computenest: artifacts:' in deploypkg.yaml (e.g. {artifact_key}: my-package)",
            )
        self.derived.setdefault(package, {})[source] = name_node
        return PackageSpec(package)

    def collisions(self) -> list[RelationFinding]:
        found: list[RelationFinding] = []
        for package, sources in self.derived.items():
            if len(sources) < 2:
                continue
            names = sorted(sources)
            for source in names[1:]:
                found.append(
                    self.finding(
                        "DPK204",
                        sources[source],
                        f"artifact names {names[0]!r} and {source!r} both give the package name {package!r}",
                        "map one of them to another package under 'computenest: artifacts:' in deploypkg.yaml",
                    )
                )
        return found
