"""Associations read from a Compute Nest project's ``.computenest/config.yaml``.

Compute Nest keeps the link between a template and its deployment packages under
``Service.DeployMetadata.SupplierDeployMetadata``::

    ArtifactRelation:                       # keyed by the literal ImageId of the template
      m-bp1ab5ek0o5xqa1y9abc:
        ArtifactId: ${Artifact.DbImage.ArtifactId}
        ArtifactVersion: draft
    FileArtifactRelation:                   # keyed by the placeholder text
      '{{ computenest::file::app-bundle }}':
        ArtifactId: ${Artifact.AppBundle.ArtifactId}
    AcrImageArtifactRelation: ...           # '{{ computenest::acrimage::NAME }}'
    HelmChartArtifactRelation: ...          # '{{ computenest::helmchart::NAME }}'

and describes each artifact under the top-level ``Artifact.<Key>`` map.

Which package an entry names (the rule, in order):

1. ``Artifact.<Key>.ArtifactName`` when the config defines the artifact ``<Key>`` that
   ``ArtifactId: ${Artifact.<Key>.ArtifactId}`` points at and gives it a name;
2. otherwise ``<Key>`` itself.

The name is used as written and must be a valid package name (lowercase letters, digits,
``.``, ``_``, ``-``; see :mod:`preprocessor.names`): ``EcsImage`` is not, so such a key needs
an ``ArtifactName`` or an entry in ``deploypkg.yaml`` (which wins over this file; a key
``deploypkg.yaml`` already maps is not checked here at all). ``ArtifactVersion`` is not used:
Compute Nest's version numbers are not catalog versions, so an entry means "the newest
published version"; pin a version or channel in ``deploypkg.yaml`` instead.

Placeholder relations are keyed by the placeholder name (``app-bundle`` above), which is how
``deploypkg.yaml`` keys them too.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Collection
from pathlib import Path

import yaml

from preprocessor.config import Association, compose_config, config_error_at, is_config_file, read_config_text
from preprocessor.errors import InputError
from preprocessor.names import PackageSpec, check

COMPUTENEST_DIR = ".computenest"
CONFIG_FILE = "config.yaml"
WHAT = "Compute Nest config"

# relation section -> placeholder types its keys may use (None: keyed by a literal image ID)
RELATIONS: dict[str, tuple[str, ...] | None] = {
    "ArtifactRelation": None,
    "FileArtifactRelation": ("file", "publicfile"),
    "AcrImageArtifactRelation": ("acrimage",),
    "HelmChartArtifactRelation": ("helmchart",),
}

_PLACEHOLDER_KEY = re.compile(r"\{\{\s*computenest::([a-z]+)::([^\s{}]+)\s*\}\}")
_ARTIFACT_REF = re.compile(r"\$\{Artifact\.([^.{}]+)\.ArtifactId\}")
_RELATION_PATH = ("Service", "DeployMetadata", "SupplierDeployMetadata")


def find_computenest_config(start: Path, stop: Path | None) -> Path | None:
    """``.computenest/config.yaml`` in ``start`` or a directory above it, not going above ``stop``
    (when ``start`` is under ``stop``; otherwise only ``start`` itself is looked at).
    Cached: a scan asks once per template directory."""
    return _find(Path(os.path.realpath(start)), Path(os.path.realpath(stop)) if stop is not None else None)


@functools.lru_cache(maxsize=256)
def _find(here: Path, stop: Path | None) -> Path | None:
    limit = stop if stop is not None else here
    candidates = [here]
    if here.is_relative_to(limit):
        candidates += [parent for parent in here.parents if parent.is_relative_to(limit)]
    for directory in candidates:
        candidate = directory / COMPUTENEST_DIR / CONFIG_FILE
        if is_config_file(candidate):
            return candidate
    return None


def clear_cache() -> None:
    """Forget where Compute Nest configs were found (for long-running callers)."""
    _find.cache_clear()


def read_associations(path: Path, skip: Collection[str] = ()) -> dict[str, Association]:
    """Association key → :class:`Association` from a Compute Nest config; keys in ``skip``
    (already mapped by ``deploypkg.yaml``) are left out without being checked."""
    return associations_from_text(read_text(path), path, skip)


def read_text(path: Path) -> str:
    """The config's text, read as safely as a template (a regular file of bounded size)."""
    return read_config_text(path, WHAT)


