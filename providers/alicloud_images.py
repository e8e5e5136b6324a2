"""Alibaba Cloud ECS images across regions, and who may launch them, through Alibaba's official
SDK (``alibabacloud-ecs20140526``, the ``alicloud`` extra), imported only here.

- Copy: ``CopyImage`` from the source region into a region, with an idempotency ``ClientToken``
  and the tags ``deploypkg:package`` / ``deploypkg:version``. Before copying, ``DescribeImages``
  by those tags looks for a copy an earlier run started (one that crashed before recording it),
  so a rerun never starts a second copy.
- Wait: ``DescribeImages`` with every status (by default it lists only ``Available`` images)
  until the copy is ``Available`` or has failed; its ``Progress`` is the copy's percentage.
- Share: ``DescribeImageSharePermission`` and ``ModifyImageSharePermission``, at most 10 accounts
  added and 10 removed per call. ``IsPublic`` makes the image a community image, which every
  Alibaba Cloud account may launch.

Credentials: ``ALIBABA_CLOUD_ACCESS_KEY_ID`` / ``ALIBABA_CLOUD_ACCESS_KEY_SECRET`` (and
``ALIBABA_CLOUD_SECURITY_TOKEN``), else the SDK's default chain (CLI profile, credentials file,
ECS RAM role). Endpoint: the region's ECS endpoint, or ``DEPLOYPKG_ECS_ENDPOINT`` (a URL such as
``https://ecs-vpc.cn-hangzhou.aliyuncs.com`` or a local test server). Throttling and
``ServiceUnavailable`` are retried by the SDK's own retry policy (bounded attempts, exponential
backoff with jitter); any other error is a :class:`~preprocessor.errors.CatalogError` naming the
action, region, error code and message.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from providers.spec import CopyProbe, ImageCopy, ImagePermissions, copy_token, wait_for_copy

ENDPOINT_ENV = "DEPLOYPKG_ECS_ENDPOINT"
TAG_PACKAGE = "deploypkg:package"
TAG_VERSION = "deploypkg:version"
EVERY_STATUS = "Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated"
PENDING = frozenset({"Creating", "Waiting"})
FAILED = frozenset({"CreateFailed", "UnAvailable"})
ACCOUNTS_PER_CALL = 10
PAGE_SIZE = 100
RETRIED_CODES = (
    "Throttling",
    "Throttling.User",
    "Throttling.Api",
    "Throttling.Resource",
    "ServiceUnavailable",
    "InternalError",
)
MAX_ATTEMPTS = 5
BACKOFF_MS = 200
BACKOFF_CAP_MS = 10_000

_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def _sdk() -> tuple[Any, Any, Any]:
    from preprocessor.errors import InputError

    try:
        from alibabacloud_ecs20140526 import models
        from alibabacloud_ecs20140526.client import Client
        from alibabacloud_tea_openapi import models as openapi
    except ImportError as missing:
        raise InputError(
            f"copying and sharing ECS images needs Alibaba Cloud's SDK ({missing.name} is not installed)",
            hint="pip install 'deploypkg[alicloud]'",
        ) from None
    return Client, models, openapi


def _config(openapi: Any, region: str) -> Any:
    from darabonba.policy.retry import RetryOptions

    retry = RetryOptions(
        {
            "retryable": True,
            "retryCondition": [
                {
                    "maxAttempts": MAX_ATTEMPTS,  # attempts in all, the first included
                    "errorCode": list(RETRIED_CODES),
                    "exception": ["ThrottlingException"],
                    "backoff": {"policy": "ExponentialWithEqualJitter", "period": BACKOFF_MS, "cap": BACKOFF_CAP_MS},
                }
            ],
        }
    )
    settings: dict[str, Any] = {"region_id": region, "retry_options": retry}
    endpoint = os.environ.get(ENDPOINT_ENV)
    if endpoint:
        parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
        settings["endpoint"] = parts.netloc
        settings["protocol"] = parts.scheme.upper()
    key_id = os.environ.get("ALIBABA_CLOUD_ACCESS_KEY_ID")
    secret = os.environ.get("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
    if key_id and secret:
        settings["access_key_id"] = key_id
        settings["access_key_secret"] = secret
        settings["security_token"] = os.environ.get("ALIBABA_CLOUD_SECURITY_TOKEN") or None
    else:
        from alibabacloud_credentials.client import Client as Credentials

        # The chain logs each provider it could not use, with a traceback; our error says it once.
        logging.getLogger("credentials").setLevel(logging.CRITICAL)
        settings["credential"] = Credentials()
    return openapi.Config(**settings)


def ecs_client(region: str) -> Any:
    """The ECS client for ``region``: one per region, endpoint and access key in a process."""
    key = f"{region}\0{os.environ.get(ENDPOINT_ENV, '')}\0{os.environ.get('ALIBABA_CLOUD_ACCESS_KEY_ID', '')}"
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            Client, _, openapi = _sdk()
            client = _clients[key] = Client(_config(openapi, region))
        return client


def _call(action: str, region: str, send: Callable[[Any], Any]) -> Any:
    """``send(client)``'s response body; an SDK error becomes a CatalogError."""
    from preprocessor.errors import CatalogError

    client = ecs_client(region)
    try:
        return send(client).body
    except Exception as raised:
        # The SDK wraps what it does not retry (no credentials, a refused connection).
        error = getattr(raised, "inner_exception", None) or raised
        code = getattr(error, "code", None)
        data = getattr(error, "data", None)
        data = data if isinstance(data, dict) else {}
        # The service's own message; the SDK's adds the status code and request ID to it.
        message = data.get("Message") or getattr(error, "message", None) or str(error)
        if type(error).__name__ == "CredentialException":
            raise CatalogError(
                f"ECS {action} in {region}: no Alibaba Cloud credentials",
                hint="set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or configure the aliyun CLI",
            ) from None
        if code is None and not hasattr(error, "status_code"):
            raise CatalogError(f"ECS {action} in {region} failed: {type(error).__name__}: {message}") from None
        request_id = data.get("RequestId") or getattr(error, "request_id", None)
        suffix = f" (request {request_id})" if request_id else ""
        raise CatalogError(f"ECS {action} in {region}: {code}: {message}{suffix}") from None


