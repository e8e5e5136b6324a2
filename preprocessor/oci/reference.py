"""Image and chart references: ``[oci://]HOST[:PORT]/REPOSITORY[:TAG][@sha256:HEX]``.

A reference always names its registry host here: deploypkg copies between named regional
registries, so ``nginx:1.25`` (Docker Hub by convention) is refused rather than guessed.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from preprocessor.errors import InputError

OCI_SCHEME = "oci://"
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_HOST = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]{1,5})?"
_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
REFERENCE = re.compile(
    rf"(?P<host>{_HOST})/(?P<repository>{_COMPONENT}(?:/{_COMPONENT})*)(?::(?P<tag>{_TAG}))?(?:@(?P<digest>sha256:[0-9a-f]{{64}}))?"
)


class Reference(NamedTuple):
    registry: str
    """``HOST[:PORT]``."""
    repository: str
    tag: str | None = None
    digest: str | None = None
    oci: bool = False
    """Written with ``oci://`` (a Helm chart)."""

    def __str__(self) -> str:
        tag = f":{self.tag}" if self.tag else ""
        digest = f"@{self.digest}" if self.digest else ""
        return f"{OCI_SCHEME if self.oci else ''}{self.registry}/{self.repository}{tag}{digest}"

    @property
    def lookup(self) -> str:
        """What to ask the registry for: the digest when pinned, else the tag."""
        found = self.digest or self.tag
        if found is None:
            raise InputError(f"{self} names neither a tag nor a digest", hint="add :TAG or @sha256:…")
        return found

    def pinned(self, digest: str) -> Reference:
        """The same reference pinned by ``digest`` (the tag kept, for the reader)."""
        return self._replace(digest=digest)

    def moved(self, registry: str, repository: str) -> Reference:
        return self._replace(registry=registry, repository=repository)


def parse_reference(text: str) -> Reference:
    """``text`` as a :class:`Reference`, or :class:`InputError` saying what is wrong."""
    oci = text.startswith(OCI_SCHEME)
    body = text[len(OCI_SCHEME) :] if oci else text
    match = REFERENCE.fullmatch(body)
    if match is None or ("." not in match["host"] and ":" not in match["host"] and match["host"] != "localhost"):
        raise InputError(
            f"{text!r} is not an image reference with a registry host",
            hint="write HOST[:PORT]/REPOSITORY:TAG, e.g. registry.cn-hangzhou.aliyuncs.com/acme/web:1.4.0",
        )
    if match["tag"] is None and match["digest"] is None:
        raise InputError(f"{text!r} names neither a tag nor a digest", hint="add :TAG (or @sha256:…)")
    return Reference(match["host"], match["repository"], match["tag"], match["digest"], oci)


def is_loopback(registry: str) -> bool:
    """``127.0.0.0/8``, ``::1`` and ``localhost``: plain HTTP, as Docker treats them."""
    host = registry.rsplit(":", 1)[0] if registry.count(":") == 1 else registry
    host = host.strip("[]")
    return host == "localhost" or host == "::1" or re.fullmatch(r"127(?:\.[0-9]{1,3}){3}", host) is not None
