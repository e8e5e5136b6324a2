"""The project a template belongs to: its config, associations, resource table and provider.

Each template uses the nearest ``deploypkg.yaml`` above it (``--config`` forces one for all),
plus the associations of the nearest ``.computenest/config.yaml`` next to or above the
template, not above the project root (the config's directory). ``deploypkg.yaml`` entries
win over Compute Nest ones. Projects are cached, so a scan of many files reads each config once.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from preprocessor import computenest
from preprocessor.computenest import associations_from_text, find_computenest_config
from preprocessor.computenest import read_text as read_computenest_text
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
    source_texts: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Each of ``sources`` (as :attr:`Association.source` names it) → its text as read once,
    for the suppression comments of the diagnostics that point into it."""


def project_for(path: Path, explicit_config: Path | None = None) -> Project:
    """The project of the template (or directory) at ``path``."""
    if explicit_config is not None:  # its directory resolved, the file kept as named, like config_for's
        config_path: Path | None = real_path(explicit_config.parent) / explicit_config.name
    else:
        config_path = config_for(path)
    root = config_path.parent if config_path is not None else real_path(Path.cwd())
    start = real_path(path)
    if not start.is_dir():
        start = start.parent
    computenest = find_computenest_config(start, root)
    return _project(config_path, computenest, root)


@functools.lru_cache(maxsize=64)
def _project(config_path: Path | None, computenest: Path | None, root: Path) -> Project:
    config = _config(config_path)
    associations = dict(config.associations)
    texts = {str(config_path): config.text} if config_path is not None else {}
    if computenest is not None:
        text = read_computenest_text(computenest)
        texts[str(computenest)] = text
        for key, association in associations_from_text(text, computenest, skip=associations).items():
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
        source_texts=texts,
    )


@functools.lru_cache(maxsize=64)
def _config(config_path: Path | None) -> ProjectConfig:
    return parse_config(config_path) if config_path is not None else ProjectConfig()


def clear_cache() -> None:
    """Forget every project read so far (for long-running callers whose configs change)."""
    _project.cache_clear()
    _config.cache_clear()
    computenest.clear_cache()


def real_path(path: Path) -> Path:
    """``path`` made absolute with its symbolic links followed as far as they go. A link loop
    or a dangling link is left in place for reading it to report, never raised here (unlike
    ``Path.resolve()``, which raises ``RuntimeError`` on a loop before Python 3.13)."""
    return Path(os.path.realpath(path))


def display_path(path: Path) -> str:
    """``path`` as the user named it: relative to the working directory when it is under it,
    else absolute. Symbolic links are not followed, so a link is shown by its own name."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(os.getcwd()).as_posix()
    except ValueError:
        return str(absolute)
