"""``rivulet.sdk.templating``: the one sandbox and variable scan both template operators use."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest
from jinja2.exceptions import SecurityError

from rivulet.lib.exceptions import OperatorError
from rivulet.sdk.templating import JINJA, MAX_VARIABLES, compile_template, template_variables
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
