from __future__ import annotations

import msgspec
import pytest

from rivulet.lib.exceptions import OperatorError
from rivulet_operators.core.template import RenderTemplate, template_variables
from tests.unit.operators.conftest import params_of, run_operator


def test_variables_become_required_any_ports_sorted() -> None:
    params = params_of(
        RenderTemplate, {"template": "{{ b }} {% for x in items %}{{ x.name }}{% endfor %}{{ a | upper }}"}
    )
    ports = RenderTemplate.input_ports(params)
    assert [(p.name, str(p.type), p.required) for p in ports] == [
        ("a", "Any", True), ("b", "Any", True), ("items", "Any", True),
    ]  # fmt: skip


def test_locals_and_globals_are_not_ports() -> None:
    assert template_variables("{% set n = 3 %}{{ n }}{% for i in range(n) %}{{ i }}{{ loop.index }}{% endfor %}") == ()


async def test_renders_with_input_values() -> None:
    out = await run_operator(
        RenderTemplate, {"template": "Hi {{ name }}: {{ items | join(', ') }}\n", "trim": True},
        {"name": "Ada", "items": ["x", "y"]},
    )  # fmt: skip
    assert out == {"text": "Hi Ada: x, y"}


def test_syntax_error_is_located() -> None:
    with pytest.raises(msgspec.ValidationError, match=r"template has a syntax error at line 2: .*'endfor'"):
        params_of(RenderTemplate, {"template": "ok\n{% for x in y %}{{ x }}"})


def test_variable_names_must_be_port_names() -> None:
    with pytest.raises(msgspec.ValidationError, match=r"\['userName'\] cannot be ports"):
        params_of(RenderTemplate, {"template": "{{ userName }}"})


async def test_missing_attribute_fails_instead_of_rendering_empty() -> None:
    with pytest.raises(OperatorError, match=r"template failed to render: .*has no attribute 'title'"):
        await run_operator(RenderTemplate, {"template": "{{ doc.title }}"}, {"doc": {"text": "x"}})


async def test_sandbox_blocks_python_internals() -> None:
    with pytest.raises(OperatorError, match=r"template failed to render"):
        await run_operator(RenderTemplate, {"template": "{{ x.__class__.__mro__ }}"}, {"x": "s"})
    with pytest.raises(OperatorError, match=r"template failed to render"):
        await run_operator(RenderTemplate, {"template": "{{ x.append(1) }}"}, {"x": []})
