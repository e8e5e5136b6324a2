"""A local stand-in for Alibaba Cloud's ECS API, for the official SDK to talk to in tests.

No ECS endpoint is reachable offline, so deploypkg's ECS calls go through Alibaba's own SDK
(``alibabacloud-ecs20140526``) to this server over HTTP on 127.0.0.1.

What it checks, written from the documented request syntax and signature method V3 (not from
the SDK's code): the ``Authorization`` header is ``ACS3-HMAC-SHA256`` for a known AccessKey ID
and its signature is recomputed here from the raw request (method, path, canonical query,
signed headers, SHA-256 of the body); every ``x-acs-*`` header and ``host`` are signed;
``x-acs-content-sha256`` is the body's hash; ``x-acs-date`` is within 15 minutes; a signature
nonce is never accepted twice; ``x-acs-version`` is ``2014-05-26``; the action comes from
``x-acs-action``. Parameters are read from the query string and a form body.

What it models: images per region (owner, name, status, progress, tags, share list, community
flag). ``CopyImage`` (the source must be the caller's and ``Available``; ``ClientToken``
idempotency) creates a ``Creating`` copy that advances ``step`` percent on each
``DescribeImages`` that sees it, then becomes ``Available``, or ``CreateFailed`` in a region
named in ``fail_copies_to``. ``DescribeImages`` filters by ``ImageId``, ``ImageOwnerAlias=self``,
``Status`` (by default ``Available`` only, as ECS does) and ``Tag.N``, and pages.
``DescribeImageSharePermission`` pages the share list; ``ModifyImageSharePermission`` takes at
most 10 ``AddAccount.N`` and 10 ``RemoveAccount.N`` per call, and ``IsPublic``. Faults:
throttling (``Throttling.User``) for the next N calls of an action; a permission call refused
(``Forbidden.RAM``) after some that succeeded.

What it does not prove: that real ECS accepts these requests (its endpoint map, RAM policies,
quotas, real copy times, share limits beyond 10 per call, KMS-encrypted or marketplace images);
it proves deploypkg drives the official SDK through a protocol-correct, signature-checked
exchange with the documented parameters and response shapes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

ACCESS_KEY_ID = "LTAI5tDeploypkgTest01"
ACCESS_KEY_SECRET = "deploypkg-test-secret-0123456789"
ACCOUNT = "1234567890123456"
"""The caller's account (the images' owner)."""
VERSION = "2014-05-26"
ALGORITHM = "ACS3-HMAC-SHA256"
MAX_SKEW = dt.timedelta(minutes=15)
ACCOUNTS_PER_CALL = 10


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Image:
    image_id: str
    region: str
    name: str
    owner: str
    status: str = "Available"
    progress: int = 100
    tags: dict[str, str] = field(default_factory=dict)
    shared: dict[str, str] = field(default_factory=dict)
    """Account → when it was shared."""
    public: bool = False
    copied: bool = False


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def canonical_query(raw_query: str) -> str:
    pairs = [(_encode(k), _encode(v)) for k, v in parse_qsl(raw_query, keep_blank_values=True)]
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def expected_signature(
    method: str, path: str, raw_query: str, headers: dict[str, str], signed: list[str], body: bytes, secret: str
) -> str:
    canonical_headers = "".join(f"{name}:{headers[name].strip()}\n" for name in signed)
    canonical_request = "\n".join(
        [
            method,
            path or "/",
            canonical_query(raw_query),
            canonical_headers,
            ";".join(signed),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    to_sign = f"{ALGORITHM}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
    return hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


def _indexed(params: dict[str, str], prefix: str) -> list[str]:
    """``Prefix.1``, ``Prefix.2`` … in order."""
    values = []
    for n in itertools.count(1):
        if f"{prefix}.{n}" not in params:
            return values
        values.append(params[f"{prefix}.{n}"])


def _tag_filter(params: dict[str, str]) -> dict[str, str]:
    """``Tag.N.Key`` / ``Tag.N.Value`` as a mapping."""
    tags = {}
    for n in itertools.count(1):
        if f"Tag.{n}.Key" not in params:
            return tags
        tags[params[f"Tag.{n}.Key"]] = params.get(f"Tag.{n}.Value", "")
    return tags


class EcsDouble:
    def __init__(self, step: int = 50) -> None:
        self.step = step
        self.images: dict[str, Image] = {}
        self.tokens: dict[str, str] = {}
        self.nonces: set[str] = set()
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.rejected: list[str] = []
        """Codes of the signature / protocol refusals, for tests that check them."""
        self.fail_copies_to: set[str] = set()
        self.throttle: dict[str, int] = {}
        self.refuse_modify_after: int | None = None
        self.refuse_modify_times = 0
        self.clock_skew = dt.timedelta(0)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- set-up and inspection for tests

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def add_image(self, region: str, name: str, owner: str = ACCOUNT, image_id: str | None = None) -> str:
        """An ``Available`` image (a new ID unless ``image_id`` is given)."""
        with self._lock:
            image = Image(image_id or self._new_id(region), region, name, owner)
            self.images[image.image_id] = image
            return image.image_id

    def image(self, image_id: str) -> Image:
        return self.images[image_id]

    def in_region(self, region: str) -> list[Image]:
        return [i for i in self.images.values() if i.region == region]

    def actions(self, name: str) -> list[dict[str, str]]:
        return [params for action, params in self.calls if action == name]

    def _new_id(self, region: str) -> str:
        return "m-" + hashlib.sha256(f"{region}\0{next(self._ids)}".encode()).hexdigest()[:20]

    # --- the protocol

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        try:
            action, params = self._authenticate(method, target, headers, body)
            with self._lock:
                self.calls.append((action, params))
                if self.throttle.get(action, 0) > 0:
                    self.throttle[action] -= 1
                    raise ApiError(400, "Throttling.User", "Request was denied due to user flow control.")
                handler = getattr(self, f"_{action}", None)
                if handler is None:
                    raise ApiError(404, "InvalidAction.NotFound", f"Specified api {action} is not found.")
                result: dict[str, Any] = handler(params)
            return 200, {"RequestId": self._request_id(), **result}
        except ApiError as error:
            return error.status, {
                "RequestId": self._request_id(),
                "HostId": "ecs.aliyuncs.com",
                "Code": error.code,
                "Message": error.message,
            }

    def _request_id(self) -> str:
        return hashlib.sha256(str(next(self._ids)).encode()).hexdigest()[:32].upper()

    def _authenticate(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[str, dict[str, str]]:
        def refuse(status: int, code: str, message: str) -> ApiError:
            self.rejected.append(code)
            return ApiError(status, code, message)

        authorization = headers.get("authorization", "")
        algorithm, _, fields_text = authorization.partition(" ")
        if algorithm != ALGORITHM:
            raise refuse(400, "IncompleteSignature", f"the signature algorithm must be {ALGORITHM}")
        fields = dict(part.split("=", 1) for part in fields_text.split(",") if "=" in part)
        if not {"Credential", "SignedHeaders", "Signature"} <= fields.keys():
            raise refuse(400, "IncompleteSignature", "Authorization needs Credential, SignedHeaders and Signature")
        if fields["Credential"] != ACCESS_KEY_ID:
            raise refuse(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        signed = fields["SignedHeaders"].split(";")
        if signed != sorted(signed) or any(name not in headers for name in signed):
            raise refuse(400, "IncompleteSignature", "SignedHeaders must be sorted and present")
        must_sign = {"host"} | {name for name in headers if name.startswith("x-acs-")}
        if not must_sign <= set(signed):
            raise refuse(400, "IncompleteSignature", f"unsigned headers: {sorted(must_sign - set(signed))}")
        if headers.get("x-acs-content-sha256") != hashlib.sha256(body).hexdigest():
            raise refuse(400, "InvalidContentSha256", "x-acs-content-sha256 is not the body's SHA-256")
        if headers.get("x-acs-version") != VERSION:
            raise refuse(400, "InvalidVersion", f"x-acs-version must be {VERSION}")
        try:
            stamp = dt.datetime.strptime(headers.get("x-acs-date", ""), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        except ValueError:
            raise refuse(400, "InvalidTimeStamp.Format", "x-acs-date is not yyyy-MM-ddTHH:mm:ssZ") from None
        if abs(dt.datetime.now(dt.UTC) + self.clock_skew - stamp) > MAX_SKEW:
            raise refuse(400, "InvalidTimeStamp.Expired", "x-acs-date is more than 15 minutes away")
        parts = urlsplit(target)
        wanted = expected_signature(method, parts.path, parts.query, headers, signed, body, ACCESS_KEY_SECRET)
        if not hmac.compare_digest(wanted, fields["Signature"]):
            raise refuse(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.")
        nonce = headers.get("x-acs-signature-nonce", "")
        if not nonce or nonce in self.nonces:
            raise refuse(400, "SignatureNonceUsed", "the signature nonce was used before")
        self.nonces.add(nonce)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        if body and headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            params.update(parse_qsl(body.decode(), keep_blank_values=True))
        action = headers.get("x-acs-action", "")
        if not action:
            raise refuse(400, "MissingAction", "x-acs-action is required")
        return action, params

    def _owned(self, params: dict[str, str]) -> Image:
        image = self.images.get(params.get("ImageId", ""))
        if image is None or image.region != params.get("RegionId"):
            raise ApiError(404, "InvalidImageId.NotFound", "The specified ImageId does not exist.")
        if image.owner != ACCOUNT:
            raise ApiError(403, "Forbidden.NotOwner", "The image is not owned by the caller.")
        return image

    # --- actions

    def _CopyImage(self, params: dict[str, str]) -> dict[str, Any]:
        token = params.get("ClientToken")
        if token and token in self.tokens:
            return {"ImageId": self.tokens[token]}
        source = self._owned(params)
        if source.status != "Available":
            raise ApiError(403, "IncorrectImageStatus", "The image is not Available.")
        destination = params.get("DestinationRegionId")
        if not destination:
            raise ApiError(400, "MissingDestinationRegionId", "DestinationRegionId is mandatory for this action.")
        copy = Image(
            self._new_id(destination),
            destination,
            params.get("DestinationImageName") or source.name,
            ACCOUNT,
            status="Creating",
            progress=0,
            tags=_tag_filter(params),
            copied=True,
        )
        self.images[copy.image_id] = copy
        if token:
            self.tokens[token] = copy.image_id
        return {"ImageId": copy.image_id}

    def _advance(self, image: Image) -> None:
        if image.status != "Creating":
            return
        if image.region in self.fail_copies_to:
            image.status = "CreateFailed"
            return
        image.progress = min(100, image.progress + self.step)
        if image.progress >= 100:
            image.status = "Available"

    def _DescribeImages(self, params: dict[str, str]) -> dict[str, Any]:
        region = params.get("RegionId", "")
        statuses = set((params.get("Status") or "Available").split(","))
        wanted_ids = set(params["ImageId"].split(",")) if params.get("ImageId") else None
        tags = _tag_filter(params)
        found = []
        for image in self.images.values():
            if image.region != region or (wanted_ids is not None and image.image_id not in wanted_ids):
                continue
            if params.get("ImageOwnerAlias") == "self" and image.owner != ACCOUNT:
                continue
            if any(image.tags.get(k) != v for k, v in tags.items()):
                continue
            self._advance(image)
            if image.status in statuses:
                found.append(image)
        size = min(100, int(params.get("PageSize") or 10))
        page = max(1, int(params.get("PageNumber") or 1))
        shown = found[(page - 1) * size : page * size]
        return {
            "RegionId": region,
            "TotalCount": len(found),
            "PageNumber": page,
            "PageSize": size,
            "Images": {
                "Image": [
                    {
                        "ImageId": i.image_id,
                        "ImageName": i.name,
                        "Status": i.status,
                        "Progress": f"{i.progress}%",
                        "ImageOwnerAlias": "self" if i.owner == ACCOUNT else "others",
                        "ImageOwnerId": int(i.owner),
                        "IsCopied": i.copied,
                        "IsPublic": i.public,
                        "Tags": {"Tag": [{"TagKey": k, "TagValue": v} for k, v in i.tags.items()]},
                    }
                    for i in shown
                ]
            },
        }

    def _DescribeImageSharePermission(self, params: dict[str, str]) -> dict[str, Any]:
        image = self._owned(params)
        size = min(100, int(params.get("PageSize") or 10))
        page = max(1, int(params.get("PageNumber") or 1))
        accounts = sorted(image.shared.items())
        shown = accounts[(page - 1) * size : page * size]
        return {
            "RegionId": image.region,
            "ImageId": image.image_id,
            "TotalCount": len(accounts),
            "PageNumber": page,
            "PageSize": size,
            "Accounts": {"Account": [{"AliyunId": a, "SharedTime": t} for a, t in shown]},
            "ShareGroups": {"ShareGroup": [{"Group": "all"}] if image.public else []},
        }

    def _ModifyImageSharePermission(self, params: dict[str, str]) -> dict[str, Any]:
        image = self._owned(params)
        adding, removing = _indexed(params, "AddAccount"), _indexed(params, "RemoveAccount")
        for name, accounts in (("AddAccount", adding), ("RemoveAccount", removing)):
            if len(accounts) > ACCOUNTS_PER_CALL:
                raise ApiError(400, f"InvalidParam.{name}", f"{name}.N can name at most {ACCOUNTS_PER_CALL} accounts.")
        if self.refuse_modify_after is not None:
            if self.refuse_modify_after > 0:
                self.refuse_modify_after -= 1
            elif self.refuse_modify_times > 0:
                self.refuse_modify_times -= 1
                raise ApiError(403, "Forbidden.RAM", "User not authorized to operate on the specified resource.")
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for account in removing:
            image.shared.pop(account, None)
        for account in adding:
            image.shared.setdefault(account, stamp)
        if "IsPublic" in params:
            image.public = params["IsPublic"].lower() == "true"
        return {}

    # --- the server

    @contextmanager
    def serving(self) -> Iterator[EcsDouble]:
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, document = double.handle(self.command, self.path, headers, body)
                out = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = _serve

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
