"""Split documents into chunks without storing them (to inspect a chunking, or to feed graph extraction).

Sizes are in tokens of the default embedding model's tokenizer. Strategies: ``tokens`` (fixed windows with
overlap), ``recursive`` (paragraphs, then lines, sentences, words), ``markdown`` (by headings, then recursive) and
``sentence`` (whole sentences); chunks of markdown, html and docx text carry the heading path in force at their
start in ``metadata["heading_path"]``, whatever the strategy. Splitting runs in a worker thread. A ``text`` input
becomes one document named by the ``name`` param.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import msgspec
from msgspec import Meta

from rivulet.sdk import Operator, OperatorSpec
from rivulet.sdk.knowledge import ChunkingConfig, ChunkStrategy
from rivulet.sdk.ports import Chunk, Document, Int, Text
from rivulet.sdk.rules import requires_one_of
from rivulet_operators.rag._common import documents_of, fail, knowledge_of

if TYPE_CHECKING:
    from rivulet.sdk import RunContext

__all__ = ("SPEC", "ChunkDocuments", "Inputs", "Outputs", "Params")

SPEC = OperatorSpec(
    id="rag.chunk",
    category="rag",
    title="Chunk documents",
    description="Split documents into chunks (tokens, recursive, markdown or sentence).",
    icon="scissors",
    tags=("rag", "knowledge", "chunk", "split", "documents"),
    input_rules=(requires_one_of("documents", "text", hint="what to split"),),
)

_DEFAULT = ChunkingConfig()


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    strategy: Annotated[
        ChunkStrategy,
        Meta(
            description="tokens: fixed windows; recursive: paragraphs, lines, sentences, words; markdown: by "
            "headings, then recursive; sentence: whole sentences."
        ),
    ] = _DEFAULT.strategy
    chunk_size: Annotated[int, Meta(ge=16, le=8192, description="Most tokens in one chunk.")] = _DEFAULT.chunk_size
    chunk_overlap: Annotated[int, Meta(ge=0, le=4096, description="Tokens repeated from the previous chunk.")] = (
        _DEFAULT.chunk_overlap
    )
    separators: Annotated[
        list[str] | None, Meta(description="Recursive split points, coarsest first (default: paragraphs ... words).")
    ] = None
    name: Annotated[str, Meta(min_length=1, max_length=512, description="Document name of the text input.")] = "text"

    def __post_init__(self) -> None:
        self.config()  # overlap < size, checked at compile time

    def config(self) -> ChunkingConfig:
        """The ``ChunkingConfig`` these params describe."""
        return ChunkingConfig(
            strategy=self.strategy,
            chunk_size=self.chunk_size,
            chunk_overlap=self.chunk_overlap,
            separators=self.separators,
        )


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    documents: Annotated[list[Document] | None, Meta(description="Documents to split.")] = None
    text: Annotated[Text | None, Meta(description="A text to split (one document named by the name param).")] = None


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    chunks: Annotated[list[Chunk], Meta(description="The chunks, document by document, in order.")]
    count: Annotated[Int, Meta(description="How many chunks.")]


class ChunkDocuments(Operator[Params, Inputs, Outputs]):
    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> Outputs:
        documents = documents_of(inputs.documents, inputs.text, params.name)
        if not documents:
            raise fail(SPEC, ctx, "nothing to split: the documents and text inputs are empty")
        kb = knowledge_of(SPEC, ctx)
        try:
            chunks = await asyncio.to_thread(kb.chunk, documents, params.config())
        except ValueError as exc:
            raise fail(SPEC, ctx, f"cannot split the documents: {exc}") from exc
        return Outputs(chunks=chunks, count=len(chunks))
