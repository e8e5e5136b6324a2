"""The ``plan`` wrapper: render a Terraform module per region, then ``terraform init`` and
``terraform plan`` in each region's work directory (see docs/plan.md).

- :mod:`.binary` — which terraform, and the shared plugin cache
- :mod:`.arguments` — checks on the arguments passed through to ``terraform plan``
- :mod:`.workdir` — region work directories that keep ``.terraform/`` between runs
- :mod:`.output` — child output, line by line, prefixed with the region
- :mod:`.runner` — init and plan per region, in parallel, exit codes aggregated, interrupts
- :mod:`.plan` — the whole command as a library call
"""

from __future__ import annotations

from preprocessor.terraform.plan import PlanOptions, PlanReport, plan
from preprocessor.terraform.runner import RegionResult, aggregate_exit_codes

__all__ = ["PlanOptions", "PlanReport", "RegionResult", "aggregate_exit_codes", "plan"]
