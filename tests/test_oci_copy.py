"""Copy by digest between real registries (docker-registry on 127.0.0.1): every platform of an
index, blobs skipped when present, mounted within one registry, streamed otherwise; the target
serves the same digest, checked here with plain HTTP pulls."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from registry_testing import Layout, Registry, fetch, pull_all, push, start_registry

from preprocessor.errors import InputError
from preprocessor.oci.client import RegistryClient, RegistryError
from preprocessor.oci.copy import copy_reference
from preprocessor.oci.reference import Reference, is_loopback, parse_reference


@pytest.fixture(scope="module")
def registries(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Registry]]:
    root = tmp_path_factory.mktemp("registries")
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(start_registry(root / f"r{i}")) for i in range(3)]


@pytest.fixture(scope="module")
def image(registries: list[Registry], tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A two-platform image pushed by skopeo to the first registry: (reference, index digest)."""
    layout = Layout(tmp_path_factory.mktemp("layout"))
    digest = layout.multi_platform("1.0", layer_size=3 * 1024 * 1024 + 17)
    ref = f"{registries[0].host}/acme/web:1.0"
    push(layout, "1.0", ref)
    return ref, digest


def _clients() -> tuple[dict[str, RegistryClient], Callable[[str], RegistryClient]]:
    made: dict[str, RegistryClient] = {}

    def client_for(host: str) -> RegistryClient:
        return made.setdefault(host, RegistryClient(host, chunk_size=256 * 1024))

    return made, client_for


def test_references_parse_and_print_back() -> None:
    ref = parse_reference("registry.cn-hangzhou.aliyuncs.com/acme/web:1.4.0")
    assert ref == Reference("registry.cn-hangzhou.aliyuncs.com", "acme/web", "1.4.0")
    pinned = ref.pinned("sha256:" + "a" * 64)
    assert str(pinned) == "registry.cn-hangzhou.aliyuncs.com/acme/web:1.4.0@sha256:" + "a" * 64
    chart = parse_reference("oci://127.0.0.1:5000/charts/dify:1.4.0")
    assert chart.oci and chart.registry == "127.0.0.1:5000" and str(chart) == "oci://127.0.0.1:5000/charts/dify:1.4.0"
    for bad in ("nginx:1.25", "registry.example.com/acme/web", "registry.example.com/Acme/web:1", "x/y:z"):
        with pytest.raises(InputError):
            parse_reference(bad)
    assert is_loopback("127.0.0.1:5000") and is_loopback("localhost:5000") and not is_loopback("10.0.0.1:5000")


def test_an_index_is_copied_with_every_platform_by_digest(registries: list[Registry], image: tuple[str, str]) -> None:
    source_ref, digest = image
    made, client_for = _clients()
    target = Reference(registries[1].host, "acme/web", "1.0")
    result = copy_reference(parse_reference(source_ref), target, client_for)
    assert result.digest == digest
    assert result.manifests == 3 and result.blobs_copied == 5 and result.blobs_mounted == 0  # 2 configs, 3 layers
    assert pull_all(registries[1].host, "acme/web", "1.0") == digest
    assert pull_all(registries[1].host, "acme/web", digest) == digest
    streamed = made[registries[0].host].bytes_streamed
    assert streamed == made[registries[1].host].bytes_streamed > 6 * 1024 * 1024  # read once, written once
    # A rerun finds every blob and child there and copies nothing.
    _, again_for = _clients()
    again = copy_reference(parse_reference(source_ref), target, again_for)
    assert (again.digest, again.blobs_copied, again.blobs_present) == (digest, 0, 0)


def test_within_one_registry_blobs_are_mounted_not_streamed(registries: list[Registry], image: tuple[str, str]) -> None:
    source_ref, digest = image
    made, client_for = _clients()
    target = Reference(registries[0].host, "acme-prod/web", "1.0")
    result = copy_reference(parse_reference(source_ref), target, client_for)
    assert (result.digest, result.blobs_copied, result.blobs_mounted) == (digest, 0, 5)
    assert made[registries[0].host].bytes_streamed == 0
    assert pull_all(registries[0].host, "acme-prod/web", "1.0") == digest


