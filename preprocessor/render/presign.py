"""Presigned-URL lifetimes: the requested expiry, its cap, and when the URL really dies.

SigV4 query-string signatures are valid for at most 7 days, and never longer than the
credentials that signed them: a URL signed with an assumed role's session token dies with the
session. Signing itself is local (botocore computes the signature; no request is sent).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from preprocessor.errors import InputError

DEFAULT_EXPIRES = 3600
MAX_EXPIRES = 7 * 24 * 3600

_DURATION = re.compile(r"(?P<number>[0-9]+)(?P<unit>[smhd]?)")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_expires(text: str | int) -> int:
    """``3600``, ``90s``, ``15m``, ``1h`` or ``7d`` → seconds, refused above 7 days."""
    match = _DURATION.fullmatch(str(text).strip().lower())
    if match is None:
        raise InputError(
            f"invalid expiry {text!r}", hint="give seconds (3600) or a number with s, m, h or d (15m, 1h, 7d)"
        )
    seconds = int(match["number"]) * _UNIT_SECONDS[match["unit"]]
    if seconds <= 0:
        raise InputError(f"invalid expiry {text!r}: it must be positive")
    if seconds > MAX_EXPIRES:
        raise InputError(
            f"expiry {text!r} ({seconds} s) is longer than SigV4 allows",
            hint=f"presigned URLs live at most 7 days ({MAX_EXPIRES} s)",
        )
    return seconds


def utc_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def credentials_expiry(credentials: Any) -> datetime | None:
    """The expiry of botocore credentials, when they have one (assumed roles, SSO, IMDS)."""
    if credentials is None:
        return None
    expiry = getattr(credentials, "_expiry_time", None)
    if expiry is None:
        return None
    if isinstance(expiry, datetime):
        return expiry if expiry.tzinfo else expiry.replace(tzinfo=timezone.utc)
    return None


def url_lifetime(expires: int, signed_at: datetime, credentials_expire_at: datetime | None) -> tuple[datetime, bool]:
    """(when the URL dies, whether the credentials cut it short)."""
    requested_end = signed_at + timedelta(seconds=expires)
    if credentials_expire_at is not None and credentials_expire_at < requested_end:
        return credentials_expire_at, True
    return requested_end, False
