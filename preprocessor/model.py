"""The one template model every loader produces and every later stage consumes.

Positions: ``start``/``end`` are offsets into ``Template.text`` (a ``str`` decoded with
``utf-8-sig`` and ``newline=""``, so CRLF is kept and the BOM is not part of the text);
``line``/``column`` are 1-based, counted in characters, as editors show them; the end
position is exclusive (the column just after the last character).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple


class Span(NamedTuple):
    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int


class LineIndex:
    """Maps character offsets of a text to 1-based (line, column) pairs.

    Most files validate without a finding and ask for a handful of positions, so the first
    lookups count newlines in the text; a table of line starts is built once more are asked."""

    __slots__ = ("_lookups", "_starts", "_text")

    _COUNTED_LOOKUPS = 16

    def __init__(self, text: str) -> None:
        self._text: str | None = text
        self._starts: list[int] = []
        self._lookups = 0

    @property
    def starts(self) -> list[int]:
        if self._text is not None:
            from itertools import accumulate

            lengths = [len(line) + 1 for line in self._text.split("\n")]
            self._starts = [0, *accumulate(lengths[:-1])]
            self._text = None
        return self._starts

    def position(self, offset: int) -> tuple[int, int]:
        text = self._text
        if text is not None and self._lookups < self._COUNTED_LOOKUPS:
            self._lookups += 1
            return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)
        from bisect import bisect_right

        starts = self.starts
        index = bisect_right(starts, offset) - 1
        return index + 1, offset - starts[index] + 1

    def offset(self, line: int, column: int) -> int:
        """Inverse of :meth:`position` (1-based line and column)."""
        return self.starts[line - 1] + column - 1

    def span(self, start: int, end: int) -> Span:
        line, column = self.position(start)
        end_line, end_column = self.position(end)
        return Span(start, end, line, column, end_line, end_column)


class TemplateFormat(str, enum.Enum):
    ROS_JSON = "ros-json"
    ROS_YAML = "ros-yaml"
    CFN_JSON = "cfn-json"
    CFN_YAML = "cfn-yaml"
    TERRAFORM_HCL = "terraform-hcl"
    TERRAFORM_JSON = "terraform-json"

    @property
    def is_terraform(self) -> bool:
        return self in (TemplateFormat.TERRAFORM_HCL, TemplateFormat.TERRAFORM_JSON)


class RefKind(str, enum.Enum):
    LITERAL = "literal"
    """A plain string with no interpolation: the only kind that can be mapped per region."""
    REFERENCE = "reference"
    """Ref / parameter / var. / local. / data. / module output."""
    FUNCTION = "function"
    """Fn::FindInMap, Fn::If, lookup(), a conditional expression, ..."""
    INTERPOLATION = "interpolation"
    """A string built from parts: "m-${var.x}", Fn::Sub, Fn::Join."""


class PropertyRole(str, enum.Enum):
    IMAGE_ID = "image_id"
    """A machine image (ECS image, AMI)."""
    IMAGE_FAMILY = "image_family"
    CONTAINER_IMAGE = "container_image"
    """A container image reference (``HOST/REPO:TAG``), pulled from a registry."""

    @property
    def is_machine_image(self) -> bool:
        return self is not PropertyRole.CONTAINER_IMAGE


class ImageRef(NamedTuple):
    """One image-bearing property value on a supported resource.

    ``span`` is the text a substitution replaces: for a literal the characters between
    the quotes (the whole token for a plain YAML scalar), otherwise the whole expression.
    """

    file: str
    span: Span
    resource: str
    """Logical ID (ROS/CloudFormation) or ``type.name`` (Terraform)."""
    resource_type: str
    property: str
    """Dotted property path, e.g. ``LaunchTemplateData.ImageId`` or ``manager.image_id``."""
    kind: RefKind
    value: str
    """The literal's value, or the expression's source text."""
    role: PropertyRole = PropertyRole.IMAGE_ID
    provider: str | None = None
    resolved_at_deploy: bool = False
    """A reference the cloud resolves when it deploys (``!Ref`` to a CloudFormation parameter of
    type ``AWS::SSM::Parameter::Value<…>``): a dynamic reference, like ``{{resolve:ssm:…}}``."""
    built_by: str | None = None
    """The resource of the same template that builds the image this refers to (``MyImage
    (ALIYUN::ECS::CustomImage)``, ``alicloud_image.x``): made where the stack runs, nothing to map."""


PLACEHOLDER_TYPES = ("file", "publicfile", "acrimage", "helmchart")
"""Placeholders that name a package."""
CREDENTIAL_PLACEHOLDERS = frozenset({("acr", "dockerconfigjson"), ("helm", "dockerconfigjson")})
"""Compute Nest's pull-credential placeholders (type, name): they name no package; Compute Nest
fills in a docker config JSON for the service's registry at deploy time."""


class Placeholder(NamedTuple):
    """A Compute Nest artifact placeholder such as ``{{ computenest::file::app }}``.

    ``span`` covers the whole ``{{ ... }}`` text.
    """

    file: str
    span: Span
    placeholder_type: str
    name: str
    resource: str | None
    resource_type: str | None
    property: str | None

    def is_credential(self) -> bool:
        return (self.placeholder_type, self.name) in CREDENTIAL_PLACEHOLDERS


class Defect(NamedTuple):
    """A broken part of a template that does not hide the rest of it: a duplicate key (DPK001),
    a resource without a string Type (DPK003) … Reported with its rule at its position; the
    other resources are still inventoried and checked."""

    rule: str
    message: str
    hint: str | None
    line: int
    column: int
    offset: int
    resource: str | None = None
    """The logical ID of the resource it is in, if any."""
    key: str | None = None
    """A duplicate key: the key."""
    parent: int | None = None
    """A duplicate key: the offset where the mapping that repeats it starts."""
    unreadable: bool = False
    """A resource deploypkg could not read (no string Type, a repeated logical ID): what it holds
    is unknown, so render cannot tell whether a value in it should be replaced."""


@dataclass
class Template:
    path: Path
    """Where the file is on disk."""
    display: str
    """The path as shown to the user (relative to the working directory when possible)."""
    format: TemplateFormat
    text: str
    bom: bool = False
    provider: str | None = None
    """``alicloud`` / ``aws`` when the template says which (ROS vs CloudFormation)."""
    image_refs: list[ImageRef] = field(default_factory=list)
    placeholders: list[Placeholder] = field(default_factory=list)
    metadata_suppressions: frozenset[str] = frozenset()
    """Rule IDs suppressed for the whole file through the template ``Metadata`` key."""
    defects: list[Defect] = field(default_factory=list)

    def encoded(self, text: str | None = None) -> bytes:
        """The bytes of ``text`` (default: the template's own) as this file stores them."""
        body = (self.text if text is None else text).encode("utf-8")
        return (b"\xef\xbb\xbf" + body) if self.bom else body
