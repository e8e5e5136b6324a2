"""The hostile-input corpus: broken, odd and malicious template files, each a :class:`Case`.

Every case builds a small project under a fresh directory at test time (big and pathological
files are generated there, never committed) and says what deploypkg must answer:

- ``Expect.ERROR``: exit 2, the file is named (with its line where the case gives one);
- ``Expect.REPORTED``: a finding (of any severity) or an error names the file and its line;
- ``Expect.CLEAN``: exit 0 (the file is fine, or is not a template and is skipped quietly);
- ``Expect.NO_CRASH``: exit 0, 1 or 2, and a non-zero exit names the file.

Whatever the expectation: never a traceback, never "internal error", within the case's time
budget and the harness's memory limit. What to test is this table; the harness is generic.
"""

from __future__ import annotations

import codecs
import enum
import os
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

STATIC = Path(__file__).resolve().parent / "static"


class Expect(str, enum.Enum):
    ERROR = "error"
    REPORTED = "reported"
    CLEAN = "clean"
    NO_CRASH = "no-crash"


Build = Callable[[Path], None]
LineSpec = int | tuple[int, int] | None
"""The line the message must give: exactly, within a range (inclusive), or no line required."""


class Case(NamedTuple):
    id: str
    build: Build
    expect: Expect
    names: str | None
    """The file name (basename is enough) the output must mention; ``None``: nothing required."""
    line: LineSpec = None
    target: str = "templates"
    """What is passed to the CLI, relative to the project root."""
    budget: float = 15.0
    """Seconds the command may take (generous: CI machines are slow and shared)."""
    refs: bool = False
    """Also run ``refs`` (a representative subset, to keep the suite fast)."""
    options: tuple[str, ...] = ()
    """More command-line options, after the target."""


# ---------------------------------------------------------------------------- base templates
# One clean template per format; every one names an associated image, so ``validate`` is clean.

ALI_IMAGE = "m-bp1g7004ksh0oeuc1234"
AWS_IMAGE = "ami-0123456789abcdef0"

ROS_JSON = """{
  "ROSTemplateFormatVersion": "2015-09-01",
  "Description": "web tier — 网站层",
  "Parameters": {
    "InstanceType": {"Type": "String", "Default": "ecs.g7.large"}
  },
  "Resources": {
    "Web": {
      "Type": "ALIYUN::ECS::Instance",
      "Properties": {
        "ImageId": "m-bp1g7004ksh0oeuc1234",
        "InstanceType": {"Ref": "InstanceType"},
        "Tags": [{"Key": "tier", "Value": "web"}]
      }
    }
  }
}
"""

ROS_YAML = """ROSTemplateFormatVersion: '2015-09-01'
Description: "web tier — 网站层"
Parameters:
  InstanceType:
    Type: String
    Default: "ecs.g7.large"
Resources:
  Web:
    Type: ALIYUN::ECS::Instance
    Properties:
      ImageId: "m-bp1g7004ksh0oeuc1234"
      InstanceType: {Ref: InstanceType}
      Tags: [{Key: tier, Value: "web"}]
      UserData: !Sub "echo ${InstanceType}"
"""

CFN_JSON = """{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Description": "web tier — ウェブ",
  "Parameters": {
    "InstanceType": {"Type": "String", "Default": "t3.micro"}
  },
  "Resources": {
    "Web": {
      "Type": "AWS::EC2::Instance",
      "Properties": {
        "ImageId": "ami-0123456789abcdef0",
        "InstanceType": {"Ref": "InstanceType"},
        "Tags": [{"Key": "tier", "Value": "web"}]
      }
    }
  }
}
"""

CFN_YAML = """AWSTemplateFormatVersion: "2010-09-09"
Description: "web tier — ウェブ"
Parameters:
  InstanceType:
    Type: String
    Default: "t3.micro"
Resources:
  Web:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: "ami-0123456789abcdef0"
      InstanceType: !Ref InstanceType
      Tags: [{Key: tier, Value: "web"}]
"""

TF_HCL = """# web tier — 网站层
variable "instance_type" {
  type    = string
  default = "ecs.g7.large"
}

resource "alicloud_instance" "web" {
  image_id      = "m-bp1g7004ksh0oeuc1234"
  instance_type = var.instance_type
  tags = {
    tier = "web"
  }
}
"""

TF_JSON = """{
  "variable": {
    "instance_type": {"type": "string", "default": "ecs.g7.large", "description": "网站层"}
  },
  "resource": {
    "alicloud_instance": {
      "web": {
        "image_id": "m-bp1g7004ksh0oeuc1234",
        "instance_type": "${var.instance_type}",
        "tags": {"tier": "web"}
      }
    }
  }
}
"""


class Format(NamedTuple):
    key: str
    filename: str
    text: str
    provider: str
    image: str
    strict_prefix: bool
    """Every strict prefix is invalid (JSON); otherwise cut only where something is left open."""


FORMATS = (
    Format("ros-json", "web.json", ROS_JSON, "alicloud", ALI_IMAGE, True),
    Format("ros-yaml", "web.yaml", ROS_YAML, "alicloud", ALI_IMAGE, False),
    Format("cfn-json", "web.template", CFN_JSON, "aws", AWS_IMAGE, True),
    Format("cfn-yaml", "web.yml", CFN_YAML, "aws", AWS_IMAGE, False),
    Format("tf-hcl", "main.tf", TF_HCL, "alicloud", ALI_IMAGE, False),
    Format("tf-json", "main.tf.json", TF_JSON, "alicloud", ALI_IMAGE, True),
)
BY_KEY = {fmt.key: fmt for fmt in FORMATS}

CONFIG = {
    "alicloud": (
        "provider: alicloud\n"
        "catalog: file://./catalog\n"
        "regions: [cn-hangzhou, cn-beijing]\n"
        'account: "1234567890123456"\n'
        "associations:\n"
        f"  {ALI_IMAGE}: web-image\n"
    ),
    "aws": (
        "provider: aws\n"
        "catalog: file://./catalog\n"
        "regions: [us-east-1, us-west-2]\n"
        'account: "111122223333"\n'
        "associations:\n"
        f"  {AWS_IMAGE}: web-ami\n"
    ),
}


# ---------------------------------------------------------------------------- builders


def project(root: Path, provider: str = "alicloud") -> Path:
    """Write ``deploypkg.yaml`` and an empty ``templates/``; return the templates directory."""
    (root / "deploypkg.yaml").write_text(CONFIG[provider], encoding="utf-8")
    templates = root / "templates"
    templates.mkdir(exist_ok=True)
    return templates


