"""The documented character sets of package names, versions, channels, regions and accounts.

Every name that becomes part of an object key or a file path is checked here first, so
nothing can climb out of the catalog prefix or the output directory (``../``, ``/``, NUL,
control characters).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from preprocessor.errors import InputError

PACKAGE_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,127}")
VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}")
CHANNEL = re.compile(r"[a-z][a-z0-9_-]{0,31}")
REGION = re.compile(r"[a-z]{2}(?:-[a-z0-9]+){1,3}")
ACCOUNT = re.compile(r"[0-9A-Za-z_-]{1,64}")
SERVICE_NAME = PACKAGE_NAME

_WHAT = {
    "package": (PACKAGE_NAME, "lowercase letters, digits, '.', '_' and '-', starting with a letter or digit"),
    "version": (VERSION, "letters, digits, '.', '+', '_' and '-', starting with a letter or digit"),
    "channel": (CHANNEL, "lowercase letters, digits, '_' and '-', starting with a letter"),
    "region": (REGION, "a region ID such as cn-hangzhou or us-east-1"),
    "account": (ACCOUNT, "letters, digits, '_' and '-'"),
    "service": (SERVICE_NAME, "lowercase letters, digits, '.', '_' and '-', starting with a letter or digit"),
}


def check(kind: str, value: str) -> str:
    """Return ``value`` if it is a valid ``kind`` name, else raise :class:`InputError`."""
    pattern, allowed = _WHAT[kind]
    if not isinstance(value, str) or not pattern.fullmatch(value) or ".." in value:
        raise InputError(
            f"invalid {kind} name {value!r}",
            hint=f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} name uses {allowed}; '..' is not allowed",
        )
    return value


class PackageSpec(NamedTuple):
    """``package``, ``package@version`` or ``package#channel``."""

    package: str
    version: str | None = None
    channel: str | None = None

    def __str__(self) -> str:
        if self.version:
            return f"{self.package}@{self.version}"
        if self.channel:
            return f"{self.package}#{self.channel}"
        return self.package


def parse_package_spec(text: str) -> PackageSpec:
    if not isinstance(text, str):
        raise InputError(f"a package reference must be a string, not {type(text).__name__}")
    if "@" in text:
        name, _, version = text.partition("@")
        return PackageSpec(check("package", name), version=check("version", version))
    if "#" in text:
        name, _, channel = text.partition("#")
        return PackageSpec(check("package", name), channel=check("channel", channel))
    return PackageSpec(check("package", text))
