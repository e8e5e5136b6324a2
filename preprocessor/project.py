"""The project a template belongs to: its config, associations, resource table and provider.

Each template uses the nearest ``deploypkg.yaml`` above it (``--config`` forces one for all),
plus the associations of the nearest ``.computenest/config.yaml`` next to or above the
template, not above the project root (the config's directory). ``deploypkg.yaml`` entries
win over Compute Nest ones. Projects are cached, so a scan of many files reads each config once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

from preprocessor import computenest
from preprocessor.computenest import find_computenest_config, read_associations
from preprocessor.config import Association, ProjectConfig, config_for, parse_config
from providers import Provider, ResourceSpec, get_provider, resource_table


@dataclass(frozen=True, eq=False)
class Project:
    config: ProjectConfig
    associations: dict[str, Association]
    """``deploypkg.yaml`` associations merged with ``.computenest/config.yaml`` ones."""
    table: dict[str, ResourceSpec]
    provider: Provider | None
    root: Path
    """The config's directory (the working directory when there is no config)."""
    computenest_config: Path | None = None
    sources: tuple[Path, ...] = field(default=())
    """The config files the associations come from."""


def project_for(path: Path, explicit_config: Path | None = None) -> Project:
    """The project of the template (or directory) at ``path``."""
    config_path = explicit_config.resolve() if explicit_config is not None else config_for(path)
    root = config_path.parent if config_path is not None else Path.cwd().resolve()
    start = path.resolve()
    if not start.is_dir():
        start = start.parent
    computenest = find_computenest_config(start, root)
    return _project(config_path, computenest, root)


@functools.lru_cache(maxsize=64)
def _project(config_path: Path | None, computenest: Path | None, root: Path) -> Project:
    config = _config(config_path)
    associations = dict(config.associations)
    if computenest is not None:
        for key, association in read_associations(computenest, skip=associations).items():
            associations[key] = association
    provider = get_provider(config.provider) if config.provider else None
    sources = tuple(p for p in (config_path, computenest) if p is not None)
    return Project(
        config=config,
        associations=associations,
        table=resource_table(config.resource_types, config.provider),
        provider=provider,
        root=root,
        computenest_config=computenest,
        sources=sources,
    )


@functools.lru_cache(maxsize=64)
def _config(config_path: Path | None) -> ProjectConfig:
    return parse_config(config_path) if config_path is not None else ProjectConfig()


def clear_cache() -> None:
    """Forget every project read so far (for long-running callers whose configs change)."""
    _project.cache_clear()
    _config.cache_clear()
    computenest.clear_cache()


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it is under it, else as an absolute path."""
    absolute = path.resolve() if not path.is_absolute() else path
    try:
        return absolute.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(absolute)