def associations_from_text(text: str, path: Path, skip: Collection[str] = ()) -> dict[str, Association]:
    """:func:`read_associations` of the config's text as already read from ``path``."""
    root = compose_config(text, path, WHAT)
    if not isinstance(root, yaml.MappingNode):
        return {}
    artifacts = _artifact_names(path, _child(root, "Artifact"))
    section: yaml.Node | None = root
    for key in _RELATION_PATH:
        section = _child(section, key)
    found: dict[str, Association] = {}
    if section is None:
        return found
    for relation, placeholder_types in RELATIONS.items():
        entries = _child(section, relation)
        if entries is None or _is_null(entries):
            continue
        if not isinstance(entries, yaml.MappingNode):
            raise config_error_at(path, entries, f"{relation} must be a mapping of keys to artifacts")
        for key_node, body in entries.value:
            key = _association_key(path, key_node, relation, placeholder_types)
            if key in skip:
                continue
            package = _package_name(path, key, body, artifacts)
            found[key] = Association(
                key, PackageSpec(package), str(path), key_node.start_mark.line + 1, key_node.start_mark.column + 1
            )
    return found


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


def _artifact_names(path: Path, artifacts: yaml.Node | None) -> dict[str, tuple[str, yaml.Node]]:
    """Artifact key → (ArtifactName, its node) for artifacts that have a name."""
    names: dict[str, tuple[str, yaml.Node]] = {}
    if not isinstance(artifacts, yaml.MappingNode):
        return names
    for key_node, body in artifacts.value:
        name_node = _child(body, "ArtifactName")
        name = _scalar(name_node)
        key = _scalar(key_node)
        if key is not None and name is not None and name_node is not None:
            names[key] = (name, name_node)
    return names


def _association_key(path: Path, key_node: yaml.Node, relation: str, placeholder_types: tuple[str, ...] | None) -> str:
    key = _scalar(key_node)
    if key is None or not key.strip():
        raise config_error_at(path, key_node, f"a key of {relation} must be a non-empty string")
    if placeholder_types is None:
        return key
    match = _PLACEHOLDER_KEY.fullmatch(key.strip())
    if match is None or match.group(1) not in placeholder_types:
        examples = " or ".join(f"'{{{{ computenest::{kind}::NAME }}}}'" for kind in placeholder_types)
        raise config_error_at(
            path, key_node, f"{relation} key {key!r} is not a placeholder it can hold", f"write {examples}"
        )
    return match.group(2)


def _package_name(path: Path, key: str, body: yaml.Node, artifacts: dict[str, tuple[str, yaml.Node]]) -> str:
    id_node = _child(body, "ArtifactId")
    artifact_id = _scalar(id_node)
    if id_node is None or artifact_id is None:
        hint = "add ArtifactId: ${Artifact.<Key>.ArtifactId}"
        raise config_error_at(path, body, f"the relation of {key!r} has no ArtifactId", hint)
    match = _ARTIFACT_REF.fullmatch(artifact_id.strip())
    if match is None:
        raise config_error_at(
            path,
            id_node,
            f"ArtifactId {artifact_id!r} of {key!r} does not name an artifact of this config",
            "write ArtifactId: ${Artifact.<Key>.ArtifactId}, or map the key in deploypkg.yaml instead",
        )
    artifact_key = match.group(1)
    name, node = artifacts.get(artifact_key, (artifact_key, id_node))
    try:
        return check("package", name)
    except InputError as exc:
        raise config_error_at(
            path,
            node,
            f"artifact {artifact_key!r} does not give a valid package name: {exc.message}",
            f"set Artifact.{artifact_key}.ArtifactName to the catalog package name (lowercase letters, digits,"
            f" '.', '_', '-'), or map {key!r} in deploypkg.yaml, which wins",
        ) from None
