"""The entry-point pre-check (providers/plugins.py): it must say "look" whenever importlib.metadata
would find a third-party provider, and may say "nothing" only when it certainly would not."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from helpers import REPO

from providers import BUILTIN_MODULES, ENTRY_POINT_GROUP
from providers.plugins import may_register

BUILTIN_ONLY = "[deploypkg.providers]\nalicloud = providers.alicloud:PROVIDER\naws = providers.aws:PROVIDER\n"


def _dist(site: Path, name: str, entry_points_txt: str | None, suffix: str = ".dist-info") -> Path:
    info = site / f"{name}-1.0{suffix}"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    if entry_points_txt is not None:
        (info / "entry_points.txt").write_text(entry_points_txt)
    return info


def _found(site: Path) -> bool:
    return may_register(ENTRY_POINT_GROUP, BUILTIN_MODULES, [str(site)])


def _discovered(site: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What importlib.metadata finds on ``site`` alone, built-ins skipped as providers/ skips them."""
    monkeypatch.setattr(sys, "path", [str(site)])
    return [e.name for e in entry_points(group=ENTRY_POINT_GROUP) if e.module not in BUILTIN_MODULES]


def test_a_registered_plugin_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _dist(tmp_path, "other", "[console_scripts]\nother = other:main\n")
    _dist(tmp_path, "examplecloud", "[deploypkg.providers]\nexamplecloud = examplecloud.provider:PROVIDER\n")
    assert _found(tmp_path)
    assert _discovered(tmp_path, monkeypatch) == ["examplecloud"]


def test_an_egg_info_directory_counts_too(tmp_path: Path) -> None:
    _dist(tmp_path, "eggy", "[deploypkg.providers]\neggy = eggy:PROVIDER\n", suffix=".egg-info")
    assert _found(tmp_path)


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "[console_scripts]\ntool = tool:main\n",
        BUILTIN_ONLY,
        "# deploypkg.providers mentioned in a comment\n[other.group]\nx = deploypkg.providers:y\n",
        "[ deploypkg.providers ]\nx = elsewhere:PROVIDER\n",  # importlib names that group ' deploypkg.providers '
    ],
)
def test_nothing_to_load_says_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str | None) -> None:
    _dist(tmp_path, "quiet", text)
    assert not _found(tmp_path)
    assert _discovered(tmp_path, monkeypatch) == []


def test_an_entry_it_cannot_read_as_a_builtin_means_look(tmp_path: Path) -> None:
    _dist(tmp_path, "odd", "[deploypkg.providers]\n# a comment\nno equals sign here\n")
    assert _found(tmp_path)


def test_a_zip_or_egg_path_entry_means_look(tmp_path: Path) -> None:
    archive = tmp_path / "plugins.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("x-1.0.dist-info/METADATA", "Name: x\n")
    assert may_register(ENTRY_POINT_GROUP, BUILTIN_MODULES, [str(archive)])
    egg = tmp_path / "thing-1.0.egg"
    egg.mkdir()
    assert may_register(ENTRY_POINT_GROUP, BUILTIN_MODULES, [str(egg)])


def test_missing_path_entries_are_skipped(tmp_path: Path) -> None:
    _dist(tmp_path, "examplecloud", "[deploypkg.providers]\nexamplecloud = examplecloud:PROVIDER\n")
    assert not may_register(ENTRY_POINT_GROUP, BUILTIN_MODULES, [str(tmp_path / "absent")])
    assert may_register(ENTRY_POINT_GROUP, BUILTIN_MODULES, [str(tmp_path / "absent"), str(tmp_path)])


def test_another_distribution_finder_means_look(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    class Finder:
        def find_distributions(self, context: object = None) -> list[object]:
            return []

    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, Finder()])
    assert may_register(ENTRY_POINT_GROUP, BUILTIN_MODULES, [str(tmp_path)])


def test_this_environment_agrees_with_importlib_metadata() -> None:
    plugins = [e for e in entry_points(group=ENTRY_POINT_GROUP) if e.module not in BUILTIN_MODULES]
    assert may_register(ENTRY_POINT_GROUP, BUILTIN_MODULES) or plugins == []


def test_validate_without_plugins_never_imports_importlib_metadata() -> None:
    probe = (
        "import sys\nfrom preprocessor.cli import cli\n"
        "try:\n    cli.main(args=sys.argv[1:], prog_name='deploypkg', standalone_mode=False)\n"
        "except SystemExit:\n    pass\n"
        "print('METADATA' if 'importlib.metadata' in sys.modules else 'NONE')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, "validate", "fixtures/alicloud", "fixtures/aws"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if may_register(ENTRY_POINT_GROUP, BUILTIN_MODULES):
        pytest.skip("a provider plugin is installed in this environment")
    assert done.stdout.rstrip().endswith("NONE"), done.stderr
