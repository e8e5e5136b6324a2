"""Terraform HCL (python-hcl2 parse tree) and Terraform JSON: spans, kinds, nested blocks,
placeholders, CRLF and BOM, and parse errors in words."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from preprocessor.errors import TemplateParseError
from preprocessor.model import RefKind, Template, TemplateFormat
from preprocessor.templates import load_template, load_text
from providers import resource_table

TABLE = resource_table()

HCL = """\
# comment with "m-notarefbp1g7004ksh" and {{ computenest::file::in-comment }}
resource "alicloud_instance" "literal" {
  image_id = "m-bp1g7004ksh0oeuc1234" # trailing comment
  user_data = <<-EOT
    curl "{{ computenest::file::app-bundle }}"
    echo ${var.x}
  EOT
}

resource "alicloud_instance" "var" { image_id = var.image_id }
resource "alicloud_instance" "local" { image_id = local.images.web }
resource "alicloud_instance" "data" { image_id = data.alicloud_images.ubuntu.images.0.id }
resource "alicloud_instance" "module" { image_id = module.images.web_id }
resource "alicloud_instance" "attr" { image_id = alicloud_image.built.id }
resource "alicloud_instance" "lookup" { image_id = lookup(var.images, "web") }
resource "alicloud_instance" "ternary" {
  image_id = var.prod ? "m-bp1g7004ksh0oeuc1234" : "m-bp1dbcw2zx04ke8o5678"
}
resource "alicloud_instance" "index" { image_id = var.images["web"] }
resource "alicloud_instance" "template" { image_id = "m-${var.suffix}" }
resource "alicloud_instance" "wrapped" { image_id = "${var.image_id}" }
resource "alicloud_instance" "directive" { image_id = "%{ if var.a }m-1%{ endif }" }
resource "alicloud_instance" "escaped" { image_id = "m-$${x}\\u0041" }
resource "alicloud_instance" "paren" { image_id = (var.image_id) }
resource "alicloud_instance" "number" { image_id = 12345 }
resource "alicloud_vpc" "other" { image_id = "not-an-image-bearing-type" }
data "alicloud_instance" "not_a_resource" { image_id = "m-bp1g7004ksh0oeuc1234" }
"""


def load(text: str, name: str = "main.tf") -> Template:
    template = load_text(text, Path(name), TABLE, name)
    assert template is not None
    return template


def test_hcl_kinds_values_and_spans() -> None:
    template = load(HCL)
    assert template.format is TemplateFormat.TERRAFORM_HCL
    got = [(r.resource, r.kind, r.value, r.span.line) for r in template.image_refs]
    assert got == [
        ("alicloud_instance.literal", RefKind.LITERAL, "m-bp1g7004ksh0oeuc1234", 3),
        ("alicloud_instance.var", RefKind.REFERENCE, "var.image_id", 10),
        ("alicloud_instance.local", RefKind.REFERENCE, "local.images.web", 11),
        ("alicloud_instance.data", RefKind.FUNCTION, "data.alicloud_images.ubuntu.images.0.id", 12),
        ("alicloud_instance.module", RefKind.REFERENCE, "module.images.web_id", 13),
        ("alicloud_instance.attr", RefKind.REFERENCE, "alicloud_image.built.id", 14),
        ("alicloud_instance.lookup", RefKind.FUNCTION, 'lookup(var.images, "web")', 15),
        (
            "alicloud_instance.ternary",
            RefKind.FUNCTION,
            'var.prod ? "m-bp1g7004ksh0oeuc1234" : "m-bp1dbcw2zx04ke8o5678"',
            17,
        ),
        ("alicloud_instance.index", RefKind.FUNCTION, 'var.images["web"]', 19),
        ("alicloud_instance.template", RefKind.INTERPOLATION, '"m-${var.suffix}"', 20),
        ("alicloud_instance.wrapped", RefKind.REFERENCE, '"${var.image_id}"', 21),
        ("alicloud_instance.directive", RefKind.INTERPOLATION, '"%{ if var.a }m-1%{ endif }"', 22),
        ("alicloud_instance.escaped", RefKind.LITERAL, "m-${x}A", 23),
        ("alicloud_instance.paren", RefKind.REFERENCE, "(var.image_id)", 24),
        ("alicloud_instance.number", RefKind.LITERAL, "12345", 25),
    ]
    lines = template.text.splitlines()
    for ref in template.image_refs:
        # the parser's column equals where the source text sits on its line
        assert ref.span.column == lines[ref.span.line - 1].index(template.text[ref.span.start : ref.span.end]) + 1
    for ref in template.image_refs:
        source = template.text[ref.span.start : ref.span.end]
        if ref.resource != "alicloud_instance.escaped":  # its value has the escapes decoded
            assert source == ref.value
        assert ref.provider == "alicloud" and ref.resource_type == "alicloud_instance" and ref.property == "image_id"
    escaped = template.image_refs[12]
    assert template.text[escaped.span.start : escaped.span.end] == "m-$${x}\\u0041"
    first = template.image_refs[0].span
    assert (first.end_line, first.end_column) == (3, 37)


def test_hcl_placeholders_skip_comments() -> None:
    template = load(HCL)
    assert [(p.name, p.resource, p.property, p.span.line, p.span.column) for p in template.placeholders] == [
        ("app-bundle", "alicloud_instance.literal", "user_data", 5, 11)
    ]
    placeholder = template.placeholders[0]
    assert template.text[placeholder.span.start : placeholder.span.end] == "{{ computenest::file::app-bundle }}"


NESTED = """\
resource "alicloud_ehpc_cluster_v2" "hpc" {
  cluster_name = "x"
  manager {
    manager_node {
      image_id = "m-bp1g7004ksh0oeuc1234"
    }
  }
  manager {
    manager_node { image_id = var.second }
  }
  manager = {
    manager_node = { image_id = "m-bp1dbcw2zx04ke8o5678" }
  }
  manager {
    other_node { image_id = "m-bp1zzzzzzzzzzzzzzzzz" }
  }
  dynamic "manager" {
    for_each = var.managers
    content {
      manager_node {
        image_id = manager.value.image # {{ computenest::file::not-in-a-comment }}
        user_data = "{{ computenest::file::app-bundle }}"
      }
    }
  }
}
"""


def test_hcl_nested_and_repeated_blocks_each_give_a_ref() -> None:
    template = load(NESTED)
    got = [(r.property, r.kind, r.value, r.span.line) for r in template.image_refs]
    assert got == [
        ("manager.manager_node.image_id", RefKind.LITERAL, "m-bp1g7004ksh0oeuc1234", 5),
        ("manager.manager_node.image_id", RefKind.REFERENCE, "var.second", 9),
        ("manager.manager_node.image_id", RefKind.LITERAL, "m-bp1dbcw2zx04ke8o5678", 12),
        ("manager.manager_node.image_id", RefKind.REFERENCE, "manager.value.image", 21),
    ]
    assert [(p.name, p.property, p.span.line) for p in template.placeholders] == [
        ("app-bundle", "manager.manager_node.user_data", 22)
    ]


def _hcl_sample() -> str:
    return (
        '# Ünïcödé 𝄞 comment\nresource "aws_instance" "web" {\n  ami = "ami-0123456789abcdef0"\n'
        "  user_data = <<EOT\n{{ computenest::file::app-bundle }} 𝄞\nEOT\n"
        '  tags = { Name = "é" }\n}\n'
    )


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("bom", [False, True], ids=["nobom", "bom"])
def test_hcl_offsets_are_characters_of_our_text(tmp_path: Path, newline: str, bom: bool) -> None:
    text = _hcl_sample().replace("\n", newline)
    path = tmp_path / "main.tf"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    template = load_template(path, TABLE)
    assert template is not None
    assert template.text == text and template.bom is bom
    [ref] = template.image_refs
    assert template.text[ref.span.start : ref.span.end] == "ami-0123456789abcdef0"
    assert (ref.span.line, ref.span.column, ref.span.end_line, ref.span.end_column) == (3, 10, 3, 31)
    [placeholder] = template.placeholders
    assert template.text[placeholder.span.start : placeholder.span.end] == "{{ computenest::file::app-bundle }}"
    assert (placeholder.span.line, placeholder.span.column) == (5, 1)
    assert template.encoded() == path.read_bytes()


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ('resource "aws_instance" "x" {\n  ami = \n}\n', 2, 9, "unexpected"),
        ('resource "aws_instance" "x" {\n  ami = "a"\n', 3, 1, "end of the file"),
        ('resource "aws_instance" "x" {\n  ami = "a" @\n}\n', 2, 13, "unexpected '@'"),
        ('resource "aws_instance" "x" {\n  ami = "abc\n}\n', 2, 9, "unterminated string"),
    ],
)
def test_hcl_parse_errors_in_words(text: str, line: int, column: int, words: str) -> None:
    with pytest.raises(TemplateParseError) as caught:
        load_text(text, Path("main.tf"), TABLE, "main.tf")
    error = caught.value
    assert (error.line, error.column) == (line, column), error.message
    assert words in error.message and error.rule == "DPK001" and error.file == "main.tf"
    assert "Token(" not in error.message and "Expected one of" not in error.message


@pytest.mark.parametrize(
    ("text", "line", "column", "rule", "words"),
    [
        (
            'resource "aws_instance" "a" {\n  ami = "ami-1"\n  tags = {}\n  ami = "ami-2"\n}\n',
            4,
            3,
            "DPK001",
            "'ami' is set twice in one block (first at line 2, column 3)",
        ),
        ("locals {\n  a = 1\n  a = 2\n}\n", 3, 3, "DPK001", "'a' is set twice"),
        ('resource "aws_instance" {\n  ami = "ami-1"\n}\n', 1, 1, "DPK003", "exactly two labels"),
        ('\nresource "aws_instance" "a" "b" {\n}\n', 2, 1, "DPK003", "this one has 3"),
        (
            'resource "aws_instance" "a" {\n  ami {\n    value = "ami-1"\n  }\n}\n',
            2,
            3,
            "DPK003",
            "ami of aws_instance.a is written as a block",
        ),
    ],
)
def test_hcl_that_terraform_would_reject(text: str, line: int, column: int, rule: str, words: str) -> None:
    with pytest.raises(TemplateParseError) as caught:
        load_text(text, Path("main.tf"), TABLE, "main.tf")
    error = caught.value
    assert (error.line, error.column, error.rule) == (line, column, rule)
    assert words in error.message


DUPLICATES_AT_SEVERAL_DEPTHS = """\
a = 1
a = 2
resource "aws_instance" "x" {
  ami = "ami-1"
  ami = "ami-2"
  ebs_block_device {
    x = 1
    x = 2
    x = 3
  }
}
resource "aws_instance" "y" {
  ebs_block_device {
    y = 1
    y = 2
  }
}
"""


def test_of_several_redefined_attributes_the_deepest_then_first_is_reported() -> None:
    """The order a walk of every subtree (lark's iter_subtrees) meets them, kept when the check
    came to walk only bodies and blocks."""
    with pytest.raises(TemplateParseError) as caught:
        load_text(DUPLICATES_AT_SEVERAL_DEPTHS, Path("main.tf"), TABLE, "main.tf")
    assert (caught.value.line, caught.value.column) == (8, 5)
    assert "'x' is set twice in one block (first at line 7, column 5)" in caught.value.message
    without_nested = DUPLICATES_AT_SEVERAL_DEPTHS.replace("    x = 2\n    x = 3\n", "").replace("    y = 2\n", "")
    with pytest.raises(TemplateParseError) as caught:
        load_text(without_nested, Path("main.tf"), TABLE, "main.tf")
    assert (caught.value.line, caught.value.column) == (5, 3)


def test_a_duplicate_inside_an_expression_object_is_not_an_attribute() -> None:
    text = 'resource "aws_instance" "a" {\n  ami = "ami-1"\n  tags = { k = 1, k = 2 }\n}\n'
    assert len(load(text).image_refs) == 1


def test_placeholders_only_where_the_text_names_computenest() -> None:
    text = 'resource "alicloud_instance" "a" {\n  image_id = "{{ computenest::file::x }}"\n  user_data = "{{ y }}"\n}\n'
    found = load(text).placeholders
    assert [(p.placeholder_type, p.name, p.resource, p.property) for p in found] == [
        ("file", "x", "alicloud_instance.a", "image_id")
    ]
    assert load(text.replace("computenest::", "computenest:")).placeholders == []


def test_same_attribute_in_sibling_blocks_is_fine() -> None:
    text = 'resource "aws_instance" "a" {\n  ami = "ami-1"\n  ebs { size = 1 }\n  ebs { size = 2 }\n}\n'
    assert len(load(text).image_refs) == 1


def test_terraform_011_syntax_is_a_clean_error() -> None:
    # HCL1 (Terraform 0.11) allowed quoted attribute names; HCL2 does not.
    old = (
        'variable "amis" {\n  type = "map"\n}\n'
        'resource "aws_instance" "web" {\n  ami = "${lookup(var.amis, var.region)}"\n'
        '  tags {\n    "Name" = "web"\n  }\n}\n'
    )
    with pytest.raises(TemplateParseError) as caught:
        load_text(old, Path("old.tf"), TABLE, "old.tf")
    error = caught.value
    assert (error.line, error.column) == (7, 5)
    assert error.message == "invalid HCL: unexpected '\"'; expected '}', a name, the end of the line"
    assert error.hint is not None and "0.12upgrade" in error.hint


def test_deep_hcl_nesting_is_a_clean_error_or_parses() -> None:
    text = "locals {\n  x = " + "[" * 10_000 + "]" * 10_000 + "\n}\n"
    try:
        template = load(text)
    except TemplateParseError as error:
        assert error.file == "main.tf"
    else:
        assert template.image_refs == []


def test_validate_path_does_not_import_hcl2_for_other_formats(tmp_path: Path) -> None:
    script = (
        "import sys\nfrom pathlib import Path\nfrom preprocessor.templates import load_text\n"
        "from providers import resource_table\n"
        "load_text(\"ROSTemplateFormatVersion: '2015-09-01'\\n\", Path('t.yaml'), resource_table())\n"
        "load_text('{\"resource\": {}}', Path('t.tf.json'), resource_table())\n"
        "print(sorted(m for m in ('hcl2', 'lark', 'boto3', 'jinja2', 'rich') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


TF_JSON = {
    "resource": {
        "aws_instance": {
            "literal": {
                "//": "a comment: {{ computenest::file::not-a-placeholder }}",
                "ami": "ami-0123456789abcdef0",
                "user_data": "x {{ computenest::file::app-bundle }}",
            },
            "ref": {"ami": "${var.ami}"},
            "func": {"ami": "${lookup(var.amis, var.region)}"},
            "interp": {"ami": "ami-${var.suffix}"},
            "escaped": {"ami": "ami-$${not}"},
            "number": {"ami": 5},
            "list": [{"ami": "ami-0fedcba9876543210"}],
        },
        "aws_launch_template": [{"lt": {"image_id": "${data.aws_ami.x.id}"}}],
    }
}


def test_tf_json_kinds_and_spans() -> None:
    text = json.dumps(TF_JSON, indent=2)
    template = load(text, "main.tf.json")
    assert template.format is TemplateFormat.TERRAFORM_JSON
    got = [(r.resource, r.property, r.kind, r.value) for r in template.image_refs]
    assert got == [
        ("aws_instance.literal", "ami", RefKind.LITERAL, "ami-0123456789abcdef0"),
        ("aws_instance.ref", "ami", RefKind.REFERENCE, '"${var.ami}"'),
        ("aws_instance.func", "ami", RefKind.FUNCTION, '"${lookup(var.amis, var.region)}"'),
        ("aws_instance.interp", "ami", RefKind.INTERPOLATION, '"ami-${var.suffix}"'),
        ("aws_instance.escaped", "ami", RefKind.LITERAL, "ami-$${not}"),
        ("aws_instance.number", "ami", RefKind.LITERAL, "5"),
        ("aws_instance.list", "ami", RefKind.LITERAL, "ami-0fedcba9876543210"),
        ("aws_launch_template.lt", "image_id", RefKind.REFERENCE, '"${data.aws_ami.x.id}"'),
    ]
    for ref in template.image_refs:
        assert template.text[ref.span.start : ref.span.end] == ref.value
    [placeholder] = template.placeholders
    assert (placeholder.resource, placeholder.resource_type, placeholder.property) == (
        "aws_instance.literal",
        "aws_instance",
        "user_data",
    )
    assert template.text[placeholder.span.start : placeholder.span.end] == "{{ computenest::file::app-bundle }}"


def test_tf_json_resource_list_form_and_nested_blocks() -> None:
    text = json.dumps(
        {
            "resource": [
                {
                    "alicloud_ehpc_cluster_v2": {
                        "hpc": {"manager": [{"manager_node": {"image_id": "m-bp1g7004ksh0oeuc1234"}}]}
                    }
                }
            ]
        }
    )
    template = load(text, "x.tf.json")
    assert [(r.resource, r.property, r.value) for r in template.image_refs] == [
        ("alicloud_ehpc_cluster_v2.hpc", "manager.manager_node.image_id", "m-bp1g7004ksh0oeuc1234")
    ]


def test_tf_json_must_be_an_object() -> None:
    with pytest.raises(TemplateParseError) as caught:
        load_text("[1]", Path("x.tf.json"), TABLE, "x.tf.json")
    assert caught.value.rule == "DPK003" and (caught.value.line, caught.value.column) == (1, 1)
    with pytest.raises(TemplateParseError) as caught:
        load_text('{"resource": ', Path("x.tf.json"), TABLE, "x.tf.json")
    assert caught.value.rule == "DPK001"
