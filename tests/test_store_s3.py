"""The S3-compatible store against the moto server process (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import hashlib
import os
import threading
import tracemalloc
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import TEST_SECRET_KEY, MotoServer

from preprocessor.catalog.opening import open_store
from preprocessor.catalog.s3 import MiB, S3Store
from preprocessor.catalog.store import ObjectInfo
from preprocessor.errors import CatalogError, ConflictError, InputError

REGIONS = ("us-east-1", "us-west-2", "eu-west-1")


def _bucket(label: str) -> str:
    return f"dpk-{label}-{uuid.uuid4().hex[:12]}"


def _store(**options: Any) -> S3Store:
    catalog_bucket = _bucket("cat")
    store = open_store(f"s3://{catalog_bucket}/team/catalog", region="us-east-1", **options)
    assert isinstance(store, S3Store)
    store.create_bucket("us-east-1", catalog_bucket)
    return store


class Traffic:
    """Counts the operations a store's clients call and the body bytes that cross the client."""

    def __init__(self) -> None:
        self.operations: Counter[str] = Counter()
        self.sent = 0
        self.received = 0

    def attach(self, store: S3Store, *regions: str) -> None:
        for region in regions:
            events = store.client(region).meta.events
            events.register("before-send.s3", self._before_send)
            events.register("after-call.s3", self._after_call)

    def _before_send(self, request: Any, **_: Any) -> None:
        body = request.body
        if body is not None and hasattr(body, "__len__"):
            self.sent += len(body)

    def _after_call(self, model: Any, http_response: Any, **_: Any) -> None:
        self.operations[model.name] += 1
        if model.name == "GetObject":
            self.received += int(http_response.headers.get("content-length", 0))


def _upload(store: S3Store, tmp_path: Path, region: str, bucket: str, size: int, name: str = "blob.bin") -> ObjectInfo:
    payload = os.urandom(size)
    path = tmp_path / name
    path.write_bytes(payload)
    store.create_bucket(region, bucket)
    return store.put_object(region, bucket, f"files/{name}", path, hashlib.sha256(payload).hexdigest())


def _get(store: S3Store, info: ObjectInfo, region: str) -> bytes:
    url = store.object_url(region, info.bucket, info.key, presign=True, expires=300)
    with urllib.request.urlopen(url, timeout=30) as response:
        return bytes(response.read())


def test_document_round_trip_and_listing(aws_env: MotoServer) -> None:
    store = _store()
    assert store.read_document("catalog.json") is None
    etag = store.write_document("catalog.json", {"format_version": 1, "provider": "aws"})
    document = store.read_document("catalog.json")
    assert document is not None
    assert document.data == {"format_version": 1, "provider": "aws"}
    assert document.etag == etag and '"' not in etag
    store.write_document("packages/a/versions/1.0.json", {"v": "1.0"})
    store.write_document("packages/a/versions/2.0.json", {"v": "2.0"})
    store.write_document("packages/ab/package.json", {})
    assert store.list_keys("packages/a/") == ["packages/a/versions/1.0.json", "packages/a/versions/2.0.json"]
    assert store.list_keys("") == [
        "catalog.json",
        "packages/a/versions/1.0.json",
        "packages/a/versions/2.0.json",
        "packages/ab/package.json",
    ]
    head = store.client("us-east-1").head_object(Bucket=store.bucket, Key="team/catalog/catalog.json")
    assert head["ContentType"] == "application/json"


def test_conditional_writes(aws_env: MotoServer) -> None:
    store = _store()
    first = store.write_document("services/s.json", {"v": 1}, if_none_match=True)
    with pytest.raises(ConflictError, match="already exists") as caught:
        store.write_document("services/s.json", {"v": 2}, if_none_match=True)
    assert "services/s.json" in caught.value.message and caught.value.exit_code == 1
    second = store.write_document("services/s.json", {"v": 2}, if_match=first)
    with pytest.raises(ConflictError, match="changed or deleted"):
        store.write_document("services/s.json", {"v": 3}, if_match=first)
    with pytest.raises(ConflictError):
        store.write_document("services/missing.json", {"v": 3}, if_match=second)
    document = store.read_document("services/s.json")
    assert document is not None and document.data == {"v": 2} and document.etag == second


