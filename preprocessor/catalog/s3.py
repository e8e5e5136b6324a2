"""The S3-compatible store, ``s3://BUCKET/PREFIX``: Amazon S3, Alibaba OSS's S3-compatible
endpoint, MinIO, moto.

Catalog documents live in BUCKET under PREFIX (in the store's home ``region``); file artifacts
live in the regional buckets named by ``catalog.json``'s bucket pattern, each reached through
that region's client. Clients are created lazily, one per (region, endpoint kind, signed) and
reused; boto3 clients are thread-safe, so parallel regions share them.

Endpoints, in order: the ``endpoint_url`` option (``{region}`` is filled in); boto3's own
``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL``; the provider's ``s3_endpoint`` pattern (with the
provider's addressing style; plain public-object URLs use its ``object_endpoint``); boto3's
default. ``object_url(endpoint="internal")`` signs against
the provider's ``object_internal_endpoint`` (e.g. ``oss-cn-hangzhou-internal.aliyuncs.com``) when no
explicit endpoint is configured, and against the explicit endpoint otherwise.

Copies between regions are server-side (CopyObject; UploadPartCopy above
``multipart_copy_threshold``) except where the provider cannot copy across regions
(its ``cross_region_copy`` is ``stream``): there the object is streamed, ranged GET → UploadPart, one part in
memory at a time, its SHA-256 checked against the source's before the upload completes.

Credentials come from boto3's chain and never appear in URLs of this store or in its errors.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from preprocessor.catalog.documents import decode_document, encode_document
from preprocessor.catalog.keys import check_bucket, check_key
from preprocessor.catalog.s3_regions import RegionScope
from preprocessor.catalog.store import Document, Endpoint, ObjectInfo, ProgressCallback
from preprocessor.errors import CatalogError, ConflictError, InputError

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

    from providers import Provider

MiB = 1024 * 1024
GiB = 1024 * MiB
MIN_PART_SIZE = 5 * MiB
"""S3's smallest part (every part but the last)."""
MAX_PARTS = 10_000
ANONYMOUS_TIMEOUT = 15.0
MAX_PRESIGN_EXPIRES = 7 * 24 * 3600
"""SigV4 presigned URLs live at most seven days."""

CopyMode = Literal["auto", "server", "stream"]
AddressingStyle = Literal["auto", "path", "virtual"]

_CONFLICT_CODES = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}
_MISSING_KEY_CODES = {"NoSuchKey", "404", "NotFound"}


@dataclass(frozen=True)
class S3Options:
    endpoint_url: str | None = None
    """Explicit endpoint URL for every region; may contain ``{region}``."""
    region: str | None = None
    """Home region of the catalog bucket (else boto3's configured region, else us-east-1)."""
    addressing_style: AddressingStyle | None = None
    signature_version: str = "s3v4"
    provider: str | None = None
    profile: str | None = None
    max_attempts: int = 5
    """Total attempts per request (botocore standard retry mode: backoff with jitter)."""
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    copy_mode: CopyMode = "auto"
    multipart_copy_threshold: int = 5 * GiB
    """Server-side copies of objects larger than this use UploadPartCopy (CopyObject's limit is 5 GiB)."""
    copy_part_size: int = 512 * MiB
    stream_part_size: int = 16 * MiB
    """Bytes held in memory at a time by a streamed copy."""
    upload_multipart_threshold: int = 64 * MiB
    upload_part_size: int = 16 * MiB


_OPTION_NAMES = frozenset(S3Options.__dataclass_fields__)


