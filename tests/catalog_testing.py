"""Test helpers for the catalog commands: one catalog per test on the local store or on the moto
server (S3), with unique bucket names so tests never see each other's objects."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any, NamedTuple

from helpers import CliResult, run_cli

from preprocessor.catalog.opening import open_store
from preprocessor.catalog.store import Store


class CatalogEnv(NamedTuple):
    kind: str
    """``local`` or ``s3``."""
    url: str
    bucket_pattern: str
    root: Path | None
    """The local store's directory."""

    def cli(self, *args: str, timeout: float = 120) -> CliResult:
        return run_cli("catalog", "--catalog", self.url, *args, timeout=timeout)

    def show(self, name: str, version: str) -> dict[str, Any]:
        """``catalog show NAME VERSION --format json``, which must succeed."""
        shown = self.cli("show", name, version, "--format", "json")
        assert shown.exit_code == 0, shown.stderr
        data: dict[str, Any] = json.loads(shown.stdout)
        return data

    def store(self) -> Store:
        return open_store(self.url)

    def bucket(self, region: str) -> str:
        return self.bucket_pattern.format(region=region)

    def create_bucket(self, region: str) -> None:
        if self.kind == "s3":
            _s3(region).create_bucket(**_bucket_args(self.bucket(region), region))
        else:
            self.store().create_bucket(region, self.bucket(region))

    def object_bytes(self, region: str, key: str) -> bytes | None:
        if self.kind == "s3":
            client = _s3(region)
            try:
                body: bytes = client.get_object(Bucket=self.bucket(region), Key=key)["Body"].read()
            except client.exceptions.NoSuchKey:
                return None
            return body
        assert self.root is not None
        path = self.root / "buckets" / self.bucket(region) / key
        return path.read_bytes() if path.is_file() else None

    def object_stamp(self, region: str, key: str) -> Any:
        """What changes when an object is written again: LastModified+ETag (S3), mtime_ns+inode (local)."""
        if self.kind == "s3":
            head = _s3(region).head_object(Bucket=self.bucket(region), Key=key)
            return (head["LastModified"], head["ETag"])
        assert self.root is not None
        stat = (self.root / "buckets" / self.bucket(region) / key).stat()
        return (stat.st_mtime_ns, stat.st_ino)


def _s3(region: str) -> Any:
    import boto3

    return boto3.session.Session().client("s3", region_name=region)


def _bucket_args(bucket: str, region: str) -> dict[str, Any]:
    if region == "us-east-1":
        return {"Bucket": bucket}
    return {"Bucket": bucket, "CreateBucketConfiguration": {"LocationConstraint": region}}


def make_env(kind: str, tmp_path: Path) -> CatalogEnv:
    tag = uuid.uuid4().hex[:10]
    pattern = f"t{tag}-{{region}}"
    if kind == "s3":
        catalog_bucket = f"t{tag}-catalog"
        _s3("us-east-1").create_bucket(Bucket=catalog_bucket)
        return CatalogEnv("s3", f"s3://{catalog_bucket}/catalog", pattern, None)
    root = tmp_path / "catalog"
    return CatalogEnv("local", f"file://{root}", pattern, root)
