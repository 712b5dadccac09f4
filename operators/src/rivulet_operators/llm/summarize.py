"""Summarise long text by map-reduce: summarise each chunk, then summarise the summaries until one is left.

Chunks split on paragraph, then sentence, then word boundaries (``chunk_chars`` each, ``overlap_chars``
shared). Chunk summaries run concurrently (the model's own concurrency limit still applies); progress is
reported per chunk.
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Annotated

import msgspec
from msgspec import Meta

from rivulet.sdk import Operator, OperatorSpec
from rivulet.sdk.models import ChatRequest, origin_of
from rivulet.sdk.ports import Int, Message, Text
from rivulet.sdk.ui import ModelRef, PromptText
from rivulet_operators.llm._common import fail, models_of

if TYPE_CHECKING:
    from rivulet.sdk import RunContext
    from rivulet.sdk.models import ModelRegistry

__all__ = ("SPEC", "Inputs", "Outputs", "Params", "Summarize", "split_text")

SPEC = OperatorSpec(
    id="llm.summarize",
    category="llm",
    title="Summarise",
    description="Summarise long text: chunks are summarised, then the summaries (map-reduce).",
    icon="list-collapse",
    tags=("llm", "summary", "map-reduce", "long text"),
    cacheable=False,
)

_BOUNDARIES = (re.compile(r"\n\s*\n"), re.compile(r"(?<=[.!?])\s+"), re.compile(r"\s+"))


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    model: Annotated[ModelRef, Meta(description="A configured chat model.")] = "default"
    instructions: Annotated[PromptText, Meta(max_length=10_000)] = "Summarise the text in a few sentences."
    chunk_chars: Annotated[int, Meta(ge=200, le=200_000, description="Size of a chunk (characters).")] = 4000
    overlap_chars: Annotated[int, Meta(ge=0, le=10_000)] = 200
    max_tokens: Annotated[int, Meta(ge=16, le=16_384, description="Length of each summary.")] = 256
    temperature: Annotated[float, Meta(ge=0, le=2)] = 0.2
    max_concurrency: Annotated[int, Meta(ge=1, le=64)] = 4


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    text: Annotated[Text, Meta(description="The text to summarise.")]


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    summary: Annotated[Text, Meta(description="The final summary.")]
    chunks: Annotated[Int, Meta(description="Chunks the text was split into.")]


def _pieces(text: str, limit: int, level: int = 0) -> list[str]:
    if len(text) <= limit:
        return [text]
    if level >= len(_BOUNDARIES):
        return [text[i : i + limit] for i in range(0, len(text), limit)]
    pieces: list[str] = []
    for part in _BOUNDARIES[level].split(text):
        pieces.extend(_pieces(part, limit, level + 1) if len(part) > limit else [part])
    return pieces


def split_text(text: str, chunk_chars: int, overlap_chars: int = 0) -> list[str]:
    """Split ``text`` into chunks of at most ``chunk_chars`` (+ overlap) on natural boundaries."""
    chunks: list[str] = []
    current = ""
    for piece in _pieces(text.strip(), chunk_chars):
        if current and len(current) + len(piece) + 1 > chunk_chars:
            chunks.append(current)
            current = current[-overlap_chars:] if overlap_chars else ""
        current = f"{current} {piece}".strip() if current else piece
    if current.strip():
        chunks.append(current)
    return chunks


class Summarize(Operator[Params, Inputs, Outputs]):
    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs

    async def _summary(self, models: ModelRegistry, ctx: RunContext, params: Params, text: str) -> str:
        request = ChatRequest(
            messages=[Message(role="system", content=params.instructions), Message(role="user", content=text)],
            temperature=params.temperature,
            max_tokens=params.max_tokens,
        )
        return (await models.chat(params.model, request, origin=origin_of(ctx))).text.strip()

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> Outputs:
        if not inputs.text.strip():
            raise fail(SPEC, ctx, "the text input is empty")
        models = models_of(SPEC, ctx)
        chunks = split_text(inputs.text, params.chunk_chars, params.overlap_chars)
        limit = asyncio.Semaphore(params.max_concurrency)
        done = 0
        level = chunks
        while True:
            total = len(level)

            async def one(text: str, total: int = total) -> str:
                nonlocal done
                async with limit:
                    summary = await self._summary(models, ctx, params, text)
                done += 1
                await ctx.progress(done, done + total - 1)
                return summary

            summaries = await asyncio.gather(*(one(text) for text in level))
            if len(summaries) == 1:
                return Outputs(summary=summaries[0], chunks=len(chunks))
            level = split_text("\n\n".join(summaries), params.chunk_chars, 0)
            if len(level) >= len(summaries):  # summaries do not shrink: combine pairwise
                level = ["\n\n".join(summaries[i : i + 2]) for i in range(0, len(summaries), 2)]
