"""Run the deploypkg CLI while a path vanishes mid-scan, deterministically.

``python vanish.py VICTIM -- ARGS...``: the first time a directory listing (``os.scandir`` or
``os.listdir``) includes an entry named VICTIM, that entry is deleted right after the listing is
taken, so the scan sees it listed and then finds it gone.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from types import TracebackType
from typing import Any

_real_scandir = os.scandir
_real_listdir = os.listdir
_victim = ""
_done = False


def _remove_victim(directory: Any, names: list[str]) -> None:
    global _done
    if _done or _victim not in names:
        return
    _done = True
    path = os.path.join(os.fsdecode(directory if directory is not None else "."), _victim)
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)


class _Listing:
    """What ``os.scandir`` returns: an iterator that is also a context manager."""

    def __init__(self, entries: list[os.DirEntry[str]]) -> None:
        self._entries = iter(entries)

    def __iter__(self) -> Iterator[os.DirEntry[str]]:
        return self

    def __next__(self) -> os.DirEntry[str]:
        return next(self._entries)

    def __enter__(self) -> _Listing:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        return None

    def close(self) -> None:
        return None


def _scandir(path: Any = None) -> _Listing:
    with _real_scandir(path if path is not None else ".") as listing:
        entries = list(listing)
    _remove_victim(path, [entry.name for entry in entries])
    return _Listing(entries)


def _listdir(path: Any = None) -> list[str]:
    names = _real_listdir(path if path is not None else ".")
    _remove_victim(path, [os.fsdecode(name) for name in names])
    return names


def main() -> None:
    global _victim
    separator = sys.argv.index("--")
    _victim = sys.argv[1]
    os.scandir = _scandir  # type: ignore[assignment]
    os.listdir = _listdir  # type: ignore[assignment]
    from preprocessor.cli import main as cli_main

    cli_main(sys.argv[separator + 1 :])


if __name__ == "__main__":
    main()
