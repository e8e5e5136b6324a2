"""Image and chart references: ``[oci://]HOST[:PORT]/REPOSITORY[:TAG][@sha256:HEX]``, one grammar
for the catalog and for validate.

What deploypkg copies (:func:`parse_reference`) always names its registry host: it copies between
named regional registries, so ``nginx:1.25`` (Docker Hub by convention) is refused rather than
guessed. What a template says (:func:`image_name`) is read as Docker reads it.
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
_NAME = re.compile(
    rf"(?:(?P<host>{_HOST})/)?(?P<repository>{_COMPONENT}(?:/{_COMPONENT})*)"
    rf"(?::(?P<tag>{_TAG}))?(?:@(?P<digest>sha256:[0-9a-f]{{64}}))?"
)
DOCKER_HUB = "docker.io"


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


def _read(text: str) -> tuple[Reference, bool] | None:
    """``text`` as Docker reads an image name, and whether it named its registry host; a first
    component that is no host (no ``.`` or ``:``, not ``localhost``) belongs to the repository."""
    oci = text.startswith(OCI_SCHEME)
    match = _NAME.fullmatch(text[len(OCI_SCHEME) :] if oci else text)
    if match is None:
        return None
    host, repository = match["host"], match["repository"]
    if host is not None and "." not in host and ":" not in host and host != "localhost":
        repository, host = f"{host}/{repository}", None  # "library/nginx": a path, not a host
    return Reference(host or DOCKER_HUB, repository, match["tag"], match["digest"], oci), host is not None


def image_name(text: str) -> Reference | None:
    """``text`` as Docker reads an image name (no host: Docker Hub; no tag: none), or ``None``."""
    found = _read(text)
    return found[0] if found is not None else None


def parse_reference(text: str) -> Reference:
    """``text`` as a :class:`Reference` with its registry host and a tag or digest, or
    :class:`InputError` saying what is wrong."""
    found = _read(text)
    if found is None or not found[1]:
        raise InputError(
            f"{text!r} is not an image reference with a registry host",
            hint="write HOST[:PORT]/REPOSITORY:TAG, e.g. registry.cn-hangzhou.aliyuncs.com/acme/web:1.4.0",
        )
    reference = found[0]
    if reference.tag is None and reference.digest is None:
        raise InputError(f"{text!r} names neither a tag nor a digest", hint="add :TAG (or @sha256:…)")
    return reference


def is_loopback(registry: str) -> bool:
    """``127.0.0.0/8``, ``::1`` and ``localhost``: plain HTTP, as Docker treats them."""
    host = registry.rsplit(":", 1)[0] if registry.count(":") == 1 else registry
    host = host.strip("[]")
    return host == "localhost" or host == "::1" or re.fullmatch(r"127(?:\.[0-9]{1,3}){3}", host) is not None