def files(provider: str = "alicloud", **contents: bytes | str) -> Build:
    """A project with these files under ``templates/`` (``__`` in a keyword stands for ``/``)."""

    def build(root: Path) -> None:
        templates = project(root, provider)
        for name, data in contents.items():
            path = templates / name.replace("__", "/")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)

    return build


def one(filename: str, data: bytes | str, provider: str = "alicloud") -> Build:
    def build(root: Path) -> None:
        path = project(root, provider) / filename
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)

    return build


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th ``needle`` in ``text``."""
    offset = -1
    for _ in range(occurrence):
        offset = text.index(needle, offset + 1)
    return text.count("\n", 0, offset) + 1


def _evenly(items: list[int], count: int) -> list[int]:
    if len(items) <= count:
        return items
    step = (len(items) - 1) / (count - 1)
    return [items[round(i * step)] for i in range(count)]


def _open_points(text: str) -> list[int]:
    """Offsets just after something opened that a cut there leaves unclosed: a quote, a bracket,
    an ``=`` or ``:`` still waiting for its value inside a bracket."""
    points = []
    depth = 0
    in_string = False
    for index, char in enumerate(text):
        if char == '"' and (index == 0 or text[index - 1] != "\\"):
            in_string = not in_string
            if in_string:
                points.append(index + 1)
            continue
        if in_string:
            continue
        if char in "{[":
            depth += 1
            points.append(index + 1)
        elif char in "}]":
            depth -= 1
        elif char == "=" and depth > 0:
            points.append(index + 1)
    return points


# ---------------------------------------------------------------------------- the cases


def truncations() -> Iterator[Case]:
    """Every format cut at eight points; each cut leaves something open, so it must not parse."""
    for fmt in FORMATS:
        body = fmt.text.rstrip("\n")
        # JSON: every cut from the first key on ("{" alone is not recognisably a template).
        points = list(range(body.index('"', 3) + 1, len(body) - 1)) if fmt.strict_prefix else _open_points(body)
        for cut in _evenly(points, 8):
            text = body[:cut]
            yield Case(
                f"truncated-{fmt.key}-at-{cut}",
                one(fmt.filename, text, fmt.provider),
                Expect.ERROR,
                fmt.filename,
                (1, text.count("\n") + 2),
                refs=cut == points[len(points) // 2],
            )
        # Cut at a line boundary: may well be a valid shorter file; only robustness is required.
        lines = body.splitlines(keepends=True)
        for keep in (len(lines) // 3, 2 * len(lines) // 3):
            yield Case(
                f"truncated-{fmt.key}-after-line-{keep}",
                one(fmt.filename, "".join(lines[:keep]), fmt.provider),
                Expect.NO_CRASH if not fmt.strict_prefix else Expect.ERROR,
                fmt.filename,
                None,
            )
        # Cut inside a multi-byte character: not UTF-8 any more.
        data = fmt.text.encode("utf-8")
        multibyte = next(i for i, byte in enumerate(data) if byte >= 0xE0)
        yield Case(
            f"truncated-{fmt.key}-inside-utf8-character",
            one(fmt.filename, data[: multibyte + 2], fmt.provider),
            Expect.ERROR,
            fmt.filename,
            (1, data[:multibyte].count(b"\n") + 1),
            refs=fmt.key == "ros-json",
        )
    crlf = ROS_YAML.replace("\n", "\r\n")
    cut = crlf.index('"m-bp1') + 5
    yield Case(
        "truncated-ros-yaml-crlf-inside-string",
        one("web.yaml", crlf[:cut]),
        Expect.ERROR,
        "web.yaml",
        (line_of(ROS_YAML, '"m-bp1'), line_of(ROS_YAML, '"m-bp1') + 1),
    )


def wrong_shapes() -> Iterator[Case]:
    # Not a template at all: a JSON/YAML file of another kind is skipped quietly.
    for name, text in (
        ("list.json", "[1, 2, 3]\n"),
        ("string.json", '"just a string"\n'),
        ("number.json", "42\n"),
        ("null.json", "null\n"),
        ("list.yaml", "- a\n- b\n"),
        ("scalar.yaml", "just some text\n"),
        ("null.yaml", "~\n"),
        ("package.json", '{"name": "frontend", "version": "1.0.0"}\n'),
    ):
        yield Case(f"not-a-template-{name}", one(name, text), Expect.CLEAN, None, refs=name == "list.yaml")
    # Terraform JSON must be an object: the extension says it is Terraform.
    for label, text in (("list", "[]\n"), ("string", '"x"\n'), ("number", "7\n"), ("null", "null\n")):
        yield Case(f"tf-json-top-level-{label}", one("main.tf.json", text), Expect.ERROR, "main.tf.json", 1)
    # Templates (they say so) with a malformed structure.
    ros_resources_list = (
        '{\n  "ROSTemplateFormatVersion": "2015-09-01",\n  "Resources": [\n'
        '    {"Type": "ALIYUN::ECS::Instance", "Properties": {"ImageId": "m-bp1g7004ksh0oeuc1234"}}\n  ]\n}\n'
    )
    shapes = {
        "ros-json-resources-list": ("web.json", ros_resources_list, '"Resources"'),
        "ros-yaml-resources-list": (
            "web.yaml",
            "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  - Type: ALIYUN::ECS::Instance\n",
            "Resources",
        ),
        "cfn-json-resources-string": (
            "web.template",
            '{\n  "AWSTemplateFormatVersion": "2010-09-09",\n  "Resources": "web"\n}\n',
            '"Resources"',
        ),
        "cfn-yaml-resources-number": (
            "web.yml",
            'AWSTemplateFormatVersion: "2010-09-09"\nResources: 42\n',
            "Resources",
        ),
        "ros-yaml-resource-is-list": (
            "web.yaml",
            "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  Web: [1, 2]\n",
            "Web",
        ),
        "ros-json-resource-without-type": (
            "web.json",
            ROS_JSON.replace('"Type": "ALIYUN::ECS::Instance",', ""),
            '"Web"',
        ),
        "ros-yaml-resource-without-type": (
            "web.yaml",
            ROS_YAML.replace("    Type: ALIYUN::ECS::Instance\n", ""),
            "Web:",
        ),
        "cfn-yaml-resource-without-type": ("web.yml", CFN_YAML.replace("    Type: AWS::EC2::Instance\n", ""), "Web:"),
        "ros-yaml-type-is-list": (
            "web.yaml",
            ROS_YAML.replace("Type: ALIYUN::ECS::Instance", "Type: [ALIYUN::ECS::Instance]"),
            "Type: [",
        ),
        "ros-json-type-is-object": (
            "web.json",
            ROS_JSON.replace('"Type": "ALIYUN::ECS::Instance"', '"Type": {"Ref": "X"}'),
            '"Type": {',
        ),
        "cfn-json-type-is-number": (
            "web.template",
            CFN_JSON.replace('"Type": "AWS::EC2::Instance"', '"Type": 7'),
            '"Type": 7',
        ),
        "ros-yaml-properties-list": (
            "web.yaml",
            "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  Web:\n    Type: ALIYUN::ECS::Instance\n"
            "    Properties:\n      - ImageId: m-bp1g7004ksh0oeuc1234\n",
            "Properties",
        ),
        "cfn-json-properties-string": (
            "web.template",
            '{\n  "AWSTemplateFormatVersion": "2010-09-09",\n  "Resources": {\n    "Web": {\n'
            '      "Type": "AWS::EC2::Instance",\n      "Properties": "ImageId=ami-0123456789abcdef0"\n    }\n  }\n}\n',
            '"Properties"',
        ),
    }
    for case_id, (name, text, needle) in shapes.items():
        provider = "aws" if case_id.startswith("cfn") else "alicloud"
        line = line_of(text, needle)
        yield Case(case_id, one(name, text, provider), Expect.ERROR, name, (line, line + 1), refs=True)
    # Odd values where an image ID belongs: a finding or an error, at the right line.
    for label, value in (
        ("list", '["m-bp1g7004ksh0oeuc1234"]'),
        ("unknown-function", '{"Fn::Nonsense": 1}'),
        ("number", "1234"),
        ("boolean", "true"),
        ("lone-surrogate", '"m-\\ud800bp1g7004ksh0oeuc1234"'),
        ("control-characters", '"m-\\u001b[31mbp1g7004ksh0oeuc1234\\u0000"'),
    ):
        text = ROS_JSON.replace('"m-bp1g7004ksh0oeuc1234"', value)
        yield Case(
            f"ros-json-image-id-{label}",
            one("web.json", text),
            Expect.REPORTED,
            "web.json",
            line_of(text, '"ImageId"'),
            refs=label in ("lone-surrogate", "control-characters"),
        )
    for label, value in (("null", "null"), ("empty-string", '""')):
        yield Case(
            f"ros-json-image-id-{label}",
            one("web.json", ROS_JSON.replace(f'"{ALI_IMAGE}"', value)),
            Expect.NO_CRASH,
            "web.json",
        )
    for case_id, name, text in (
        ("ros-yaml-properties-null", "web.yaml", ROS_YAML.split("    Properties:")[0] + "    Properties:\n"),
        ("ros-yaml-resources-null", "web.yaml", "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n"),
        ("ros-yaml-version-only", "web.yaml", "ROSTemplateFormatVersion: '2015-09-01'\n"),
        (
            "cfn-json-launch-template-data-string",
            "lt.template",
            '{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"LT": {"Type": "AWS::EC2::LaunchTemplate",'
            ' "Properties": {"LaunchTemplateData": "ami-0123456789abcdef0"}}}}\n',
        ),
        ("ros-yaml-image-id-timestamp", "web.yaml", ROS_YAML.replace('"m-bp1g7004ksh0oeuc1234"', "2001-12-14")),
        (
            "tf-resource-one-label",
            "main.tf",
            'resource "alicloud_instance" {\n  image_id = "m-bp1g7004ksh0oeuc1234"\n}\n',
        ),
        (
            "tf-resource-three-labels",
            "main.tf",
            'resource "alicloud_instance" "web" "extra" {\n  image_id = "m-bp1g7004ksh0oeuc1234"\n}\n',
        ),
        (
            "tf-image-id-as-block",
            "main.tf",
            'resource "alicloud_instance" "web" {\n  image_id {\n    value = "m-bp1g7004ksh0oeuc1234"\n  }\n}\n',
        ),
        ("tf-resource-as-attribute", "main.tf", 'resource = "alicloud_instance"\n'),
        (
            "tf-json-resource-type-list",
            "main.tf.json",
            '{"resource": {"alicloud_instance": [{"web": {"image_id": "m-bp1g7004ksh0oeuc1234"}}]}}\n',
        ),
        (
            "tf-json-resource-body-list",
            "main.tf.json",
            '{"resource": {"alicloud_instance": {"web": [{"image_id": "m-bp1g7004ksh0oeuc1234"}]}}}\n',
        ),
        ("tf-json-resource-string", "main.tf.json", '{"resource": "alicloud_instance"}\n'),
        ("tf-json-image-id-object", "main.tf.json", '{"resource": {"alicloud_instance": {"web": {"image_id": {}}}}}\n'),
    ):
        yield Case(case_id, one(name, text), Expect.NO_CRASH, name, refs=case_id.startswith("tf"))


def duplicates() -> Iterator[Case]:
    dup_json = ROS_JSON.replace(
        '"ImageId": "m-bp1g7004ksh0oeuc1234",', '"ImageId": "m-bp1g7004ksh0oeuc1234",\n        "ImageId": "m-abc",'
    )
    dup_yaml = ROS_YAML.replace(
        '      ImageId: "m-bp1g7004ksh0oeuc1234"\n',
        '      ImageId: "m-bp1g7004ksh0oeuc1234"\n      ImageId: m-2zeb3kq6nfv9wd8x1234\n',
    )
    dup_resource_yaml = ROS_YAML + "  Web:\n    Type: ALIYUN::ECS::Instance\n"
    dup_top_json = CFN_JSON.rstrip().rstrip("}") + ',\n  "Resources": {}\n}\n'
    dup_tf_json = TF_JSON.replace(
        '"image_id": "m-bp1g7004ksh0oeuc1234",', '"image_id": "m-bp1g7004ksh0oeuc1234",\n        "image_id": "m-x",'
    )
    dup_hcl = TF_HCL.replace(
        '  image_id      = "m-bp1g7004ksh0oeuc1234"\n',
        '  image_id      = "m-bp1g7004ksh0oeuc1234"\n  image_id      = "m-2zeb3kq6nfv9wd8x1234"\n',
    )
    for case_id, name, text, needle, occurrence in (
        ("duplicate-key-ros-json-image-id", "web.json", dup_json, '"ImageId"', 2),
        ("duplicate-key-ros-yaml-image-id", "web.yaml", dup_yaml, "ImageId", 2),
        ("duplicate-key-ros-yaml-resource", "web.yaml", dup_resource_yaml, "  Web:", 2),
        ("duplicate-key-cfn-json-resources", "web.template", dup_top_json, '"Resources"', 2),
        ("duplicate-key-tf-json-image-id", "main.tf.json", dup_tf_json, '"image_id"', 2),
        ("duplicate-attribute-tf-hcl-image-id", "main.tf", dup_hcl, "image_id", 2),
    ):
        provider = "aws" if case_id.startswith("duplicate-key-cfn") else "alicloud"
        yield Case(case_id, one(name, text, provider), Expect.ERROR, name, line_of(text, needle, occurrence), refs=True)
    yield Case(
        "duplicate-resource-tf-hcl",
        one("main.tf", TF_HCL + '\nresource "alicloud_instance" "web" {\n  image_id = "m-bp1g7004ksh0oeuc1234"\n}\n'),
        Expect.NO_CRASH,
        "main.tf",
    )


def whitespace_and_encodings() -> Iterator[Case]:
    tab_indent = ROS_YAML.replace("      ImageId:", "\t  ImageId:")
    yield Case(
        "yaml-tab-indentation",
        one("web.yaml", tab_indent),
        Expect.ERROR,
        "web.yaml",
        line_of(tab_indent, "\t"),
        refs=True,
    )
    tab_value = ROS_YAML.replace('ImageId: "m-', 'ImageId:\t"m-')
    yield Case("yaml-tab-after-colon", one("web.yaml", tab_value), Expect.NO_CRASH, "web.yaml")
    yield Case("json-tabs", one("web.json", ROS_JSON.replace("  ", "\t")), Expect.CLEAN, None)
    yield Case("hcl-tabs", one("main.tf", TF_HCL.replace("  ", "\t")), Expect.CLEAN, None)
    for fmt in FORMATS:
        bom = codecs.BOM_UTF8 + fmt.text.encode("utf-8")
        yield Case(f"bom-{fmt.key}", one(fmt.filename, bom, fmt.provider), Expect.CLEAN, None, refs=True)
        crlf = fmt.text.replace("\n", "\r\n")
        yield Case(f"crlf-{fmt.key}", one(fmt.filename, crlf, fmt.provider), Expect.CLEAN, None, refs=True)
        latin1 = fmt.text.replace("web", "caf\xe9", 1).encode("latin-1", errors="replace")
        yield Case(
            f"latin1-{fmt.key}",
            one(fmt.filename, latin1, fmt.provider),
            Expect.ERROR,
            fmt.filename,
            line_of(fmt.text, "web"),
            refs=fmt.key == "tf-hcl",
        )
    yield Case("bom-twice-json", one("web.json", codecs.BOM_UTF8 * 2 + ROS_JSON.encode()), Expect.ERROR, "web.json", 1)
    yield Case("bom-twice-yaml", one("web.yaml", codecs.BOM_UTF8 * 2 + ROS_YAML.encode()), Expect.NO_CRASH, "web.yaml")
    yield Case("utf16-json", one("web.json", ROS_JSON.encode("utf-16")), Expect.ERROR, "web.json")
    yield Case("utf16-yaml", one("web.yaml", ROS_YAML.encode("utf-16")), Expect.ERROR, "web.yaml")
    yield Case("utf32-tf", one("main.tf", TF_HCL.encode("utf-32")), Expect.ERROR, "main.tf")
    surrogate = ROS_YAML.encode().replace(b"web tier", b"web \xed\xa0\x80tier")
    yield Case("utf8-encoded-surrogate-yaml", one("web.yaml", surrogate), Expect.ERROR, "web.yaml", 2)
    overlong = TF_JSON.encode().replace(b'"tier"', b'"ti\xc0\xafer"')
    yield Case(
        "utf8-overlong-tf-json", one("main.tf.json", overlong), Expect.ERROR, "main.tf.json", line_of(TF_JSON, '"tier"')
    )
    for fmt_key in ("ros-yaml", "ros-json", "tf-hcl"):
        fmt = BY_KEY[fmt_key]
        yield Case(
            f"cr-only-newlines-{fmt.key}",
            one(fmt.filename, fmt.text.replace("\n", "\r")),
            Expect.NO_CRASH,
            fmt.filename,
        )


def binary_and_empty() -> Iterator[Case]:
    noise = random.Random(5).randbytes(4096)
    for name in ("noise.json", "noise.yaml", "noise.tf", "noise.tf.json", "noise.template"):
        yield Case(f"binary-{name}", one(name, noise), Expect.ERROR, name, refs=name == "noise.tf")
    gzip_header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + noise[:200]
    yield Case("gzip-as-json", one("bundle.json", gzip_header), Expect.ERROR, "bundle.json")
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + noise[:300]
    yield Case("png-as-yaml", one("logo.yaml", png), Expect.ERROR, "logo.yaml")
    nul_json = ROS_JSON.replace("web tier", "web\x00tier")
    yield Case("nul-in-json-string", one("web.json", nul_json), Expect.ERROR, "web.json", 3)
    nul_yaml = ROS_YAML.replace("web tier", "web\x00tier")
    yield Case("nul-in-yaml", one("web.yaml", nul_yaml), Expect.ERROR, "web.yaml", 2)
    yield Case("nul-in-hcl", one("main.tf", TF_HCL.replace("tier", "ti\x00er")), Expect.NO_CRASH, "main.tf")
    # A .json file without a template's keys is not a template (package.json, ...): skipped quietly.
    yield Case("empty-json", one("web.json", b""), Expect.CLEAN, None)
    yield Case("empty-tf-json", one("main.tf.json", b""), Expect.ERROR, "main.tf.json")
    yield Case("whitespace-only-json", one("web.json", "  \n\n  \n"), Expect.CLEAN, None)
    yield Case("empty-yaml", one("web.yaml", b""), Expect.CLEAN, None, refs=True)
    yield Case("empty-tf", one("main.tf", b""), Expect.CLEAN, None, refs=True)
    yield Case("comments-only-tf", one("main.tf", "# nothing here\n// nor here\n"), Expect.CLEAN, None)


def _nest_json(depth: int) -> str:
    return ROS_JSON.replace('[{"Key": "tier", "Value": "web"}]', "[" * depth + "]" * depth)


def deep_nesting() -> Iterator[Case]:
    depth = 10_000
    hcl_object = "x = " + "{a = " * depth + "1" + "}" * depth + "\n"
    hcl_blocks = "".join("a {\n" for _ in range(depth)) + "}\n" * depth
    for case_id, name, text in (
        ("deep-json-arrays", "web.json", _nest_json(depth)),
        (
            "deep-json-objects",
            "web.json",
            '{"ROSTemplateFormatVersion": "2015-09-01", "Metadata": ' + '{"a": ' * depth + "1" + "}" * depth + "}\n",
        ),
        ("deep-tf-json-objects", "main.tf.json", '{"locals": ' + '{"a": ' * depth + "1" + "}" * depth + "}\n"),
        (
            "deep-yaml-flow-sequences",
            "web.yaml",
            "ROSTemplateFormatVersion: '2015-09-01'\nMetadata: " + "[" * depth + "]" * depth + "\n",
        ),
        (
            "deep-yaml-flow-mappings",
            "web.yaml",
            "ROSTemplateFormatVersion: '2015-09-01'\nMetadata: " + "{a: " * depth + "1" + "}" * depth + "\n",
        ),
        (
            "deep-yaml-compact-sequences",
            "web.yaml",
            "ROSTemplateFormatVersion: '2015-09-01'\nMetadata:\n  " + "- " * depth + "x\n",
        ),
    ):
        yield Case(case_id, one(name, text), Expect.ERROR, name, budget=30)
    # python-hcl2's parser is not recursive: deep HCL is parsed, within bounds.
    for case_id, name, text in (
        ("deep-hcl-lists", "main.tf", "locals {\n  x = " + "[" * depth + "]" * depth + "\n}\n"),
        ("deep-hcl-objects", "main.tf", hcl_object),
        ("deep-hcl-parentheses", "main.tf", "locals {\n  x = " + "(" * depth + "1" + ")" * depth + "\n}\n"),
        ("deep-hcl-blocks", "main.tf", hcl_blocks),
    ):
        yield Case(case_id, one(name, text), Expect.NO_CRASH, name, budget=30, refs=case_id.endswith("blocks"))


def yaml_specials() -> Iterator[Case]:
    laughs = [
        "ROSTemplateFormatVersion: '2015-09-01'",
        'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
    ]
    for level in range(1, 10):
        refs = ", ".join(f"*a{level - 1}" for _ in range(10))
        laughs.append(f"a{level}: &a{level} [{refs}]")
    laughs += [
        "Resources:",
        "  Web:",
        "    Type: ALIYUN::ECS::Instance",
        "    Properties:",
        "      ImageId: m-bp1g7004ksh0oeuc1234",
        "      Tags: *a9",
    ]
    bomb = "\n".join(laughs) + "\n"
    # Aliases share one node (never expanded), so the bomb stays as small as its text: checked, within bounds.
    yield Case("yaml-billion-laughs", one("web.yaml", bomb), Expect.NO_CRASH, "web.yaml", budget=30, refs=True)
    recursive = ROS_YAML.replace('Tags: [{Key: tier, Value: "web"}]', "Tags: &loop [*loop]")
    yield Case("yaml-recursive-alias", one("web.yaml", recursive), Expect.ERROR, "web.yaml", budget=30, refs=True)
    harmless = ROS_YAML.replace(
        'Tags: [{Key: tier, Value: "web"}]', "Tags: &tags [{Key: tier, Value: web}]\n      Labels: *tags"
    )
    yield Case("yaml-one-alias", one("web.yaml", harmless), Expect.NO_CRASH, "web.yaml")
    merge = ROS_YAML.replace("    Properties:\n", "    Properties:\n      <<: {InstanceName: merged}\n")
    yield Case("yaml-merge-key", one("web.yaml", merge), Expect.NO_CRASH, "web.yaml")
    marker = "deploypkg-pwned"
    evil = ROS_YAML + f'Metadata: !!python/object/apply:os.system ["touch {marker}"]\n'
    # Never constructed, so never run (the harness checks the marker file is absent).
    yield Case("yaml-python-object-tag", one("web.yaml", evil), Expect.NO_CRASH, "web.yaml")
    unknown_tag = ROS_YAML.replace("!Sub", "!Frobnicate")
    yield Case("yaml-unknown-tag", one("web.yaml", unknown_tag), Expect.NO_CRASH, "web.yaml")
    bad_getatt = ROS_YAML.replace('!Sub "echo ${InstanceType}"', "!GetAtt [OnlyOne]")
    yield Case("yaml-getatt-one-element", one("web.yaml", bad_getatt), Expect.NO_CRASH, "web.yaml")
    ref_map = CFN_YAML.replace("!Ref InstanceType", "!Ref {a: b}")
    yield Case("yaml-ref-with-mapping", one("web.yml", ref_map, "aws"), Expect.NO_CRASH, "web.yml")
    image_tag = ROS_YAML.replace('ImageId: "m-bp1g7004ksh0oeuc1234"', "ImageId: !Ref {Image: [1]}")
    yield Case(
        "yaml-image-id-odd-tag", one("web.yaml", image_tag), Expect.REPORTED, "web.yaml", line_of(image_tag, "ImageId")
    )
    two_docs = ROS_YAML + "---\n" + ROS_YAML
    yield Case("yaml-two-documents", one("web.yaml", two_docs), Expect.ERROR, "web.yaml", (15, 16), refs=True)
    complex_key = ROS_YAML.replace("    Properties:\n", "    Properties:\n      ? [a, b]\n      : c\n")
    yield Case("yaml-unhashable-key", one("web.yaml", complex_key), Expect.ERROR, "web.yaml", (11, 13))
    yield Case(
        "yaml-huge-integer", one("web.yaml", ROS_YAML + "Metadata: " + "7" * 5000 + "\n"), Expect.NO_CRASH, "web.yaml"
    )
    yield Case(
        "yaml-directive-only",
        one("web.yaml", "%YAML 1.1\n%TAG ! tag:example.com,2000:\n---\n"),
        Expect.NO_CRASH,
        "web.yaml",
    )
    yield Case("yaml-bad-directive", one("web.yaml", "%YAML 9.9\n---\na: 1\n"), Expect.NO_CRASH, "web.yaml")


def json_specials() -> Iterator[Case]:
    for case_id, text, needle in (
        ("json-comment", ROS_JSON.replace('"Parameters"', '// parameters\n  "Parameters"'), "//"),
        ("json-trailing-comma", ROS_JSON.replace('"web"}]', '"web"},]'), '"web"},]'),
        ("json-single-quotes", ROS_JSON.replace('"Description": "web tier — 网站层"', "'Description': 'web'"), "'Desc"),
        ("json-invalid-escape", ROS_JSON.replace("web tier", "web \\x tier"), "\\x"),
        ("json-raw-newline-in-string", ROS_JSON.replace("web tier", "web\ntier"), "web\ntier"),
    ):
        yield Case(
            case_id, one("web.json", text), Expect.ERROR, "web.json", (line_of(text, needle), line_of(text, needle) + 1)
        )
    end = ROS_JSON.count("\n") + 1
    yield Case("json-trailing-garbage", one("web.json", ROS_JSON + "}\n"), Expect.ERROR, "web.json", end)
    yield Case("json-two-objects", one("web.json", ROS_JSON + ROS_JSON), Expect.ERROR, "web.json", end)
    yield Case("json-huge-integer", one("web.json", _meta_json("7" * 5000)), Expect.NO_CRASH, "web.json", refs=True)
    yield Case("json-huge-exponent", one("web.json", _meta_json("1e999999")), Expect.NO_CRASH, "web.json")
    yield Case("json-nan", one("web.json", _meta_json("NaN")), Expect.NO_CRASH, "web.json")
    yield Case(
        "tf-json-huge-integer",
        one("main.tf.json", '{"locals": {"n": ' + "9" * 5000 + "}}\n"),
        Expect.NO_CRASH,
        "main.tf.json",
    )
    yield Case(
        "hcl-huge-integer", one("main.tf", "locals {\n  n = " + "9" * 5000 + "\n}\n"), Expect.NO_CRASH, "main.tf"
    )


def _meta_json(value: str) -> str:
    return ROS_JSON.replace('"Description": "web tier — 网站层"', f'"Metadata": {{"n": {value}}}')


def terraform_legacy() -> Iterator[Case]:
    """Terraform 0.11 (HCL1) syntax that HCL2 (and python-hcl2) rejects."""
    legacy = {
        "tf011-hex-number": 'resource "alicloud_instance" "web" {\n  image_id = "m-bp1g7004ksh0oeuc1234"\n'
        "  count = 0x1\n}\n",
        "tf011-quoted-attribute": 'resource "alicloud_instance" "web" {\n  "image_id" = "m-bp1g7004ksh0oeuc1234"\n}\n',
        "tf011-quoted-block-type": '"resource" "alicloud_instance" "web" {\n  image_id = "m-bp1g7004ksh0oeuc1234"\n}\n',
        "tf011-commas-between-attributes": 'resource "alicloud_instance" "web" {\n  image_id = "m-x", count = 1\n}\n',
        "tf011-unquoted-interpolation": 'resource "alicloud_instance" "web" {\n  image_id = ${var.image}\n}\n',
        "tf011-list-without-commas": 'variable "zones" {\n  default = ["a" "b"]\n}\n',
        "tf011-unterminated-comment": '/* legacy\nresource "alicloud_instance" "web" {\n  image_id = "m-x"\n}\n',
        "tf011-single-quotes": "variable 'region' {\n  default = 'cn-hangzhou'\n}\n",
    }
    for case_id, text in legacy.items():
        yield Case(
            case_id,
            one("main.tf", text),
            Expect.ERROR,
            "main.tf",
            (1, text.count("\n") + 1),
            refs=case_id.endswith("hex-number"),
        )
    heredoc = (
        'resource "alicloud_instance" "web" {\n  image_id = "m-bp1g7004ksh0oeuc1234"\n  user_data = <<EOF\necho hi\n}\n'
    )
    yield Case("tf-unterminated-heredoc", one("main.tf", heredoc), Expect.ERROR, "main.tf", (1, 6))


def _big_json(root: Path, size: int, name: str = "big.json") -> None:
    templates = project(root)
    chunk = '"' + "x" * 1000 + '", '
    with (templates / name).open("w", encoding="utf-8") as out:
        out.write(
            ROS_JSON.replace(
                '"Description": "web tier — 网站层"',
                '"Metadata": {"blob": [' + chunk * (size // len(chunk)) + '"end"]}',
            )
        )


def _big_yaml(root: Path, size: int) -> None:
    templates = project(root)
    line = "  - " + "y" * 1000 + "\n"
    with (templates / "big.yaml").open("w", encoding="utf-8") as out:
        out.write(ROS_YAML + "Metadata:\n")
        out.write(line * (size // len(line)))


def _big_hcl(root: Path, size: int) -> None:
    templates = project(root)
    block = (
        'resource "alicloud_instance" "w{n}" {{\n  image_id = "m-bp1g7004ksh0oeuc1234"\n  description = "'
        + "z" * 900
        + '"\n}}\n'
    )
    with (templates / "big.tf").open("w", encoding="utf-8") as out:
        for index in range(size // len(block)):
            out.write(block.format(n=index))


def _long_line(root: Path) -> None:
    templates = project(root)
    text = ROS_JSON.replace("web tier — 网站层", "w" * 2_000_000).replace("\n", "")
    (templates / "long.json").write_text(text, encoding="utf-8")
    (templates / "long.yaml").write_text(ROS_YAML.replace("web tier — 网站层", "v" * 2_000_000), encoding="utf-8")
    (templates / "long.tf").write_text(TF_HCL.replace("# web tier", "# " + "h" * 2_000_000), encoding="utf-8")


def _long_line_then_error(root: Path) -> None:
    templates = project(root)
    text = ROS_JSON.replace("web tier — 网站层", "w" * 1_000_000).replace('"Parameters": {', '"Parameters": {,')
    (templates / "long.json").write_text(text, encoding="utf-8")


def _many_files(root: Path) -> None:
    templates = project(root)
    for index in range(300):
        sub = templates / f"stack{index % 10}"
        sub.mkdir(exist_ok=True)
        (sub / f"t{index}.json").write_text(ROS_JSON, encoding="utf-8")


def sizes() -> Iterator[Case]:
    mb50 = 50 * 1024 * 1024
    # A valid 50 MB template is either checked or refused with a clear message, within bounds.
    yield Case("size-50mb-json", lambda root: _big_json(root, mb50), Expect.NO_CRASH, "big.json", budget=30)
    yield Case("size-50mb-yaml", lambda root: _big_yaml(root, mb50), Expect.NO_CRASH, "big.yaml", budget=30)
    # python-hcl2 would take a minute on 50 MiB: refused by size (DPK002) at once.
    yield Case("size-50mb-hcl", lambda root: _big_hcl(root, mb50), Expect.ERROR, "big.tf", budget=30)
    yield Case("long-lines-2mb", _long_line, Expect.CLEAN, None, budget=30, refs=True)
    yield Case("long-line-then-error", _long_line_then_error, Expect.ERROR, "long.json", 4, budget=30)
    yield Case("many-files-300", _many_files, Expect.CLEAN, None, budget=40)


def _symlink_loop(root: Path) -> None:
    templates = project(root)
    (templates / "good.json").write_text(ROS_JSON, encoding="utf-8")
    os.symlink("b.yaml", templates / "a.yaml")
    os.symlink("a.yaml", templates / "b.yaml")


def _self_link(root: Path) -> None:
    templates = project(root)
    os.symlink("self.json", templates / "self.json")


def _dir_loop(root: Path) -> None:
    templates = project(root)
    (templates / "sub").mkdir()
    (templates / "sub" / "web.json").write_text(ROS_JSON, encoding="utf-8")
    os.symlink("..", templates / "sub" / "up")
    os.symlink(str(templates), templates / "sub" / "again")


def _dangling(root: Path) -> None:
    templates = project(root)
    (templates / "good.json").write_text(ROS_JSON, encoding="utf-8")
    os.symlink("missing.json", templates / "gone.json")


def _device(target: str, name: str) -> Build:
    def build(root: Path) -> None:
        os.symlink(target, project(root) / name)

    return build


def _fifo(root: Path) -> None:
    templates = project(root)
    os.mkfifo(templates / "pipe.yaml")


def _dir_named_like_template(root: Path) -> None:
    templates = project(root)
    (templates / "web.yaml").mkdir()
    (templates / "web.yaml" / "inner.json").write_text(ROS_JSON, encoding="utf-8")


def _unreadable(root: Path) -> None:
    """A regular file whose read fails. ``chmod 000`` does not stop root, so as root the file
    is a link to ``/proc/self/mem``: a regular file that opens but fails to read (EIO)."""
    templates = project(root)
    path = templates / "secret.json"
    if os.geteuid() == 0:
        os.symlink("/proc/self/mem", path)
    else:
        path.write_text(ROS_JSON, encoding="utf-8")
        path.chmod(0)


def filesystem() -> Iterator[Case]:
    yield Case("symlink-loop-in-directory", _symlink_loop, Expect.ERROR, "a.yaml", refs=True)
    # Refused by the argument parser (exit 2, "does not exist"): bad usage, named.
    yield Case("symlink-loop-given-explicitly", _symlink_loop, Expect.NO_CRASH, "a.yaml", target="templates/a.yaml")
    yield Case("symlink-to-itself", _self_link, Expect.ERROR, "self.json")
    yield Case("directory-symlink-cycle", _dir_loop, Expect.CLEAN, None, budget=20, refs=True)
    yield Case("dangling-symlink", _dangling, Expect.ERROR, "gone.json")
    yield Case(
        "dev-zero-as-json", _device("/dev/zero", "zero.json"), Expect.ERROR, "zero.json", target="templates/zero.json"
    )
    yield Case("dev-urandom-as-yaml", _device("/dev/urandom", "random.yaml"), Expect.NO_CRASH, None, budget=20)
    yield Case("fifo-given-explicitly", _fifo, Expect.ERROR, "pipe.yaml", target="templates/pipe.yaml")
    yield Case("fifo-in-directory", _fifo, Expect.NO_CRASH, None)
    yield Case(
        "directory-named-like-template", _dir_named_like_template, Expect.CLEAN, None, target="templates/web.yaml"
    )
    yield Case("unreadable-file", _unreadable, Expect.ERROR, "secret.json", refs=True)
    yield Case(
        "missing-path-argument", files(), Expect.NO_CRASH, "nothing-here.yaml", target="templates/nothing-here.yaml"
    )
    yield Case(
        "odd-file-name-broken",
        one("my stack (prod) — 生产.json", ROS_JSON[:100]),
        Expect.ERROR,
        "my stack (prod) — 生产.json",
        (1, 5),
    )


def _with_config(config: bytes | str, where: str = "deploypkg.yaml") -> Build:
    """A good template under a hostile project config (``deploypkg.yaml`` or a Compute Nest one)."""

    def build(root: Path) -> None:
        templates = project(root)
        (templates / "web.json").write_text(ROS_JSON, encoding="utf-8")
        path = root / where
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(config.encode("utf-8") if isinstance(config, str) else config)

    return build


def _config_special(kind: str) -> Build:
    def build(root: Path) -> None:
        templates = project(root)
        (templates / "web.json").write_text(ROS_JSON, encoding="utf-8")
        config = root / "deploypkg.yaml"
        config.unlink()
        if kind == "loop":
            os.symlink("deploypkg.yaml", config)
        elif kind == "fifo":
            os.mkfifo(config)
        elif kind == "directory":
            config.mkdir()
        elif kind == "device":
            os.symlink("/dev/zero", config)
        elif kind == "computenest-fifo":
            (root / "deploypkg.yaml").write_text(CONFIG["alicloud"], encoding="utf-8")
            (root / ".computenest").mkdir()
            os.mkfifo(root / ".computenest" / "config.yaml")

    return build


def project_configs() -> Iterator[Case]:
    """The project's own config files are input too: a bad one is named with its line (DPK010)."""
    base = CONFIG["alicloud"]
    for case_id, text, line in (
        ("config-truncated", base + "  m-2zeb3kq6nfv9wd8x1234: [web", (7, 8)),
        ("config-not-a-mapping", "- provider\n- alicloud\n", 1),
        ("config-unknown-provider", base.replace("provider: alicloud", "provider: gcp"), 1),
        ("config-associations-list", base.split("associations:")[0] + "associations:\n  - web-image\n", (6, 7)),
        ("config-association-path-traversal", base + "  m-2zeb3kq6nfv9wd8x1234: ../../etc/passwd\n", 7),
        ("config-association-nul", base + '  m-2zeb3kq6nfv9wd8x1234: "web\\0image"\n', 7),
        ("config-region-traversal", base.replace("[cn-hangzhou, cn-beijing]", "[cn-hangzhou, ../../tmp]"), 3),
        ("config-unknown-rule", base + "rules:\n  DPK999: off\n", 8),
        ("config-bad-severity", base + "rules:\n  DPK103: loud\n", 8),
        ("config-unknown-key", base + "assocations: {}\n", 7),
        ("config-tab-indent", base.replace("  m-bp1g", "\tm-bp1g"), 6),
        ("config-deep-nesting", base + "resource_types: " + "[" * 10_000 + "]" * 10_000 + "\n", (7, 7)),
        ("config-alias-bomb", base + "x: &a [1, 1]\nresource_types: {t: [*a, *a, *a]}\n", (7, 8)),
        ("config-two-documents", base + "---\nprovider: aws\n", (7, 8)),
    ):
        yield Case(
            case_id, _with_config(text), Expect.ERROR, "deploypkg.yaml", line, refs=case_id == "config-truncated"
        )
    yield Case("config-control-character", _with_config(base + "\x01x: 1\n"), Expect.ERROR, "deploypkg.yaml", 7)
    yield Case(
        "computenest-config-control-character",
        _with_config("Service:\n  \x07Name: demo\n", ".computenest/config.yaml"),
        Expect.ERROR,
        "config.yaml",
        2,
    )
    yield Case("config-binary", _with_config(random.Random(7).randbytes(2048)), Expect.ERROR, "deploypkg.yaml")
    yield Case("config-latin1", _with_config(base.encode() + b"# caf\xe9\n"), Expect.ERROR, "deploypkg.yaml")
    yield Case("config-empty", _with_config(b""), Expect.NO_CRASH, None)
    nest = "Service:\n  DeployMetadata:\n    SupplierDeployMetadata:\n      ArtifactRelation:\n        m-x: ["
    yield Case(
        "computenest-config-truncated",
        _with_config(nest, ".computenest/config.yaml"),
        Expect.ERROR,
        "config.yaml",
        (5, 6),
        refs=True,
    )
    # A relation section that is a list is one finding (DPK207, exit 1), not a refusal of the project.
    yield Case(
        "computenest-config-relations-list",
        _with_config(nest.replace("m-x: [", "- m-x\n"), ".computenest/config.yaml"),
        Expect.REPORTED,
        "config.yaml",
        (4, 6),
    )
    for kind in ("loop", "fifo", "directory", "device", "computenest-fifo"):
        yield Case(f"config-{kind}", _config_special(kind), Expect.NO_CRASH, None, budget=15)
    # Named with --config, a pipe or a device must be refused, not read forever (the device is a
    # link to /dev/zero, which the message may name instead of the link).
    for kind, name in (("fifo", "deploypkg.yaml"), ("device", None)):
        yield Case(
            f"explicit-config-{kind}",
            _config_special(kind),
            Expect.ERROR,
            name,
            budget=15,
            options=("--config", "deploypkg.yaml"),
        )


