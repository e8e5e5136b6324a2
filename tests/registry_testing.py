"""Real registries for the tests: Debian's ``docker-registry`` (the CNCF distribution server),
one process per "regional" registry on 127.0.0.1, and images built here as OCI layouts and
pushed with Debian's ``skopeo``, a tool independent of deploypkg's own client."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from helpers import free_port

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"
HELM_CHART = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"


def require(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        pytest.fail(f"{program} is required for the registry tests (Debian: apt-get install docker-registry skopeo)")
    return path


class Registry(NamedTuple):
    host: str
    """``127.0.0.1:PORT``."""
    root: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def start_registry(
    root: Path, extra_config: str = "", port: int | None = None, relative_urls: bool = False
) -> Registry:
    """A registry storing under ``root``, on ``port`` (default: a free one); ``relative_urls``
    makes its upload Locations relative (so they come back through a proxy in front of it)."""
    binary = require("docker-registry")
    root.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n" + ("  relativeurls: true\n" if relative_urls else "") + extra_config
    )
    log = open(root / "registry.log", "wb")  # noqa: SIM115 - owned by the process
    process = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=log)
    host = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"docker-registry exited early: {(root / 'registry.log').read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://{host}/v2/", timeout=1):
                return Registry(host, root, process)
        except urllib.error.HTTPError:
            return Registry(host, root, process)  # 401: up, with auth
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.05)
    process.kill()
    pytest.fail("docker-registry did not start within 20 s")


# --- OCI layouts built here


class Layout:
    """An OCI image layout directory (``oci-layout``, ``index.json``, ``blobs/sha256/…``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')

    def blob(self, data: bytes, media_type: str) -> dict[str, Any]:
        digest = hashlib.sha256(data).hexdigest()
        (self.root / "blobs" / "sha256" / digest).write_bytes(data)
        return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data)}

    def big_blob(self, size: int, seed: bytes, media_type: str = OCI_LAYER) -> dict[str, Any]:
        """A blob of ``size`` pseudo-random bytes, written and hashed a chunk at a time."""
        hasher = hashlib.sha256()
        temp = self.root / "blobs" / "sha256" / "incoming"
        with open(temp, "wb") as handle:
            block = hashlib.sha512(seed).digest() * 16384  # 1 MiB
            written = 0
            counter = 0
            while written < size:
                piece = hashlib.sha256(seed + counter.to_bytes(8, "big")).digest() + block
                piece = piece[: min(len(piece), size - written)]
                handle.write(piece)
                hasher.update(piece)
                written += len(piece)
                counter += 1
        digest = hasher.hexdigest()
        temp.rename(self.root / "blobs" / "sha256" / digest)
        return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": size}

    def image(self, platform: tuple[str, str], layers: list[dict[str, Any]]) -> dict[str, Any]:
        config = json.dumps(
            {"architecture": platform[1], "os": platform[0], "rootfs": {"type": "layers", "diff_ids": []}}
        ).encode()
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": self.blob(config, OCI_CONFIG),
            "layers": layers,
        }
        descriptor = self.blob(json.dumps(manifest, indent=3).encode(), OCI_MANIFEST)  # odd spacing on purpose
        descriptor["platform"] = {"os": platform[0], "architecture": platform[1]}
        return descriptor

    def tag(self, name: str, descriptor: dict[str, Any]) -> None:
        index_path = self.root / "index.json"
        index = json.loads(index_path.read_text()) if index_path.exists() else {"schemaVersion": 2, "manifests": []}
        entry = dict(descriptor)
        entry["annotations"] = {"org.opencontainers.image.ref.name": name}
        index["manifests"].append(entry)
        index_path.write_text(json.dumps(index))

    def multi_platform(self, name: str, layer_size: int = 64 * 1024) -> str:
        """A two-platform image index tagged ``name``; returns its digest."""
        shared = self.blob(b"shared base layer " * 1000, OCI_LAYER)
        children = [
            self.image(("linux", arch), [shared, self.big_blob(layer_size, f"{name}-{arch}".encode())])
            for arch in ("amd64", "arm64")
        ]
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children}
        descriptor = self.blob(json.dumps(index).encode(), OCI_INDEX)
        self.tag(name, descriptor)
        return str(descriptor["digest"])

    def chart(self, name: str, version: str) -> str:
        """A Helm chart as an OCI artifact (config + one chart layer), tagged ``version``."""
        config = json.dumps({"name": name, "version": version, "apiVersion": "v2"}).encode()
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": self.blob(config, HELM_CONFIG),
            "layers": [self.blob(f"{name}-{version} chart tarball".encode() * 50, HELM_CHART)],
        }
        descriptor = self.blob(json.dumps(manifest).encode(), OCI_MANIFEST)
        self.tag(version, descriptor)
        return str(descriptor["digest"])


