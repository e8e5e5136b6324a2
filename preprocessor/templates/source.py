"""Finding template files and reading them into text, with every failure a clear error."""

from __future__ import annotations

import errno
import itertools
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from preprocessor.errors import InputError

TEMPLATE_SUFFIXES = (".tf.json", ".tf", ".json", ".yaml", ".yml", ".template")
SKIPPED_DIRECTORIES = frozenset({".git", ".terraform", "node_modules", ".deploypkg"})  # .deploypkg: plan work dirs
GENERATOR_INPUTS = (".computenest", "code_generation")
"""computenest-cli's code generator inputs (``.computenest/code_generation/``, ``*.j2`` and
``variable_meta.yaml`` among them): not templates of the service, never checked or rendered."""
_GENERATOR_ENTRY = (GENERATOR_INPUTS[1], GENERATOR_INPUTS[0])  # (directory name, its parent's name)
MAX_TEMPLATE_BYTES = 64 * 1024 * 1024
BOM = b"\xef\xbb\xbf"


def is_generator_input(path: Path) -> bool:
    """Whether ``path`` is in (or is) a ``.computenest/code_generation`` directory."""
    absolute = os.path.abspath(path)
    if GENERATOR_INPUTS[1] not in absolute:
        return False  # the usual answer, without splitting the path
    parts = Path(absolute).parts
    return any(pair == GENERATOR_INPUTS for pair in itertools.pairwise(parts))


def is_template_name(name: str) -> bool:
    return name.endswith(TEMPLATE_SUFFIXES)


def _unreadable(display: str, message: str, hint: str | None = None, rule: str = "DPK002") -> InputError:
    return InputError(message, file=display, hint=hint, rule=rule)


def read_source(path: Path, display: str) -> tuple[str, bool]:
    """The file decoded as ``utf-8-sig`` with line endings kept, and whether it had a BOM."""
    return decode_source(read_regular_file(path, display, limit=MAX_TEMPLATE_BYTES), display)


def read_regular_file(path: Path, display: str, *, limit: int, what: str = "template", rule: str = "DPK002") -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; anything else (a pipe, a device, a
    directory, a link loop, a file too large or unreadable) is an :class:`InputError` naming
    ``display`` with ``rule``. ``what`` names what the file should have been, for the message."""

    def unreadable(message: str, hint: str | None = None) -> InputError:
        return _unreadable(display, message, hint, rule)

    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(info.st_mode):
            raise unreadable("this is not a regular file (a device, socket or pipe)")
        with open(path, "rb") as handle:
            # Asked for what stat says (reading limit + 1 would allocate that much for every file);
            # a file that grew since is read on, up to the limit.
            data = handle.read(min(info.st_size, limit) + 1)
            if len(data) > info.st_size:
                data += handle.read(limit + 1 - len(data))
    except FileNotFoundError:
        if os.path.islink(path):
            target = os.readlink(path)
            raise unreadable(
                f"a dangling symbolic link: its target {target} does not exist", "fix or remove the link"
            ) from None
        raise unreadable("the file does not exist (or vanished while being read)") from None
    except IsADirectoryError:
        try:
            os.listdir(path)
        except OSError as exc:
            raise unreadable(f"cannot read the directory: {exc.strerror or exc}") from None
        raise unreadable(f"this is a directory, not a {what} file") from None
    except PermissionError:
        raise unreadable("cannot read the file: permission denied", "check the file's permissions") from None
    except OSError as exc:
        raise unreadable(f"cannot read the file: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise unreadable(f"the file is larger than {limit // (1024 * 1024)} MiB, too large for a {what}")
    return data


def _position(body: bytes, offset: int) -> tuple[int, int]:
    """1-based line and character column of a byte offset (the line's bytes decoded leniently)."""
    line_start = body.rfind(b"\n", 0, offset) + 1
    column = len(body[line_start:offset].decode("utf-8", errors="replace")) + 1
    return body.count(b"\n", 0, offset) + 1, column


def decode_source(data: bytes, display: str) -> tuple[str, bool]:
    bom = data.startswith(BOM)
    body = data[len(BOM) :] if bom else data
    nul = body.find(b"\x00")
    if nul != -1:
        line, column = _position(body, nul)
        error = _unreadable(
            display,
            f"this looks like a binary file (a NUL byte at line {line}, column {column}), not a text template",
            "templates are UTF-8 text",
        )
        error.line, error.column = line, column
        raise error
    try:
        return body.decode("utf-8"), bom
    except UnicodeDecodeError as exc:
        line, column = _position(body, exc.start)
        error = _unreadable(
            display,
            f"the file is not UTF-8 text (byte 0x{body[exc.start]:02x} at line {line}, column {column})",
            "save the file as UTF-8",
        )
        error.line, error.column = line, column
        raise error from None


def _walk(root: Path, keep: bool | None) -> Iterator[Path]:
    """Files under ``root`` depth-first in name order, skipping tool directories and never
    entering a directory twice (symlink loops). ``keep``: only template names when true."""
    seen: set[tuple[int, int]] = set()
    stack: list[Path] = [root]
    while stack:
        directory = stack.pop()
        try:
            info = directory.stat()
            key = (info.st_dev, info.st_ino)
            if key in seen:
                continue
            seen.add(key)
            with os.scandir(directory) as entries:
                listing = sorted(entries, key=lambda entry: entry.name)
        except FileNotFoundError:
            continue  # vanished while scanning: nothing left to check there
        except OSError:
            yield directory  # reading it reports the problem with its name
            continue
        subdirectories: list[Path] = []
        for entry in listing:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if entry.name not in SKIPPED_DIRECTORIES and (entry.name, directory.name) != _GENERATOR_ENTRY:
                    subdirectories.append(Path(entry.path))
            elif not keep or is_template_name(entry.name):
                try:
                    regular = entry.is_file() or not os.path.exists(entry.path)
                except OSError:
                    regular = True
                if regular:
                    yield Path(entry.path)
        stack.extend(reversed(subdirectories))


_MISSING_ERRNOS = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP})
"""What ``Path.exists`` and ``Path.is_dir`` take for "not there" rather than raise."""


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError as error:
        if error.errno not in _MISSING_ERRNOS:
            raise
        return None


def _paths(paths: Sequence[Path], templates_only: bool) -> Iterator[Path]:
    for path in paths:
        if is_generator_input(path):
            continue
        info = _stat(path)  # once: a pre-commit hook names every file
        if info is not None and stat.S_ISDIR(info.st_mode):
            yield from _walk(path, templates_only)
        elif templates_only and info is not None and not is_template_name(path.name):
            continue  # a file named explicitly that no template format has (README.md): not ours
        elif info is not None or path.is_symlink():
            yield path
        else:
            raise InputError(f"{path}: no such file or directory", file=str(path), rule="DPK002")


def discover(paths: Sequence[Path]) -> Iterator[Path]:
    """Template files: files as given when they have a template name; directories recursively
    (sorted), skipping ``.git``, ``.terraform`` and ``node_modules``; template names end in
    ``.tf .tf.json .json .yaml .yml .template``."""
    return _paths(paths, True)


def iter_files(paths: Sequence[Path]) -> Iterator[Path]:
    """Every file under ``paths`` (same skips), for copying a whole module along."""
    return _paths(paths, False)