def test_the_manifest_bytes_are_kept(registries: list[Registry], image: tuple[str, str]) -> None:
    """The child manifests were written with odd indentation: a copy that re-serialised them
    would change their digests."""
    source_ref, digest = image
    _, client_for = _clients()
    copy_reference(parse_reference(source_ref), Reference(registries[2].host, "acme/web", "1.0"), client_for)
    _, index, _ = fetch(registries[2].host, f"/v2/acme/web/manifests/{digest}")
    for child in json.loads(index)["manifests"]:
        _, there, _ = fetch(registries[2].host, f"/v2/acme/web/manifests/{child['digest']}")
        _, here, _ = fetch(registries[0].host, f"/v2/acme/web/manifests/{child['digest']}")
        assert there == here and b"\n   " in there


def test_a_chart_is_copied_as_an_oci_artifact(registries: list[Registry], tmp_path: Path) -> None:
    layout = Layout(tmp_path / "chart")
    digest = layout.chart("dify", "1.4.0")
    push(layout, "1.4.0", f"{registries[0].host}/charts/dify:1.4.0")
    _, client_for = _clients()
    source = parse_reference(f"oci://{registries[0].host}/charts/dify:1.4.0")
    result = copy_reference(source, source.moved(registries[1].host, "charts/dify"), client_for)
    assert result.digest == digest and pull_all(registries[1].host, "charts/dify", "1.4.0") == digest


def test_a_missing_source_and_a_dead_target_are_errors(registries: list[Registry], image: tuple[str, str]) -> None:
    _, client_for = _clients()
    with pytest.raises(RegistryError, match="is not in its registry"):
        copy_reference(
            parse_reference(f"{registries[0].host}/acme/nothing:1"),
            Reference(registries[1].host, "a/b", "1"),
            client_for,
        )
    with pytest.raises(RegistryError, match="failed"):
        copy_reference(parse_reference(image[0]), Reference("127.0.0.1:1", "acme/web", "1.0"), client_for)


def test_only_loopback_or_named_registries_get_plain_http(monkeypatch: pytest.MonkeyPatch) -> None:
    from preprocessor.oci.registries import INSECURE_ENV, Registries

    monkeypatch.delenv(INSECURE_ENV, raising=False)
    assert Registries().client("127.0.0.1:5000").scheme == "http"
    assert Registries().client("registry.internal.example:5000").scheme == "https"
    monkeypatch.setenv(INSECURE_ENV, "registry.internal.example:5000, other.example")
    assert Registries().client("registry.internal.example:5000").scheme == "http"
    assert Registries().client("registry.cn-hangzhou.aliyuncs.com").scheme == "https"


def test_a_descriptor_without_a_sha256_digest_is_refused_before_any_request() -> None:
    """Digests from a manifest go into request paths: ``../`` or another algorithm is refused."""
    from preprocessor.oci.client import Manifest

    body = json.dumps({"schemaVersion": 2, "manifests": [{"digest": "../../v2/_catalog"}]}).encode()

    class Source:
        registry = "source.example"

        def get_manifest(self, repository: str, reference: str) -> Manifest:
            return Manifest(body, "application/vnd.oci.image.index.v1+json", "sha256:" + "0" * 64)

    class Target:
        def __getattr__(self, name: str) -> object:
            raise AssertionError(f"the target was asked {name}")

    def client_for(host: str) -> object:
        return Source() if host == "source.example" else Target()

    with pytest.raises(RegistryError, match="without a sha256 digest"):
        copy_reference(
            parse_reference("source.example/acme/web:1"),
            Reference("target.example", "acme/web", "1"),
            client_for,  # type: ignore[arg-type]
        )
