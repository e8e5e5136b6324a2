"""Presigned URLs from ``render`` against the moto server (real HTTP on 127.0.0.1).

moto's server does not check signatures or expiry, so every URL is also verified with the
independent SigV4 verifier in ``tests/sigv4.py`` from the URL's own parameters and the test
secret; tampered and expired URLs fail that check.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import TEST_ACCESS_KEY, TEST_SECRET_KEY, MotoServer
from helpers import run_cli
from sigv4 import SigV4Error, verify_presigned_url

from preprocessor.catalog import operations, permissions
from preprocessor.catalog.model import PackageType, Visibility
from preprocessor.catalog.opening import open_store
from preprocessor.catalog.store import Store
from preprocessor.errors import DeploypkgError, InputError
from preprocessor.render import MAX_EXPIRES, RenderOptions, parse_expires, render_to_directory
from preprocessor.render.presign import url_lifetime

REGIONS = ("us-east-1", "us-west-2", "eu-west-1")
AMIS = {
    "us-east-1": "ami-0123456789abcdef0",
    "us-west-2": "ami-0fedcba9876543210",
    "eu-west-1": "ami-0a1b2c3d4e5f60718",
}
ACCOUNT = "111122223333"
BUNDLE = bytes(range(256)) * 37 + b"deploypkg app bundle\n"
SCRIPT = b"#!/bin/sh\necho installed\n"
FILES = ["app-bundle", "install-script"]
"""The file packages (web-ami's AMIs are made up: moto's EC2 does not hold them)."""

TEMPLATE = """\
# An instance that downloads its bundle at boot.
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Web:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: ami-0123456789abcdef0   # associated with web-ami
      UserData:
        Fn::Base64: !Sub |
          #!/bin/sh
          curl -fsS '{{ computenest::file::app-bundle }}' -o /tmp/app.tgz
          curl -fsS "{{ computenest::publicfile::install-script }}" | sh
