"""Build a prompt from a Jinja2 template; each variable becomes a typed input port.

``Answer {{ question }} using {{ context }}`` has the inputs ``question`` and ``context``; their port types come
from ``variable_types`` (``{"context": "List[Chunk]"}``; default ``Text``). Rendering runs in Jinja2's sandbox
with strict undefined values. The result is the prompt text and, for chat models, ``messages`` (the optional
system prompt, then the prompt as a user message).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from msgspec import Meta

from rivulet.sdk import Operator, OperatorSpec, PortSpec, parse_port_type
from rivulet.sdk.ports import Message, Messages, Text
from rivulet.sdk.templating import render_template, template_variables, variable_ports
from rivulet.sdk.ui import PromptText, ui_hint

if TYPE_CHECKING:
    from collections.abc import Mapping

    from rivulet.sdk import PortType, RunContext

__all__ = ("SPEC", "Inputs", "Outputs", "Params", "PromptTemplate")

SPEC = OperatorSpec(
    id="llm.prompt_template",
    category="llm",
    title="Prompt template",
    description="Write a prompt with {{ variables }}; each variable becomes a typed input.",
    icon="file-text",
    tags=("llm", "prompt", "template", "jinja"),
)


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    template: Annotated[PromptText, Meta(max_length=200_000, description="{{ name }} reads the input 'name'.")] = ""
    variable_types: Annotated[
        dict[str, str],
        Meta(
            description="Port type per variable (default Text), e.g. List[Chunk].",
            extra_json_schema=ui_hint("key_value"),
        ),
    ] = msgspec.field(default_factory=dict[str, str])
    system_prompt: Annotated[PromptText, Meta(max_length=100_000, description="First message of 'messages'.")] = ""

    def __post_init__(self) -> None:
        names = template_variables(self.template)
        unknown = sorted(set(self.variable_types) - set(names))
        if unknown:
            raise ValueError(
                f"variable_types names {unknown}, which the template does not use; variables: {list(names)}"
            )
        for name, text in self.variable_types.items():
            try:
                parse_port_type(text)
            except ValueError as exc:
                raise ValueError(f"variable_types.{name}: {exc}") from exc


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    values: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    prompt: Annotated[Text, Meta(description="The rendered prompt.")]
    messages: Annotated[Messages, Meta(description="System prompt (if any) and the prompt as a user message.")]


def _type_of(params: Params, name: str) -> PortType:
    return parse_port_type(params.variable_types.get(name, "Text"))


def _plain(value: Any) -> Any:
    """Structs become mappings so templates can read ``{{ chunk.text }}`` and loop over lists."""
    return msgspec.to_builtins(value) if isinstance(value, msgspec.Struct | list) else value


class PromptTemplate(Operator[Params, Inputs, Outputs]):
    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs
    dynamic_inputs = True

    @classmethod
    def input_ports(cls, params: Params) -> tuple[PortSpec, ...]:
        return variable_ports(params.template, lambda name: _type_of(params, name))

    @classmethod
    def build_inputs(cls, values: Mapping[str, Any]) -> Inputs:
        return Inputs(values=dict(values))

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> Outputs:
        values = {k: _plain(v) for k, v in inputs.values.items()}
        text = await render_template(params.template, values, spec=SPEC, ctx=ctx)
        messages = [Message(role="system", content=params.system_prompt)] if params.system_prompt.strip() else []
        messages.append(Message(role="user", content=text))
        return Outputs(prompt=text, messages=messages)