def push(layout: Layout, tag: str, destination: str, credentials: str | None = None) -> None:
    """``skopeo copy --all`` of the layout's ``tag`` to ``destination`` (``HOST/REPO:TAG``),
    with ``USER:PASSWORD`` when the registry wants them."""
    skopeo = require("skopeo")
    env = {**os.environ, "HOME": str(layout.root)}  # no user policy file: use an accept-anything one
    policy = layout.root / "policy.json"
    policy.write_text('{"default": [{"type": "insecureAcceptAnything"}]}')
    subprocess.run(
        [
            skopeo, "--policy", str(policy), "copy", "--all", "--preserve-digests", "--dest-tls-verify=false",
            *(["--dest-creds", credentials] if credentials else []),
            f"oci:{layout.root}:{tag}", f"docker://{destination}",
        ],
        check=True,
        capture_output=True,
        env=env,
        timeout=300,
    )  # fmt: skip


def fetch(host: str, path: str, accept: str = OCI_INDEX + ", " + OCI_MANIFEST) -> tuple[int, bytes, dict[str, str]]:
    """A plain GET (no deploypkg code): status, body, headers."""
    request = urllib.request.Request(f"http://{host}{path}", headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def pull_all(host: str, repository: str, reference: str) -> str:
    """Fetch the manifest and every child and blob it references with plain HTTP, checking each
    digest; returns the top manifest's digest. This is what a pull would do."""
    status, body, _ = fetch(host, f"/v2/{repository}/manifests/{reference}")
    assert status == 200, f"{host}/{repository}:{reference}: HTTP {status}"
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    document = json.loads(body)
    for child in document.get("manifests", []):
        assert pull_all(host, repository, child["digest"]) == child["digest"]
    for blob in [document.get("config"), *document.get("layers", [])]:
        if blob:
            status, data, _ = fetch(host, f"/v2/{repository}/blobs/{blob['digest']}", accept="*/*")
            assert status == 200 and "sha256:" + hashlib.sha256(data).hexdigest() == blob["digest"]
    return digest


# --- a registry behind the distribution spec's token auth, with a token issuer here


class TokenIssuer:
    """The token service a registry's ``auth: token:`` points at: checks Basic credentials and
    issues an RS256 JWT (x5c header, certificate in the registry's root bundle) granting the
    requested scopes. ``requests`` counts the token requests it answered."""

    def __init__(self, root: Path, username: str, password: str, service: str = "deploypkg-test") -> None:
        import datetime
        import http.server
        import threading

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        self.username, self.password, self.service, self.issuer = username, password, service, "deploypkg-test-issuer"
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "deploypkg test token issuer")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.cert_der = cert.public_bytes(serialization.Encoding.DER)
        self.bundle = root / "token-root.pem"
        root.mkdir(parents=True, exist_ok=True)
        self.bundle.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.requests = 0
        issuer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                issuer.requests += 1
                import base64
                import urllib.parse

                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                auth = self.headers.get("Authorization", "")
                expected = "Basic " + base64.b64encode(f"{issuer.username}:{issuer.password}".encode()).decode()
                if auth != expected:
                    self.send_response(401)
                    self.end_headers()
                    return
                body = json.dumps({"token": issuer.token(query.get("scope", []))}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.realm = f"http://127.0.0.1:{self.server.server_address[1]}/token"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def token(self, scopes: list[str]) -> str:
        import base64
        import secrets

        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        def b64(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        access = []
        for scope in scopes:
            for one in scope.split(" "):
                kind, _, rest = one.partition(":")
                repository, _, actions = rest.rpartition(":")
                access.append({"type": kind, "name": repository, "actions": actions.split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(self.cert_der).decode()]}
        claims = {
            "iss": self.issuer, "sub": self.username, "aud": self.service, "exp": now + 300, "nbf": now - 10,
            "iat": now, "jti": secrets.token_hex(8), "access": access,
        }  # fmt: skip
        signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64(signature)}"

    def registry_config(self) -> str:
        return (
            f"auth:\n  token:\n    realm: {self.realm}\n    service: {self.service}\n"
            f"    issuer: {self.issuer}\n    rootcertbundle: {self.bundle}\n"
        )

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> TokenIssuer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def docker_config(directory: Path, host: str, username: str, password: str) -> Path:
    """A docker config directory holding ``docker login`` credentials for ``host``."""
    import base64

    directory.mkdir(parents=True, exist_ok=True)
    auth = base64.b64encode(f"{username}:{password}".encode()).decode()
    (directory / "config.json").write_text(json.dumps({"auths": {host: {"auth": auth}}}))
    return directory
