"""Extract a knowledge graph from text: facts the chat model reads out of each chunk, stored in the space.

Each fact is a ``subject, predicate, object`` triplet, stored as entities and relations of the space (in the same
PostgreSQL) for ``rag.graph_retrieve``.

Connect ``chunks`` (e.g. from ``rag.chunk``) or ``documents`` (split with the space's own chunking). Chunks go to
the service ``batch_size`` at a time, so progress (chunks done of total) shows on the node and a cancelled run
stops between batches. ``triplets`` lists every fact stored, each with the chunk it came from. Never cached: it
writes.

``create_space`` creates a missing space with the default embedding model and chunking (as graph stores that
create their graph on first write do; documents are then split with the default chunking); unset, a missing space
fails the node.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import msgspec
from msgspec import Meta

from rivulet.lib.exceptions import AppError, NotFoundError
from rivulet.sdk import Operator, OperatorSpec
from rivulet.sdk.knowledge import ChunkingConfig
from rivulet.sdk.models import origin_of
from rivulet.sdk.ports import Chunk, Document, Int, Json
from rivulet.sdk.rules import requires_one_of
from rivulet.sdk.ui import ModelRef, SpaceRef
from rivulet_operators.rag._common import fail, knowledge_call, knowledge_of

if TYPE_CHECKING:
    from rivulet.sdk import RunContext
    from rivulet.sdk.knowledge import KnowledgeBase, Triplet

__all__ = ("SPEC", "GraphExtract", "Inputs", "Outputs", "Params")

SPEC = OperatorSpec(
    id="rag.graph_extract",
    category="rag",
    title="Extract knowledge graph",
    description="Have the model extract subject-predicate-object facts from chunks into a space's graph.",
    icon="network",
    tags=("rag", "knowledge", "graph", "triplets", "entities", "llm"),
    cacheable=False,
    input_rules=(requires_one_of("chunks", "documents", hint="the text to read"),),
)


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    space: Annotated[SpaceRef, Meta(description="The knowledge space whose graph receives the facts.")] = "docs"
    model: Annotated[ModelRef, Meta(description="The chat model that extracts the facts.")] = "default"
    batch_size: Annotated[int, Meta(ge=1, le=256, description="Chunks per call to the service.")] = 8
    create_space: Annotated[
        bool,
        Meta(description="Create the space (default embedding model and chunking) when it does not exist."),
    ] = False


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    chunks: Annotated[list[Chunk] | None, Meta(description="Chunks to read.")] = None
    documents: Annotated[list[Document] | None, Meta(description="Documents, split by the space's chunking.")] = None


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    triplets: Annotated[Json, Meta(description="The facts: [{subject, predicate, object, chunk_id}].")]
    entities: Annotated[Int, Meta(description="Distinct entities among the facts.")]


async def _chunks(ctx: RunContext, kb: KnowledgeBase, params: Params, inputs: Inputs) -> list[Chunk]:
    chunks = [c for c in inputs.chunks or [] if c.text.strip()]
    documents = [d for d in inputs.documents or [] if d.text.strip()]
    if documents:
        chunking = await _chunking(ctx, kb, params)
        chunks.extend(await asyncio.to_thread(kb.chunk, documents, chunking))
    return chunks


async def _chunking(ctx: RunContext, kb: KnowledgeBase, params: Params) -> ChunkingConfig:
    """The space's chunking (a space still to be created has the default chunking)."""
    try:
        space = await kb.space(params.space)
    except NotFoundError as exc:
        if not params.create_space:
            raise fail(SPEC, ctx, f"space {params.space!r} not found — create it under Knowledge") from exc
        return ChunkingConfig()
    except AppError as exc:
        raise fail(SPEC, ctx, f"space {params.space!r}: {exc.detail}") from exc
    return space.chunking


class GraphExtract(Operator[Params, Inputs, Outputs]):
    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> Outputs:
        kb = knowledge_of(SPEC, ctx)
        chunks = await _chunks(ctx, kb, params, inputs)
        if not chunks:
            raise fail(SPEC, ctx, "nothing to read: the chunks and documents inputs are empty")
        triplets: list[Triplet] = []
        for start in range(0, len(chunks), params.batch_size):
            if ctx.cancelled.is_set():
                raise fail(SPEC, ctx, "cancelled")
            batch = chunks[start : start + params.batch_size]
            call = kb.extract_graph(
                params.space, batch, model=params.model, origin=origin_of(ctx), create_space=params.create_space
            )
            report = await knowledge_call(SPEC, ctx, call, space=params.space)
            triplets.extend(report.triplets)
            await ctx.progress(start + len(batch), len(chunks))
        entities = {name.casefold() for t in triplets for name in (t.subject, t.object)}
        return Outputs(triplets=msgspec.to_builtins(triplets), entities=len(entities))
