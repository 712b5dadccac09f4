"""Render a Jinja2 template; each variable the template reads becomes an input port.

``Hello {{ name }}, you asked: {{ question.text }}`` has the inputs ``name`` and ``question`` (type ``Any``,
required). Rendering runs in Jinja2's sandbox (no access to ``_`` attributes or Python internals) with strict
undefined values, so a missing attribute is an error naming it instead of an empty string. Variable names must
be lower_snake_case (they are port names); loops and ``set`` names stay local to the template.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from jinja2 import TemplateError, TemplateSyntaxError, meta
from msgspec import Meta

from rivulet.sdk import Operator, OperatorSpec, PortSpec, PortType
from rivulet.sdk.ports import Text
from rivulet.sdk.ui import PromptText
from rivulet_operators.core._common import JINJA, fail, syntax_message

if TYPE_CHECKING:
    from collections.abc import Mapping

    from jinja2 import Template

    from rivulet.sdk import RunContext

__all__ = ("SPEC", "Inputs", "Outputs", "Params", "RenderTemplate", "template_variables")

SPEC = OperatorSpec(
    id="core.template",
    category="core",
    title="Template",
    description="Render text from a Jinja2 template; its variables become inputs.",
    icon="file-text",
    tags=("text", "prompt", "jinja"),
)

MAX_VARIABLES = 32
_PORT_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@functools.lru_cache(maxsize=256)
def _compile(source: str) -> tuple[Template, tuple[str, ...]]:
    try:
        ast = JINJA.parse(source)
    except TemplateSyntaxError as exc:
        raise ValueError(syntax_message(exc, "template")) from exc
    builtins: set[str] = set(JINJA.globals)  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
    names = sorted(meta.find_undeclared_variables(ast) - builtins)
    template = JINJA.from_string(ast)
    # the sandbox's globals never change: a plain dict spares jinja a ChainMap walk on every render
    template.globals = dict(template.globals)
    return template, tuple(names)


def template_variables(source: str) -> tuple[str, ...]:
    """The variables ``source`` reads from its context, sorted (its input port names).

    Raises:
        ValueError: A syntax error (with its line), an invalid port name or too many variables.
    """
    _, names = _compile(source)
    bad = [n for n in names if not _PORT_NAME.match(n)]
    if bad:
        raise ValueError(f"template variables {bad} cannot be ports; use lower_snake_case names")
    if len(names) > MAX_VARIABLES:
        raise ValueError(f"template reads {len(names)} variables; at most {MAX_VARIABLES} are allowed")
    return names


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    template: Annotated[
        PromptText, Meta(max_length=200_000, description="Jinja2 template; {{ name }} reads the input 'name'.")
    ] = ""
    trim: Annotated[bool, Meta(description="Strip leading and trailing whitespace from the result.")] = False

    def __post_init__(self) -> None:
        template_variables(self.template)


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    values: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])
    """Variable values by name (one per dynamic input port)."""


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    text: Annotated[Text, Meta(description="The rendered text.")]


class RenderTemplate(Operator[Params, Inputs, Outputs]):
    """Render ``params.template`` with the input values."""

    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs
    dynamic_inputs = True

    @classmethod
    def input_ports(cls, params: Params) -> tuple[PortSpec, ...]:
        return tuple(
            PortSpec(name=name, type=PortType("Any"), description=f"Value of {{{{ {name} }}}}.")
            for name in template_variables(params.template)
        )

    @classmethod
    def build_inputs(cls, values: Mapping[str, Any]) -> Inputs:
        return Inputs(values=dict(values))

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> Outputs:
        template, _ = _compile(params.template)
        try:
            text = template.render(inputs.values)
        except TemplateError as exc:
            raise fail(SPEC, ctx, f"template failed to render: {exc.message or type(exc).__name__}") from exc
        return Outputs(text=text.strip() if params.trim else text)
