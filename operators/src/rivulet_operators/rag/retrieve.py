"""Find the chunks of a knowledge space that best answer a query.

Modes: ``vector`` (cosine similarity of embeddings, HNSW index), ``keyword`` (PostgreSQL full-text search) and
``hybrid`` (both, fused by reciprocal rank). ``filters`` keep chunks whose metadata equals the given values (a
list matches any of its items; ``source`` and ``document_id`` work too). ``mmr`` re-ranks candidates for
diversity. Each hit's ``metadata["retrievers"]`` says which retriever found it, with rank and score.

``context`` writes the hits as passages labelled with their chunk ids (``(source: <source> [<id>])``), ready for a
prompt; ``rag.answer`` cites those ids. Reading a space is never cached: a later ingestion changes the answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from msgspec import Meta

from rivulet.sdk import Operator, OperatorSpec
from rivulet.sdk.knowledge import SearchMode, SearchRequest
from rivulet.sdk.models import origin_of
from rivulet.sdk.ports import Chunk, Text
from rivulet.sdk.ui import SpaceRef, ui_hint
from rivulet_operators.rag._common import build_context, fail, knowledge_call, knowledge_of

if TYPE_CHECKING:
    from rivulet.sdk import RunContext

__all__ = ("SPEC", "Inputs", "Outputs", "Params", "Retrieve")

SPEC = OperatorSpec(
    id="rag.retrieve",
    category="rag",
    title="Retrieve",
    description="Search a knowledge space: vector, keyword or hybrid, with filters and MMR.",
    icon="search",
    tags=("rag", "knowledge", "search", "retrieval", "vector", "hybrid", "bm25"),
)


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    space: Annotated[SpaceRef, Meta(description="The knowledge space to search.")] = "docs"
    mode: Annotated[
        SearchMode, Meta(description="vector: embeddings; keyword: full text; hybrid: both, rank-fused.")
    ] = "hybrid"
    top_k: Annotated[int, Meta(ge=1, le=500, description="How many chunks to return.")] = 5
    min_score: Annotated[float | None, Meta(description="Drop hits scoring below this.")] = None
    filters: Annotated[
        dict[str, Any],
        Meta(
            description='Metadata equality filters, e.g. {"source": "handbook.pdf"}; a list matches any item.',
            extra_json_schema=ui_hint("json"),
        ),
    ] = msgspec.field(default_factory=dict[str, Any])
    mmr: Annotated[bool, Meta(description="Re-rank for diversity (maximal marginal relevance).")] = False
    mmr_lambda: Annotated[float, Meta(ge=0, le=1, description="MMR: 1 is pure relevance, 0 pure diversity.")] = 0.5
    budget_tokens: Annotated[
        Annotated[int, Meta(ge=16, le=1_000_000)] | None,
        Meta(description="Token budget of the context output (empty: all hits)."),
    ] = None


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    query: Annotated[Text, Meta(description="What to look for (a question or keywords).")]


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    chunks: Annotated[list[Chunk], Meta(description="The best chunks, best first.")]
    context: Annotated[Text, Meta(description="The chunks as passages labelled [chunk id], for a prompt.")]


class Retrieve(Operator[Params, Inputs, Outputs]):
    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> Outputs:
        query = inputs.query.strip()
        if not query:
            raise fail(SPEC, ctx, "the query is empty")
        if len(query) > 32_768:
            raise fail(SPEC, ctx, f"the query is too long ({len(query)} characters, at most 32768)")
        request = SearchRequest(
            query=query,
            mode=params.mode,
            top_k=params.top_k,
            filters=dict(params.filters),
            min_score=params.min_score,
            mmr=params.mmr,
            mmr_lambda=params.mmr_lambda,
        )
        kb = knowledge_of(SPEC, ctx)
        chunks = await knowledge_call(
            SPEC, ctx, kb.search(params.space, request, origin=origin_of(ctx)), space=params.space
        )
        context, _ = build_context(chunks, budget_tokens=params.budget_tokens)
        return Outputs(chunks=chunks, context=context)
