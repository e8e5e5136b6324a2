"""Registry credentials as Docker finds them, and the distribution spec's challenges.

Credentials for a host come from, in order: a provider's own source (ECR: boto3's
``GetAuthorizationToken``), the docker config file (``$DOCKER_CONFIG/config.json``, else
``~/.docker/config.json``): ``credHelpers[host]``, then ``auths[host].auth``, then
``credsStore``. A credential helper is run as ``docker-credential-NAME get`` with the host on
standard input, as Docker runs it. Nothing here prints or records a secret: :class:`Credentials`
hides its secret from ``repr``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from preprocessor.errors import InputError

CredentialSource = Callable[[str], "Credentials | None"]
"""A provider's own credentials for a registry host (``None``: not its registry)."""


@dataclass(frozen=True)
class Credentials:
    username: str
    secret: str = field(repr=False)

    def basic(self) -> str:
        token = base64.b64encode(f"{self.username}:{self.secret}".encode()).decode("ascii")
        return f"Basic {token}"


class Challenge:
    """A ``WWW-Authenticate`` header: the scheme (``basic``/``bearer``) and its parameters."""

    _PARAM = re.compile(r'(\w+)="([^"]*)"|(\w+)=([^\s,]+)')

    def __init__(self, header: str) -> None:
        scheme, _, rest = header.strip().partition(" ")
        self.scheme = scheme.lower()
        self.params: dict[str, str] = {}
        for match in self._PARAM.finditer(rest):
            if match.group(1):
                self.params[match.group(1).lower()] = match.group(2)
            else:
                self.params[match.group(3).lower()] = match.group(4)


def docker_config_path() -> Path:
    directory = os.environ.get("DOCKER_CONFIG")
    return Path(directory) / "config.json" if directory else Path.home() / ".docker" / "config.json"


def _helper(name: str, host: str) -> Credentials | None:
    program = f"docker-credential-{name}"
    try:
        done = subprocess.run([program, "get"], input=host, capture_output=True, text=True, timeout=30, check=False)
    except FileNotFoundError:
        raise InputError(
            f"the docker config names the credential helper {program!r} for {host}, and it is not on PATH",
            hint="install it, or remove it from the docker config",
        ) from None
    except subprocess.TimeoutExpired:
        raise InputError(f"the credential helper {program} did not answer for {host} within 30 s") from None
    if done.returncode != 0:
        if "credentials not found" in done.stdout.lower() + done.stderr.lower():
            return None
        raise InputError(f"the credential helper {program} failed for {host} (exit {done.returncode})")
    try:
        answer = json.loads(done.stdout)
        return Credentials(str(answer["Username"]), str(answer["Secret"]))
    except (ValueError, KeyError, TypeError):
        raise InputError(f"the credential helper {program} gave no Username/Secret for {host}") from None


def docker_credentials(host: str, config: Path | None = None) -> Credentials | None:
    """What the docker config holds for ``host`` (``None``: anonymous)."""
    path = config or docker_config_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the docker config: {exc}", file=str(path)) from None
    if not isinstance(data, dict):
        raise InputError("the docker config is not a JSON object", file=str(path))
    helpers = data.get("credHelpers") or {}
    if isinstance(helpers, dict) and isinstance(helpers.get(host), str):
        return _helper(helpers[host], host)
    auths = data.get("auths") or {}
    entry = auths.get(host) or auths.get(f"https://{host}") if isinstance(auths, dict) else None
    if isinstance(entry, dict) and isinstance(entry.get("auth"), str):
        try:
            username, _, secret = base64.b64decode(entry["auth"]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            raise InputError(
                f"the docker config's auth for {host} is not base64 of USER:SECRET", file=str(path)
            ) from None
        return Credentials(username, secret)
    store = data.get("credsStore")
    if isinstance(store, str) and store:
        return _helper(store, host)
    return None
