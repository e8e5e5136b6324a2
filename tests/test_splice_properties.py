"""Splice properties over generated templates (hypothesis): every format, random comments,
whitespace, quoting, key order, line endings and BOM.

For each generated template: after splicing the new values, re-parsing gives exactly the
expected values; the text outside the replaced spans is unchanged; splicing the rendered output
again with an identity mapping is a no-op.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from preprocessor.model import Template
from preprocessor.render.splice import Substitution, splice, verify_rendered
from preprocessor.templates import load_text
from providers import resource_table

TABLE = resource_table()
SOURCES = ("ami-0123456789abcdef0", "ami-0fedcba9876543210")
PLACEHOLDERS = ("app-bundle", "install-script")

hex17 = st.text(alphabet="0123456789abcdef", min_size=17, max_size=17)
ami = hex17.map(lambda h: f"ami-{h}")
url = st.builds(
    lambda region, key, sig: (
        f"https://b-{region}.s3.{region}.amazonaws.com/files/{key}/a.tgz?X-Amz-Expires=3600"
        f"&X-Amz-Credential=AK%2F20260101%2F{region}%2Fs3%2Faws4_request&X-Amz-Signature={sig}"
    ),
    st.sampled_from(["us-east-1", "eu-west-1", "ap-southeast-2"]),
    hex17,
    hex17,
)
comment_text = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 -_.,:!?{}", max_size=30)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Case(NamedTuple):
    """A generated template (its repr shows the text when hypothesis reports a failure)."""

    text: str
    name: str
    bom: bool = False


def _ph(name: str, inner: str) -> str:
    return f"{{{{{inner}computenest::file::{name}{inner}}}}}"


@st.composite
def cfn_yaml(draw: st.DrawFn) -> Case:
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    indent = " " * draw(st.sampled_from([2, 4]))
    lines = [
        draw(st.sampled_from(["AWSTemplateFormatVersion: '2010-09-09'", 'AWSTemplateFormatVersion: "2010-09-09"']))
    ]
    for text in draw(st.lists(comment_text, max_size=2)):
        lines.append(f"# {text}")
    lines.append("Resources:")
    for index in range(draw(st.integers(1, 4))):
        lines.append(f"{indent}R{index}:")
        image = draw(st.sampled_from(SOURCES))
        style = draw(st.sampled_from(["plain", "single", "double"]))
        quoted = {"plain": image, "single": f"'{image}'", "double": f'"{image}"'}[style]
        trailing = draw(st.sampled_from(["", "  # the web AMI", "   #x"]))
        inner = draw(st.sampled_from(["", " ", "  "]))
        placeholder = _ph(draw(st.sampled_from(PLACEHOLDERS)), inner)
        user = draw(st.sampled_from([f"'curl {placeholder}'", f'"curl {placeholder} | sh"', f"!Sub 'x {placeholder}'"]))
        properties = [f"ImageId: {quoted}{trailing}", "InstanceType: t3.micro", f"UserData: {user}"]
        order = draw(st.permutations(properties))
        lines.append(f"{indent * 2}Type: AWS::EC2::Instance")
        lines.append(f"{indent * 2}Properties:")
        lines.extend(f"{indent * 3}{p}" for p in order)
    return Case(newline.join(lines) + newline, "t.yaml", draw(st.booleans()))


@st.composite
def cfn_json(draw: st.DrawFn) -> Case:
    resources: dict[str, object] = {}
    for index in range(draw(st.integers(1, 4))):
        props = {
            "ImageId": draw(st.sampled_from(SOURCES)),
            "InstanceType": "t3.micro",
            "UserData": "curl " + _ph(draw(st.sampled_from(PLACEHOLDERS)), draw(st.sampled_from(["", " "]))),
        }
        keys = draw(st.permutations(list(props)))
        resources[f"R{index}"] = {"Type": "AWS::EC2::Instance", "Properties": {k: props[k] for k in keys}}
    doc = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}
    indent = draw(st.sampled_from([None, 1, 2, 4]))
    separators = draw(st.sampled_from([(",", ":"), (", ", ": "), (" ,", " : ")]))
    text = json.dumps(doc, indent=indent, separators=separators)
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    return Case(text + "\n", "t.json", draw(st.booleans()))


@st.composite
def terraform_hcl(draw: st.DrawFn) -> Case:
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    blocks = []
    for text in draw(st.lists(comment_text, max_size=2)):
        blocks.append(draw(st.sampled_from(["# ", "// "])) + text)
    for index in range(draw(st.integers(1, 4))):
        image = draw(st.sampled_from(SOURCES))
        pad = " " * draw(st.integers(1, 3))
        trailing = draw(st.sampled_from(["", " # source AMI", " // x", " /* c */"]))
        placeholder = _ph(draw(st.sampled_from(PLACEHOLDERS)), draw(st.sampled_from(["", " "])))
        body = [f'ami{pad}= "{image}"{trailing}', 'instance_type = "t3.micro"', f'user_data = "curl {placeholder}"']
        order = draw(st.permutations(body))
        blocks.append(f'resource "aws_instance" "r{index}" {{')
        blocks.extend(f"  {line}" for line in order)
        blocks.append("}")
    return Case(newline.join(blocks) + newline, "main.tf")


@st.composite
def terraform_json(draw: st.DrawFn) -> Case:
    resources = {}
    for index in range(draw(st.integers(1, 4))):
        body = {
            "ami": draw(st.sampled_from(SOURCES)),
            "instance_type": "t3.micro",
            "user_data": "curl " + _ph(draw(st.sampled_from(PLACEHOLDERS)), draw(st.sampled_from(["", " "]))),
        }
        keys = draw(st.permutations(list(body)))
        resources[f"r{index}"] = {k: body[k] for k in keys}
    text = json.dumps({"resource": {"aws_instance": resources}}, indent=draw(st.sampled_from([None, 2])))
    return Case(text + "\n", "main.tf.json")


mappings = st.fixed_dictionaries(
    {SOURCES[0]: ami, SOURCES[1]: ami, PLACEHOLDERS[0]: url, PLACEHOLDERS[1]: url},
)


def _load(case: Case) -> Template:
    template = load_text(case.text, Path(case.name), TABLE, case.name, case.bom)
    assert template is not None, case.text
    return template


def _substitutions(template: Template, mapping: dict[str, str]) -> list[Substitution]:
    subs = [
        Substitution(ref.span, template.text[ref.span.start : ref.span.end], mapping[ref.value], "image")
        for ref in template.image_refs
        if ref.value in mapping
    ]
    subs += [
        Substitution(p.span, template.text[p.span.start : p.span.end], mapping[p.name], p.placeholder_type)
        for p in template.placeholders
        if p.name in mapping
    ]
    return subs


def _check(case: Case, mapping: dict[str, str]) -> None:
    template = _load(case)
    assert template.image_refs and template.placeholders
    subs = _substitutions(template, mapping)
    rendered_text = splice(template.text, subs)
    rendered = load_text(rendered_text, template.path, TABLE, case.name, case.bom)
    # 1. Re-parsing gives exactly the expected values (and the verifier agrees).
    verify_rendered(template, rendered, subs, case.name)
    assert rendered is not None
    assert Counter(ref.value for ref in rendered.image_refs) == Counter(mapping[r.value] for r in template.image_refs)
    assert not rendered.placeholders
    # 2. Outside the replaced spans, the text is unchanged: walk both texts span by span.
    cursor_old = cursor_new = 0
    for sub in sorted(subs, key=lambda s: s.span.start):
        gap = sub.span.start - cursor_old
        assert rendered_text[cursor_new : cursor_new + gap] == template.text[cursor_old : sub.span.start]
        cursor_new += gap
        assert rendered_text[cursor_new : cursor_new + len(sub.new)] == sub.new
        cursor_new += len(sub.new)
        cursor_old = sub.span.end
    assert rendered_text[cursor_new:] == template.text[cursor_old:]
    assert template.encoded(rendered_text).startswith(b"\xef\xbb\xbf") == case.bom
    # 3. Rendering the rendered output with an identity mapping is a no-op.
    identity = {ref.value: ref.value for ref in rendered.image_refs}
    again = splice(rendered_text, _substitutions(rendered, identity))
    assert again == rendered_text


def _property(strategy: st.SearchStrategy[Case]) -> Callable[[], None]:
    @SETTINGS
    @given(case=strategy, mapping=mappings)
    def run(case: Case, mapping: dict[str, str]) -> None:
        _check(case, mapping)

    return run


test_cloudformation_yaml = _property(cfn_yaml())
test_cloudformation_json = _property(cfn_json())
test_terraform_hcl = _property(terraform_hcl())
test_terraform_json = _property(terraform_json())
