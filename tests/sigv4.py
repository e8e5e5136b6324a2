"""An independent SigV4 query-string (presigned URL) verifier, for tests.

moto's server does not check signatures or expiry, so tests recompute each signature here
from the URL's own parameters and the test secret, following AWS's published algorithm
(canonical request → string to sign → HMAC-SHA256 key derivation), without botocore.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta, timezone
from typing import NamedTuple
from urllib.parse import parse_qsl, quote, unquote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_EXPIRES = 604800


class SigV4Error(Exception):
    """The URL is not a valid, unexpired SigV4 presigned URL for the given secret."""


class SignedUrl(NamedTuple):
    access_key: str
    date: str
    region: str
    service: str
    signed_at: datetime
    expires: int
    host: str
    path: str
    """The decoded path (``/bucket/key`` for path-style URLs)."""

    @property
    def expires_at(self) -> datetime:
        return self.signed_at + timedelta(seconds=self.expires)


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = _hmac(("AWS4" + secret).encode("utf-8"), date)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, "aws4_request")


def verify_presigned_url(url: str, secret: str, *, now: datetime | None = None, method: str = "GET") -> SignedUrl:
    """Check ``url``'s signature with ``secret`` and that it has not expired at ``now``."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True)
    params = dict(pairs)
    if len(params) != len(pairs):
        raise SigV4Error("a query parameter appears twice")
    for name in ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders"):
        if name not in params:
            raise SigV4Error(f"missing {name}")
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise SigV4Error(f"unsupported algorithm {params['X-Amz-Algorithm']}")
    signature = params.get("X-Amz-Signature")
    if not signature:
        raise SigV4Error("missing X-Amz-Signature")
    scope = params["X-Amz-Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise SigV4Error(f"malformed credential scope {params['X-Amz-Credential']!r}")
    access_key, date, region, service, _ = scope
    amz_date = params["X-Amz-Date"]
    if not amz_date.startswith(date):
        raise SigV4Error("X-Amz-Date does not match the credential scope date")
    signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    expires = int(params["X-Amz-Expires"])
    if not 1 <= expires <= MAX_EXPIRES:
        raise SigV4Error(f"X-Amz-Expires {expires} is outside 1..{MAX_EXPIRES}")
    signed_headers = params["X-Amz-SignedHeaders"].split(";")
    if signed_headers != ["host"]:
        raise SigV4Error(f"can only verify URLs that sign the host header alone, not {signed_headers}")
    host = parts.netloc
    if (parts.scheme == "http" and host.endswith(":80")) or (parts.scheme == "https" and host.endswith(":443")):
        host = host.rsplit(":", 1)[0]

    canonical_uri = quote(unquote(parts.path or "/"), safe="/-_.~")
    canonical_query = "&".join(
        f"{_encode(key)}={_encode(value)}" for key, value in sorted(pairs) if key != "X-Amz-Signature"
    )
    canonical_request = "\n".join(
        [method, canonical_uri, canonical_query, f"host:{host.lower()}", "", "host", "UNSIGNED-PAYLOAD"]
    )
    string_to_sign = "\n".join(
        [
            ALGORITHM,
            amz_date,
            f"{date}/{region}/{service}/aws4_request",
            hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
        ]
    )
    expected = hmac.new(signing_key(secret, date, region, service), string_to_sign.encode(), hashlib.sha256)
    if not hmac.compare_digest(expected.hexdigest(), signature):
        raise SigV4Error("signature does not match")
    moment = now or datetime.now(timezone.utc)
    if moment > signed_at + timedelta(seconds=expires):
        raise SigV4Error(f"expired at {signed_at + timedelta(seconds=expires):%Y-%m-%dT%H:%M:%SZ}")
    if moment < signed_at - timedelta(minutes=15):
        raise SigV4Error("signed in the future")
    return SignedUrl(access_key, date, region, service, signed_at, expires, host, unquote(parts.path))
