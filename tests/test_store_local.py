"""The local-directory store: layout, atomic and conditional writes, key safety, objects."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import threading
import urllib.request
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from preprocessor.catalog.documents import encode_document
from preprocessor.catalog.local import LocalStore
from preprocessor.catalog.opening import open_store
from preprocessor.catalog.store import ObjectInfo
from preprocessor.errors import CatalogError, ConflictError, InputError


def _store(tmp_path: Path) -> LocalStore:
    store = open_store(f"file://{tmp_path / 'catalog'}")
    assert isinstance(store, LocalStore)
    return store


def test_document_round_trip_and_layout(tmp_path: Path) -> None:
    store = _store(tmp_path)
    etag = store.write_document("packages/web/package.json", {"name": "web", "type": "file"})
    path = tmp_path / "catalog" / "packages" / "web" / "package.json"
    assert path.read_bytes() == encode_document({"name": "web", "type": "file"})
    assert etag == hashlib.sha256(path.read_bytes()).hexdigest()
    document = store.read_document("packages/web/package.json")
    assert document is not None
    assert document.data == {"name": "web", "type": "file"}
    assert document.etag == etag
    assert store.read_document("packages/none/package.json") is None


def test_relative_url_resolves_against_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store("file://./cat")
    assert isinstance(store, LocalStore)
    assert store.root == tmp_path / "cat"
    assert store.url == "file://./cat"


def test_list_keys_excludes_buckets_temp_and_lock(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.write_document("catalog.json", {"format_version": 1})
    store.write_document("packages/a/versions/1.0.json", {})
    store.write_document("packages/a/versions/2.0.json", {})
    store.write_document("packages/b/package.json", {})
    store.create_bucket("r", "bucket-r")
    (tmp_path / "catalog" / "packages" / "a" / "versions" / ".tmp-stale").write_text("x")
    (tmp_path / "catalog" / "buckets" / "bucket-r" / "x.json").write_text("{}")
    assert store.list_keys("packages/a/versions/") == ["packages/a/versions/1.0.json", "packages/a/versions/2.0.json"]
    assert store.list_keys("") == [
        "catalog.json",
        "packages/a/versions/1.0.json",
        "packages/a/versions/2.0.json",
        "packages/b/package.json",
    ]
    assert store.list_keys("packages/zzz/") == []


def test_if_none_match_and_if_match(tmp_path: Path) -> None:
    store = _store(tmp_path)
    first = store.write_document("services/s.json", {"v": 1}, if_none_match=True)
    with pytest.raises(ConflictError, match="already exists"):
        store.write_document("services/s.json", {"v": 2}, if_none_match=True)
    second = store.write_document("services/s.json", {"v": 2}, if_match=first)
    with pytest.raises(ConflictError, match="changed by another writer"):
        store.write_document("services/s.json", {"v": 3}, if_match=first)
    with pytest.raises(ConflictError, match="deleted"):
        store.write_document("services/none.json", {"v": 3}, if_match=second)
    document = store.read_document("services/s.json")
    assert document is not None and document.data == {"v": 2} and document.etag == second


@pytest.mark.parametrize(
    "key",
    ["", "/etc/passwd", "../x.json", "a/../../x.json", "a//b.json", "a/./b.json", "a\\b.json", "a\x00b", "a\nb",
     "buckets/b/x.json", "packages/.hidden.json", ".deploypkg.lock", "packages/.git/x.json"],
)  # fmt: skip
def test_unsafe_keys_refused(tmp_path: Path, key: str) -> None:
    store = _store(tmp_path)
    with pytest.raises(InputError):
        store.write_document(key, {})
    with pytest.raises(InputError):
        store.read_document(key)
    assert not (tmp_path / "x.json").exists()


@pytest.mark.parametrize("bucket", ["..", "../up", "a/b", "UPPER", "x"])
def test_unsafe_buckets_refused(tmp_path: Path, bucket: str) -> None:
    store = _store(tmp_path)
    with pytest.raises(InputError):
        store.create_bucket("r", bucket)
    with pytest.raises(InputError):
        store.object_path(bucket, "k")


def _race(root: str, index: int, queue: multiprocessing.Queue[str]) -> None:
    store = LocalStore(Path(root))
    try:
        store.write_document("packages/p/versions/1.0.json", {"writer": index}, if_none_match=True)
        queue.put(f"won {index}")
    except ConflictError:
        queue.put("lost")


def test_eight_processes_racing_to_create_one_document(tmp_path: Path) -> None:
    root = tmp_path / "catalog"
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[str] = context.Queue()
    processes = [context.Process(target=_race, args=(str(root), i, queue)) for i in range(8)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(30)
    results = [queue.get(timeout=5) for _ in processes]
    winners = [r for r in results if r.startswith("won")]
    assert len(winners) == 1, results
    assert results.count("lost") == 7
    document = LocalStore(root).read_document("packages/p/versions/1.0.json")
    assert document is not None
    assert f"won {document.data['writer']}" == winners[0]


def test_eight_threads_racing_to_replace_one_document(tmp_path: Path) -> None:
    store = _store(tmp_path)
    etag = store.write_document("packages/p/versions/1.0.json", {"writer": None})
    barrier = threading.Barrier(8)
    results: dict[int, str] = {}

    def replace(index: int) -> None:
        barrier.wait()
        try:
            store.write_document("packages/p/versions/1.0.json", {"writer": index}, if_match=etag)
            results[index] = "won"
        except ConflictError:
            results[index] = "lost"

    threads = [threading.Thread(target=replace, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    winners = [i for i, r in results.items() if r == "won"]
    assert len(results) == 8 and len(winners) == 1, results
    document = store.read_document("packages/p/versions/1.0.json")
    assert document is not None and document.data == {"writer": winners[0]}


def test_put_head_copy_and_url(tmp_path: Path) -> None:
    store = _store(tmp_path)
    payload = os.urandom(3 * 1024 * 1024 + 17)
    digest = hashlib.sha256(payload).hexdigest()
    source_file = tmp_path / "artifact.bin"
    source_file.write_bytes(payload)
    store.create_bucket("r1", "bucket-r1")
    store.create_bucket("r2", "bucket-r2")
    seen: list[int] = []
    info = store.put_object("r1", "bucket-r1", "files/x/artifact.bin", source_file, digest, seen.append)
    assert info == ObjectInfo("bucket-r1", "files/x/artifact.bin", len(payload), digest, digest)
    assert sum(seen) == len(payload)
    assert store.head_object("r1", "bucket-r1", "files/x/artifact.bin") == info
    assert store.head_object("r2", "bucket-r2", "files/x/artifact.bin") is None
    copied = store.copy_object(info, "r1", "r2", "bucket-r2", "files/x/artifact.bin")
    assert copied.sha256 == digest and copied.size == len(payload)
    url = store.object_url("r2", "bucket-r2", "files/x/artifact.bin", presign=True)
    assert url.startswith("file:///")
    with urllib.request.urlopen(url) as response:
        assert response.read() == payload


def test_put_refuses_wrong_checksum_and_missing_bucket(tmp_path: Path) -> None:
    store = _store(tmp_path)
    source_file = tmp_path / "f.txt"
    source_file.write_bytes(b"hello")
    store.create_bucket("r1", "bucket-r1")
    with pytest.raises(CatalogError, match="SHA-256"):
        store.put_object("r1", "bucket-r1", "k/f.txt", source_file, "0" * 64)
    assert store.head_object("r1", "bucket-r1", "k/f.txt") is None
    leftovers = [p for p in (tmp_path / "catalog" / "buckets" / "bucket-r1").rglob("*") if p.is_file()]
    assert leftovers == []
    with pytest.raises(CatalogError, match="bucket bucket-none does not exist"):
        store.put_object("r1", "bucket-none", "k/f.txt", source_file, hashlib.sha256(b"hello").hexdigest())


def test_copy_of_missing_source_names_rule(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.create_bucket("r1", "bucket-r1")
    ghost = ObjectInfo("bucket-r1", "nope", 1, "e", None)
    with pytest.raises(CatalogError) as caught:
        store.copy_object(ghost, "r1", "r1", "bucket-r1", "copy")
    assert caught.value.rule == "DPK307"


def test_malformed_document_reports_position(tmp_path: Path) -> None:
    store = _store(tmp_path)
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "catalog.json").write_text('{\n  "a": 1,\n}\n')
    with pytest.raises(CatalogError) as caught:
        store.read_document("catalog.json")
    assert caught.value.line == 3
    assert caught.value.file is not None and caught.value.file.endswith("catalog.json")


@given(
    st.lists(st.sampled_from(["a", "..", ".", "", "b/", "/", "\\", "\x00", "\n", "c.json", "é", "%2e%2e"]), max_size=8)
)
@settings(max_examples=300, deadline=None)
def test_no_key_resolves_outside_the_store(parts: list[str]) -> None:
    root = Path("/nonexistent-root/catalog")
    store = LocalStore(root)
    key = "".join(parts)
    for resolve in (lambda k: store._document_path(k), lambda k: store.object_path("bucket-r1", k)):
        try:
            path = resolve(key)
        except InputError:
            continue
        assert os.path.normpath(path) == str(path)
        assert path.is_relative_to(root) and path != root