def static_cases() -> Iterator[Case]:
    """Small hand-written files kept under ``tests/hostile/static`` (their expectations here)."""
    table = {
        "tf011_module.tf": (Expect.ERROR, 9),
        "ros_tabs.yaml": (Expect.ERROR, 8),
        "cfn_mixed_indent.yaml": (Expect.ERROR, (9, 10)),
        "ros_conflicting_versions.json": (Expect.ERROR, 3),
    }
    for name, (expect, line) in table.items():
        data = (STATIC / name).read_bytes()
        provider = "aws" if name.startswith("cfn") else "alicloud"
        yield Case(f"static-{name}", one(name, data, provider), expect, name, line)


def jinja_cases() -> Iterator[Case]:
    """``.j2`` files, which only ``render`` reads (rendered in jinja2's sandbox, per region)."""
    head = "ROSTemplateFormatVersion: '2015-09-01'\nDescription: "
    body = (
        "Resources:\n  Web:\n    Type: ALIYUN::ECS::Instance\n    Properties:\n"
        "      ImageId: \"{{ image('m-bp1g7004ksh0oeuc1234') }}\"\n"
    )
    for case_id, description, expect, line in (
        ("j2-clean", '"web in {{ region }}"', Expect.CLEAN, None),
        ("j2-syntax-error", '"{% for %}"', Expect.ERROR, 2),
        ("j2-undefined-name", '"{{ no_such_name }}"', Expect.ERROR, 2),
        ("j2-sandbox-escape", "\"{{ ''.__class__.__mro__[1].__subclasses__() }}\"", Expect.ERROR, 2),
        ("j2-huge-string", "\"{{ 'x' * 10 ** 10 }}\"", Expect.ERROR, 2),
        ("j2-huge-power", '"{{ (9 ** 99999999) % 7 }}"', Expect.ERROR, 2),
        (
            "j2-nested-empty-loops",
            '"{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"',
            Expect.ERROR,
            2,
        ),
        ("j2-huge-output", "\"{% for i in range(100000) %}{{ 'y' * 2000 }}{% endfor %}\"", Expect.ERROR, None),
        ("j2-recursive-macro", '"{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}"', Expect.ERROR, (1, 2)),
        ("j2-filter-width", "\"{{ 'a'|center(10000000000) }}\"", Expect.ERROR, 2),
        ("j2-format-width", "\"{{ '%10000000000s'|format('a') }}\"", Expect.ERROR, 2),
        (
            "j2-doubling-concatenation",
            '"{% macro d(s, n) %}{% if n %}{{ d(s ~ s, n - 1) }}{% else %}{{ s|length }}{% endif %}{% endmacro %}'
            "{{ d('x' * 1000, 40) }}\"",
            Expect.ERROR,
            (1, 2),
        ),
        (
            "j2-nested-string-loops",
            "\"{% for a in 'x' * 100000 %}{% for b in 'x' * 100000 %}{% endfor %}{% endfor %}\"",
            Expect.ERROR,
            2,
        ),
    ):
        yield Case(case_id, one("web.yaml.j2", head + description + "\n" + body), expect, "web.yaml.j2", line)


def all_cases() -> list[Case]:
    cases = [
        *truncations(),
        *wrong_shapes(),
        *duplicates(),
        *whitespace_and_encodings(),
        *binary_and_empty(),
        *deep_nesting(),
        *yaml_specials(),
        *json_specials(),
        *terraform_legacy(),
        *sizes(),
        *filesystem(),
        *project_configs(),
        *static_cases(),
    ]
    ids = [case.id for case in (*cases, *jinja_cases())]
    duplicated = {case_id for case_id in ids if ids.count(case_id) > 1}
    assert not duplicated, f"duplicate case ids: {duplicated}"
    return cases
