"""The registry clients of one command: one per host, with the credentials Docker would use
(the provider's own source first, e.g. ECR's token from boto3), shared by every region.

Loopback registries are spoken to over plain HTTP; any other host over HTTPS unless it is named in
``$DEPLOYPKG_INSECURE_REGISTRIES`` (comma-separated ``HOST[:PORT]``), as Docker's
``insecure-registries`` names them."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable

from preprocessor.oci.auth import CredentialSource, docker_credentials
from preprocessor.oci.client import RegistryClient

INSECURE_ENV = "DEPLOYPKG_INSECURE_REGISTRIES"


class Registries:
    def __init__(self, credential_source: CredentialSource | None = None, insecure: Iterable[str] = ()) -> None:
        self._source = credential_source
        named = os.environ.get(INSECURE_ENV, "")
        self._insecure = frozenset(insecure) | {host.strip() for host in named.split(",") if host.strip()}
        self._clients: dict[str, RegistryClient] = {}
        self._lock = threading.Lock()

    def client(self, host: str) -> RegistryClient:
        with self._lock:
            found = self._clients.get(host)
            if found is None:
                credentials = self._source(host) if self._source is not None else None
                found = RegistryClient(host, credentials or docker_credentials(host), insecure=host in self._insecure)
                self._clients[host] = found
            return found
