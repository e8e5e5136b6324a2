"""``render --summary`` (issue 13, §3): Markdown a reviewer reads, made from what render wrote."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from helpers import FIXTURES, run_cli

from preprocessor.render.summary import ROWS_SHOWN, summary_markdown


def _rows(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("| ") and not line.startswith("| where")]


def test_the_summary_lists_every_substitution_of_every_region(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "alicloud", tmp_path / "alicloud")
    target = tmp_path / "summary.md"
    result = run_cli(
        "render", "templates", "--region", "cn-hangzhou", "--region", "cn-beijing", "--out", "out",
        "--summary", str(target), cwd=tmp_path / "alicloud",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    manifest = json.loads((tmp_path / "alicloud" / "out" / "manifest.json").read_text())
    markdown = target.read_text()
    for region, written in manifest["regions"].items():
        assert f"### {region}: {len(written['substitutions'])} substitution(s)" in markdown
    assert len(_rows(markdown)) == sum(len(r["substitutions"]) for r in manifest["regions"].values())
    assert "| ros-workers.yaml:17 | Workers · ImageId | `m-bp1dbcw2zx04ke8o5678` → `m-2ze7ua1ra8vg0d3f5678`" in markdown
    assert "worker-image@2.0.0 (prod)" in markdown, "the channel the association follows"
    assert markdown.count("<details>") == 2, f"more than {ROWS_SHOWN} rows per region are collapsed"
    stdout = run_cli(
        "render", "templates", "--region", "cn-beijing", "--out", "out2", "--summary", "-", cwd=tmp_path / "alicloud"
    )
    assert stdout.stdout.startswith("## deploypkg render\n")


def test_urls_lose_their_signature_and_cells_their_pipes() -> None:
    manifest = {
        "regions": {
            "us-west-2": {
                "files": ["a|b.yaml"],
                "substitutions": [
                    {
                        "file": "a|b.yaml",
                        "line": 3,
                        "resource": "Web",
                        "property": "UserData",
                        "old": "{{ computenest::file::app }}",
                        "new": "https://b.s3.us-west-2.amazonaws.com/app.tgz?X-Amz-Signature=abc&X-Amz-Expires=3600",
                        "package": "app@1.0.0",
                    }
                ],
            }
        },
        "excluded_regions": {"eu-west-1": "app@1.0.0 has no copy in eu-west-1"},
    }
    artifacts = {"us-west-2": [{"package": "app", "version": "1.0.0", "expires_at": "2026-12-02T10:00:00Z"}]}
    markdown = summary_markdown(manifest, artifacts)
    assert "X-Amz-Signature" not in markdown
    assert "`https://b.s3.us-west-2.amazonaws.com/app.tgz (presigned)`" in markdown
    assert "| a\\|b.yaml:3 |" in markdown
    assert "Presigned URLs expire from 2026-12-02T10:00:00Z (app)." in markdown
    assert "| eu-west-1 | app@1.0.0 has no copy in eu-west-1 |" in markdown
    assert "1 region(s) left out" in markdown
