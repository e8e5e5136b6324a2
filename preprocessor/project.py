"""The project a template belongs to: its config, associations, resource table and provider.

Each template uses the nearest ``deploypkg.yaml`` above it (``--config`` forces one for all),
plus the relations of a Compute Nest config: ``--computenest-config``, else ``computenest:
config:``, else the nearest ``.computenest/config.yaml`` next to or above the template, not
above the project root (the config's directory). ``deploypkg.yaml`` entries win over Compute
Nest ones. Projects are cached, so a scan of many files reads each config once.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from preprocessor import computenest
from preprocessor import config as config_module
from preprocessor.computenest import IMAGE_RELATION, RelationFinding, computenest_config_in, namespace_of
from preprocessor.computenest import read_text as read_computenest_text
from preprocessor.config import Association, ProjectConfig, config_in, parse_config
from providers import Provider, ResourceSpec, get_provider, resource_table


@dataclass(frozen=True, eq=False)
class Project:
    config: ProjectConfig
    relations: dict[tuple[str, str], Association]
    """Compute Nest relations: (relation section, key) → association; each section is a
    namespace of its own. ``deploypkg.yaml``'s associations (``config.associations``) win."""
    table: dict[str, ResourceSpec]
    provider: Provider | None
    root: Path
    """The config's directory (the working directory when there is no config)."""
    computenest_config: Path | None = None
    sources: tuple[Path, ...] = field(default=())
    """The config files the associations come from."""
    source_texts: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Each of ``sources`` (as :attr:`Association.source` names it) → its text as read once,
    for the suppression comments of the diagnostics that point into it."""
    unmapped: dict[tuple[str, str], RelationFinding] = field(default_factory=dict)
    """Compute Nest relations that map to no package: their keys are related, not unknown."""
    config_findings: tuple[RelationFinding, ...] = ()
    """What the Compute Nest config itself is reported for (DPK204/DPK205/DPK207), in file order."""

    def association(self, key: str, namespace: str | None) -> Association | None:
        """The association of ``key`` in a relation ``namespace`` (``deploypkg.yaml`` first)."""
        found = self.config.associations.get(key)
        if found is None and namespace is not None:
            found = self.relations.get((namespace, key))
        return found

    def image_association(self, value: str) -> Association | None:
        """The association of a literal image ID (or any string an ImageId holds)."""
        return self.association(value, IMAGE_RELATION)

    def placeholder_association(self, placeholder_type: str, name: str) -> Association | None:
        return self.association(name, namespace_of(placeholder_type))

    def is_related(self, key: str, namespace: str | None) -> bool:
        """Whether an association or a Compute Nest relation (mapped to a package or not) names
        ``key``: whatever its shape, it is a key to replace, not a value to judge or report again."""
        return self.association(key, namespace) is not None or self.unmapped_relation(key, namespace) is not None

    def unmapped_relation(self, key: str, namespace: str | None) -> RelationFinding | None:
        """Why a related key maps to no package (reported once, at the config), if it does."""
        return self.unmapped.get((namespace, key)) if namespace is not None else None

    def any_association(self, key: str) -> Association | None:
        """``deploypkg.yaml``'s association of ``key``, else the first relation of that key
        (image, file, container image, chart), for a name used without a kind."""
        found = self.config.associations.get(key)
        return found or next((a for (_, k), a in self.relations.items() if k == key), None)

    def all_associations(self) -> list[Association]:
        return [*self.config.associations.values(), *self.relations.values()]


def project_for(path: Path, explicit_config: Path | None = None, explicit_computenest: Path | None = None) -> Project:
    """The project of the template (or directory) at ``path``. The Compute Nest config is
    ``explicit_computenest``, else ``deploypkg.yaml``'s ``computenest: config:``, else the
    nearest ``.computenest/config.yaml``. Worked out once per directory: a scan asks per file."""
    return _project_in(_real_directory(path), explicit_config, explicit_computenest, os.getcwd())


def _real_directory(path: Path) -> Path:
    """The directory ``path`` is, or the one it is in, with symbolic links followed."""
    resolved = real_file_path(path)
    return resolved if resolved.is_dir() else resolved.parent


@functools.lru_cache(maxsize=4096)
def _real_parent(parent: Path, cwd: str) -> Path:
    return real_path(parent)


def real_file_path(path: Path) -> Path:
    """:func:`real_path` of a file found by a scan, its directory resolved once for all its files."""
    if path.name in ("", ".", "..") or os.path.islink(path):
        return real_path(path)
    return _real_parent(path.parent, os.getcwd()) / path.name


@functools.lru_cache(maxsize=256)
def _project_in(directory: Path, explicit_config: Path | None, explicit_computenest: Path | None, cwd: str) -> Project:
    if explicit_config is not None:  # its directory resolved, the file kept as named, like config_for's
        config_path: Path | None = real_path(explicit_config.parent) / explicit_config.name
    else:
        config_path = config_in(directory, Path(cwd))
    root = config_path.parent if config_path is not None else real_path(Path(cwd))
    chosen = explicit_computenest if explicit_computenest is not None else _config(config_path).computenest_config
    if chosen is not None:
        computenest_path: Path | None = real_path(chosen.parent) / chosen.name
    else:
        computenest_path = computenest_config_in(directory, root)
    return _project(config_path, computenest_path, root)


@functools.lru_cache(maxsize=64)
def _project(config_path: Path | None, computenest_path: Path | None, root: Path) -> Project:
    config = _config(config_path)
    texts = {str(config_path): config.text} if config_path is not None else {}
    relations = computenest.Relations({}, {}, [])
    if computenest_path is not None:
        text = read_computenest_text(computenest_path)
        texts[str(computenest_path)] = text
        relations = computenest.relations_from_text(
            text, computenest_path, skip=config.associations, artifacts=config.computenest_artifacts
        )
    provider = get_provider(config.provider) if config.provider else None
    sources = tuple(p for p in (config_path, computenest_path) if p is not None)
    return Project(
        config=config,
        relations=relations.associations,
        table=resource_table(config.resource_types, config.provider),
        provider=provider,
        root=root,
        computenest_config=computenest_path,
        sources=sources,
        source_texts=texts,
        unmapped=relations.unmapped,
        config_findings=tuple(relations.findings),
    )


@functools.lru_cache(maxsize=64)
def _config(config_path: Path | None) -> ProjectConfig:
    return parse_config(config_path) if config_path is not None else ProjectConfig()


def clear_cache() -> None:
    """Forget every project read so far (for long-running callers whose configs change)."""
    _project.cache_clear()
    _project_in.cache_clear()
    _real_parent.cache_clear()
    _config.cache_clear()
    config_module.clear_cache()
    computenest.clear_cache()


def real_path(path: Path) -> Path:
    """``path`` made absolute with its symbolic links followed as far as they go. A link loop
    or a dangling link is left in place for reading it to report, never raised here (unlike
    ``Path.resolve()``, which raises ``RuntimeError`` on a loop before Python 3.13)."""
    return Path(os.path.realpath(path))
