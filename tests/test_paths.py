"""display_path: relative to the working directory when under it, else absolute, links not followed;
compared here with the definition written with pathlib, for working directories that are and are
not the filesystem root (and POSIX's own '//' root)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from preprocessor.paths import display_path


def _by_definition(path: str) -> str:
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(os.getcwd()).as_posix()
    except ValueError:
        return str(absolute)


PATHS = ["t.json", "./a/b.yaml", "a//b/../c.tf", ".", "..", "../x.yaml", "/", "//a/b", "///a", "/x/é ü.json"]


@pytest.mark.parametrize("where", ["tmp", "/", "//"])
@pytest.mark.parametrize("path", PATHS)
def test_display_path_is_the_relative_or_absolute_path(
    where: str, path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd = str(tmp_path) if where == "tmp" else where
    monkeypatch.chdir(cwd)
    named = path.replace("/x/", f"{tmp_path}/") if path.startswith("/x/") else path
    assert display_path(named) == _by_definition(named)
    assert display_path(Path(named)) == _by_definition(named)


def test_a_file_in_the_working_directory_is_shown_by_its_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert display_path(tmp_path / "sub" / "t.yaml") == "sub/t.yaml"
    assert display_path(tmp_path) == "."
    assert display_path(tmp_path.parent / "elsewhere.yaml") == str(tmp_path.parent / "elsewhere.yaml")
