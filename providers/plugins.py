"""Whether any installed distribution may register a provider, answered without importing
:mod:`importlib.metadata` (about 20 ms, and its discovery as much again, on every run).

The answer is a pre-check only: ``True`` means "run the full entry-point discovery", so it may
say ``True`` when in doubt but never ``False`` when discovery would find a provider. It reads
the ``entry_points.txt`` of the ``*.dist-info`` / ``*.egg-info`` directories on ``sys.path`` —
the places :mod:`importlib.metadata` searches — and anything it does not read the same way (a
zip or ``.egg`` path entry, another meta-path finder that lists distributions, a file it cannot
read) answers ``True``.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Collection, Iterable
from importlib.machinery import PathFinder

_MODULE = re.compile(r"[\w.]+")
"""The module part of an entry point's value, as :class:`importlib.metadata.EntryPoint` reads it."""


def may_register(group: str, ignored_modules: Collection[str], path: Iterable[str] | None = None) -> bool:
    """Whether some distribution on ``path`` (default ``sys.path``) may name, in ``group``, an
    entry point whose module is not one of ``ignored_modules``."""
    if any(finder is not PathFinder and hasattr(finder, "find_distributions") for finder in sys.meta_path):
        return True
    return any(_entry_may_register(entry, group, ignored_modules) for entry in (sys.path if path is None else path))


def _entry_may_register(entry: str, group: str, ignored_modules: Collection[str]) -> bool:
    root = entry or "."
    try:
        children = os.listdir(root)
    except OSError:
        return os.path.isfile(root)  # a zip archive: importlib.metadata reads inside it
    if os.path.basename(root).lower().endswith(".egg"):
        return True
    for child in children:
        if not child.lower().endswith((".dist-info", ".egg-info")):
            continue
        try:
            with open(os.path.join(root, child, "entry_points.txt"), encoding="utf-8") as file:
                text = file.read()
        except (FileNotFoundError, NotADirectoryError):
            continue
        except (OSError, UnicodeDecodeError):
            return True
        if group in text and _names_other_module(text, group, ignored_modules):
            return True
    return False


def _names_other_module(text: str, group: str, ignored_modules: Collection[str]) -> bool:
    """Whether ``text`` (an ``entry_points.txt``) has, under ``[group]``, an entry that is not
    ``name = MODULE:attr`` with MODULE in ``ignored_modules`` (parsed as importlib.metadata does)."""
    section: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line.strip("[]")
            continue
        if section != group:
            continue
        _, equals, value = line.partition("=")
        module = _MODULE.match(value.strip()) if equals else None
        if module is None or module.group() not in ignored_modules:
            return True
    return False