def image_name(package: str, version: str) -> str:
    """An ECS image name for the copy: 2-128 characters, a letter first, then letters, digits and
    ``.:_-``."""
    name = re.sub(r"[^A-Za-z0-9.:_-]", "-", f"{package}-{version}")
    if not name[:1].isalpha():
        name = f"deploypkg-{name}"
    return name[:128]


def _tags(image: Any) -> dict[str, str]:
    tags = image.tags.tag if image.tags is not None and image.tags.tag else []
    return {t.tag_key: t.tag_value for t in tags if t.tag_key is not None}


def _describe_images(client: Any, request: Any) -> Any:
    return client.describe_images(request)


def _describe_shares(client: Any, request: Any) -> Any:
    return client.describe_image_share_permission(request)


def _images(region: str, **filters: Any) -> Iterator[Any]:
    _, models, _ = _sdk()
    page = 1
    while True:
        request = models.DescribeImagesRequest(
            region_id=region, status=EVERY_STATUS, page_number=page, page_size=PAGE_SIZE, **filters
        )
        body = _call("DescribeImages", region, functools.partial(_describe_images, request=request))
        found = body.images.image if body.images is not None and body.images.image else []
        yield from found
        if not found or page * PAGE_SIZE >= (body.total_count or 0):
            return
        page += 1


def tagged_copies(package: str, version: str, region: str) -> list[Any]:
    """The copies of this version in ``region`` (tagged by deploypkg), any status."""
    _, models, _ = _sdk()
    tags = [
        models.DescribeImagesRequestTag(key=TAG_PACKAGE, value=package),
        models.DescribeImagesRequestTag(key=TAG_VERSION, value=version),
    ]
    return [
        image
        for image in _images(region, image_owner_alias="self", tag=tags)
        if _tags(image).get(TAG_PACKAGE) == package and _tags(image).get(TAG_VERSION) == version
    ]


def _describe(region: str, image_id: str) -> Any | None:
    for image in _images(region, image_id=image_id):
        if image.image_id == image_id:
            return image
    return None


def _percent(progress: str | None) -> int | None:
    match = re.fullmatch(r"\s*(\d{1,3})\s*%?\s*", progress or "")
    return min(100, int(match.group(1))) if match else None


