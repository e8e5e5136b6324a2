"""ROS and CloudFormation templates in JSON and YAML: recognition, image references with exact
spans and kinds, placeholders, Metadata suppressions and malformed shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from preprocessor.errors import TemplateParseError
from preprocessor.model import PropertyRole, RefKind, Template, TemplateFormat
from preprocessor.templates import load_text
from providers import resource_table

TABLE = resource_table()


def load(text: str, name: str = "t.yaml") -> Template:
    template = load_text(text, Path(name), TABLE, name)
    assert template is not None
    return template


def assert_spans_exact(template: Template) -> None:
    for ref in template.image_refs:
        assert template.text[ref.span.start : ref.span.end] == ref.value
    for placeholder in template.placeholders:
        text = template.text[placeholder.span.start : placeholder.span.end]
        assert text.startswith("{{") and text.endswith("}}") and placeholder.name in text


ROS_YAML = """\
ROSTemplateFormatVersion: '2015-09-01'
Resources:
  Literal:
    Type: ALIYUN::ECS::Instance
    Properties:
      ImageId: m-bp1g7004ksh0oeuc1234
  Quoted:
    Type: ALIYUN::ECS::Instance
    Properties: {ImageId: "m-bp1dbcw2zx04ke8o5678"}
  Ref:
    Type: ALIYUN::ECS::InstanceGroup
    Properties:
      ImageId: !Ref ImageParam
      ImageFamily: acs:ubuntu_22_04_x64
  Map:
    Type: ALIYUN::ECS::InstanceGroupClone
    Properties:
      ImageId: !FindInMap [Images, !Ref 'ALIYUN::Region', Id]
  Sub:
    Type: ALIYUN::ESS::ScalingConfiguration
    Properties:
      ImageId:
        Fn::Sub: m-${Suffix}
  GetAtt:
    Type: ALIYUN::EHPC::Cluster
    Properties:
      ImageId: !GetAtt Builder.ImageId
  Join:
    Type: ALIYUN::ECS::LaunchTemplate
    Properties:
      ImageId: !Join ['', [m-, !Ref Suffix]]
  Other:
    Type: ALIYUN::ECS::VPC
    Properties:
      ImageId: not-an-image-bearing-type