class S3Store:
    def __init__(self, bucket: str, prefix: str, options: S3Options, url: str | None = None) -> None:
        self.bucket = check_bucket(bucket)
        self.prefix = prefix.strip("/")
        if self.prefix:
            check_key(self.prefix)
        self.options = options
        self.url = url or f"s3://{bucket}/{self.prefix}".rstrip("/")
        self._provider: Provider | None = None
        if options.provider is not None:
            from providers import get_provider

            self._provider = get_provider(options.provider)
        for size, name in ((options.copy_part_size, "copy_part_size"), (options.stream_part_size, "stream_part_size")):
            if size < MIN_PART_SIZE:
                raise InputError(f"{name} must be at least {MIN_PART_SIZE} bytes (S3's smallest part), not {size}")
        if options.addressing_style not in (None, "auto", "path", "virtual"):
            raise InputError(f"unknown addressing style {options.addressing_style!r}", hint="use path, virtual or auto")
        if options.copy_mode not in ("auto", "server", "stream"):
            raise InputError(f"unknown copy mode {options.copy_mode!r}", hint="use auto, server or stream")
        self._lock = threading.Lock()
        self._session: boto3.session.Session | None = None
        self._clients: dict[tuple[str, Endpoint, bool], S3Client] = {}
        self._region_scope: RegionScope | None = None

    @classmethod
    def from_url(cls, url: str, **options: Any) -> S3Store:
        """``SCHEME://BUCKET[/PREFIX]``: ``s3://``, or a provider's own scheme (``oss://``), which
        :func:`~preprocessor.catalog.opening.open_store` opens with that provider."""
        rest = url.partition("://")[2]
        bucket, _, prefix = rest.partition("/")
        unknown = sorted(set(options) - _OPTION_NAMES)
        if unknown:
            raise InputError(
                f"unknown object-store option(s) {', '.join(unknown)}",
                hint=f"known: {', '.join(sorted(_OPTION_NAMES))}",
            )
        try:
            return cls(bucket, prefix, S3Options(**{k: v for k, v in options.items() if v is not None}), url)
        except InputError as exc:
            raise InputError(f"catalog URL {url!r}: {exc.message}", hint=exc.hint or "use s3://BUCKET/PREFIX") from None

    @property
    def needs_provider(self) -> bool:
        return self._provider is None

    def why_no_catalog(self) -> str:
        return f"no object {self._document_key('catalog.json')} in bucket {self.bucket}"

    # --- clients

    @property
    def home_region(self) -> str:
        if self.options.region:
            return self.options.region
        return self._get_session().region_name or "us-east-1"

    def _get_session(self) -> boto3.session.Session:
        with self._lock:
            if self._session is None:
                from preprocessor.catalog.sessions import new_session

                self._session = new_session(self.options.profile)
            return self._session

    def credentials(self) -> Any:
        """The botocore credentials this store signs with (its own session's, so the chain is
        resolved once), or None when there are none."""
        return self._get_session().get_credentials()

    def _explicit_endpoint(self, region: str) -> str | None:
        if self.options.endpoint_url:
            return self.options.endpoint_url.format(region=region)
        return None

    def _environment_endpoint(self) -> bool:
        return bool(os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL"))

    def endpoint_for(self, region: str, endpoint: Endpoint = "public", signed: bool = True) -> tuple[str | None, str]:
        """(endpoint URL or None for boto3's own choice, addressing style) for a region.

        With the provider's patterns: API calls and presigned URLs use ``s3_endpoint``, plain
        (unsigned) URLs of public objects ``object_endpoint``, ``internal`` ``object_internal_endpoint``.
        """
        style = self.options.addressing_style
        explicit = self._explicit_endpoint(region)
        if explicit is not None or self._environment_endpoint() or self._provider is None:
            return explicit, style or "auto"
        provider = self._provider
        provider_style = style or provider.s3_addressing_style or "auto"
        if endpoint == "internal" and provider.object_internal_endpoint:
            return "https://" + provider.object_internal_endpoint.format(region=region), provider_style
        if not signed and provider.object_endpoint:
            return "https://" + provider.object_endpoint.format(region=region), provider_style
        if provider.s3_endpoint:
            return provider.s3_endpoint.format(region=region), provider_style
        return None, style or "auto"

    def client(self, region: str, endpoint: Endpoint = "public", signed: bool = True) -> S3Client:
        """The (cached) client for a region."""
        cache_key = (region, endpoint, signed)
        client = self._clients.get(cache_key)
        if client is not None:
            return client
        session = self._get_session()
        from botocore import UNSIGNED
        from botocore.config import Config

        endpoint_url, style = self.endpoint_for(region, endpoint, signed)
        config = Config(
            region_name=region,
            signature_version=self.options.signature_version if signed else UNSIGNED,
            s3={"addressing_style": style},  # type: ignore[arg-type]  # validated in __init__
            retries={"total_max_attempts": self.options.max_attempts, "mode": "standard"},
            connect_timeout=self.options.connect_timeout,
            read_timeout=self.options.read_timeout,
            max_pool_connections=16,
        )
        with self._lock:
            client = self._clients.get(cache_key)
            if client is None:
                client = session.client("s3", endpoint_url=endpoint_url, config=config)
                self._clients[cache_key] = client
        return client

    def _shares_clients(self, endpoint: Endpoint, signed: bool) -> bool:
        """Whether the endpoint is the same in every region (so one client serves them all)."""
        first = self.endpoint_for("us-east-1", endpoint, signed)
        return first == self.endpoint_for("eu-west-1", endpoint, signed) and (
            first[0] is not None or self._environment_endpoint()
        )

    @contextlib.contextmanager
    def _regional(self, region: str, endpoint: Endpoint = "public", signed: bool = True) -> Iterator[S3Client]:
        """A client whose requests and presigned URLs are signed for ``region``: the one shared
        client where the endpoint allows it (see :mod:`~preprocessor.catalog.s3_regions`), else
        the region's own. For the reads render makes in every region (HEAD, presigning)."""
        if not self._shares_clients(endpoint, signed):
            yield self.client(region, endpoint, signed)
            return
        client = self.client(self.home_region, endpoint, signed)
        with self._lock:
            if self._region_scope is None:
                self._region_scope = RegionScope()
            scope = self._region_scope
            if ("*", endpoint, signed) not in self._clients:
                scope.attach(client)  # signs for the home region, as before, outside signing_for
                self._clients["*", endpoint, signed] = client
        with scope.signing_for(region):
            yield client

    def _document_key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    # --- documents

    def read_document(self, key: str) -> Document | None:
        full = self._document_key(key)
        with self._errors("read catalog document", self.bucket, full, self.home_region):
            try:
                response = self.client(self.home_region).get_object(Bucket=self.bucket, Key=full)
            except Exception as exc:
                if _code(exc) in _MISSING_KEY_CODES:
                    return None
                raise
            raw = response["Body"].read()
        return Document(decode_document(raw, key, f"s3://{self.bucket}/{full}"), _unquote(response["ETag"]))

    def write_document(
        self, key: str, data: dict[str, Any], *, if_none_match: bool = False, if_match: str | None = None
    ) -> str:
        full = self._document_key(key)
        conditions: dict[str, str] = {}
        if if_none_match:
            conditions["IfNoneMatch"] = "*"
        if if_match is not None:
            conditions["IfMatch"] = f'"{_unquote(if_match)}"'
        body = encode_document(data)
        with self._errors("write catalog document", self.bucket, full, self.home_region):
            try:
                response = self.client(self.home_region).put_object(
                    Bucket=self.bucket,
                    Key=full,
                    Body=body,
                    ContentType="application/json",
                    **conditions,  # type: ignore[arg-type]
                )
            except Exception as exc:
                code = _code(exc)
                if conditions and (code in _CONFLICT_CODES or (if_match is not None and code in _MISSING_KEY_CODES)):
                    landed = self._holds(full, body)
                    if landed is not None:
                        return landed
                    state = "already exists" if if_none_match else "was changed or deleted since it was read"
                    raise ConflictError(
                        f"catalog document {key} {state} (s3://{self.bucket}/{full})",
                        hint="another writer got there first; read it again and decide whether to retry",
                    ) from None
                raise
        return _unquote(response["ETag"])

    def _holds(self, full: str, body: bytes) -> str | None:
        """The document's ETag when it already holds exactly ``body``, else ``None``.

        A conditional write can land while its answer is lost (the connection drops); botocore
        then retries it, and the retry fails the condition against the write it just made. A plain
        PUT's ETag is the MD5 of its bytes (S3, OSS, MinIO), so the write is recognised as ours.
        """
        try:
            head = self.client(self.home_region).head_object(Bucket=self.bucket, Key=full)
        except Exception:
            return None
        etag = _unquote(str(head.get("ETag", ""))).lower()
        return etag if etag == hashlib.md5(body, usedforsecurity=False).hexdigest() else None

    def list_keys(self, prefix: str) -> list[str]:
        base = f"{self.prefix}/" if self.prefix else ""
        found: list[str] = []
        with self._errors("list catalog documents", self.bucket, base + prefix, self.home_region):
            paginator = self.client(self.home_region).get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=base + prefix):
                found.extend(item["Key"][len(base) :] for item in page.get("Contents", ()))
        return sorted(found)

    # --- regional objects

    def create_bucket(self, region: str, bucket: str) -> None:
        check_bucket(bucket)
        params: dict[str, Any] = {"Bucket": bucket}
        if region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": region}
        with self._errors("create bucket", bucket, None, region):
            try:
                self.client(region).create_bucket(**params)
            except Exception as exc:
                if _code(exc) not in ("BucketAlreadyOwnedByYou",):
                    raise

    def head_object(self, region: str, bucket: str, key: str) -> ObjectInfo | None:
        check_bucket(bucket)
        check_key(key)
        with self._errors("head object", bucket, key, region), self._regional(region) as client:
            try:
                response = client.head_object(Bucket=bucket, Key=key)
            except Exception as exc:
                if _code(exc) in _MISSING_KEY_CODES:
                    return None
                raise
        metadata = response.get("Metadata") or {}
        size = int(response["ContentLength"])
        return ObjectInfo(bucket, key, size, _unquote(response["ETag"]), metadata.get("sha256"))

    def put_object(
        self, region: str, bucket: str, key: str, path: Path, sha256: str, progress: ProgressCallback | None = None
    ) -> ObjectInfo:
        """Upload a file (multipart above ``upload_multipart_threshold``) with its SHA-256 as metadata."""
        from boto3.s3.transfer import TransferConfig

        check_bucket(bucket)
        check_key(key)
        if not path.is_file():
            raise InputError(f"file to upload does not exist: {path}", file=str(path))
        config = TransferConfig(
            multipart_threshold=self.options.upload_multipart_threshold,
            multipart_chunksize=self.options.upload_part_size,
        )
        with self._errors("upload object", bucket, key, region):
            self.client(region).upload_file(
                str(path),
                bucket,
                key,
                ExtraArgs={"Metadata": {"sha256": sha256}},
                Callback=progress,
                Config=config,
            )
        info = self.head_object(region, bucket, key)
        if info is None:
            raise CatalogError(f"upload object s3://{bucket}/{key}: the object is missing right after the upload")
        return info

    def copy_object(
        self,
        source: ObjectInfo,
        source_region: str,
        region: str,
        bucket: str,
        key: str,
        progress: ProgressCallback | None = None,
    ) -> ObjectInfo:
        check_bucket(bucket)
        check_key(key)
        if self.copy_mode(source_region, region) == "stream":
            return self._stream_copy(source, source_region, region, bucket, key, progress)
        if source.size > self.options.multipart_copy_threshold:
            return self._multipart_copy(source, region, bucket, key, progress)
        with self._errors(f"copy s3://{source.bucket}/{source.key} to", bucket, key, region):
            response = self.client(region).copy_object(
                Bucket=bucket,
                Key=key,
                CopySource={"Bucket": source.bucket, "Key": source.key},
                CopySourceIfMatch=f'"{source.etag}"',
                MetadataDirective="COPY",
            )
        if progress is not None:
            progress(source.size)
        return ObjectInfo(bucket, key, source.size, _unquote(response["CopyObjectResult"]["ETag"]), source.sha256)

    def copy_mode(self, source_region: str, region: str) -> Literal["server", "stream"]:
        """Server-side or streamed, for a copy between these regions."""
        if self.options.copy_mode != "auto":
            return self.options.copy_mode
        if source_region == region or self._provider is None:
            return "server"
        return self._provider.cross_region_copy

    def _multipart_copy(
        self, source: ObjectInfo, region: str, bucket: str, key: str, progress: ProgressCallback | None
    ) -> ObjectInfo:
        client = self.client(region)
        part_size = _part_size(source.size, self.options.copy_part_size)
        operation = f"multipart copy s3://{source.bucket}/{source.key} to"
        with self._errors(operation, bucket, key, region), self._multipart(client, bucket, key, source) as upload_id:
            parts: list[CompletedPartTypeDef] = []
            for number, (start, end) in enumerate(_ranges(source.size, part_size), start=1):
                response = client.upload_part_copy(
                    Bucket=bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    CopySource={"Bucket": source.bucket, "Key": source.key},
                    CopySourceRange=f"bytes={start}-{end}",
                    CopySourceIfMatch=f'"{source.etag}"',
                )
                parts.append({"PartNumber": number, "ETag": response["CopyPartResult"]["ETag"]})
                if progress is not None:
                    progress(end - start + 1)
            completed = client.complete_multipart_upload(
                Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        return ObjectInfo(bucket, key, source.size, _unquote(completed["ETag"]), source.sha256)

    def _stream_copy(
        self,
        source: ObjectInfo,
        source_region: str,
        region: str,
        bucket: str,
        key: str,
        progress: ProgressCallback | None,
    ) -> ObjectInfo:
        reader = self.client(source_region)
        writer = self.client(region)
        if source.size == 0:
            return self._copy_empty(source, region, bucket, key)
        part_size = _part_size(source.size, self.options.stream_part_size)
        digest = hashlib.sha256()
        operation = f"streamed copy s3://{source.bucket}/{source.key} to"
        with self._errors(operation, bucket, key, region), self._multipart(writer, bucket, key, source) as upload_id:
            parts: list[CompletedPartTypeDef] = []
            for number, (start, end) in enumerate(_ranges(source.size, part_size), start=1):
                body = reader.get_object(
                    Bucket=source.bucket, Key=source.key, Range=f"bytes={start}-{end}", IfMatch=f'"{source.etag}"'
                )["Body"]
                chunk = body.read()
                body.close()
                digest.update(chunk)
                response = writer.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=chunk)
                parts.append({"PartNumber": number, "ETag": response["ETag"]})
                size = len(chunk)
                del chunk
                if progress is not None:
                    progress(size)
            if source.sha256 is not None and digest.hexdigest() != source.sha256:
                raise CatalogError(
                    f"{operation} s3://{bucket}/{key}: the bytes read have SHA-256 {digest.hexdigest()}, "
                    f"the source records {source.sha256}",
                    hint="the source object is damaged or was replaced; publish the file again",
                )
            completed = writer.complete_multipart_upload(
                Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        return ObjectInfo(bucket, key, source.size, _unquote(completed["ETag"]), digest.hexdigest())

    def _copy_empty(self, source: ObjectInfo, region: str, bucket: str, key: str) -> ObjectInfo:
        metadata = {"sha256": source.sha256} if source.sha256 else {}
        with self._errors(f"copy s3://{source.bucket}/{source.key} to", bucket, key, region):
            response = self.client(region).put_object(Bucket=bucket, Key=key, Body=b"", Metadata=metadata)
        return ObjectInfo(bucket, key, 0, _unquote(response["ETag"]), source.sha256)

    @contextlib.contextmanager
    def _multipart(self, client: S3Client, bucket: str, key: str, source: ObjectInfo) -> Iterator[str]:
        """A multipart upload, aborted if anything fails before it completes."""
        metadata = {"sha256": source.sha256} if source.sha256 else {}
        upload_id = client.create_multipart_upload(Bucket=bucket, Key=key, Metadata=metadata)["UploadId"]
        try:
            yield upload_id
        except BaseException:
            with contextlib.suppress(Exception):
                client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            raise

    def object_url(
        self,
        region: str,
        bucket: str,
        key: str,
        *,
        presign: bool,
        expires: int = 3600,
        endpoint: Endpoint = "public",
    ) -> str:
        """A SigV4 presigned GET URL valid ``expires`` seconds (at most 7 days), or the plain URL."""
        check_bucket(bucket)
        check_key(key)
        if presign and not 1 <= expires <= MAX_PRESIGN_EXPIRES:
            raise InputError(
                f"presigned URL expiry {expires} s is out of range",
                hint=f"use 1 to {MAX_PRESIGN_EXPIRES} seconds (SigV4 allows at most 7 days)",
            )
        with self._errors("sign URL for", bucket, key, region), self._regional(region, endpoint, presign) as client:
            return client.generate_presigned_url(
                "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires if presign else 3600
            )

    def object_is_public(self, region: str, bucket: str, key: str) -> bool | None:
        import requests

        url = self.object_url(region, bucket, key, presign=False)
        try:
            response = requests.head(url, timeout=ANONYMOUS_TIMEOUT, allow_redirects=False)
        except requests.RequestException as exc:
            raise CatalogError(
                f"anonymous HEAD of {url} failed: {exc}", hint="check the network and the endpoint"
            ) from None
        if response.status_code in (401, 403):
            return False
        if response.ok:
            return True
        raise CatalogError(
            f"anonymous HEAD of {url}: HTTP {response.status_code}",
            hint="the object should exist; rerun distribute for this region",
        )

    def set_object_public(self, region: str, bucket: str, key: str, public: bool) -> None:
        check_bucket(bucket)
        check_key(key)
        with self._errors("set the ACL of", bucket, key, region):
            self.client(region).put_object_acl(Bucket=bucket, Key=key, ACL="public-read" if public else "private")

    # --- errors

    @contextlib.contextmanager
    def _errors(self, operation: str, bucket: str, key: str | None, region: str) -> Iterator[None]:
        """Turn boto3 failures into :class:`CatalogError` naming the operation, the object and a fix."""
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, PartialCredentialsError

        where = f"s3://{bucket}/{key}" if key else f"s3://{bucket}"
        try:
            yield
        except (NoCredentialsError, PartialCredentialsError):
            raise CatalogError(
                f"{operation} {where} (region {region}): no usable credentials",
                hint="configure credentials for boto3 (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, or a role)",
            ) from None
        except ClientError as exc:
            code = _code(exc)
            message = exc.response.get("Error", {}).get("Message") or ""
            hint = {
                "NoSuchBucket": f"create bucket {bucket} in region {region}, or fix the catalog's bucket pattern",
                "AccessDenied": "check that the credentials may access this bucket (bucket policy, IAM/RAM policy)",
                # A HEAD has no error body: botocore reports its status code only.
                "403": "check that the credentials may access this bucket (bucket policy, IAM/RAM policy)",
                "InvalidAccessKeyId": "check the access key configured for boto3",
                "SignatureDoesNotMatch": "check the secret key, the region and the signature version",
                "PermanentRedirect": "the bucket is in another region: set the store's region or endpoint",
                "AuthorizationHeaderMalformed": "the region does not match the bucket's: set the store's region",
                "PreconditionFailed": "the source object changed during the copy; publish the file again",
            }.get(code, "retry later; if it persists, check the endpoint and the bucket")
            raise CatalogError(
                f"{operation} {where} (region {region}) failed: {code}{': ' + message if message else ''}", hint=hint
            ) from None
        except BotoCoreError as exc:
            raise CatalogError(
                f"{operation} {where} (region {region}) failed: {type(exc).__name__}: {_safe(exc)}",
                hint=f"check the network and the endpoint URL; the request was tried {self.options.max_attempts} times",
            ) from None


def _code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return ""
    code = response.get("Error", {}).get("Code")
    if code:
        return str(code)
    return str(response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))


def _safe(exc: BaseException) -> str:
    """An exception's text without anything that looks like a credential or a signature."""
    import re

    return re.sub(r"(Signature|Credential|Security-Token|X-Amz-[A-Za-z-]+)=[^&\s]+", r"\1=…", str(exc))


def _unquote(etag: str) -> str:
    return etag.strip('"')


def _part_size(size: int, wanted: int) -> int:
    """``wanted``, grown so that ``size`` fits in S3's 10,000 parts."""
    return max(wanted, MIN_PART_SIZE, -(-size // MAX_PARTS))


def _ranges(size: int, part_size: int) -> Iterator[tuple[int, int]]:
    """Inclusive byte ranges covering ``size`` bytes (none for an empty object)."""
    for start in range(0, size, part_size):
        yield start, min(start + part_size, size) - 1
