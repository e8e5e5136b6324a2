"""Registry auth as real registries do it, against docker-registry's own token auth: the
credentials come from the docker config (what `docker login` writes), the registry answers 401
with a Bearer challenge, deploypkg gets a token from the realm and retries. No secret is ever
printed or recorded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from catalog_testing import CatalogEnv, make_env
from helpers import run_cli
from registry_testing import Layout, Registry, TokenIssuer, docker_config, fetch, push, start_registry

USER, PASSWORD = "deployer", "s3cr3t-registry-password"


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Registry, Registry, TokenIssuer, str]]:
    root = tmp_path_factory.mktemp("secured")
    with (
        TokenIssuer(root / "issuer", USER, PASSWORD) as issuer,
        start_registry(root / "source", issuer.registry_config()) as source,
        start_registry(root / "target", issuer.registry_config()) as target,
    ):
        layout = Layout(root / "layout")
        digest = layout.multi_platform("1.0.0")
        push(layout, "1.0.0", f"{source.host}/acme/web:1.0.0", credentials=f"{USER}:{PASSWORD}")
        yield source, target, issuer, digest


def _catalog(tmp_path: Path, source: Registry, target: Registry) -> CatalogEnv:
    env = make_env("local", tmp_path)
    init = env.cli(
        "init", "--provider", "alicloud", "--bucket-pattern", env.bucket_pattern,
        "--registry", f"cn-hangzhou={source.host}/acme", "--registry", f"cn-beijing={target.host}/acme",
    )  # fmt: skip
    assert init.exit_code == 0, init.stderr
    return env


def test_anonymous_requests_are_refused_by_the_registry(secured: tuple[Registry, Registry, TokenIssuer, str]) -> None:
    source, _, _, _ = secured
    status, _, headers = fetch(source.host, "/v2/acme/web/manifests/1.0.0")
    assert status == 401 and headers["Www-Authenticate"].startswith("Bearer realm=")


def test_publish_and_distribute_with_docker_login_credentials(
    tmp_path: Path, secured: tuple[Registry, Registry, TokenIssuer, str]
) -> None:
    source, target, issuer, digest = secured
    config = tmp_path / "docker"
    docker_config(config, source.host, USER, PASSWORD)
    conf = json.loads((config / "config.json").read_text())
    conf["auths"][target.host] = conf["auths"][source.host]
    (config / "config.json").write_text(json.dumps(conf))
    url = _catalog(tmp_path, source, target).url

    def cli(*args: str, docker: Path = config) -> tuple[int, str]:
        result = run_cli("catalog", "--catalog", url, *args, env={"DOCKER_CONFIG": str(docker)})
        return result.exit_code, result.stdout + result.stderr

    code, out = cli(
        "publish", "web", "1.0.0", "--type", "container-image", "--image-ref", f"{source.host}/acme/web:1.0.0"
    )
    assert code == 0, out
    before = issuer.requests
    code, out = cli("distribute", "web", "1.0.0", "--region", "cn-beijing")
    assert code == 0, out
    assert issuer.requests > before  # the copy went through the token flow
    shown = run_cli("catalog", "--catalog", url, "show", "web", "1.0.0", "--format", "json")
    assert json.loads(shown.stdout)["distributions"]["cn-beijing"]["digest"] == digest
    catalog_text = "".join(p.read_text() for p in Path(url.removeprefix("file://")).rglob("*.json"))
    assert PASSWORD not in catalog_text and PASSWORD not in out


def test_wrong_or_missing_credentials_are_a_clear_refusal_without_the_secret(
    tmp_path: Path, secured: tuple[Registry, Registry, TokenIssuer, str]
) -> None:
    source, target, _, _ = secured
    url = _catalog(tmp_path, source, target).url
    wrong = docker_config(tmp_path / "wrong", source.host, USER, "not-the-password")
    nothing = tmp_path / "empty"
    nothing.mkdir()
    ref = f"{source.host}/acme/web:1.0.0"
    for docker in (wrong, nothing):
        result = run_cli(
            "catalog", "--catalog", url, "publish", "web", "1.0.0", "--type", "container-image", "--image-ref", ref,
            env={"DOCKER_CONFIG": str(docker)},
        )  # fmt: skip
        assert result.exit_code == 2, result.stderr
        assert "Traceback" not in result.stderr and "not-the-password" not in result.stderr
        assert "docker login" in result.stderr


def test_a_credential_helper_is_run_as_docker_runs_it(tmp_path: Path) -> None:
    """``credHelpers`` names a program ``docker-credential-NAME``; ``get`` reads the host on stdin."""
    import os
    import stat

    from preprocessor.oci.auth import docker_credentials

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-vault"
    helper.write_text(
        "#!/bin/sh\nread host\n"
        'if [ "$1" = get ] && [ "$host" = registry.example.com ]; then\n'
        '  echo \'{"ServerURL": "registry.example.com", "Username": "robot", "Secret": "from-the-helper"}\'\n'
        "else echo 'credentials not found in native keychain'; exit 1; fi\n"
    )
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"credHelpers": {"registry.example.com": "vault", "other.example.com": "vault"}}))
    old_path = os.environ["PATH"]
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{old_path}"
    try:
        found = docker_credentials("registry.example.com", config)
        assert found is not None and (found.username, found.secret) == ("robot", "from-the-helper")
        assert "from-the-helper" not in repr(found)
        assert docker_credentials("other.example.com", config) is None  # "not found": anonymous
    finally:
        os.environ["PATH"] = old_path


def test_ecr_credentials_come_from_boto3(aws_env: object) -> None:
    """GetAuthorizationToken against the moto server: the ECR host's account and region."""
    from providers.aws_registry import ecr_credentials

    assert ecr_credentials("registry.example.com") is None
    found = ecr_credentials("111122223333.dkr.ecr.eu-west-1.amazonaws.com")
    assert found is not None and found.username == "AWS" and found.secret
