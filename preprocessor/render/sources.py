"""The files a render reads: every file under the input paths, each with its project, its
path relative to the input root, and its loaded template (``None`` for a file copied along
and for a ``.j2`` file, which is rendered per region).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from preprocessor.errors import InputError
from preprocessor.model import Template
from preprocessor.paths import display_path
from preprocessor.render.jinja import JINJA_SUFFIX

if TYPE_CHECKING:
    from preprocessor.project import Project


@dataclass
class Source:
    path: Path
    relative: PurePosixPath
    project: Project
    template: Template | None = None
    """A loaded template (not for ``.j2`` files)."""

    # Cached: asked for every region of every file.
    @cached_property
    def is_jinja(self) -> bool:
        return self.path.name.endswith(JINJA_SUFFIX)

    @cached_property
    def output(self) -> PurePosixPath:
        if self.is_jinja:
            return self.relative.with_name(self.relative.name[: -len(JINJA_SUFFIX)])
        return self.relative

    @cached_property
    def output_text(self) -> str:
        """:attr:`output` as a POSIX path string."""
        return self.output.as_posix()


def input_root(paths: Sequence[Path]) -> Path:
    """The directory output paths are relative to: the common directory of the inputs."""
    absolute = [Path(os.path.abspath(p)) for p in paths]
    directories = [p if p.is_dir() else p.parent for p in absolute]
    root = directories[0]
    for directory in directories[1:]:
        while root != directory and root not in directory.parents:
            root = root.parent
    return root


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror}", file=display_path(path), rule="DPK002") from None


def load_sources(
    paths: Sequence[Path], root: Path, out: Path, config: Path | None, computenest_config: Path | None = None
) -> list[Source]:
    from preprocessor.project import project_for
    from preprocessor.templates import discover, iter_files, load_template

    # Symlinks are not resolved, so a link inside the input root keeps its place in the output;
    # the output directory and the staging directories of earlier renders beside it are skipped.
    staging = (f".{out.name}.render-", f".{out.name}.old-")

    def wanted(path: Path) -> bool:
        resolved = Path(os.path.realpath(path))  # no RuntimeError on a symlink loop
        if resolved == out or out in resolved.parents:
            return False
        return not any(part.startswith(staging) for part in path.parts)

    candidates = {Path(os.path.abspath(p)) for p in discover(list(paths)) if wanted(p)}
    files = {Path(os.path.abspath(p)) for p in iter_files(list(paths)) if wanted(p)}
    sources: list[Source] = []
    outputs: dict[PurePosixPath, Path] = {}
    for path in sorted(files | candidates):
        if not path.exists():
            raise InputError(
                "cannot read: a dangling symbolic link or a symbolic link loop",
                file=display_path(path),
                rule="DPK002",
                hint="fix or remove the link; render copies or renders every file under its inputs",
            )
        relative = PurePosixPath(path.relative_to(root).as_posix())
        project = project_for(path, config, computenest_config)
        source = Source(path, relative, project)
        clash = outputs.setdefault(source.output, path)
        if clash != path:
            raise InputError(
                f"{display_path(path)} and {display_path(clash)} would both be written to {source.output}",
                hint="rename one of them (a .j2 file's output drops the .j2)",
            )
        if path in candidates and not source.is_jinja:
            source.template = load_template(path, project.table)
        sources.append(source)
    return sources
