"""One S3 client serves every region when the endpoint does not depend on the region, and each
region's requests and presigned URLs are still signed for that region (checked with the
independent SigV4 verifier); an endpoint per region keeps a client per region."""

from __future__ import annotations

import threading
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import TEST_SECRET_KEY, MotoServer
from sigv4 import verify_presigned_url

from preprocessor.catalog.opening import open_store
from preprocessor.catalog.s3 import S3Store

REGIONS = ("us-west-2", "eu-west-1", "ap-south-1")


def _store_with_objects() -> tuple[S3Store, dict[str, str]]:
    """A fresh store (no client yet) and a bucket per region holding ``files/a.txt``."""
    tag = uuid.uuid4().hex[:8]
    url = f"s3://dpk-regions-{tag}/catalog"
    setup = open_store(url)
    assert isinstance(setup, S3Store)
    setup.create_bucket("us-east-1", f"dpk-regions-{tag}")
    buckets = {region: f"dpk-regions-{tag}-{region}" for region in REGIONS}
    for region, bucket in buckets.items():
        setup.create_bucket(region, bucket)
        setup.client(region).put_object(Bucket=bucket, Key="files/a.txt", Body=region.encode())
    store = open_store(url)
    assert isinstance(store, S3Store)
    return store, buckets


def _signed_regions(store: S3Store) -> list[str]:
    """The credential-scope region of every request the store's clients send from now on."""
    seen: list[str] = []

    def record(request: Any, **_: Any) -> None:
        authorization = request.headers.get("Authorization", b"")
        text = authorization.decode() if isinstance(authorization, bytes) else authorization
        seen.append(text.split("Credential=")[1].split("/")[2])

    for client in {id(c): c for c in store._clients.values()}.values():
        client.meta.events.register("before-send.s3", record)
    return seen


def test_one_client_signs_each_regions_heads_and_urls_for_that_region(aws_env: MotoServer) -> None:
    store, buckets = _store_with_objects()
    shared = store.client(store.home_region)
    for region, bucket in buckets.items():
        url = store.object_url(region, bucket, "files/a.txt", presign=True, expires=600)
        signed = verify_presigned_url(url, TEST_SECRET_KEY)
        assert signed.region == region
        assert parse_qs(urlsplit(url).query)["X-Amz-Credential"][0].endswith(f"/{region}/s3/aws4_request")
    seen = _signed_regions(store)
    for region, bucket in buckets.items():
        found = store.head_object(region, bucket, "files/a.txt")
        assert found is not None and found.size == len(region)
    assert seen == list(REGIONS)
    # the shared client is the home region's, and no region got a client of its own
    assert store._clients["*", "public", True] is shared
    assert set(store._clients) == {(store.home_region, "public", True), ("*", "public", True)}
    # outside a regional call the shared client still signs for its own region
    seen.clear()
    assert store.read_document("catalog.json") is None
    assert seen == [store.home_region]


def test_threads_sharing_the_client_each_sign_for_their_own_region(aws_env: MotoServer) -> None:
    store, buckets = _store_with_objects()
    barrier = threading.Barrier(len(REGIONS))
    urls: dict[str, list[str]] = {region: [] for region in REGIONS}

    def sign(region: str) -> None:
        barrier.wait()
        for _ in range(20):
            urls[region].append(store.object_url(region, buckets[region], "files/a.txt", presign=True, expires=60))

    threads = [threading.Thread(target=sign, args=(region,)) for region in REGIONS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for region, signed_urls in urls.items():
        assert {verify_presigned_url(url, TEST_SECRET_KEY).region for url in signed_urls} == {region}


def test_an_endpoint_per_region_keeps_a_client_per_region(aws_env: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    endpoint = "https://s3.{region}.storage.example"  # as a provider's pattern; presigning sends nothing
    store = open_store(f"s3://dpk-regions-{uuid.uuid4().hex[:8]}/catalog", endpoint_url=endpoint)
    assert isinstance(store, S3Store)
    for region in REGIONS:
        url = store.object_url(region, "dpk-any-bucket", "files/a.txt", presign=True, expires=60)
        assert verify_presigned_url(url, TEST_SECRET_KEY).region == region
    assert set(store._clients) == {(region, "public", True) for region in REGIONS}