class ECSImageCopier:
    """The alicloud :class:`~providers.spec.ImageCopier`: ECS CopyImage, then DescribeImages."""

    service = "ECS CopyImage"

    def copy_image(self, package: str, version: str, source_region: str, source_image_id: str, region: str) -> str:
        """Start ``CopyImage`` of the source image into ``region``, or find the copy an earlier run
        started; return the copy's image ID."""
        copies = tagged_copies(package, version, region)
        for image in copies:
            if image.status not in FAILED:
                return str(image.image_id)
        # The token names the attempt: after a failed copy, a rerun must start a new one, not get
        # the failed copy back from CopyImage's idempotency.
        attempt = sum(1 for image in copies if image.status in FAILED)
        _, models, _ = _sdk()
        request = models.CopyImageRequest(
            region_id=source_region,
            image_id=source_image_id,
            destination_region_id=region,
            destination_image_name=image_name(package, version),
            destination_description=f"deploypkg {package} {version} from {source_region}"[:256],
            client_token=copy_token(package, version, f"{region}#{attempt}" if attempt else region),
            tag=[
                models.CopyImageRequestTag(key=TAG_PACKAGE, value=package),
                models.CopyImageRequestTag(key=TAG_VERSION, value=version),
            ],
        )
        body = _call("CopyImage", source_region, lambda c: c.copy_image(request))
        return str(body.image_id)

    def wait_available(
        self,
        region: str,
        image_id: str,
        timeout: float,
        poll: float,
        stop: threading.Event,
        progress: Callable[[str, int | None], None] | None = None,
    ) -> ImageCopy:

        def probe() -> CopyProbe:
            image = _describe(region, image_id)
            if image is None:
                return CopyProbe(
                    None, None, ImageCopy(region, image_id, "missing", f"{image_id} does not exist in {region}")
                )
            status = str(image.status)
            if status == "Available":
                done: ImageCopy | None = ImageCopy(region, image_id, "available")
            elif status in FAILED:
                done = ImageCopy(region, image_id, "failed", f"the copy is {status}")
            elif status not in PENDING:
                done = ImageCopy(region, image_id, status.lower(), f"the copy is {status}")
            else:
                done = None
            return CopyProbe(status, _percent(image.progress), done)

        return wait_for_copy(region, image_id, probe, timeout, poll, stop, progress)


def _batches(accounts: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(accounts), ACCOUNTS_PER_CALL):
        yield accounts[start : start + ACCOUNTS_PER_CALL]


class ECSImageSharer:
    """The alicloud :class:`~providers.spec.ImageSharer`: an image's share list
    (``DescribeImageSharePermission`` / ``ModifyImageSharePermission``, 10 accounts per call) and
    its community (public) flag."""

    service = "ECS image sharing"
    copy_permissions = False  # ECS has no permission to copy a shared image

    def read(self, region: str, image_id: str) -> ImagePermissions:
        _, models, _ = _sdk()
        accounts: set[str] = set()
        public = False
        page = 1
        while True:
            request = models.DescribeImageSharePermissionRequest(
                region_id=region, image_id=image_id, page_number=page, page_size=PAGE_SIZE
            )
            body = _call("DescribeImageSharePermission", region, functools.partial(_describe_shares, request=request))
            listed = body.accounts.account if body.accounts is not None and body.accounts.account else []
            accounts.update(str(a.aliyun_id) for a in listed if a.aliyun_id is not None)
            shared = body.share_groups
            groups = shared.share_group if shared is not None and shared.share_group else []
            public = public or any(g.group == "all" for g in groups)
            if not listed or page * PAGE_SIZE >= (body.total_count or 0):
                return ImagePermissions(public, frozenset(accounts))
            page += 1

    def image_owner(self, region: str, image_id: str) -> str | None:
        image = _describe(region, image_id)
        return str(image.image_owner_id) if image is not None and image.image_owner_id is not None else None

    def apply(self, region: str, image_id: str, actual: ImagePermissions, wanted: ImagePermissions) -> None:
        _, models, _ = _sdk()
        adding = sorted(wanted.accounts - actual.accounts)
        removing = sorted(actual.accounts - wanted.accounts)
        # Removals first: a revoked or narrowed image stops being launchable before anything widens.
        if actual.public and not wanted.public:
            self._modify(models, region, image_id, is_public=False)
        for batch in _batches(removing):
            self._modify(models, region, image_id, remove_account=batch)
        for batch in _batches(adding):
            self._modify(models, region, image_id, add_account=batch)
        if wanted.public and not actual.public:
            self._modify(models, region, image_id, is_public=True)

    def _modify(self, models: Any, region: str, image_id: str, **change: Any) -> None:
        request = models.ModifyImageSharePermissionRequest(region_id=region, image_id=image_id, **change)
        _call("ModifyImageSharePermission", region, lambda c: c.modify_image_share_permission(request))