"""


def test_ros_yaml_kinds_spans_and_values() -> None:
    template = load(ROS_YAML)
    assert template.format is TemplateFormat.ROS_YAML and template.provider == "alicloud"
    got = [(r.resource, r.property, r.kind, r.value, r.span.line, r.span.column, r.role) for r in template.image_refs]
    assert got == [
        ("Literal", "ImageId", RefKind.LITERAL, "m-bp1g7004ksh0oeuc1234", 6, 16, PropertyRole.IMAGE_ID),
        ("Quoted", "ImageId", RefKind.LITERAL, "m-bp1dbcw2zx04ke8o5678", 9, 28, PropertyRole.IMAGE_ID),
        ("Ref", "ImageId", RefKind.REFERENCE, "!Ref ImageParam", 13, 16, PropertyRole.IMAGE_ID),
        ("Ref", "ImageFamily", RefKind.LITERAL, "acs:ubuntu_22_04_x64", 14, 20, PropertyRole.IMAGE_FAMILY),
        (
            "Map",
            "ImageId",
            RefKind.FUNCTION,
            "!FindInMap [Images, !Ref 'ALIYUN::Region', Id]",
            18,
            16,
            PropertyRole.IMAGE_ID,
        ),
        ("Sub", "ImageId", RefKind.INTERPOLATION, "Fn::Sub: m-${Suffix}", 23, 9, PropertyRole.IMAGE_ID),
        ("GetAtt", "ImageId", RefKind.REFERENCE, "!GetAtt Builder.ImageId", 27, 16, PropertyRole.IMAGE_ID),
        ("Join", "ImageId", RefKind.INTERPOLATION, "!Join ['', [m-, !Ref Suffix]]", 31, 16, PropertyRole.IMAGE_ID),
    ]
    first = template.image_refs[0]
    assert first.resource_type == "ALIYUN::ECS::Instance" and first.provider == "alicloud"
    assert (first.span.end_line, first.span.end_column) == (6, 38)
    assert template.text[first.span.start : first.span.end] == "m-bp1g7004ksh0oeuc1234"
    assert_spans_exact(template)


CFN_JSON = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Resources": {
        "Literal": {"Type": "AWS::EC2::Instance", "Properties": {"ImageId": "ami-0123456789abcdef0"}},
        "Ref": {"Type": "AWS::EC2::Instance", "Properties": {"ImageId": {"Ref": "Ami"}}},
        "Import": {"Type": "AWS::EC2::Instance", "Properties": {"ImageId": {"Fn::ImportValue": "ami-export"}}},
        "If": {"Type": "AWS::EC2::Instance", "Properties": {"ImageId": {"Fn::If": ["C", "ami-1", "ami-2"]}}},
        "Select": {"Type": "AWS::EC2::Instance", "Properties": {"ImageId": {"Fn::Select": [0, ["ami-1"]]}}},
        "Sub": {"Type": "AWS::EC2::Instance", "Properties": {"ImageId": {"Fn::Sub": "ami-${X}"}}},
        "Resolve": {
            "Type": "AWS::EC2::Instance",
            "Properties": {
                "ImageId": "{{resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-x86_64}}"
            },
        },
        "Template": {
            "Type": "AWS::EC2::LaunchTemplate",
            "Properties": {"LaunchTemplateData": {"ImageId": "ami-0fedcba9876543210", "InstanceType": "t3.micro"}},
        },
        "TemplateIf": {
            "Type": "AWS::EC2::LaunchTemplate",
            "Properties": {"LaunchTemplateData": {"Fn::If": ["C", {"ImageId": "ami-1"}, {"ImageId": "ami-2"}]}},
        },
        "Number": {"Type": "AWS::AutoScaling::LaunchConfiguration", "Properties": {"ImageId": 12345}},
    },
}


def test_cfn_json_kinds_and_spans() -> None:
    text = json.dumps(CFN_JSON, indent=2)
    template = load(text, "stack.json")
    assert template.format is TemplateFormat.CFN_JSON and template.provider == "aws"
    got = {(r.resource, r.property): (r.kind, r.value) for r in template.image_refs}
    assert got == {
        ("Literal", "ImageId"): (RefKind.LITERAL, "ami-0123456789abcdef0"),
        ("Ref", "ImageId"): (RefKind.REFERENCE, '{\n          "Ref": "Ami"\n        }'),
        ("Import", "ImageId"): (RefKind.REFERENCE, '{\n          "Fn::ImportValue": "ami-export"\n        }'),
        ("If", "ImageId"): (RefKind.FUNCTION, got[("If", "ImageId")][1]),
        ("Select", "ImageId"): (RefKind.FUNCTION, got[("Select", "ImageId")][1]),
        ("Sub", "ImageId"): (RefKind.INTERPOLATION, got[("Sub", "ImageId")][1]),
        ("Resolve", "ImageId"): (
            RefKind.LITERAL,
            "{{resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-x86_64}}",
        ),
        ("Template", "LaunchTemplateData.ImageId"): (RefKind.LITERAL, "ami-0fedcba9876543210"),
        ("TemplateIf", "LaunchTemplateData.ImageId"): (
            RefKind.FUNCTION,
            got[("TemplateIf", "LaunchTemplateData.ImageId")][1],
        ),
        ("Number", "ImageId"): (RefKind.LITERAL, "12345"),
    }
    assert json.loads(got[("If", "ImageId")][1]) == {"Fn::If": ["C", "ami-1", "ami-2"]}
    assert json.loads(got[("TemplateIf", "LaunchTemplateData.ImageId")][1])["Fn::If"][0] == "C"
    assert template.placeholders == []  # {{resolve:...}} is not a placeholder
    assert_spans_exact(template)
    literal = next(r for r in template.image_refs if r.resource == "Literal")
    line = text.splitlines()[literal.span.line - 1]
    assert line[literal.span.column - 1 : literal.span.end_column - 1] == "ami-0123456789abcdef0"


def test_image_list_of_maps_is_walked_element_by_element() -> None:
    table = resource_table({"ALIYUN::Custom::Fleet": ["Nodes.ImageId"]})
    text = (
        "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  F:\n    Type: ALIYUN::Custom::Fleet\n"
        "    Properties:\n      Nodes:\n        - ImageId: m-bp1g7004ksh0oeuc1234\n        - ImageId: !Ref X\n"
    )
    template = load_text(text, Path("t.yaml"), table)
    assert template is not None
    assert [(r.property, r.kind, r.span.line) for r in template.image_refs] == [
        ("Nodes.ImageId", RefKind.LITERAL, 7),
        ("Nodes.ImageId", RefKind.REFERENCE, 8),
    ]


@pytest.mark.parametrize(
    ("text", "provider"),
    [
        ("ROSTemplateFormatVersion: '2015-09-01'\n", "alicloud"),
        ("AWSTemplateFormatVersion: '2010-09-09'\nResources: {}\n", "aws"),
        ("Resources:\n  A:\n    Type: ALIYUN::ECS::Instance\n", "alicloud"),
        ("Resources:\n  A:\n    Type: AWS::S3::Bucket\n", "aws"),
    ],
)
def test_recognised_templates(text: str, provider: str) -> None:
    assert load(text).provider == provider


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("compose.yaml", "services:\n  web:\n    image: nginx\n"),
        ("package.json", '{"name": "x", "version": "1.0.0"}'),
        ("list.json", "[1, 2, 3]"),
        ("scalar.yaml", "just a string\n"),
        ("empty.yaml", ""),
        ("empty.json", ""),
        ("k8s.yaml", "apiVersion: v1\nkind: ConfigMap\n---\napiVersion: v1\nkind: Secret\n"),
        ("untyped.yaml", "Resources:\n  A:\n    Type: Custom::Thing\n"),
        ("resources-list.yaml", "Resources:\n  - a\n"),
        ("tsconfig.json", '{\n  "compilerOptions": {}\n  // comments are common here\n}'),
        ("chart.yaml", "kind: Deployment\nspec:\n  replicas: {{ .Values.replicas }}\n"),
        ("data.template", "hello {{ name }}\n"),
    ],
)
def test_other_files_are_skipped_quietly(name: str, text: str) -> None:
    assert load_text(text, Path(name), TABLE) is None


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ("ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  - A\n", 3, 3, "Resources must be a mapping"),
        (
            "ROSTemplateFormatVersion: '2015-09-01'\nMetadata:\n  deploypkg:\n    ignore: {a: 1}\n",
            4,
            13,
            "Metadata.deploypkg.ignore",
        ),
    ],
)
def test_malformed_templates_are_dpk003(text: str, line: int, column: int, words: str) -> None:
    with pytest.raises(TemplateParseError) as caught:
        load_text(text, Path("bad.yaml"), TABLE, "bad.yaml")
    error = caught.value
    assert error.rule == "DPK003" and error.file == "bad.yaml"
    assert (error.line, error.column) == (line, column)
    assert words in error.message


GOOD_RESOURCE = "  Good:\n    Type: ALIYUN::ECS::Instance\n    Properties:\n      ImageId: m-bp1g7004ksh0oeuc1234\n"


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ("ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  A:\n    Properties: {}\n", 4, 5, "'A' has no Type"),
        ("ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  A: 5\n", 3, 6, "'A' must be a mapping"),
        ("ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  A:\n    Type: [x]\n", 4, 11, "must be a string"),
        (
            "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  A:\n    Type: !Rain::Module ./m.yaml\n",
            4,
            11,
            "must be a string",
        ),
        (
            "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  A:\n    Type: ALIYUN::ECS::Instance\n"
            "    Properties: [1]\n",
            5,
            17,
            "Properties of resource 'A' must be a mapping",
        ),
    ],
)
def test_a_malformed_resource_is_a_dpk003_defect_and_the_others_are_still_read(
    text: str, line: int, column: int, words: str
) -> None:
    template = load_text(text + GOOD_RESOURCE, Path("bad.yaml"), TABLE, "bad.yaml")
    assert template is not None
    (defect,) = template.defects
    assert defect.rule == "DPK003" and (defect.line, defect.column) == (line, column)
    assert words in defect.message and defect.resource == "A"
    assert [(r.resource, r.value) for r in template.image_refs] == [("Good", "m-bp1g7004ksh0oeuc1234")]


def test_broken_template_is_reported_but_broken_other_file_is_not() -> None:
    with pytest.raises(TemplateParseError) as caught:
        load_text('{"ROSTemplateFormatVersion": "2015-09-01",\n "Resources": {\n}', Path("t.json"), TABLE, "t.json")
    assert caught.value.rule == "DPK001" and (caught.value.line, caught.value.column) == (3, 2)
    assert load_text('{"name": "x",\n', Path("other.json"), TABLE) is None


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("cut.json", '{\n  "'),
        ("cut.json", '{\n  "ROSTemplate'),
        ("cut.json", "{"),
        ("cut.yaml", "Description: [a,\n"),
        ("cut.yaml", "# header\nParameters:\n  X: {Type: String\n"),
        ("comment-first.json", '{\n  // a comment before any key\n  "a": 1\n}'),
    ],
)
def test_broken_files_with_nothing_saying_what_else_they_are_are_reported(name: str, text: str) -> None:
    with pytest.raises(TemplateParseError):
        load_text(text, Path(name), TABLE, name)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("tsconfig.json", '{\n  "compilerOptions": {\n    // comment\n    "strict": true\n  }\n}'),
        ("deployment.yaml", "apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: {{ .Values.replicas }}\n"),
        ("helper.yaml", '{{- define "chart.name" -}}\n{{ .Chart.Name }}\n{{- end }}\n'),
        ("values.yaml", "# values\nimage:\n  tag: [broken\n"),
        ("quoted.yaml", '"name": [x\n'),
    ],
)
def test_broken_files_that_are_something_else_are_skipped(name: str, text: str) -> None:
    assert load_text(text, Path(name), TABLE, name) is None


def test_multi_document_template_is_an_error_at_the_second_document() -> None:
    with pytest.raises(TemplateParseError, match="single YAML document") as caught:
        load("ROSTemplateFormatVersion: '2015-09-01'\n# two\n---\nfoo: 1\n")
    assert (caught.value.line, caught.value.column, caught.value.rule) == (3, 1, "DPK003")


def test_metadata_suppressions() -> None:
    yaml_text = "ROSTemplateFormatVersion: '2015-09-01'\nMetadata:\n  deploypkg:\n    ignore: [DPK103, DPK105]\n"
    assert load(yaml_text).metadata_suppressions == frozenset({"DPK103", "DPK105"})
    json_text = '{"AWSTemplateFormatVersion": "2010-09-09", "Metadata": {"deploypkg": {"ignore": "DPK106, DPK103"}}}'
    assert load(json_text, "t.json").metadata_suppressions == frozenset({"DPK106", "DPK103"})
    assert load("ROSTemplateFormatVersion: '2015-09-01'\n").metadata_suppressions == frozenset()


PLACEHOLDERS = """\
ROSTemplateFormatVersion: '2015-09-01'
Description: "{{ computenest::file::outside }}"
Resources:
  Web:
    Type: ALIYUN::ECS::Instance
    Metadata:
      Note: '{{computenest::publicfile::in-metadata}}'
    Properties:
      ImageId: m-bp1g7004ksh0oeuc1234
      UserData: !Sub
        - |
          curl {{ computenest::file::app-bundle }} {{resolve:oos:x}} ${Extra}
          run {{  computenest::publicfile::install-script  }}
        - Extra: "{{ computenest::bogus::thing }}"
      Containers:
        - Image: {{ computenest::acrimage::web-frontend }}
      Chart: '{{ computenest::helmchart:: }}'
