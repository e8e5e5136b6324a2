"""Regions for the benchmarks: the aws provider's real regions, then synthetic ones up to 50.

The aws provider knows 29 regions, and render, publish and distribute refuse any other name (a
typo is bad input). The 50-region scale case therefore adds synthetic regions (``zz-bench-N``) to
the aws provider of the benchmark's own processes: :func:`install` replaces the registry's aws
entry with a copy listing them. moto serves any region name; nothing else changes.
"""

from __future__ import annotations

import dataclasses

REAL = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1", "eu-west-1",
    "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-1", "ap-south-1",
    "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
    "ap-east-1", "me-south-1", "af-south-1", "ap-south-2", "ap-southeast-3", "ap-southeast-4",
    "ca-west-1", "eu-central-2", "eu-south-2", "il-central-1", "me-central-1",
)  # fmt: skip
"""The aws provider's regions; the first 20 in the order the benchmark has always used."""
MOST = 50
SYNTHETIC = tuple(f"zz-bench-{index}" for index in range(1, MOST - len(REAL) + 1))
REGIONS = REAL + SYNTHETIC


def install() -> None:
    """Let this process's aws provider accept the synthetic regions."""
    import providers

    table = providers.all_providers()
    aws = table["aws"]
    missing = tuple(region for region in REGIONS if not aws.is_region(region))
    if missing:
        table["aws"] = dataclasses.replace(aws, regions=(*aws.regions, *missing))