def test_eight_threads_racing_to_create_one_document(aws_env: MotoServer) -> None:
    store = _store()
    barrier = threading.Barrier(8)
    results: dict[int, str] = {}

    def publish(index: int) -> None:
        barrier.wait()
        try:
            store.write_document("packages/p/versions/1.0.json", {"writer": index}, if_none_match=True)
            results[index] = "won"
        except ConflictError:
            results[index] = "lost"

    threads = [threading.Thread(target=publish, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    winners = [i for i, r in results.items() if r == "won"]
    assert len(results) == 8 and len(winners) == 1, results
    document = store.read_document("packages/p/versions/1.0.json")
    assert document is not None and document.data == {"writer": winners[0]}


def test_put_and_head_record_sha256(aws_env: MotoServer, tmp_path: Path) -> None:
    store = _store(upload_multipart_threshold=6 * MiB, upload_part_size=5 * MiB)
    bucket = _bucket("r1")
    small = _upload(store, tmp_path, "us-west-2", bucket, 1000, "small.bin")
    assert small.size == 1000 and small.sha256 == hashlib.sha256((tmp_path / "small.bin").read_bytes()).hexdigest()
    assert store.head_object("us-west-2", bucket, "files/small.bin") == small
    assert store.head_object("us-west-2", bucket, "files/none.bin") is None
    seen: list[int] = []
    payload = os.urandom(11 * MiB)
    (tmp_path / "big.bin").write_bytes(payload)
    big = store.put_object(
        "us-west-2", bucket, "files/big.bin", tmp_path / "big.bin", hashlib.sha256(payload).hexdigest(), seen.append
    )
    assert big.size == len(payload) and sum(seen) == len(payload)
    assert "-" in big.etag  # a multipart upload's ETag
    assert big.sha256 == hashlib.sha256(payload).hexdigest()
    assert _get(store, big, "us-west-2") == payload


def test_server_side_copy_moves_no_bytes_through_the_client(aws_env: MotoServer, tmp_path: Path) -> None:
    store = _store(provider="aws")
    source = _upload(store, tmp_path, "us-east-1", _bucket("src"), 2 * MiB + 5)
    traffic = Traffic()
    traffic.attach(store, *REGIONS)
    for region in REGIONS[1:]:
        bucket = _bucket(region)
        store.create_bucket(region, bucket)
        before = traffic.sent
        copied = store.copy_object(source, "us-east-1", region, bucket, source.key)
        assert traffic.sent == before  # CopyObject has no body
        assert copied.sha256 == source.sha256 and copied.size == source.size
        head = store.head_object(region, bucket, source.key)
        assert head is not None and head.sha256 == source.sha256 and head.size == source.size
    assert traffic.operations["CopyObject"] == 2
    assert traffic.operations["GetObject"] == 0 and traffic.operations["UploadPart"] == 0
    assert traffic.received == 0
    assert _get(store, copied, REGIONS[-1]) == (tmp_path / "blob.bin").read_bytes()


def test_multipart_server_side_copy(aws_env: MotoServer, tmp_path: Path) -> None:
    store = _store(provider="aws", multipart_copy_threshold=1 * MiB, copy_part_size=5 * MiB)
    source = _upload(store, tmp_path, "us-east-1", _bucket("src"), 11 * MiB + 3)
    traffic = Traffic()
    traffic.attach(store, "us-west-2")
    bucket = _bucket("dst")
    store.create_bucket("us-west-2", bucket)
    progress: list[int] = []
    copied = store.copy_object(source, "us-east-1", "us-west-2", bucket, source.key, progress.append)
    assert traffic.operations["UploadPartCopy"] == 3
    assert traffic.operations["CompleteMultipartUpload"] == 1
    assert traffic.operations["GetObject"] == 0 and traffic.operations["UploadPart"] == 0
    assert traffic.sent < 4096  # only the CompleteMultipartUpload XML
    assert progress == [5 * MiB, 5 * MiB, MiB + 3]
    head = store.head_object("us-west-2", bucket, source.key)
    assert head is not None and head.sha256 == source.sha256 and head.size == source.size
    assert hashlib.sha256(_get(store, copied, "us-west-2")).hexdigest() == source.sha256


def test_streaming_copy_holds_one_part_in_memory(aws_env: MotoServer, tmp_path: Path) -> None:
    part = 5 * MiB
    size = 40 * MiB + 123
    store = _store(provider="alicloud", stream_part_size=part)
    assert store.copy_mode("cn-hangzhou", "cn-beijing") == "stream"
    assert store.copy_mode("cn-hangzhou", "cn-hangzhou") == "server"
    source = _upload(store, tmp_path, "cn-hangzhou", _bucket("src"), size)
    bucket = _bucket("dst")
    store.create_bucket("cn-beijing", bucket)
    store.client("cn-hangzhou")  # clients exist before measuring, as in a long-running distribute
    store.client("cn-beijing")
    traffic = Traffic()
    traffic.attach(store, "cn-hangzhou", "cn-beijing")
    tracemalloc.start()
    try:
        copied = store.copy_object(source, "cn-hangzhou", "cn-beijing", bucket, source.key)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert traffic.operations["GetObject"] == 9 and traffic.operations["UploadPart"] == 9
    assert peak < 3 * part, f"peak {peak} bytes for a {size}-byte object with {part}-byte parts"
    assert copied.sha256 == source.sha256
    head = store.head_object("cn-beijing", bucket, source.key)
    assert head is not None and head.sha256 == source.sha256 and head.size == size
    assert hashlib.sha256(_get(store, copied, "cn-beijing")).hexdigest() == source.sha256


def test_streaming_copy_refuses_a_checksum_mismatch(aws_env: MotoServer, tmp_path: Path) -> None:
    store = _store(provider="alicloud", stream_part_size=5 * MiB)
    source = _upload(store, tmp_path, "cn-hangzhou", _bucket("src"), 1000)
    bucket = _bucket("dst")
    store.create_bucket("cn-beijing", bucket)
    lying = source._replace(sha256="0" * 64)
    with pytest.raises(CatalogError, match="SHA-256"):
        store.copy_object(lying, "cn-hangzhou", "cn-beijing", bucket, source.key)
    assert store.head_object("cn-beijing", bucket, source.key) is None
    uploads = store.client("cn-beijing").list_multipart_uploads(Bucket=bucket)
    assert not uploads.get("Uploads")  # aborted


def test_streaming_copy_of_an_empty_object(aws_env: MotoServer, tmp_path: Path) -> None:
    store = _store(provider="alicloud")
    source = _upload(store, tmp_path, "cn-hangzhou", _bucket("src"), 0)
    bucket = _bucket("dst")
    store.create_bucket("cn-shanghai", bucket)
    copied = store.copy_object(source, "cn-hangzhou", "cn-shanghai", bucket, source.key)
    assert copied.size == 0 and _get(store, copied, "cn-shanghai") == b""


def test_presigned_and_plain_urls(aws_env: MotoServer, tmp_path: Path) -> None:
    store = _store()
    info = _upload(store, tmp_path, "eu-west-1", _bucket("r"), 4321)
    url = store.object_url("eu-west-1", info.bucket, info.key, presign=True, expires=120)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"] and query["X-Amz-Expires"] == ["120"]
    assert "/eu-west-1/s3/" in query["X-Amz-Credential"][0]
    assert TEST_SECRET_KEY not in url
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.read() == (tmp_path / "blob.bin").read_bytes()
    plain = store.object_url("eu-west-1", info.bucket, info.key, presign=False)
    assert plain == f"{aws_env.endpoint_url}/{info.bucket}/{info.key}"
    with pytest.raises(InputError, match="out of range"):
        store.object_url("eu-west-1", info.bucket, info.key, presign=True, expires=8 * 24 * 3600)


def test_provider_endpoints_and_internal_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    store = open_store("oss://deploypkg-demo-cn-hangzhou/catalog", region="cn-hangzhou")
    assert isinstance(store, S3Store)
    assert store.endpoint_for("cn-beijing") == ("https://s3.oss-cn-beijing.aliyuncs.com", "virtual")
    public = store.object_url("cn-beijing", "deploypkg-demo-cn-beijing", "files/a.txt", presign=True)
    assert urllib.parse.urlsplit(public).hostname == "deploypkg-demo-cn-beijing.s3.oss-cn-beijing.aliyuncs.com"
    internal = store.object_url(
        "cn-beijing", "deploypkg-demo-cn-beijing", "files/a.txt", presign=True, endpoint="internal"
    )
    parts = urllib.parse.urlsplit(internal)
    assert parts.hostname == "deploypkg-demo-cn-beijing.oss-cn-beijing-internal.aliyuncs.com"
    assert "X-Amz-Signature=" in parts.query and TEST_SECRET_KEY not in internal
    plain = store.object_url("cn-beijing", "deploypkg-demo-cn-beijing", "files/a.txt", presign=False)
    assert plain == "https://deploypkg-demo-cn-beijing.oss-cn-beijing.aliyuncs.com/files/a.txt"
    explicit = open_store("s3://b-cat/p", endpoint_url="http://minio.local:9000", addressing_style="path")
    assert isinstance(explicit, S3Store)
    assert explicit.endpoint_for("us-east-1", "internal") == ("http://minio.local:9000", "path")
    aws = open_store("s3://b-cat/p", provider="aws")
    assert isinstance(aws, S3Store)
    assert aws.endpoint_for("eu-west-1") == ("https://s3.eu-west-1.amazonaws.com", "virtual")
    assert aws.copy_mode("us-east-1", "eu-west-1") == "server"


def test_one_client_per_region_reused(aws_env: MotoServer) -> None:
    store = _store()
    assert store.client("us-west-2") is store.client("us-west-2")
    assert store.client("us-west-2") is not store.client("eu-west-1")
    assert store.client("us-west-2").meta.region_name == "us-west-2"


def test_errors_name_the_object_and_hide_credentials(aws_env: MotoServer, tmp_path: Path) -> None:
    store = _store()
    source = _upload(store, tmp_path, "us-east-1", _bucket("src"), 10)
    with pytest.raises(CatalogError) as caught:
        store.copy_object(source, "us-east-1", "us-west-2", "dpk-no-such-bucket-x", source.key)
    message = caught.value.render()
    assert "dpk-no-such-bucket-x" in message and "NoSuchBucket" in message and "create bucket" in message
    assert TEST_SECRET_KEY not in message
    missing = open_store("s3://dpk-missing-catalog-bucket/p", region="us-east-1")
    with pytest.raises(CatalogError, match="dpk-missing-catalog-bucket"):
        missing.read_document("catalog.json")


def test_unreachable_endpoint_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", TEST_SECRET_KEY)
    store = open_store("s3://dpk-x/p", endpoint_url="http://127.0.0.1:9", max_attempts=2, connect_timeout=1)
    with pytest.raises(CatalogError) as caught:
        store.read_document("catalog.json")
    assert "read catalog document s3://dpk-x/p/catalog.json" in caught.value.message
    assert "tried 2 times" in (caught.value.hint or "")
    assert TEST_SECRET_KEY not in caught.value.render()


def test_bad_options_are_refused() -> None:
    with pytest.raises(InputError, match="unknown object-store option"):
        open_store("s3://dpk-x/p", colour="blue")
    with pytest.raises(InputError, match="addressing style"):
        open_store("s3://dpk-x/p", addressing_style="sideways")
    with pytest.raises(InputError, match="stream_part_size"):
        open_store("s3://dpk-x/p", stream_part_size=1024)
    with pytest.raises(InputError, match="bucket"):
        open_store("s3://UPPER_case/p")


def test_bounded_retries_with_backoff(aws_env: MotoServer) -> None:
    from faultproxy import Fault, FaultProxy

    seed = _store()
    seed.write_document("catalog.json", {"format_version": 1})
    with FaultProxy(aws_env.endpoint_url) as proxy:
        url = f"s3://{seed.bucket}/team/catalog"
        store = open_store(url, endpoint_url=proxy.endpoint_url, region="us-east-1", max_attempts=3)
        proxy.inject(Fault.SLOW_DOWN, method="GET", path="catalog.json", times=2)
        document = store.read_document("catalog.json")
        assert document is not None and document.data == {"format_version": 1}
        assert proxy.count("GET", "catalog.json") == 3
        proxy.clear()
        proxy.inject(Fault.INTERNAL_ERROR, method="GET", path="catalog.json", times=None)
        with pytest.raises(CatalogError) as caught:
            store.read_document("catalog.json")
        assert proxy.count("GET", "catalog.json") == 3  # bounded: max_attempts requests, then the error
        assert "InternalError" in caught.value.message and "catalog.json" in caught.value.message
        proxy.clear()
        proxy.inject(Fault.ACCESS_DENIED, method="GET", path="catalog.json", times=None)
        with pytest.raises(CatalogError) as caught:
            store.read_document("catalog.json")
        assert proxy.count("GET", "catalog.json") == 1  # a refusal is not retried
        assert "AccessDenied" in caught.value.message and "credentials" in (caught.value.hint or "")
        assert TEST_SECRET_KEY not in caught.value.render()


def test_endpoint_url_pattern_per_region() -> None:
    store = open_store("s3://dpk-x/p", endpoint_url="https://s3.{region}.example.com", provider="alicloud")
    assert isinstance(store, S3Store)
    assert store.endpoint_for("cn-beijing") == ("https://s3.cn-beijing.example.com", "auto")
    assert store.endpoint_for("cn-beijing", "internal") == ("https://s3.cn-beijing.example.com", "auto")
