"""``deploypkg refs``: the exact inventory of the diagnostic corpus, through the real CLI."""

from __future__ import annotations

import json

from helpers import REPO, run_cli

GOLDEN = REPO / "tests" / "data" / "validate-refs.json"
FIELDS = [
    "file", "line", "column", "end_line", "end_column",
    "resource", "resource_type", "property", "kind", "role", "value",
]  # fmt: skip


def test_refs_json_of_the_corpus_is_exact() -> None:
    result = run_cli("refs", "--format", "json", "fixtures/validate", cwd=REPO)
    assert json.loads(result.stdout) == json.loads(GOLDEN.read_text(encoding="utf-8"))
    # the files that cannot be loaded are named on stderr, and make the exit code 2
    failures = sorted(line.split(":")[0] for line in result.stderr.splitlines())
    assert failures == [
        "fixtures/validate/ros-broken.yaml",
        "fixtures/validate/ros-invalid.yaml",
        "fixtures/validate/ros-latin1.yaml",
        "fixtures/validate/tf-alicloud/broken.tf",
    ]
    assert result.exit_code == 2


def test_refs_records_have_the_documented_fields() -> None:
    records = json.loads(GOLDEN.read_text(encoding="utf-8"))
    for record in records:
        placeholder_fields = [field for field in FIELDS if field != "role"] + ["placeholder_type"]
        expected = placeholder_fields if record["kind"] == "placeholder" else FIELDS
        assert list(record) == expected
    kinds = {record["kind"] for record in records}
    assert kinds == {"literal", "reference", "function", "interpolation", "placeholder"}
    bom_crlf = [r for r in records if r["file"] == "fixtures/validate/ros-bom-crlf.yaml"]
    assert [(r["line"], r["column"], r["end_column"], r["value"]) for r in bom_crlf] == [
        (8, 16, 38, "m-bp1yyyyyyyyyyyyyyyyy"),
        (9, 34, 69, "app-bundle"),
    ]


def test_refs_text_lists_each_reference_on_one_line() -> None:
    result = run_cli("refs", "fixtures/validate/aws/tf-aws/main.tf", cwd=REPO)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "fixtures/validate/aws/tf-aws/main.tf:12:20: literal aws_instance aws_instance.web ami ami-0123456789abcdef0",
        "fixtures/validate/aws/tf-aws/main.tf:17:9: reference aws_instance aws_instance.from_data ami"
        " data.aws_ami.al2023.id",
        "fixtures/validate/aws/tf-aws/main.tf:21:9: function aws_instance aws_instance.ternary ami"
        ' var.prod ? "ami-0123456789abcdef0" : "ami-0fedcba9876543210"',
        "fixtures/validate/aws/tf-aws/main.tf:25:10: literal aws_instance aws_instance.ssm ami"
        " resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
        "fixtures/validate/aws/tf-aws/main.tf:29:15: literal aws_launch_template aws_launch_template.bad image_id"
        " ami-XYZ",
        "fixtures/validate/aws/tf-aws/main.tf:33:20: literal aws_spot_instance_request"
        " aws_spot_instance_request.batch_worker ami ami-0123456789abcdef0",
    ]


def test_refs_of_the_clean_projects_succeed() -> None:
    result = run_cli("refs", "--format", "json", "fixtures/alicloud", "fixtures/aws", cwd=REPO)
    assert result.exit_code == 0, result.stderr
    records = json.loads(result.stdout)
    assert any(r["value"] == "m-bp1ab5ek0o5xqa1y9abc" for r in records)
    assert {r["placeholder_type"] for r in records if r["kind"] == "placeholder"} >= {"file", "acrimage", "helmchart"}
