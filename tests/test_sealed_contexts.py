"""Sealed contexts: where the grammar alone guarantees that a safe value spliced into a span reads
back as exactly that value, render re-parses once per context and value class in a run instead of
once per template. These tests hold the rule to its claim on every fixture template (any safe
value, checked by a real re-parse), show that the contexts it leaves out really can break, and
count the re-parses a render makes."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from preprocessor.errors import InputError
from preprocessor.model import RefKind, Span, Template
from preprocessor.render import RenderOptions, engine, render_to_directory
from preprocessor.render.splice import Substitution, sealed_context, splice, unsafe_reason, verify_rendered
from preprocessor.templates import discover, load_template, load_text
from providers import resource_table

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
TABLE = resource_table()


def _load(name: str, text: str) -> Template:
    template = load_text(text, Path(name), TABLE, name)
    assert template is not None
    return template


def _contexts(template: Template) -> list[str | None]:
    text = template.text
    found = [sealed_context(template, r.span, text[r.span.start : r.span.end], False) for r in template.image_refs]
    found += [sealed_context(template, p.span, text[p.span.start : p.span.end], True) for p in template.placeholders]
    return found


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("t.json", '{"ROSTemplateFormatVersion": "2015-09-01", "Resources": {"W": {"Type": "ALIYUN::ECS::Instance",'
         ' "Properties": {"ImageId": "m-1", "UserData": "x {{ computenest::file::app }} y"}}}}',
         ["json string", "json string"]),
        ("t.json", '{"ROSTemplateFormatVersion": "2015-09-01", "Resources": {"W": {"Type": "ALIYUN::ECS::Instance",'
         ' "Properties": {"ImageId": 12345}}}}', [None]),
        ("t.json", '{"ROSTemplateFormatVersion": "2015-09-01", "Resources": {"W": {"Type": "ALIYUN::ECS::Instance",'
         ' "Properties": {"ImageId": "m-\\u0031"}}}}', [None]),
        ("t.yaml", "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  W:\n    Type: ALIYUN::ECS::Instance\n"
         "    Properties:\n      ImageId: m-1\n      UserData: 'x {{ computenest::file::app }}'\n", [None, None]),
        ("t.yaml", "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  W:\n    Type: ALIYUN::ECS::Instance\n"
         "    Properties: {ImageId: \"m-1\"}\n", ["yaml \"-quoted"]),
        ("t.yaml", "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  W:\n    Type: ALIYUN::ECS::Instance\n"
         "    Properties:\n      ImageId: 'm-1'\n", ["yaml '-quoted"]),
        ("main.tf", 'resource "alicloud_instance" "w" {\n  image_id = "m-1"\n'
         '  user_data = "{{ computenest::file::app }}"\n}\n', ["hcl quoted", "hcl string or heredoc"]),
        ("main.tf", 'resource "alicloud_instance" "w" {\n  image_id = <<EOT\nm-1\nEOT\n}\n', [None]),
        ("main.tf", 'resource "alicloud_instance" "w" {\n  user_data = <<EOT\n{{ computenest::file::a }}\n'
         'wget {{ computenest::file::b }} -O x\nEOT\n}\n', [None, "hcl string or heredoc"]),
        ("t.json", '{"ROSTemplateFormatVersion": "2015-09-01", "Resources": {"W": {"Type": "ALIYUN::ECS::Instance",'
         ' "Properties": {"UserData": {"Fn::Sub": "${X}{{ computenest::file::a }}"}}}}}', [None]),
    ],
)  # fmt: skip
def test_which_contexts_are_sealed(name: str, text: str, expected: list[str | None]) -> None:
    assert _contexts(_load(name, text)) == expected


def _fixture_templates() -> list[Template]:
    found = []
    for path in discover([FIXTURES]):
        try:
            template = load_template(path, TABLE)
        except Exception:  # the validate corpus holds broken files on purpose
            continue
        if template is not None and not template.defects:
            found.append(template)
    return found


FIXTURE_TEMPLATES = _fixture_templates()


def _spans(template: Template) -> list[tuple[Span, str, bool]]:
    """(span, old text, is a placeholder) of everything render may replace in ``template``."""
    text = template.text
    literal = [(r.span, False) for r in template.image_refs if r.kind is RefKind.LITERAL]
    placeholders = [(p.span, True) for p in template.placeholders]
    return [(span, text[span.start : span.end], placeholder) for span, placeholder in literal + placeholders]


SEALED = [
    (template, span, old, placeholder)
    for template in FIXTURE_TEMPLATES
    for span, old, placeholder in _spans(template)
    if sealed_context(template, span, old, placeholder) is not None
]

# Every printable ASCII character a safe value may hold, the punctuation that ends or starts
# things in YAML, JSON and HCL included.
safe_values = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=24).filter(
    lambda value: unsafe_reason(value) is None
)


def test_the_fixtures_have_sealed_spans_of_every_format() -> None:
    assert {template.format for template, *_ in SEALED} >= {
        template.format for template in FIXTURE_TEMPLATES if template.format.value.endswith("json")
    }
    assert len(SEALED) >= 10


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), safe_values)
def test_any_safe_value_in_a_sealed_context_reads_back_as_itself(data: st.DataObject, value: str) -> None:
    template, span, old, placeholder = data.draw(st.sampled_from(SEALED))
    kind = "file" if placeholder else "image"
    substitution = Substitution(span, old, value, kind)
    rendered = load_text(splice(template.text, [substitution]), template.path, TABLE, template.display, template.bom)
    verify_rendered(template, rendered, [substitution], template.display)


def test_a_plain_yaml_scalar_is_not_sealed_because_a_safe_value_can_break_it() -> None:
    template = _load(
        "t.yaml",
        "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  W:\n    Type: ALIYUN::ECS::Instance\n"
        "    Properties:\n      ImageId: m-1\n",
    )
    ref = template.image_refs[0]
    assert sealed_context(template, ref.span, "m-1", False) is None
    substitution = Substitution(ref.span, "m-1", "[m-2]", "image")  # safe characters, but a flow sequence here
    rendered = load_text(splice(template.text, [substitution]), template.path, TABLE, template.display)
    with pytest.raises(InputError, match="does not give the expected image references"):
        verify_rendered(template, rendered, [substitution], template.display)


def test_render_re_parses_sealed_templates_once_per_class_and_plain_ones_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = FIXTURES / "alicloud" / "catalog"
    root = tmp_path / "project"
    root.mkdir()
    (root / "deploypkg.yaml").write_text(
        f"provider: alicloud\ncatalog: file://{catalog}\nregions: [cn-hangzhou, cn-beijing]\n"
        "associations:\n  m-bp1g7004ksh0oeuc1234: web-image\n"
    )
    head = (
        "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  W:\n    Type: ALIYUN::ECS::Instance\n    Properties:\n"
    )
    for index in range(5):
        (root / f"sealed{index}.json").write_text(
            '{"ROSTemplateFormatVersion": "2015-09-01", "Resources": {"W": {"Type": "ALIYUN::ECS::Instance",'
            f' "Properties": {{"ImageId": "m-bp1g7004ksh0oeuc1234", "Description": "{index}"}}}}}}}}'
        )
        (root / f"plain{index}.yaml").write_text(f"{head}      ImageId: m-bp1g7004ksh0oeuc1234\n      Tag: '{index}'\n")
    checked: list[str] = []

    def counting(source: Template, *args: object) -> None:
        checked.append(source.display)
        verify_rendered(source, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "verify_rendered", counting)
    report = render_to_directory([root], ["cn-hangzhou", "cn-beijing"], tmp_path / "out", RenderOptions())
    assert report.substitutions == 20
    # Both regions' image IDs are of one value class: the five JSON files share one re-parse;
    # each plain YAML file is re-parsed on its own.
    assert sum(name.endswith(".json") for name in checked) == 1
    assert len({name for name in checked if name.endswith(".yaml")}) == 5
    assert len(checked) == 6
    rendered = (tmp_path / "out" / "cn-beijing" / "sealed3.json").read_text()
    assert '"ImageId": "m-2zeb3kq6nfv9wd8x1234"' in rendered


def test_a_placeholder_alone_on_a_heredoc_line_is_not_sealed_because_a_safe_value_can_end_the_heredoc() -> None:
    text = (
        'resource "alicloud_instance" "w" {\n  image_id = "m-1"\n  user_data = <<EOT\n'
        "{{ computenest::file::a }}\nEOT\n}\n"
    )
    template = _load("main.tf", text)
    placeholder = template.placeholders[0]
    old = text[placeholder.span.start : placeholder.span.end]
    assert sealed_context(template, placeholder.span, old, True) is None
    substitution = Substitution(placeholder.span, old, "EOT", "file")  # a safe value: the heredoc's own end
    with pytest.raises(InputError):  # the heredoc ends early: the rest no longer parses
        rendered = load_text(splice(text, [substitution]), template.path, TABLE, template.display)
        verify_rendered(template, rendered, [substitution], template.display)
