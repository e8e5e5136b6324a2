"""Every diagnostic deploypkg can emit, with its stable ID and default severity.

IDs never change meaning once released; a retired rule keeps its ID reserved.
``DPK0xx`` input, ``DPK1xx`` image references, ``DPK2xx`` placeholders and associations,
``DPK3xx`` catalog resolution and access rules (render / plan).
"""

from __future__ import annotations

import enum
from typing import NamedTuple


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


class Rule(NamedTuple):
    id: str
    name: str
    severity: Severity
    summary: str
    validate: bool = True
    """Whether ``deploypkg validate`` reports it (else only render, plan or the catalog do)."""


E, W = Severity.ERROR, Severity.WARNING


def _render_only(rule_id: str, name: str, severity: Severity, summary: str) -> Rule:
    """A catalog rule: render and plan report it; validate, offline, cannot."""
    return Rule(rule_id, name, severity, summary, validate=False)


_RULES = (
    Rule("DPK001", "parse-error", E, "The file does not parse."),
    Rule("DPK002", "unreadable-file", E, "The file cannot be read (permissions, encoding, not a file)."),
    Rule("DPK003", "invalid-template", E, "The file parses but is not a well-formed template."),
    Rule(
        "DPK004",
        "jinja-error",
        E,
        "A .j2 template fails to render (syntax, undefined name, sandbox violation).",
        validate=False,
    ),
    Rule("DPK010", "invalid-config", E, "The project config is malformed.", validate=False),
    Rule(
        "DPK101",
        "image-not-literal",
        E,
        "An image ID on a supported resource is not a literal string, so it cannot be mapped per region.",
    ),
    Rule(
        "DPK102",
        "image-not-associated",
        E,
        "A custom image ID exists in one region only and no association maps it to a package.",
    ),
    Rule("DPK103", "public-image-name", W, "A public image name: its availability differs per region."),
    Rule("DPK104", "image-name-prefix", W, "A ROS image name prefix resolves to a different image per region."),
    Rule("DPK105", "image-family", W, "An image family resolves to a different image per region and over time."),
    Rule(
        "DPK106",
        "dynamic-reference",
        W,
        "A {{resolve:...}} dynamic reference is resolved by the cloud at deploy time, unreviewed.",
    ),
    Rule("DPK107", "malformed-image-id", E, "The image ID is not valid for the provider."),
    Rule(
        "DPK108",
        "image-built-in-stack",
        Severity.INFO,
        "An image ID refers to an image the same template or module builds: made in each region, nothing to map.",
    ),
    Rule(
        "DPK111",
        "regional-container-image",
        W,
        "A container image in one region's registry: other regions pull it across regions, over the internet.",
    ),
    Rule(
        "DPK112",
        "public-container-image",
        W,
        "A container image pulled from outside the provider's registries (Docker Hub, …): a VPC needs NAT to reach it.",
    ),
    Rule("DPK113", "moving-container-tag", W, "A container image with no tag or 'latest' and no digest: it moves."),
    Rule("DPK114", "malformed-container-image", E, "The value is not a container image reference."),
    Rule("DPK201", "unknown-placeholder-package", E, "A placeholder names no known package."),
    Rule("DPK202", "unused-association", W, "An association in the project config is used by no template."),
    Rule("DPK203", "malformed-placeholder", E, "A computenest placeholder has an unknown type or an empty name."),
    Rule(
        "DPK204",
        "unmapped-computenest-artifact",
        E,
        "A Compute Nest relation names an artifact that maps to no package (an artifact ID deploypkg.yaml"
        " does not map, or an artifact name that gives no package name).",
    ),
    Rule(
        "DPK205",
        "undefined-computenest-artifact",
        E,
        "A Compute Nest relation has no ArtifactId, or its ArtifactId names no artifact of the config.",
    ),
    Rule(
        "DPK207",
        "malformed-computenest-relation",
        E,
        "A Compute Nest relation section is not a mapping, or one of its keys cannot be a key of that section.",
    ),
    Rule(
        "DPK206",
        "computenest-credential-placeholder",
        W,
        "A Compute Nest pull-credential placeholder is left in place for Compute Nest to fill in at deploy time.",
        validate=False,
    ),
    Rule(
        "DPK301",
        "not-available-in-region",
        E,
        "The package version has no available copy in the region.",
        validate=False,
    ),
    Rule(
        "DPK302",
        "draft-outside-source-region",
        E,
        "A draft version is usable only in its source region.",
        validate=False,
    ),
    _render_only("DPK303", "revoked-version", E, "The package version was revoked."),
    Rule(
        "DPK304",
        "account-not-whitelisted",
        E,
        "The account is not on the whitelist of a service of the package.",
        validate=False,
    ),
    _render_only("DPK305", "private-package", E, "The package is private and the account is not its owner."),
    _render_only("DPK306", "unknown-package", E, "The package, version or channel does not exist in the catalog."),
    _render_only("DPK307", "object-missing", E, "The catalog names a regional object that is not in the store."),
    _render_only("DPK308", "no-published-version", E, "The package has no published version to default to."),
    _render_only("DPK309", "presign-expiry", W, "The presigned URL dies before its requested expiry."),
    _render_only(
        "DPK310", "package-type-mismatch", E, "A reference needs another package type than the associated package's."
    ),
    _render_only(
        "DPK311",
        "pull-secret-unavailable",
        E,
        "A pull-credential placeholder cannot be filled with a short-lived token for the template's registries.",
    ),
    _render_only("DPK312", "publicfile-not-public", E, "A publicfile's object cannot be read without credentials."),
)

RULES: dict[str, Rule] = {rule.id: rule for rule in _RULES}
BAD_INPUT_RULES = frozenset({"DPK001", "DPK002", "DPK003"})
"""Findings that mean bad input (exit 2): a file that cannot be read, parsed, or is not a
well-formed template."""
RULES_BY_NAME: dict[str, Rule] = {rule.name: rule for rule in _RULES}


def rule(rule_id: str) -> Rule:
    return RULES[rule_id]
