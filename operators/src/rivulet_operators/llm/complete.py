"""One prompt in, one answer out (no streaming): the simplest model call."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import msgspec
from msgspec import Meta

from rivulet.sdk import Operator, OperatorSpec
from rivulet.sdk.models import ChatRequest, origin_of
from rivulet.sdk.ports import Int, Text
from rivulet.sdk.ui import ModelRef, PromptText
from rivulet_operators.llm._common import build_messages, fail, models_of

if TYPE_CHECKING:
    from rivulet.sdk import RunContext

__all__ = ("SPEC", "Complete", "Inputs", "Outputs", "Params")

SPEC = OperatorSpec(
    id="llm.complete",
    category="llm",
    title="Completion",
    description="Send one prompt to a model and get the whole answer as text.",
    icon="sparkles",
    tags=("llm", "completion", "prompt", "ai"),
    cacheable=False,
)


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    model: Annotated[ModelRef, Meta(description="A configured chat model.")] = "default"
    system_prompt: Annotated[PromptText, Meta(max_length=100_000)] = ""
    temperature: Annotated[float, Meta(ge=0, le=2)] = 0.7
    max_tokens: Annotated[int, Meta(ge=1, le=131_072)] = 256
    stop: Annotated[list[str], Meta(max_length=8, description="Stop generating at any of these strings.")] = (
        msgspec.field(default_factory=list[str])
    )


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    prompt: Annotated[Text, Meta(description="The prompt.")]


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    text: Annotated[Text, Meta(description="The answer.")]
    tokens: Annotated[Int, Meta(description="Completion tokens used.")]


class Complete(Operator[Params, Inputs, Outputs]):
    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> Outputs:
        if not inputs.prompt.strip():
            raise fail(SPEC, ctx, "the prompt input is empty")
        request = ChatRequest(
            messages=build_messages(params.system_prompt, None, inputs.prompt),
            temperature=params.temperature,
            max_tokens=params.max_tokens,
            stop=list(params.stop),
        )
        result = await models_of(SPEC, ctx).chat(params.model, request, origin=origin_of(ctx))
        return Outputs(text=result.text, tokens=result.usage.completion_tokens)
