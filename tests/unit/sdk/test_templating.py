"""``rivulet.sdk.templating``: the one sandbox and variable scan both template operators use."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest
from jinja2.exceptions import SecurityError

from rivulet.lib.exceptions import OperatorError
from rivulet.sdk.templating import JINJA, MAX_VARIABLES, compile_template, render_template, template_variables
from rivulet_operators.core import template as core_template
from rivulet_operators.llm import prompt_template
from tests.unit.operators.conftest import FakeContext, run_operator


def test_variables_are_the_names_read_from_the_context_sorted() -> None:
    assert template_variables("{{ b }}{{ a.x }}{% for i in items %}{{ i }}{% endfor %}{{ range(2) }}") == (
        "a",
        "b",
        "items",
    )
    template, names = compile_template("Hi {{ name }}\n")
    assert names == ("name",)
    assert template.render(name="Ada") == "Hi Ada\n"  # trailing newline kept


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{ a", "template has a syntax error at line 1"),
        ("{{ Name }}", "template variables ['Name'] cannot be ports; use lower_snake_case names"),
        (
            "".join(f"{{{{ v{i} }}}}" for i in range(MAX_VARIABLES + 1)),
            f"template reads {MAX_VARIABLES + 1} variables; at most {MAX_VARIABLES} are allowed",
        ),
    ],
)
def test_both_template_operators_report_the_same_errors(source: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        template_variables(source)
    for params_type in (core_template.Params, prompt_template.Params):
        with pytest.raises(msgspec.ValidationError, match=re.escape(message)):
            msgspec.convert({"template": source}, params_type)


def test_the_sandbox_refuses_private_attributes() -> None:
    with pytest.raises(SecurityError):
        JINJA.from_string("{{ x.__class__.__mro__ }}").render(x=1)


@pytest.mark.parametrize(
    ("operator", "operator_id"),
    [(core_template.RenderTemplate, "core.template"), (prompt_template.PromptTemplate, "llm.prompt_template")],
)
async def test_both_template_operators_report_render_failures_at_the_node(operator: Any, operator_id: str) -> None:
    ports = operator.input_ports(msgspec.convert({"template": "{{ doc.title }}"}, operator.params_type))
    assert [(p.name, p.description) for p in ports] == [("doc", "Value of {{ doc }}.")]
    with pytest.raises(OperatorError, match=r"^template failed to render: .*has no attribute 'title'") as info:
        await run_operator(operator, {"template": "{{ doc.title }}"}, {"doc": {"text": "x"}})
    assert info.value.operator_id == operator_id
    assert info.value.node_id == FakeContext().node_id


class _Shouty:
    def __str__(self) -> str:
        return "LOUD"


@pytest.mark.parametrize(
    "source",
    [
        "plain text",
        "{{ a }}",
        "{{ a }}.",
        "Hello, {{ a }} and {{ b }}!\n",
        "{{ a }}{{ a }}{{ b }}",
        "  {{- a -}}  \n {{ b }}",
        "{{ a|upper }} {{ b }}",  # not a plain substitution: rendered by jinja
        "{% if a %}{{ b }}{% endif %}",
        "{{ a.real }}",
    ],
)
@pytest.mark.parametrize("a", ["x", 3, 2.5, None, True, [1, "2"], {"k": "v"}, _Shouty()])
async def test_a_substitution_renders_exactly_what_jinja_renders(source: str, a: Any) -> None:
    values = {"a": a, "b": "<b>&"}
    template, _ = compile_template(source)
    try:
        expected = template.render(values)
    except Exception:  # noqa: BLE001 - the same failure must surface as an OperatorError
        with pytest.raises(OperatorError):
            await render_template(source, values, spec=core_template.SPEC, ctx=FakeContext())
        return
    assert await render_template(source, values, spec=core_template.SPEC, ctx=FakeContext()) == expected


async def test_a_missing_variable_still_fails_like_jinja() -> None:
    with pytest.raises(OperatorError, match="'b' is undefined"):
        await render_template("{{ a }} {{ b }}", {"a": 1}, spec=core_template.SPEC, ctx=FakeContext())
