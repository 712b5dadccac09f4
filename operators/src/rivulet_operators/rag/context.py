"""Write chunks as numbered passages for a prompt, within a token budget.

Each passage follows ``template`` (default: the text, then ``(source: {source} [{id}])``): ``{id}`` is the chunk id
that an answer cites as ``[<id>]``, ``{n}`` the passage's position, plus ``{source}``, ``{document}``, ``{score}``
and ``{text}``. Chunks are taken in order; one that does not fit the tokens left is skipped (a later, shorter one may
still fit), and a first chunk longer than the whole budget is truncated. Tokens are estimated without a tokenizer
(about four characters a token). ``chunks`` outputs the chunks the context holds, for citations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import msgspec
from msgspec import Meta

from rivulet.sdk import Operator, OperatorSpec
from rivulet.sdk.ports import Chunk, Int, Text
from rivulet_operators.rag._common import (
    DEFAULT_PASSAGE_TEMPLATE,
    PassageTemplate,
    build_context,
    check_template,
    estimate_tokens,
)

if TYPE_CHECKING:
    from rivulet.sdk import RunContext

__all__ = ("SPEC", "BuildContext", "Inputs", "Outputs", "Params")

SPEC = OperatorSpec(
    id="rag.context",
    category="rag",
    title="Build context",
    description="Write chunks as passages labelled by chunk id, within a token budget.",
    icon="text-quote",
    tags=("rag", "knowledge", "context", "prompt", "passages", "tokens"),
)


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    budget_tokens: Annotated[int, Meta(ge=16, le=1_000_000, description="Most tokens of the whole context.")] = 1500
    template: PassageTemplate = DEFAULT_PASSAGE_TEMPLATE
    separator: Annotated[str, Meta(max_length=200, description="Between passages.")] = "\n\n"

    def __post_init__(self) -> None:
        check_template(self.template)


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    chunks: Annotated[list[Chunk], Meta(description="Chunks, best first (e.g. from rag.retrieve or rag.rerank).")]


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    context: Annotated[Text, Meta(description="The passages, ready for a prompt.")]
    chunks: Annotated[list[Chunk], Meta(description="The chunks the context holds, in order.")]
    tokens: Annotated[Int, Meta(description="Estimated tokens of the context.")]


class BuildContext(Operator[Params, Inputs, Outputs]):
    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> Outputs:
        text, kept = build_context(
            inputs.chunks, budget_tokens=params.budget_tokens, template=params.template, separator=params.separator
        )
        if len(kept) < len(inputs.chunks):
            ctx.log.info("context budget reached", extra={"kept": len(kept), "given": len(inputs.chunks)})
        return Outputs(context=text, chunks=kept, tokens=estimate_tokens(text))
