"""A small client of the OCI distribution API (``/v2/``), on ``requests``.

Why our own client: the copy must keep every manifest's bytes (their digest is the image's
identity) and stream blobs in bounded memory. ``oras`` re-serialises manifests and reads uploads
into memory; ``requests`` gives connection pooling, streamed bodies and plain control of every
header, which is all the distribution spec needs.

Auth follows the spec: a request is sent as is; on ``401`` the ``WWW-Authenticate`` challenge
says ``Basic`` (send the credentials) or ``Bearer realm=…,service=…,scope=…`` (get a token from
the realm, with the credentials if there are any, and retry). Tokens are kept per scope. A
loopback registry is spoken to over plain HTTP, as Docker does; any other host over HTTPS
unless ``insecure`` names it. Errors never carry a credential or a token.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from preprocessor.errors import CatalogError
from preprocessor.oci.auth import Challenge, Credentials
from preprocessor.oci.reference import is_loopback

if TYPE_CHECKING:
    import requests

MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
INDEX_TYPES = frozenset(MANIFEST_TYPES[0:1] + MANIFEST_TYPES[2:3])
CHUNK = 1024 * 1024
"""Bytes held in memory per blob in flight."""
POOL_SIZE = 32
"""Connections kept open per registry host."""


class Manifest(NamedTuple):
    body: bytes
    media_type: str
    digest: str


class RegistryError(CatalogError):
    """A registry refused or failed a request; the message names the registry and what was asked."""


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class RegistryClient:
    def __init__(
        self,
        registry: str,
        credentials: Credentials | None = None,
        *,
        insecure: bool = False,
        timeout: float = 60.0,
        chunk_size: int = CHUNK,
    ) -> None:
        import requests

        self.registry = registry
        self.scheme = "http" if insecure or is_loopback(registry) else "https"
        self.base = f"{self.scheme}://{registry}"
        self._credentials = credentials
        self._timeout = timeout
        self.chunk_size = chunk_size
        self._session = requests.Session()
        # Many blobs and regions at once share one client per host: keep their connections open.
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=POOL_SIZE)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._tokens: dict[str, str] = {}
        self._basic = False
        self._lock = threading.Lock()
        self.bytes_streamed = 0
        """Blob bytes that passed through this client (read plus written)."""

    # --- transport and auth

    def _authorization(self, scope: str, locked: bool = False) -> dict[str, str]:
        if not locked:
            with self._lock:
                return self._authorization(scope, locked=True)
        token = self._tokens.get(scope)
        if token is not None:
            return {"Authorization": f"Bearer {token}"}
        if self._basic and self._credentials is not None:
            return {"Authorization": self._credentials.basic()}
        return {}

    def _authenticate(self, response: requests.Response, scope: str, sent: str | None) -> bool:
        """Answer a 401's challenge for ``scope`` (``sent``: the Authorization header the refused
        request carried); False when there is nothing more to try."""
        with self._lock:
            now = self._authorization(scope, locked=True).get("Authorization")
        if now is not None and now != sent:
            return True  # another thread got a token meanwhile: retry with it
        header = response.headers.get("WWW-Authenticate", "")
        challenge = Challenge(header)
        if challenge.scheme == "basic":
            if self._credentials is None or self._basic:
                return False
            with self._lock:
                self._basic = True
            return True
        if challenge.scheme != "bearer" or "realm" not in challenge.params:
            return False
        with self._lock:
            if scope in self._tokens:
                return False  # a token for this scope was just refused
        params = {"service": challenge.params.get("service", "")}
        params["scope"] = challenge.params.get("scope", scope)
        headers = {"Authorization": self._credentials.basic()} if self._credentials is not None else {}
        import requests

        try:
            answer = self._session.get(challenge.params["realm"], params=params, headers=headers, timeout=self._timeout)
        except requests.RequestException as exc:
            raise RegistryError(f"{self.registry}: the token service did not answer ({type(exc).__name__})") from None
        if answer.status_code != 200:
            raise RegistryError(
                f"{self.registry}: the token service refused {params['scope']} (HTTP {answer.status_code})",
                hint="check the registry credentials in the docker config (docker login HOST)",
            )
        try:
            body = answer.json()
            token = body.get("token") or body.get("access_token")
        except ValueError:
            token = None
        if not isinstance(token, str) or not token:
            raise RegistryError(f"{self.registry}: the token service answered without a token")
        with self._lock:
            self._tokens[scope] = token
        return True

    def request(
        self,
        method: str,
        path: str,
        scope: str,
        *,
        headers: dict[str, str] | None = None,
        data: Any = None,
        stream: bool = False,
        params: dict[str, str] | None = None,
        url: str | None = None,
        retry_auth: bool = True,
        content_length: int | None = None,
    ) -> requests.Response:
        """Send one request, answering an auth challenge once; ``content_length`` sends a streamed
        ``data`` with that length rather than chunked."""
        import requests

        target = url or f"{self.base}{path}"
        for _ in range(3):
            authorization = self._authorization(scope)
            try:
                prepared = self._session.prepare_request(
                    requests.Request(
                        method,
                        target,
                        headers={**(headers or {}), **authorization},
                        data=data,
                        params=params,
                    )
                )
                if content_length is not None:
                    prepared.headers.pop("Transfer-Encoding", None)
                    prepared.headers["Content-Length"] = str(content_length)
                response = self._session.send(prepared, stream=stream, timeout=self._timeout, allow_redirects=True)
            except requests.RequestException as exc:
                raise RegistryError(f"{self.registry}: {method} {path} failed ({type(exc).__name__})") from None
            sent = authorization.get("Authorization")
            if response.status_code == 401 and retry_auth and self._authenticate(response, scope, sent):
                response.close()
                continue
            return response
        return response

    @staticmethod
    def _fail(response: requests.Response, what: str) -> RegistryError:
        code = ""
        try:
            errors = response.json().get("errors") or []
            if errors:
                code = f": {errors[0].get('code', '')} {errors[0].get('message', '')}".rstrip()
        except ValueError:
            pass
        hint = (
            "log in to the registry (docker login HOST) or check its credential helper"
            if response.status_code
            in (
                401,
                403,
            )
            else None
        )
        return RegistryError(f"{what} (HTTP {response.status_code}{code})", hint=hint)

    # --- manifests

    def get_manifest(self, repository: str, reference: str) -> Manifest | None:
        """The manifest's exact bytes, media type and digest (``None``: not there)."""
        scope = f"repository:{repository}:pull"
        response = self.request(
            "GET", f"/v2/{repository}/manifests/{reference}", scope, headers={"Accept": ", ".join(MANIFEST_TYPES)}
        )
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._fail(response, f"{self.registry}/{repository}: cannot read manifest {reference}")
        body = response.content
        digest = sha256_digest(body)
        if reference.startswith("sha256:") and digest != reference:
            raise RegistryError(f"{self.registry}/{repository}: manifest {reference} has digest {digest}")
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        return Manifest(body, media_type, digest)

    def manifest_digest(self, repository: str, reference: str) -> str | None:
        """The digest ``reference`` names now (HEAD; ``None``: not there)."""
        scope = f"repository:{repository}:pull"
        response = self.request(
            "HEAD", f"/v2/{repository}/manifests/{reference}", scope, headers={"Accept": ", ".join(MANIFEST_TYPES)}
        )
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._fail(response, f"{self.registry}/{repository}: cannot look up {reference}")
        digest = response.headers.get("Docker-Content-Digest")
        if digest:
            return digest
        found = self.get_manifest(repository, reference)
        return found.digest if found else None

    def put_manifest(self, repository: str, reference: str, manifest: Manifest) -> None:
        scope = f"repository:{repository}:pull,push"
        response = self.request(
            "PUT",
            f"/v2/{repository}/manifests/{reference}",
            scope,
            headers={"Content-Type": manifest.media_type},
            data=manifest.body,
        )
        if response.status_code not in (200, 201, 202):
            raise self._fail(response, f"{self.registry}/{repository}: cannot put manifest {reference}")
        stored = response.headers.get("Docker-Content-Digest")
        if stored and stored != manifest.digest:
            raise RegistryError(
                f"{self.registry}/{repository}: stored manifest {reference} as {stored}, not {manifest.digest}"
            )

    # --- blobs

    def has_blob(self, repository: str, digest: str) -> bool:
        response = self.request("HEAD", f"/v2/{repository}/blobs/{digest}", f"repository:{repository}:pull")
        if response.status_code in (200, 307):
            return True
        if response.status_code == 404:
            return False
        raise self._fail(response, f"{self.registry}/{repository}: cannot look up blob {digest}")

    def mount_blob(self, repository: str, digest: str, source_repository: str) -> bool:
        """Cross-repository mount within this registry; False when the registry started an
        upload instead (it is cancelled)."""
        scope = f"repository:{repository}:pull,push"
        response = self.request(
            "POST",
            f"/v2/{repository}/blobs/uploads/",
            scope,
            params={"mount": digest, "from": source_repository},
        )
        if response.status_code == 201:
            return True
        if response.status_code == 202:
            location = response.headers.get("Location")
            if location:
                self.request("DELETE", "", scope, url=self._absolute(location)).close()
            return False
        raise self._fail(response, f"{self.registry}/{repository}: cannot mount blob {digest}")

    def blob_chunks(self, repository: str, digest: str) -> Iterator[bytes]:
        """The blob's bytes, ``chunk_size`` at a time, checked against ``digest`` at the end."""
        response = self.request("GET", f"/v2/{repository}/blobs/{digest}", f"repository:{repository}:pull", stream=True)
        if response.status_code != 200:
            raise self._fail(response, f"{self.registry}/{repository}: cannot read blob {digest}")
        hasher = hashlib.sha256()
        try:
            for chunk in response.iter_content(chunk_size=self.chunk_size):
                hasher.update(chunk)
                self._count(len(chunk))
                yield chunk
        finally:
            response.close()
        if "sha256:" + hasher.hexdigest() != digest:
            raise RegistryError(f"{self.registry}/{repository}: blob {digest} arrived with other bytes")

    def push_blob(self, repository: str, digest: str, chunks: Iterator[bytes], size: int | None = None) -> None:
        """Upload a blob streamed from ``chunks`` (``size`` bytes, when known): one PATCH with a
        streamed body, then the PUT that names the digest (the registry checks it)."""
        scope = f"repository:{repository}:pull,push"
        started = self.request("POST", f"/v2/{repository}/blobs/uploads/", scope)
        if started.status_code != 202 or not started.headers.get("Location"):
            raise self._fail(started, f"{self.registry}/{repository}: cannot start a blob upload")
        location = self._absolute(started.headers["Location"])

        def counted() -> Iterator[bytes]:
            for chunk in chunks:
                self._count(len(chunk))
                yield chunk

        patched = self.request(
            "PATCH",
            "",
            scope,
            url=location,
            data=counted(),
            headers={"Content-Type": "application/octet-stream"},
            content_length=size,
        )
        if patched.status_code != 202 or not patched.headers.get("Location"):
            raise self._fail(patched, f"{self.registry}/{repository}: blob upload of {digest} failed")
        done = self.request(
            "PUT", "", scope, url=self._absolute(patched.headers["Location"]), params={"digest": digest}
        )
        if done.status_code != 201:
            raise self._fail(done, f"{self.registry}/{repository}: the registry did not accept blob {digest}")

    def _count(self, size: int) -> None:
        with self._lock:
            self.bytes_streamed += size

    def _absolute(self, location: str) -> str:
        return location if location.startswith(("http://", "https://")) else f"{self.base}{location}"
