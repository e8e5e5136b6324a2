"""Region work directories: mirror a rendered module tree, keep what ``terraform init`` made.

A work directory is scratch space owned by deploypkg. After each render it holds exactly the
rendered files, plus ``.terraform/`` (installed modules and providers) and the dependency
lock file init wrote when the module has none, so the next init has nothing to install.
Files whose bytes did not change are left alone (their mtimes too); changed files are
replaced atomically one by one.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import tempfile
from pathlib import Path

KEPT_DIRECTORY = ".terraform"
LOCK_FILE = ".terraform.lock.hcl"


def _kept(relative: Path, source_root: Path) -> bool:
    if relative.parts[0] == KEPT_DIRECTORY:
        return True
    return relative == Path(LOCK_FILE) and not (source_root / LOCK_FILE).exists()


def _relative_files(root: Path) -> set[Path]:
    found: set[Path] = set()
    for directory, subdirs, files in os.walk(root):
        subdirs.sort()
        base = Path(directory).relative_to(root)
        found.update(base / name for name in files)
    return found


def sync_tree(source: Path, target: Path) -> None:
    """Make ``target`` mirror ``source`` except for init's own state (see module docstring)."""
    target.mkdir(parents=True, exist_ok=True)
    wanted = _relative_files(source)
    for directory, subdirs, files in os.walk(target, topdown=True):
        base = Path(directory).relative_to(target)
        if base == Path("."):
            subdirs[:] = [name for name in subdirs if name != KEPT_DIRECTORY]
        for name in files:
            relative = base / name
            if relative not in wanted and not _kept(relative, source):
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


def _remove_empty_directories(root: Path) -> None:
    for directory, _subdirs, _files in os.walk(root, topdown=False):
        path = Path(directory)
        if path != root and KEPT_DIRECTORY not in path.relative_to(root).parts and not any(path.iterdir()):
            path.rmdir()
