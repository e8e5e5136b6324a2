"""How a path is shown to the user, the same in every message, report and manifest."""

from __future__ import annotations

import os
from pathlib import Path


def display_path(path: Path | str) -> str:
    """``path`` as the user named it: relative to the working directory when it is under it,
    else absolute. Symbolic links are not followed, so a link is shown by its own name."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(os.getcwd()).as_posix()
    except ValueError:
        return str(absolute)
