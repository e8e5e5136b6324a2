"""Atomic output: every file is written into a temporary directory beside ``--out`` as soon as
it is rendered, and the directory is moved into place only when the whole render succeeded; on
any error ``--out`` is exactly as before and the temporary directory is removed.

Replacing an existing output directory is two renames (old → backup, staging → out) on the
same filesystem, then the backup is removed; if the second rename fails the backup is put back.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

from preprocessor.errors import InputError

MANIFEST_NAME = "manifest.json"
ARTIFACTS_NAME = "artifacts.json"


def json_bytes(data: Any, *, compact: bool = False) -> bytes:
    """Deterministic JSON: sorted keys, trailing newline; two-space indent unless ``compact``
    (json's C encoder: a manifest of many thousand substitutions is written in milliseconds)."""
    if compact:
        text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    else:
        text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def check_out_dir(out_dir: Path, inputs: list[Path]) -> Path:
    """Refuse an output directory that would overwrite sources or unrelated files."""
    out = Path(os.path.realpath(out_dir))  # realpath: no RuntimeError on a symlink loop
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out_dir} exists and is not a directory", hint="choose a directory path")
    for source in inputs:
        resolved = Path(os.path.realpath(source))
        if resolved == out or out in resolved.parents:
            raise InputError(
                f"--out {out_dir} contains the input {source}; rendering would replace the sources",
                hint="choose an output directory outside the templates",
            )
    if out.is_dir() and any(out.iterdir()):
        foreign = _not_rendered_here(out)
        if foreign is not None:
            raise InputError(
                f"--out {out_dir} is not empty and is not the output of an earlier render ({foreign})",
                hint="choose an empty or new directory; render replaces its --out directory as a whole",
            )
    return out


def _not_rendered_here(out: Path) -> str | None:
    """Why ``out`` is not exactly what an earlier render wrote, or None when it is.

    Render replaces ``--out`` as a whole, so a directory that merely holds a ``manifest.json``
    (a web app's, say) or has files added beside a render must never be taken for its own.
    """
    try:
        manifest = json.loads((out / MANIFEST_NAME).read_bytes())
    except FileNotFoundError:
        return f"no {MANIFEST_NAME}"
    except (OSError, ValueError):
        return f"{MANIFEST_NAME} is not a deploypkg manifest"
    regions = manifest.get("regions") if isinstance(manifest, dict) else None
    if not isinstance(regions, dict) or not isinstance(manifest.get("format_version"), int):
        return f"{MANIFEST_NAME} is not a deploypkg manifest"
    for entry in out.iterdir():
        if entry.name == MANIFEST_NAME:
            continue
        region = regions.get(entry.name)
        if region is None or not entry.is_dir() or entry.is_symlink():
            return f"{entry.name} was not written by render"
        listed = region.get("files") if isinstance(region, dict) else None
        expected = {*listed, ARTIFACTS_NAME} if isinstance(listed, list) else {ARTIFACTS_NAME}
        for path in entry.rglob("*"):
            relative = path.relative_to(entry).as_posix()
            if not path.is_dir() and relative not in expected:
                return f"{entry.name}/{relative} was not written by render"
    return None


_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _checked_relative(relative: str) -> str:
    """``relative`` if it names a file inside the output directory."""
    parts = relative.split("/")
    if not relative or relative.startswith("/") or ".." in parts or not parts[-1] or parts[-1] == ".":
        raise InputError(f"refusing to write {relative!r} outside the output directory")
    return relative


def _write_new(path: str, data: bytes, mode: int = 0o666) -> None:
    """Create ``path`` (it must not exist) holding ``data`` (``mode``, less the umask)."""
    descriptor = os.open(path, _NEW_FILE, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
    finally:
        os.close(descriptor)


class StagedDirectory:
    """A temporary directory beside the target, filled file by file as the render goes and
    published with :meth:`commit`; discarded on leaving the ``with`` block uncommitted."""

    def __init__(self, target: Path) -> None:
        self.target = target
        target.parent.mkdir(parents=True, exist_ok=True)
        # os.mkdir (not mkdtemp, which makes it private): the output is an ordinary directory.
        self.root = target.parent / f".{target.name}.render-{uuid.uuid4().hex[:12]}"
        os.mkdir(self.root)
        self._root_text = os.fspath(self.root)
        self._directories: set[str] = {self._root_text}
        """Directories known to exist (thousands of outputs share a few: each is made once)."""
        self._committed = False

    def _new_path(self, relative: str) -> str:
        """The staged path of ``relative`` (a POSIX path inside the output), its directory made."""
        path = os.path.join(self._root_text, _checked_relative(relative))
        directory = os.path.dirname(path)
        if directory not in self._directories:
            os.makedirs(directory, exist_ok=True)
            self._directories.add(directory)
        return path

    def write_file(self, relative: str, data: bytes, *, private: bool = False) -> None:
        """Create ``relative`` holding ``data``: one open, write and close; 0600 when
        ``private`` (it holds a credential)."""
        _write_new(self._new_path(relative), data, 0o600 if private else 0o666)

    def copy_file(self, relative: str, source: Path) -> None:
        shutil.copy2(source, self._new_path(relative), follow_symlinks=True)

    def remove(self, relative: str) -> None:
        """Remove a staged file or directory tree (a region left out after it was started)."""
        path = os.path.join(self._root_text, _checked_relative(relative))
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
            prefix = path + os.sep
            self._directories = {d for d in self._directories if d != path and not d.startswith(prefix)}
        elif os.path.lexists(path):
            os.remove(path)

    def commit(self) -> None:
        backup: Path | None = None
        if self.target.exists():
            backup = self.target.parent / f".{self.target.name}.old-{uuid.uuid4().hex[:12]}"
            os.rename(self.target, backup)
        try:
            os.rename(self.root, self.target)
        except OSError:
            if backup is not None:
                os.rename(backup, self.target)
            raise
        self._committed = True
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)

    def discard(self) -> None:
        if not self._committed:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> StagedDirectory:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.discard()
