"""Packer manifest import: the last run by default, a chosen run, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import FIXTURES, run_cli

from preprocessor.catalog.packer import read_manifest
from preprocessor.errors import InputError

ALICLOUD = FIXTURES / "packer" / "alicloud-manifest.json"
AWS = FIXTURES / "packer" / "aws-manifest.json"


def test_last_run_is_the_default() -> None:
    images = read_manifest(ALICLOUD)
    assert images.run_uuid == "9a7d3c21-6e4f-4b8a-a2c1-000000000002"
    assert images.builder_type == "alicloud-ecs"
    assert images.images == {
        "cn-hangzhou": "m-bp1g7004ksh0oeuc1234",
        "cn-beijing": "m-2zeb3kq6nfv9wd8x1234",
        "cn-shanghai": "m-uf6e5t0rlw3pq2vn1234",
    }
    assert images.source_region == "cn-hangzhou"


def test_a_chosen_run() -> None:
    images = read_manifest(ALICLOUD, "5f0c8e4a-1b2d-4c3e-9f8a-000000000001")
    assert images.images == {"cn-hangzhou": "m-bp1earlyrun0000000001"}


def test_aws_manifest() -> None:
    images = read_manifest(AWS)
    assert list(images.images) == ["us-east-1", "us-west-2", "eu-west-1"]
    assert images.images["us-east-1"] == "ami-0123456789abcdef0"


def test_unknown_run_lists_the_runs() -> None:
    with pytest.raises(InputError) as caught:
        read_manifest(ALICLOUD, "no-such-run")
    assert "5f0c8e4a-1b2d-4c3e-9f8a-000000000001" in (caught.value.hint or "")


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ('{\n  "builds": [,]\n}', "not valid JSON"),
        ({"builds": []}, "no builds"),
        ({"builds": [{"artifact_id": "x", "packer_run_uuid": "r"}]}, "no last_run_uuid"),
        ({"builds": [{"artifact_id": "output.tar", "packer_run_uuid": "r"}], "last_run_uuid": "r"}, "REGION:IMAGE"),
        ({"builds": [{"packer_run_uuid": "r"}], "last_run_uuid": "r"}, "no artifact_id"),
        (
            {
                "builds": [
                    {"artifact_id": "cn-hangzhou:m-aaaaaaaaaaaaaaaaaaaa", "packer_run_uuid": "r"},
                    {"artifact_id": "cn-hangzhou:m-bbbbbbbbbbbbbbbbbbbb", "packer_run_uuid": "r"},
                ],
                "last_run_uuid": "r",
            },
            "two images for cn-hangzhou",
        ),
    ],
)
def test_bad_manifests(tmp_path: Path, data: object, words: str) -> None:
    path = _write(tmp_path, data)
    with pytest.raises(InputError) as caught:
        read_manifest(path)
    assert words in caught.value.message
    assert caught.value.file == str(path)


def test_json_error_has_a_position(tmp_path: Path) -> None:
    path = _write(tmp_path, '{\n  "builds": [,]\n}')
    with pytest.raises(InputError) as caught:
        read_manifest(path)
    assert (caught.value.line, caught.value.column) == (2, 14)


def test_publish_from_packer_cli(tmp_path: Path) -> None:
    url = f"file://{tmp_path / 'catalog'}"
    assert (
        run_cli("catalog", "--catalog", url, "init", "--provider", "alicloud", "--bucket-pattern", "b-{region}")[0] == 0
    )
    result = run_cli("catalog", "--catalog", url, "publish", "web-image", "1.0.0", "--from-packer", str(ALICLOUD))
    assert result.exit_code == 0, result.stderr
    assert "imported Packer run 9a7d3c21" in result.stdout
    shown = run_cli("catalog", "--catalog", url, "show", "web-image", "1.0.0", "--format", "json")
    version = json.loads(shown.stdout)
    assert version["status"] == "draft"
    assert version["source"] == {"region": "cn-hangzhou", "image_id": "m-bp1g7004ksh0oeuc1234"}
    assert {r: d["image_id"] for r, d in version["distributions"].items()} == {
        "cn-hangzhou": "m-bp1g7004ksh0oeuc1234",
        "cn-beijing": "m-2zeb3kq6nfv9wd8x1234",
        "cn-shanghai": "m-uf6e5t0rlw3pq2vn1234",
    }
    earlier = run_cli(
        "catalog", "--catalog", url, "publish", "web-image", "0.9.0", "--from-packer", str(ALICLOUD),
        "--packer-run-uuid", "5f0c8e4a-1b2d-4c3e-9f8a-000000000001",
    )  # fmt: skip
    assert earlier.exit_code == 0, earlier.stderr
    # An AWS manifest's AMI IDs are refused by an alicloud catalog, with the expected syntax.
    wrong = run_cli("catalog", "--catalog", url, "publish", "other", "1.0.0", "--from-packer", str(AWS))
    assert wrong.exit_code == 2
    assert "not an alicloud region" in wrong.stderr or "not a alicloud image ID" in wrong.stderr
    assert "Traceback" not in wrong.stderr
