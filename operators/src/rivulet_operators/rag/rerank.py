"""Re-order retrieved chunks by how well they answer the query, with a second, closer look.

Scorers:

- ``embedding``: cosine similarity of the query's and each chunk text's embedding (``embedding_model``).
- ``llm``: the chat ``model`` rates each chunk's relevance from 0 to 10 (one short call per chunk, at most
  ``max_concurrency`` at once). The first number in the answer counts (``7``, ``7/10``, ``{"score": 7}``,
  ``Relevance: 7.5``); an answer without one scores 0 and is marked ``metadata["rerank"]["parsed"] = false``.

Each chunk's ``score`` becomes the new score (0..1; the LLM's rating divided by 10) and
``metadata["rerank"]`` keeps the scorer, the new score and the retriever's score. Ties keep the input order.
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Annotated, Literal

import msgspec
from msgspec import Meta

from rivulet.lib.exceptions import AppError, OperatorError
from rivulet.sdk import Operator, OperatorSpec
from rivulet.sdk.models import ChatRequest, origin_of
from rivulet.sdk.ports import Chunk, Message, Text
from rivulet.sdk.ui import ModelRef, ui_hint
from rivulet_operators.rag._common import cosine, fail, models_of, with_metadata

if TYPE_CHECKING:
    from rivulet.sdk import RunContext
    from rivulet.sdk.models import ModelRegistry

__all__ = ("SPEC", "Inputs", "Outputs", "Params", "Rerank", "parse_rating")

SPEC = OperatorSpec(
    id="rag.rerank",
    category="rag",
    title="Rerank",
    description="Re-order chunks by relevance to the query (embedding similarity or an LLM judge).",
    icon="arrow-down-wide-narrow",
    tags=("rag", "knowledge", "rerank", "retrieval", "relevance"),
)

_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)")
_EMBED_BATCH = 64
_JUDGE_PROMPT = (
    "Rate how relevant the passage is to the question, from 0 (unrelated) to 10 (answers it). "
    "Reply with the number only."
)


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    scorer: Annotated[
        Literal["embedding", "llm"],
        Meta(description="embedding: cosine of query and chunk embeddings; llm: the chat model rates 0-10."),
    ] = "embedding"
    embedding_model: Annotated[
        ModelRef,
        Meta(description="Embedding model (embedding scorer).", extra_json_schema=ui_hint("model", kind="embedding")),
    ] = "default-embedding"
    model: Annotated[ModelRef, Meta(description="Chat model (llm scorer).")] = "default"
    top_k: Annotated[Annotated[int, Meta(ge=1, le=500)] | None, Meta(description="Keep the best k (empty: all).")] = (
        None
    )
    max_concurrency: Annotated[int, Meta(ge=1, le=32, description="LLM scorer: calls at once.")] = 4


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    query: Annotated[Text, Meta(description="The question the chunks should answer.")]
    chunks: Annotated[list[Chunk], Meta(description="Chunks to re-order (e.g. from rag.retrieve).")]


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    chunks: Annotated[list[Chunk], Meta(description="The chunks, most relevant first, with the new scores.")]


def parse_rating(answer: str) -> float | None:
    """The first number of a judge's answer clamped to 0..10, or ``None`` when it holds no number."""
    match = _NUMBER.search(answer)
    if match is None:
        return None
    return min(max(float(match.group(1)), 0.0), 10.0)


async def _embedding_scores(
    models: ModelRegistry, params: Params, query: str, texts: list[str], ctx: RunContext
) -> list[float]:
    everything = [query, *texts]
    vectors: list[list[float]] = []
    for start in range(0, len(everything), _EMBED_BATCH):
        result = await models.embed(
            params.embedding_model, everything[start : start + _EMBED_BATCH], origin=origin_of(ctx)
        )
        vectors.extend(result.vectors)
    if len(vectors) != len(everything):
        raise ValueError(f"the embedding model returned {len(vectors)} vectors for {len(everything)} texts")
    head, rest = vectors[0], vectors[1:]
    return await asyncio.to_thread(lambda: [cosine(head, v) for v in rest])


async def _llm_scores(
    models: ModelRegistry, params: Params, query: str, texts: list[str], ctx: RunContext
) -> list[float | None]:
    gate = asyncio.Semaphore(params.max_concurrency)
    done = 0

    async def rate(text: str) -> float | None:
        nonlocal done
        request = ChatRequest(
            messages=[
                Message(role="system", content=_JUDGE_PROMPT),
                Message(role="user", content=f"Question: {query}\n\nPassage:\n{text}\n\nRelevance (0-10):"),
            ],
            temperature=0.0,
            max_tokens=8,
        )
        async with gate:
            if ctx.cancelled.is_set():
                raise fail(SPEC, ctx, "cancelled")
            answer = (await models.chat(params.model, request, origin=origin_of(ctx))).text
        done += 1
        await ctx.progress(done, len(texts))
        return parse_rating(answer)

    return list(await asyncio.gather(*(rate(t) for t in texts)))


class Rerank(Operator[Params, Inputs, Outputs]):
    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> Outputs:
        if not inputs.query.strip():
            raise fail(SPEC, ctx, "the query is empty")
        if not inputs.chunks:
            return Outputs(chunks=[])
        models = models_of(SPEC, ctx)
        texts = [c.text for c in inputs.chunks]
        model = params.embedding_model if params.scorer == "embedding" else params.model
        try:
            if params.scorer == "embedding":
                scores: list[float | None] = list(await _embedding_scores(models, params, inputs.query, texts, ctx))
            else:
                scores = await _llm_scores(models, params, inputs.query, texts, ctx)
        except OperatorError:
            raise
        except (AppError, ValueError) as exc:
            detail = exc.detail if isinstance(exc, AppError) else str(exc)
            raise fail(SPEC, ctx, f"{params.scorer} scorer (model {model!r}) failed: {detail}") from exc
        scale = 10.0 if params.scorer == "llm" else 1.0
        rescored: list[tuple[float, int, Chunk]] = []
        for index, (chunk, raw) in enumerate(zip(inputs.chunks, scores, strict=True)):
            score = (raw or 0.0) / scale
            note = {"scorer": params.scorer, "score": score, "previous_score": chunk.score, "parsed": raw is not None}
            updated = with_metadata(chunk, rerank=note)
            rescored.append((score, index, msgspec.structs.replace(updated, score=score)))
        rescored.sort(key=lambda item: (-item[0], item[1]))
        ranked = [chunk for _, _, chunk in rescored]
        return Outputs(chunks=ranked[: params.top_k] if params.top_k else ranked)
