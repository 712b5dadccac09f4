"""Embed texts with an embedding model (default: all-MiniLM-L6-v2, 384 dimensions, local)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from msgspec import Meta

from rivulet.sdk import Operator, OperatorSpec
from rivulet.sdk.models import origin_of
from rivulet.sdk.ports import Embedding, Int, Text
from rivulet.sdk.rules import requires_one_of
from rivulet.sdk.ui import ModelRef, ui_hint
from rivulet_operators.llm._common import fail, models_of

if TYPE_CHECKING:
    from rivulet.sdk import RunContext

__all__ = ("SPEC", "Embed", "Inputs", "Outputs", "Params")

SPEC = OperatorSpec(
    id="llm.embed",
    category="llm",
    title="Embed texts",
    description="Turn texts into vectors with an embedding model.",
    icon="hash",
    tags=("llm", "embedding", "vector", "rag"),
    input_rules=(requires_one_of("texts", "text"),),
)


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    model: Annotated[
        ModelRef,
        Meta(description="A configured embedding model.", extra_json_schema=ui_hint("model", kind="embedding")),
    ] = "default-embedding"
    batch_size: Annotated[int, Meta(ge=1, le=4096, description="Texts per model call.")] = 64


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    texts: Annotated[list[Text] | None, Meta(description="Texts to embed, in order.")] = None
    text: Annotated[Text | None, Meta(description="One text (also sets the 'embedding' output).")] = None


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    embeddings: Annotated[list[Embedding], Meta(description="One vector per text (texts first, then text).")]
    embedding: Annotated[Embedding, Meta(description="The vector of the 'text' input (only when it is set).")] = (
        msgspec.field(default_factory=list[float])
    )
    dimensions: Annotated[Int, Meta(description="Vector size.")] = 0


class Embed(Operator[Params, Inputs, Outputs]):
    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs

    @classmethod
    def output_values(cls, outputs: Outputs) -> dict[str, Any]:
        values: dict[str, Any] = {"embeddings": outputs.embeddings, "dimensions": outputs.dimensions}
        if outputs.embedding:
            values["embedding"] = outputs.embedding
        return values

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> Outputs:
        texts = [*(inputs.texts or []), *([inputs.text] if inputs.text is not None else [])]
        if not texts:
            raise fail(SPEC, ctx, "nothing to embed: connect 'texts' or 'text'")
        models = models_of(SPEC, ctx)
        vectors: list[list[float]] = []
        dimensions = 0
        for start in range(0, len(texts), params.batch_size):
            result = await models.embed(params.model, texts[start : start + params.batch_size], origin=origin_of(ctx))
            vectors.extend(result.vectors)
            dimensions = result.dimensions
            await ctx.progress(min(start + params.batch_size, len(texts)), len(texts))
        single = vectors[-1] if inputs.text is not None else []
        return Outputs(embeddings=vectors, embedding=single, dimensions=dimensions)
