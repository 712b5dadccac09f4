"""Retrieve from a space's knowledge graph: the facts around the entities a query names, plus vector hits.

The service finds the entities the query mentions, walks ``depth`` relations out from them, and returns those
facts as chunks (``metadata["retrievers"]["graph"]``, the fact as text, the source chunk's id) combined with the
best passages of a vector search, ``top_k`` in all. ``context`` writes them as passages labelled with their ids
for ``rag.answer``. Reading a space is never cached.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import msgspec
from msgspec import Meta

from rivulet.sdk import Operator, OperatorSpec
from rivulet.sdk.models import origin_of
from rivulet.sdk.ports import Chunk, Text
from rivulet.sdk.ui import SpaceRef
from rivulet_operators.rag._common import build_context, fail, knowledge_call, knowledge_of

if TYPE_CHECKING:
    from rivulet.sdk import RunContext

__all__ = ("SPEC", "GraphRetrieve", "Inputs", "Outputs", "Params")

SPEC = OperatorSpec(
    id="rag.graph_retrieve",
    category="rag",
    title="Graph retrieve",
    description="Facts around the entities a query names, combined with vector hits.",
    icon="waypoints",
    tags=("rag", "knowledge", "graph", "retrieval", "entities"),
)


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    space: Annotated[SpaceRef, Meta(description="The knowledge space to search.")] = "docs"
    depth: Annotated[int, Meta(ge=1, le=3, description="Relations to follow out from the named entities.")] = 1
    top_k: Annotated[int, Meta(ge=1, le=200, description="How many facts and passages to return.")] = 10


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    query: Annotated[Text, Meta(description="The question; the entities it names are looked up.")]


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    chunks: Annotated[list[Chunk], Meta(description="Facts and passages, best first.")]
    context: Annotated[Text, Meta(description="The chunks as passages labelled [chunk id], for a prompt.")]


class GraphRetrieve(Operator[Params, Inputs, Outputs]):
    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> Outputs:
        query = inputs.query.strip()
        if not query:
            raise fail(SPEC, ctx, "the query is empty")
        kb = knowledge_of(SPEC, ctx)
        call = kb.graph_search(params.space, query, depth=params.depth, top_k=params.top_k, origin=origin_of(ctx))
        chunks = await knowledge_call(SPEC, ctx, call, space=params.space)
        context, _ = build_context(chunks)
        return Outputs(chunks=chunks, context=context)
