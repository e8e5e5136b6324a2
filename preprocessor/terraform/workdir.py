"""Region work directories: mirror a rendered module tree, keep what Terraform wrote there.

A work directory is scratch space owned by deploypkg. After each render it holds exactly the
rendered files plus the paths Terraform itself owns (:data:`TERRAFORM_OWNED`): ``.terraform/``
(installed modules and providers, so the next init has nothing to install), the lock file
init wrote, and any local state (someone may have applied a saved plan there; a re-render
must never delete state). Files whose bytes did not change are left alone (mtimes too);
changed files are replaced atomically one by one.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import tempfile
from pathlib import Path
from typing import NamedTuple

from preprocessor.errors import InputError


class Owned(NamedTuple):
    name: str
    """A top-level name in the module directory."""
    directory: bool
    mirrored: bool
    """Whether the module's own copy, if it has one, replaces the work directory's."""


TERRAFORM_OWNED = (
    Owned(".terraform", directory=True, mirrored=False),
    Owned(".terraform.lock.hcl", directory=False, mirrored=True),  # the module's pins apply to every region
    Owned("terraform.tfstate", directory=False, mirrored=False),  # local state belongs to one deployment
    Owned("terraform.tfstate.backup", directory=False, mirrored=False),
    Owned(".terraform.tfstate.lock.info", directory=False, mirrored=False),
    Owned("terraform.tfstate.d", directory=True, mirrored=False),  # local workspaces
)
_OWNED = {entry.name: entry for entry in TERRAFORM_OWNED}

MARKER = ".deploypkg-work-dir"
"""Written into every work directory: only a directory carrying it is ever mirrored into (and so
has files deleted), never a user's directory that happens to be named like a region."""


def owned(relative: Path) -> Owned | None:
    entry = _OWNED.get(relative.parts[0])
    if entry is None or (not entry.directory and len(relative.parts) > 1):
        return None
    return entry


def _relative_files(root: Path) -> set[Path]:
    found: set[Path] = set()
    for directory, subdirs, files in os.walk(root):
        subdirs.sort()
        base = Path(directory).relative_to(root)
        found.update(base / name for name in files)
    return found


def sync_tree(source: Path, target: Path) -> list[Path]:
    """Make ``target`` mirror ``source`` except for Terraform's own paths (see the module
    docstring). Returns the source files not copied because Terraform owns them (local state)."""
    if target.is_dir() and any(target.iterdir()) and not (target / MARKER).is_file():
        raise InputError(
            f"{target} is not empty and is not a deploypkg plan work directory (no {MARKER}); "
            "planning would replace its files",
            hint="choose a --work-dir whose region directories are new, or were made by deploypkg plan",
        )
    target.mkdir(parents=True, exist_ok=True)
    (target / MARKER).touch()
    wanted: set[Path] = set()
    withheld: list[Path] = []
    for relative in _relative_files(source):
        entry = owned(relative)
        if entry is None or entry.mirrored:
            wanted.add(relative)
        else:
            withheld.append(relative)
    for directory, subdirs, files in os.walk(target, topdown=True):
        base = Path(directory).relative_to(target)
        if base == Path("."):
            subdirs[:] = [name for name in subdirs if owned(Path(name)) is None]
        for name in files:
            relative = base / name
            if relative not in wanted and owned(relative) is None and relative != Path(MARKER):
                (target / relative).unlink()
    for relative in sorted(wanted):
        source_file, target_file = source / relative, target / relative
        if target_file.is_file() and filecmp.cmp(source_file, target_file, shallow=False):
            continue
        if target_file.is_dir():
            shutil.rmtree(target_file)
        target_file.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target_file.parent, prefix=".deploypkg-")
        os.close(handle)
        shutil.copy2(source_file, temporary)
        os.replace(temporary, target_file)
    _remove_empty_directories(target)
    return sorted(withheld)


def _remove_empty_directories(root: Path) -> None:
    for directory, _subdirs, _files in os.walk(root, topdown=False):
        path = Path(directory)
        if path != root and owned(path.relative_to(root)) is None and not any(path.iterdir()):
            path.rmdir()