"""


def test_placeholders_with_context_and_exact_spans() -> None:
    text = PLACEHOLDERS.replace(
        "- Image: {{ computenest::acrimage::web-frontend }}", "- Image: '{{ computenest::acrimage::web-frontend }}'"
    )
    template = load(text)
    got = [
        (p.placeholder_type, p.name, p.resource, p.resource_type, p.property, p.span.line, p.span.column)
        for p in template.placeholders
    ]
    assert got == [
        ("file", "outside", None, None, None, 2, 15),
        ("publicfile", "in-metadata", "Web", "ALIYUN::ECS::Instance", None, 7, 14),
        ("file", "app-bundle", "Web", "ALIYUN::ECS::Instance", "UserData", 12, 16),
        ("publicfile", "install-script", "Web", "ALIYUN::ECS::Instance", "UserData", 13, 15),
        ("bogus", "thing", "Web", "ALIYUN::ECS::Instance", "UserData.Extra", 14, 19),
        ("acrimage", "web-frontend", "Web", "ALIYUN::ECS::Instance", "Containers.Image", 16, 19),
        ("helmchart", "", "Web", "ALIYUN::ECS::Instance", "Chart", 17, 15),
    ]
    for placeholder in template.placeholders:
        span_text = template.text[placeholder.span.start : placeholder.span.end]
        assert span_text.startswith("{{") and span_text.endswith("}}")
        assert placeholder.span.end_line == placeholder.span.line
    install = template.placeholders[3]
    assert template.text[install.span.start : install.span.end] == "{{  computenest::publicfile::install-script  }}"


def test_placeholders_in_json_fn_join_parts() -> None:
    text = json.dumps(
        {
            "ROSTemplateFormatVersion": "2015-09-01",
            "Resources": {
                "W": {
                    "Type": "ALIYUN::ECS::Instance",
                    "Properties": {"UserData": {"Fn::Join": ["", ["a {{ computenest::file::app-bundle }}\n", "b"]]}},
                }
            },
        },
        indent=1,
    )
    template = load(text, "t.json")
    [placeholder] = template.placeholders
    assert placeholder.property == "UserData" and placeholder.resource == "W"
    assert template.text[placeholder.span.start : placeholder.span.end] == "{{ computenest::file::app-bundle }}"


def test_alias_bomb_in_a_template_loads_quickly() -> None:
    lines = ["ROSTemplateFormatVersion: '2015-09-01'", "Metadata:"]
    lines.append('  l0: &l0 ["{{ computenest::file::a }}", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]')
    for level in range(1, 14):
        lines.append(f"  l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]")
    lines += [
        "Resources:",
        "  W:",
        "    Type: ALIYUN::ECS::Instance",
        "    Properties:",
        "      ImageId: m-bp1g7004ksh0oeuc1234",
        "      UserData: *l13",
        "      Tags: *l13",
    ]
    import time

    started = time.perf_counter()
    template = load("\n".join(lines) + "\n")
    assert time.perf_counter() - started < 2
    assert len(template.placeholders) == 1  # the one text, found once however often it is aliased
    assert [r.value for r in template.image_refs] == ["m-bp1g7004ksh0oeuc1234"]


def test_an_aliased_image_id_is_one_reference_at_its_anchor() -> None:
    text = (
        "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n"
        "  A:\n    Type: ALIYUN::ECS::Instance\n    Properties:\n      ImageId: &image m-bp1g7004ksh0oeuc1234\n"
        "  B:\n    Type: ALIYUN::ECS::Instance\n    Properties:\n      ImageId: *image\n"
    )
    template = load(text)
    [ref] = template.image_refs
    assert (ref.resource, ref.span.line, ref.span.column) == ("A", 6, 23)
    assert template.text[ref.span.start : ref.span.end] == "m-bp1g7004ksh0oeuc1234"


def test_resources_made_by_fn_foreach_loops_are_inventoried() -> None:
    """AWS::LanguageExtensions: ``Fn::ForEach::Name: [Identifier, Collection, {ID: resource}]``,
    as in aws-cloudformation/rain's test templates; loops may nest."""
    text = (
        "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::LanguageExtensions\nResources:\n"
        "  Fn::ForEach::Instances:\n    - Name\n    - [A, B]\n    - ${Name}:\n"
        "        Type: AWS::EC2::Instance\n        Properties:\n          ImageId: ami-0123456789abcdef0\n"
        "      Fn::ForEach::Disks:\n        - Disk\n        - [x, y]\n        - ${Name}${Disk}:\n"
        "            Type: AWS::EC2::Instance\n            Properties:\n              ImageId: ami-0fedcba9876543210\n"
    )
    template = load_text(text, Path("loop.yaml"), TABLE, "loop.yaml")
    assert template is not None and template.defects == []
    found = [(r.resource, r.value, r.span.line) for r in template.image_refs]
    assert found == [("${Name}", "ami-0123456789abcdef0", 10), ("${Name}${Disk}", "ami-0fedcba9876543210", 17)]
