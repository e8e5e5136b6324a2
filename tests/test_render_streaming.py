"""Render writes each file into its staging directory as soon as it is made, and the manifest
from per-region entries: still all or nothing, and byte for byte what one encoding of the whole
manifest gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_render import _project, _tree

from preprocessor.errors import InputError, PolicyError
from preprocessor.render import RenderOptions, render_to_directory
from preprocessor.render.output import StagedDirectory
from preprocessor.render.writer import ENTRIES, RenderWriter


def _staging_dirs(parent: Path) -> list[Path]:
    return [p for p in parent.iterdir() if p.name.startswith(".out.render-")]


def test_files_are_staged_while_later_regions_render(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path)
    seen: list[set[str]] = []
    finish = RenderWriter.finish

    def spy(writer: RenderWriter, region: object) -> None:
        finish(writer, region)  # type: ignore[arg-type]
        (staging,) = _staging_dirs(tmp_path)
        seen.append({p.name for p in staging.iterdir() if p.is_dir()})

    monkeypatch.setattr(RenderWriter, "finish", spy)
    regions = ["cn-hangzhou", "cn-beijing"]
    render_to_directory([root / "templates"], regions, tmp_path / "out", RenderOptions())
    assert seen == [{"cn-hangzhou", ENTRIES}, {"cn-hangzhou", "cn-beijing", ENTRIES}]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [*sorted(regions), "manifest.json"]
    assert _staging_dirs(tmp_path) == []


def test_a_failure_in_a_later_region_leaves_nothing_in_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path, worker=True)  # worker-image has no copy in cn-shanghai: that region fails
    staged_before_failure: list[str] = []
    remove = StagedDirectory.discard

    def spy(staged: StagedDirectory) -> None:
        staged_before_failure.extend(sorted(p.relative_to(staged.root).as_posix() for p in staged.root.rglob("*")))
        remove(staged)

    monkeypatch.setattr(StagedDirectory, "discard", spy)
    out = tmp_path / "out"
    with pytest.raises(PolicyError) as caught:
        render_to_directory([root / "templates"], ["cn-hangzhou", "cn-beijing", "cn-shanghai"], out, RenderOptions())
    assert caught.value.rule == "DPK301"
    # the first two regions were complete on disk, and the third had started, when it failed
    assert "cn-beijing/artifacts.json" in staged_before_failure
    assert "cn-shanghai/web.yaml" in staged_before_failure
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project"]


def test_a_failure_in_a_later_region_keeps_the_previous_output(tmp_path: Path) -> None:
    root = _project(tmp_path, worker=True)
    out = tmp_path / "out"
    render_to_directory([root / "templates"], ["cn-beijing"], out, RenderOptions())
    before = _tree(out)
    with pytest.raises(PolicyError):
        render_to_directory([root / "templates"], ["cn-hangzhou", "cn-shanghai"], out, RenderOptions())
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "project"]


def test_the_streamed_manifest_is_the_one_document_encoding(tmp_path: Path) -> None:
    root = _project(tmp_path, worker=True)
    out = tmp_path / "out"
    report = render_to_directory([root / "templates"], [], out, RenderOptions(all_regions=True))
    raw = (out / "manifest.json").read_bytes()
    manifest = json.loads(raw)
    encoded = json.dumps(manifest, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"
    assert raw == encoded.encode("utf-8")
    assert list(manifest["regions"]) == sorted(report.regions) == ["cn-beijing", "cn-hangzhou"]
    assert list(manifest["excluded_regions"]) == ["cn-shanghai"]  # started, then dropped from disk too
    assert sorted(p.name for p in out.iterdir()) == ["cn-beijing", "cn-hangzhou", "manifest.json"]
    for region in report.regions:
        entry = manifest["regions"][region]
        assert entry["files"] == list(report.files[region])
        assert entry["substitutions"] == sorted(
            entry["substitutions"], key=lambda s: (s["file"], s.get("line", 0), s.get("column", 0), s["kind"])
        )
    assert report.substitutions == sum(len(manifest["regions"][r]["substitutions"]) for r in report.regions) > 0


def test_the_staging_directory_refuses_paths_outside_it_and_removes_trees(tmp_path: Path) -> None:
    with StagedDirectory(tmp_path / "out") as staged:
        staged.write_file("r/a/b.txt", b"x")
        staged.write_file("r/secret.txt", b"s", private=True)
        assert (staged.root / "r" / "secret.txt").stat().st_mode & 0o077 == 0
        for bad in ("../x", "/etc/x", "r/../../x", "r/"):
            with pytest.raises(InputError):
                staged.write_file(bad, b"x")
        staged.remove("r")
        assert list(staged.root.iterdir()) == []
        staged.write_file("r/a/b.txt", b"again")  # the directory cache forgot the removed tree
        assert (staged.root / "r" / "a" / "b.txt").read_bytes() == b"again"
        root = staged.root
    assert not root.exists()
