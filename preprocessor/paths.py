"""How a path is shown to the user, the same in every message, report and manifest."""

from __future__ import annotations

import os
from pathlib import Path


def display_path(path: Path | str) -> str:
    """``path`` as the user named it: relative to the working directory when it is under it,
    else absolute. Symbolic links are not followed, so a link is shown by its own name."""
    absolute = os.path.abspath(path)
    cwd = os.getcwd()
    if not absolute.startswith("//") and not cwd.startswith("//"):  # "//" is a root of its own
        # Compared as text: Path.relative_to formats both paths for the error it raises outside cwd.
        if absolute == cwd:
            return "."
        under = cwd if cwd.endswith(os.sep) else cwd + os.sep
        if absolute.startswith(under):
            return Path(absolute[len(under) :]).as_posix()
        return str(Path(absolute))
    try:
        return Path(absolute).relative_to(cwd).as_posix()
    except ValueError:
        return str(Path(absolute))
