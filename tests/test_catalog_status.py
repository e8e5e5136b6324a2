"""``catalog status`` (issue 13, §3): each version's copy per region, its status and channels."""

from __future__ import annotations

import json

from helpers import FIXTURES, run_cli

from preprocessor.catalog.model import (
    Channel,
    Distribution,
    DistributionStatus,
    Package,
    PackageType,
    PackageVersion,
    Source,
    VersionStatus,
)
from preprocessor.catalog.operations import PackageDetails
from preprocessor.catalog.status import status

CATALOG = f"file://{FIXTURES / 'alicloud' / 'catalog'}"


def test_every_state_of_a_copy_and_the_channel_heads() -> None:
    version = PackageVersion(
        "web",
        "2.0",
        VersionStatus.PUBLISHED,
        Source(region="cn-hangzhou", image_id="m-bp1g7004ksh0oeuc1234"),
        {
            "cn-hangzhou": Distribution("cn-hangzhou", DistributionStatus.AVAILABLE),
            "cn-beijing": Distribution("cn-beijing", DistributionStatus.DELIVERING),
            "cn-shanghai": Distribution("cn-shanghai", DistributionStatus.FAILED),
        },
    )
    older = PackageVersion("web", "1.0", VersionStatus.REVOKED, Source(region="cn-hangzhou"), {})
    channels = [Channel("web", "prod", "2.0"), Channel("web", "dev", "2.0"), Channel("web", "test", "1.0")]
    details = PackageDetails(Package("web", PackageType.ECS_IMAGE), [older, version], channels)
    matrix = status([details], ["cn-hangzhou", "cn-beijing", "cn-shanghai", "cn-shenzhen"], ["dev", "test", "prod"])
    first, second = matrix.rows
    assert (first.version, first.status, first.channels) == ("1.0", "revoked", ("test",))
    assert set(first.regions.values()) == {"missing"}
    assert (second.status, second.channels) == ("published", ("dev", "prod"))
    assert second.regions == {
        "cn-hangzhou": "available",
        "cn-beijing": "copying",
        "cn-shanghai": "failed",
        "cn-shenzhen": "missing",
    }
    markdown = matrix.to_markdown().splitlines()
    assert (
        markdown[0]
        == "| package | version | status | channels | cn-hangzhou | cn-beijing | cn-shanghai | cn-shenzhen |"
    )
    assert markdown[3] == "| web | 2.0 | published | dev, prod | available | copying | failed | missing |"


def test_the_cli_on_the_bundled_catalog() -> None:
    shown = run_cli("catalog", "--catalog", CATALOG, "status", "--format", "json")
    assert shown.exit_code == 0, shown.stderr
    matrix = json.loads(shown.stdout)
    assert matrix["regions"] == ["cn-beijing", "cn-hangzhou", "cn-shanghai"]
    worker = next(r for r in matrix["rows"] if r["package"] == "worker-image")
    assert worker["channels"] == ["dev", "test", "prod"]
    assert worker["regions"] == {"cn-beijing": "available", "cn-hangzhou": "available", "cn-shanghai": "missing"}
    table = run_cli("catalog", "--catalog", CATALOG, "status", "web-image", "--region", "cn-beijing")
    assert table.exit_code == 0 and "web-image" in table.stdout and "cn-beijing" in table.stdout
    assert "worker-image" not in table.stdout