"""


class MotoProject(NamedTuple):
    root: Path
    store: Store
    bucket_pattern: str

    def bucket(self, region: str) -> str:
        return self.bucket_pattern.format(region=region)


def _config(catalog: str, extra: str = "") -> str:
    return (
        f"provider: aws\ncatalog: {catalog}\nregions: [{', '.join(REGIONS)}]\naccount: '{ACCOUNT}'\n"
        "associations:\n  ami-0123456789abcdef0: web-ami\n  app-bundle: app-bundle\n"
        "  install-script: install-script\n" + extra
    )


@pytest.fixture
def moto_project(aws_env: MotoServer, tmp_path: Path) -> MotoProject:
    """A catalog published into the moto server: web-ami, app-bundle (presigned), install-script (public)."""
    tag = uuid.uuid4().hex[:10]
    catalog_bucket = f"dpk-cat-{tag}"
    url = f"s3://{catalog_bucket}/catalog"
    store = open_store(url)
    store.create_bucket("us-east-1", catalog_bucket)  # type: ignore[attr-defined]
    pattern = f"dpk-art-{tag}-{{region}}"
    operations.init(store, "aws", pattern)
    for region in REGIONS:
        store.create_bucket(region, pattern.format(region=region))  # type: ignore[attr-defined]
    files = tmp_path / "artifacts"
    files.mkdir()
    (files / "app-bundle.tar.gz").write_bytes(BUNDLE)
    (files / "install.sh").write_bytes(SCRIPT)
    for name, filename, public in (("app-bundle", "app-bundle.tar.gz", False), ("install-script", "install.sh", True)):
        operations.publish(
            store,
            operations.PublishRequest(
                name, "1.0.0", PackageType.FILE, region="us-east-1", file=files / filename, public=public
            ),
        )
        operations.distribute(store, name, "1.0.0", list(REGIONS[1:]))
        operations.release(store, name, "1.0.0")
    # what the CLI does after publish and distribute: a public package's objects become public-read
    synced = permissions.sync(store)
    assert sorted(d.region for d in synced.drift) == sorted(REGIONS) and synced.failed == []
    operations.publish(store, operations.PublishRequest("web-ami", "1.0.0", PackageType.ECS_IMAGE, images=AMIS))
    operations.release(store, "web-ami", "1.0.0")
    operations.service(
        store, "demo-service", Visibility.PUBLIC, packages=["web-ami", "app-bundle", "install-script"], owner=ACCOUNT
    )
    root = tmp_path / "project"
    (root / "templates").mkdir(parents=True)
    (root / "deploypkg.yaml").write_text(_config(url))
    (root / "templates" / "web.yaml").write_text(TEMPLATE)
    return MotoProject(root, store, pattern)


def _artifacts(out: Path, region: str) -> dict[str, dict[str, Any]]:
    document = json.loads((out / region / "artifacts.json").read_text())
    assert document["region"] == region
    return {artifact["package"]: artifact for artifact in document["artifacts"]}


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return bytes(response.read())


def test_presigned_urls_fetch_the_exact_bytes_and_carry_the_regions_scope(
    moto_project: MotoProject, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    started = time.monotonic()
    report = render_to_directory(
        [moto_project.root / "templates"], ["us-west-2", "eu-west-1"], out, RenderOptions(expires=5400)
    )
    took = time.monotonic() - started
    assert report.regions == ("us-west-2", "eu-west-1")
    for region in report.regions:
        artifacts = _artifacts(out, region)
        bundle = artifacts["app-bundle"]
        url = bundle["url"]
        assert _fetch(url) == BUNDLE
        signed = verify_presigned_url(url, TEST_SECRET_KEY)
        query = parse_qs(urlsplit(url).query)
        assert query["X-Amz-Credential"][0].endswith(f"/{region}/s3/aws4_request")
        assert query["X-Amz-Expires"] == ["5400"]
        assert signed.region == region and signed.access_key == TEST_ACCESS_KEY and signed.expires == 5400
        bucket = moto_project.bucket(region)
        assert bundle["bucket"] == bucket
        assert signed.path.startswith(f"/{bucket}/") or signed.host.startswith(f"{bucket}.")
        expires_at = datetime.strptime(bundle["expires_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        # artifacts.json never promises more than the signature gives: it counts from the start of
        # the render, the signature from the moment it was made (whole seconds on both sides).
        early = (signed.expires_at - expires_at).total_seconds()
        assert -1 <= early <= took + 1, (early, took)
        # The public file is a plain URL: no signature, still the region's bucket and bytes.
        public = artifacts["install-script"]["url"]
        assert "X-Amz-Signature" not in public and bucket in public
        assert _fetch(public) == SCRIPT
        # The template got this region's values, and the rest of it is untouched.
        text = (out / region / "web.yaml").read_text()
        assert AMIS[region] in text and url in text and public in text
        assert text.startswith("# An instance that downloads its bundle at boot.\n")
        assert "!Sub |" in text


def test_tampered_expired_and_cross_region_urls_fail_the_signature_check(
    moto_project: MotoProject, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    render_to_directory([moto_project.root / "templates"], ["us-west-2", "eu-west-1"], out, RenderOptions())
    west = _artifacts(out, "us-west-2")["app-bundle"]["url"]
    europe = _artifacts(out, "eu-west-1")["app-bundle"]["url"]
    signed = verify_presigned_url(west, TEST_SECRET_KEY)
    assert signed.expires == 3600

    with pytest.raises(SigV4Error, match="does not match"):
        verify_presigned_url(west, "not-the-secret")
    with pytest.raises(SigV4Error, match="does not match"):
        verify_presigned_url(west.replace("X-Amz-Expires=3600", "X-Amz-Expires=7200"), TEST_SECRET_KEY)
    # One region's URL pointed at another region's bucket does not verify.
    with pytest.raises(SigV4Error, match="does not match"):
        verify_presigned_url(
            west.replace(moto_project.bucket("us-west-2"), moto_project.bucket("eu-west-1")), TEST_SECRET_KEY
        )
    # Nor does another region's scope on it.
    swapped = west.replace("%2Fus-west-2%2F", "%2Feu-west-1%2F")
    assert swapped != west
    with pytest.raises(SigV4Error, match="does not match"):
        verify_presigned_url(swapped, TEST_SECRET_KEY)
    assert verify_presigned_url(europe, TEST_SECRET_KEY).region == "eu-west-1"
    # Expired: one second after the end of its lifetime.
    with pytest.raises(SigV4Error, match="expired"):
        verify_presigned_url(west, TEST_SECRET_KEY, now=signed.expires_at + timedelta(seconds=1))
    assert verify_presigned_url(west, TEST_SECRET_KEY, now=signed.expires_at - timedelta(seconds=1))


def test_expiry_parsing_and_the_seven_day_cap() -> None:
    assert parse_expires("1h") == 3600
    assert parse_expires("15m") == 900
    assert parse_expires("90s") == 90
    assert parse_expires("7d") == MAX_EXPIRES == 604800
    assert parse_expires("604800") == 604800
    for bad in ("604801", "8d", "0", "-5", "1w", "", "1.5h", "h"):
        with pytest.raises(InputError):
            parse_expires(bad)


def test_cli_refuses_an_expiry_above_seven_days_and_writes_nothing(moto_project: MotoProject, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli("render", str(moto_project.root / "templates"), "--region", "us-west-2", "--out", str(out),
                     "--expires", "8d")  # fmt: skip
    assert result.exit_code == 2, result.stderr
    assert "7 days" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()
    ok = run_cli("render", str(moto_project.root / "templates"), "--region", "us-west-2", "--out", str(out),
                 "--expires", "7d")  # fmt: skip
    assert ok.exit_code == 0, ok.stderr
    url = _artifacts(out, "us-west-2")["app-bundle"]["url"]
    assert verify_presigned_url(url, TEST_SECRET_KEY).expires == 604800


def test_no_credential_or_signature_reaches_the_terminal(moto_project: MotoProject, tmp_path: Path) -> None:
    out = tmp_path / "out"
    for output_format in ("text", "json"):
        result = run_cli("render", str(moto_project.root / "templates"), "--all-regions", "--out", str(out),
                         "--format", output_format)  # fmt: skip
        assert result.exit_code == 0, result.stderr
        shown = result.stdout + result.stderr
        for secret in (TEST_SECRET_KEY, TEST_ACCESS_KEY, "X-Amz-Signature", "X-Amz-Credential"):
            assert secret not in shown
    assert "X-Amz-Signature" in (out / "us-west-2" / "artifacts.json").read_text()


def test_a_missing_regional_object_is_an_error_not_a_dead_link(moto_project: MotoProject, tmp_path: Path) -> None:
    import boto3

    bucket = moto_project.bucket("eu-west-1")
    client = boto3.client("s3", region_name="eu-west-1")
    for item in client.list_objects_v2(Bucket=bucket).get("Contents", []):
        if item["Key"].endswith("app-bundle.tar.gz"):
            client.delete_object(Bucket=bucket, Key=item["Key"])
    out = tmp_path / "out"
    (out / "us-west-2").mkdir(parents=True)
    earlier = '{"format_version": 1, "regions": {"us-west-2": {"files": []}}}\n'  # an earlier render's output
    (out / "manifest.json").write_text(earlier)
    with pytest.raises(DeploypkgError) as caught:
        render_to_directory([moto_project.root / "templates"], ["us-west-2", "eu-west-1"], out, RenderOptions())
    assert caught.value.rule == "DPK307"
    assert bucket in caught.value.message and "eu-west-1" in caught.value.message
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "us-west-2"]
    assert (out / "manifest.json").read_text() == earlier
    # --all-regions leaves that region out and says why.
    report = render_to_directory([moto_project.root / "templates"], [], out, RenderOptions(all_regions=True))
    assert report.regions == ("us-east-1", "us-west-2")
    assert "DPK307" in report.excluded["eu-west-1"]


def test_internal_endpoint_signs_for_the_providers_internal_host(moto_project: MotoProject, tmp_path: Path) -> None:
    out = tmp_path / "out"
    render_to_directory([moto_project.root / "templates"], ["us-west-2"], out, RenderOptions(endpoint="internal"))
    url = _artifacts(out, "us-west-2")["app-bundle"]["url"]
    assert verify_presigned_url(url, TEST_SECRET_KEY).region == "us-west-2"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["endpoint"] == "internal"


def test_short_lived_credentials_warn_when_the_url_dies(
    moto_project: MotoProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Credentials from a credential process with an Expiration (as for an assumed role)."""
    dies = (datetime.now(timezone.utc) + timedelta(minutes=20)).replace(microsecond=0)
    script = tmp_path / "creds.py"
    script.write_text(
        "import json\n"
        f"print(json.dumps({{'Version': 1, 'AccessKeyId': '{TEST_ACCESS_KEY}', 'SecretAccessKey': "
        f"'{TEST_SECRET_KEY}', 'SessionToken': 'session-token-xyz', "
        f"'Expiration': '{dies.strftime('%Y-%m-%dT%H:%M:%SZ')}'}}))\n"
    )
    config = tmp_path / "aws-config"
    config.write_text(f"[profile short]\ncredential_process = {sys.executable} {script}\nregion = us-east-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "short")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    out = tmp_path / "out"
    report = render_to_directory(
        [moto_project.root / "templates"], ["us-west-2"], out, RenderOptions(expires=parse_expires("1d"))
    )
    warnings = [w for w in report.warnings if w.rule_id == "DPK309"]
    assert len(warnings) == 1
    assert dies.strftime("%Y-%m-%dT%H:%M:%SZ") in warnings[0].message
    assert "session-token-xyz" not in warnings[0].message
    bundle = _artifacts(out, "us-west-2")["app-bundle"]
    assert bundle["expires_at"] == dies.strftime("%Y-%m-%dT%H:%M:%SZ")
    url = bundle["url"]
    assert "X-Amz-Security-Token" in url
    assert verify_presigned_url(url, TEST_SECRET_KEY).expires == 86400


def test_session_tokens_and_keys_stay_out_of_cli_output_and_errors(moto_project: MotoProject, tmp_path: Path) -> None:
    dies = (datetime.now(timezone.utc) + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    script = tmp_path / "creds.py"
    script.write_text(
        "import json\n"
        f"print(json.dumps({{'Version': 1, 'AccessKeyId': '{TEST_ACCESS_KEY}', 'SecretAccessKey': "
        f"'{TEST_SECRET_KEY}', 'SessionToken': 'session-token-xyz', 'Expiration': '{dies}'}}))\n"
    )
    config = tmp_path / "aws-config"
    config.write_text(f"[profile short]\ncredential_process = {sys.executable} {script}\nregion = us-east-1\n")
    env = {"AWS_CONFIG_FILE": str(config), "AWS_PROFILE": "short", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}
    templates = str(moto_project.root / "templates")
    out = tmp_path / "out"
    ok = run_cli("render", templates, "--region", "us-west-2", "--out", str(out), "--expires", "2h", env=env)
    assert ok.exit_code == 0, ok.stderr
    assert "DPK309" in ok.stderr and dies in ok.stderr
    # An error path too: the object is gone from one region.
    import boto3

    bucket = moto_project.bucket("eu-west-1")
    client = boto3.client("s3", region_name="eu-west-1")
    for item in client.list_objects_v2(Bucket=bucket).get("Contents", []):
        client.delete_object(Bucket=bucket, Key=item["Key"])
    failed = run_cli("render", templates, "--region", "eu-west-1", "--out", str(out), env=env)
    assert failed.exit_code != 0 and "DPK307" in failed.stderr
    for result in (ok, failed):
        shown = result.stdout + result.stderr
        for secret in (TEST_SECRET_KEY, TEST_ACCESS_KEY, "session-token-xyz", "X-Amz-Signature", "Security-Token"):
            assert secret not in shown, secret


def test_url_lifetime_is_the_earlier_of_request_and_credentials() -> None:
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert url_lifetime(3600, now, None) == (now + timedelta(hours=1), False)
    assert url_lifetime(3600, now, now + timedelta(hours=2)) == (now + timedelta(hours=1), False)
    assert url_lifetime(3600, now, now + timedelta(minutes=5)) == (now + timedelta(minutes=5), True)


def test_two_renders_differ_only_in_signature_and_signing_time(moto_project: MotoProject, tmp_path: Path) -> None:
    import re

    def masked(out: Path) -> dict[str, str]:
        return {
            p.relative_to(out).as_posix(): re.sub(r"X-Amz-(Date|Signature)=[0-9A-Za-z]+", r"X-Amz-\1=…", p.read_text())
            for p in sorted(out.rglob("*.yaml"))
        }

    templates = [moto_project.root / "templates"]
    render_to_directory(templates, ["us-west-2", "eu-west-1"], tmp_path / "a", RenderOptions())
    render_to_directory(templates, ["us-west-2", "eu-west-1"], tmp_path / "b", RenderOptions())
    first, second = masked(tmp_path / "a"), masked(tmp_path / "b")
    assert first == second and len(first) == 2
    assert all("X-Amz-Signature=…" in text for text in first.values())


def _object_key(project: MotoProject, region: str, filename: str) -> str:
    import boto3

    listed = boto3.client("s3", region_name=region).list_objects_v2(Bucket=project.bucket(region))
    return next(item["Key"] for item in listed.get("Contents", []) if item["Key"].endswith("/" + filename))


def _anonymous_status(project: MotoProject, region: str, key: str) -> int:
    url = project.store.object_url(region, project.bucket(region), key, presign=False)
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_public_files_stay_public_private_ones_private_and_render_refuses_an_unreadable_publicfile(
    moto_project: MotoProject, tmp_path: Path
) -> None:
    import boto3

    script = {r: _object_key(moto_project, r, "install.sh") for r in REGIONS}
    bundle = {r: _object_key(moto_project, r, "app-bundle.tar.gz") for r in REGIONS}
    for region in REGIONS:
        assert _anonymous_status(moto_project, region, script[region]) == 200, "a public package: public-read"
        assert _anonymous_status(moto_project, region, bundle[region]) == 403, "any other file: owner only"
    assert permissions.audit(moto_project.store, FILES) == ([], [])

    # behind the catalog's back: the script made private in one region, the bundle made public
    s3 = boto3.client("s3", region_name="us-west-2")
    s3.put_object_acl(Bucket=moto_project.bucket("us-west-2"), Key=script["us-west-2"], ACL="private")
    s3.put_object_acl(Bucket=moto_project.bucket("us-west-2"), Key=bundle["us-west-2"], ACL="public-read")
    out = tmp_path / "out"
    result = run_cli("render", "templates", "--region", "us-west-2", "--out", str(out), cwd=moto_project.root)
    assert result.exit_code == 1
    assert "DPK312" in result.stderr and "not readable without credentials" in result.stderr
    assert "catalog audit --fix" in result.stderr
    assert not out.exists(), "nothing written"
    drift = {(d.package, d.region): d.describe() for d in permissions.audit(moto_project.store, FILES).drift}
    assert drift == {("install-script", "us-west-2"): "+public", ("app-bundle", "us-west-2"): "-public"}
    fixed = permissions.sync(moto_project.store, FILES)
    assert len(fixed.drift) == 2 and fixed.failed == []
    assert _anonymous_status(moto_project, "us-west-2", script["us-west-2"]) == 200
    assert _anonymous_status(moto_project, "us-west-2", bundle["us-west-2"]) == 403
    again = run_cli("render", "templates", "--region", "us-west-2", "--out", str(out), cwd=moto_project.root)
    assert again.exit_code == 0, again.stderr

    # a revoked public file is readable by nobody without credentials
    operations.revoke(moto_project.store, "install-script", "1.0.0", "superseded")
    permissions.sync(moto_project.store, FILES)
    for region in REGIONS:
        assert _anonymous_status(moto_project, region, script[region]) == 403


def test_an_object_shared_by_two_versions_stays_public_while_one_of_them_is(
    moto_project: MotoProject, tmp_path: Path
) -> None:
    """Objects are content addressed: a new version with the same bytes uses the same object, so
    revoking the old one must not make it private under the new one."""
    again = tmp_path / "install.sh"
    again.write_bytes(SCRIPT)
    store = moto_project.store
    operations.publish(
        store, operations.PublishRequest("install-script", "1.0.1", PackageType.FILE, region="us-east-1", file=again)
    )
    operations.distribute(store, "install-script", "1.0.1", list(REGIONS[1:]))
    operations.release(store, "install-script", "1.0.1")
    script = {r: _object_key(moto_project, r, "install.sh") for r in REGIONS}
    operations.revoke(store, "install-script", "1.0.0", "superseded by 1.0.1")
    assert permissions.sync(store, ["install-script"]).drift == [], "1.0.1 still needs the objects public"
    for region in REGIONS:
        assert _anonymous_status(moto_project, region, script[region]) == 200
    operations.revoke(store, "install-script", "1.0.1", "withdrawn")
    assert len(permissions.sync(store, ["install-script"]).drift) == len(REGIONS)
    for region in REGIONS:
        assert _anonymous_status(moto_project, region, script[region]) == 403
