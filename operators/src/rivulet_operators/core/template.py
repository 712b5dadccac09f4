"""Render a Jinja2 template; each variable the template reads becomes an input port.

``Hello {{ name }}, you asked: {{ question.text }}`` has the inputs ``name`` and ``question`` (type ``Any``,
required). Rendering runs in Jinja2's sandbox (no access to ``_`` attributes or Python internals) with strict
undefined values, so a missing attribute is an error naming it instead of an empty string. Variable names must
be lower_snake_case (they are port names); loops and ``set`` names stay local to the template.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from msgspec import Meta

from rivulet.sdk import Operator, OperatorSpec, PortSpec, PortType
from rivulet.sdk.ports import Text
from rivulet.sdk.templating import render_template, template_variables, variable_ports
from rivulet.sdk.ui import PromptText

if TYPE_CHECKING:
    from collections.abc import Mapping

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
        return variable_ports(params.template, lambda _: PortType("Any"))

    @classmethod
    def build_inputs(cls, values: Mapping[str, Any]) -> Inputs:
        return Inputs(values=dict(values))

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> Outputs:
        text = await render_template(params.template, inputs.values, spec=SPEC, ctx=ctx)
        return Outputs(text=text.strip() if params.trim else text)
