"""The regions after the first are resolved (HEAD, signing) in the background while the render
goes on: a region waits for its own artifacts, each object is still HEADed once, and what is
written is what a render without the head start writes."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from test_render import _project, _tree

from preprocessor.catalog.local import LocalStore
from preprocessor.catalog.store import ObjectInfo
from preprocessor.errors import PolicyError
from preprocessor.render import RenderOptions, render_to_directory
from preprocessor.render.resolve import ArtifactResolver

REGIONS = ["cn-hangzhou", "cn-beijing", "cn-shanghai"]


def test_a_slow_region_is_waited_for_and_every_object_is_headed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path)
    render_to_directory([root / "templates"], REGIONS, tmp_path / "plain", RenderOptions())
    heads: Counter[tuple[str, str, str]] = Counter()
    threads: set[str] = set()
    head_object = LocalStore.head_object

    def slow_head(store: LocalStore, region: str, bucket: str, key: str) -> ObjectInfo | None:
        heads[region, bucket, key] += 1
        threads.add(threading.current_thread().name)
        if region == "cn-shanghai":
            time.sleep(0.3)  # the last region's objects arrive long after the others are written
        return head_object(store, region, bucket, key)

    monkeypatch.setattr(LocalStore, "head_object", slow_head)
    report = render_to_directory([root / "templates"], REGIONS, tmp_path / "out", RenderOptions())
    assert report.regions == tuple(REGIONS)
    assert heads and set(heads.values()) == {1}
    assert {region for region, _, _ in heads} == set(REGIONS)
    assert len(threads) > 1  # the regions after the first were resolved on the pool
    plain, out = _tree(tmp_path / "plain"), _tree(tmp_path / "out")
    assert plain.keys() == out.keys()
    assert {k: v for k, v in plain.items() if k != "manifest.json"} == {
        k: v for k, v in out.items() if k != "manifest.json"
    }


def test_a_refusal_built_in_the_background_surfaces_in_its_region(tmp_path: Path) -> None:
    root = _project(tmp_path, worker=True)  # worker-image has no copy in cn-shanghai
    with pytest.raises(PolicyError) as caught:
        render_to_directory([root / "templates"], REGIONS, tmp_path / "out", RenderOptions())
    assert caught.value.rule == "DPK301" and "cn-shanghai" in caught.value.message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project"]


def test_the_background_pool_is_stopped_when_a_render_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path, worker=True)
    closed: list[ArtifactResolver] = []
    close = ArtifactResolver.close

    def spy(resolver: ArtifactResolver) -> None:
        close(resolver)
        assert resolver._pool is None and not resolver._building
        closed.append(resolver)

    monkeypatch.setattr(ArtifactResolver, "close", spy)
    with pytest.raises(PolicyError):
        render_to_directory([root / "templates"], REGIONS, tmp_path / "out", RenderOptions())
    assert len(closed) == 1
