"""Add documents to a knowledge space: split by the space's chunking, embedded in batches, stored with pgvector.

A document's ``id`` is its name in the space. Re-ingesting an unchanged document is a no-op; a changed one
replaces its chunks. A document that fails (unreadable, empty, a model error) is listed in the report with its
error and the others are kept; the node fails only when every document failed. A ``text`` input becomes one
document named by the ``name`` input (or param). Progress (documents done of total) shows on the node.
Never cached: it writes.

``strategy``, ``chunk_size`` and ``chunk_overlap`` (tokens, as in ``rag.chunk``) split this node's documents
instead of the space's chunking; each one left unset keeps the space's value (the space itself is not changed).
A document stored before with another chunking is re-chunked and replaced. An overlap at least as large as the
size is refused when the flow is saved (both set) or when the node runs (one set, the other the space's).
``create_space`` creates a missing space with the default embedding model and chunking (as vector stores that
create their collection on first write do); unset, a missing space fails the node.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import msgspec
from msgspec import Meta

from rivulet.lib.exceptions import AppError, NotFoundError
from rivulet.sdk import Operator, OperatorSpec
from rivulet.sdk.knowledge import ChunkingConfig, ChunkStrategy
from rivulet.sdk.models import origin_of
from rivulet.sdk.ports import Document, Int, Json, Text
from rivulet.sdk.rules import requires_one_of
from rivulet.sdk.ui import SpaceRef
from rivulet_operators.rag._common import documents_of, fail, knowledge_call, knowledge_of

if TYPE_CHECKING:
    from rivulet.sdk import RunContext
    from rivulet.sdk.knowledge import IngestProgress, IngestReport, KnowledgeBase

__all__ = ("SPEC", "Ingest", "Inputs", "Outputs", "Params")

SPEC = OperatorSpec(
    id="rag.ingest",
    category="rag",
    title="Ingest into a space",
    description="Chunk, embed and store documents in a knowledge space.",
    icon="database-zap",
    tags=("rag", "knowledge", "ingest", "embedding", "vector", "documents"),
    cacheable=False,
    input_rules=(requires_one_of("documents", "text", hint="what to store"),),
)


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    space: Annotated[SpaceRef, Meta(description="The knowledge space to add to.")] = "docs"
    name: Annotated[
        str,
        Meta(min_length=1, max_length=512, description="Document name of the text input (same name: replaced)."),
    ] = "text"
    create_space: Annotated[
        bool,
        Meta(description="Create the space (default embedding model and chunking) when it does not exist."),
    ] = False
    strategy: Annotated[
        ChunkStrategy | None,
        Meta(
            description="Split these documents this way instead of by the space's strategy (tokens, recursive, "
            "markdown, sentence; unset: the space's)."
        ),
    ] = None
    chunk_size: Annotated[
        Annotated[int, Meta(ge=16, le=8192)] | None,
        Meta(description="Most tokens in one chunk, instead of the space's (unset: the space's)."),
    ] = None
    chunk_overlap: Annotated[
        Annotated[int, Meta(ge=0, le=4096)] | None,
        Meta(description="Tokens repeated from the previous chunk, instead of the space's (unset: the space's)."),
    ] = None

    def __post_init__(self) -> None:
        if self.chunk_size is not None and self.chunk_overlap is not None:
            self.chunking(ChunkingConfig())  # overlap < size, checked at compile time when both are set

    @property
    def overrides_chunking(self) -> bool:
        return self.strategy is not None or self.chunk_size is not None or self.chunk_overlap is not None

    def chunking(self, base: ChunkingConfig) -> ChunkingConfig:
        """``base`` (the space's chunking) with the params that are set; raises ``ValueError`` (overlap >= size)."""
        return ChunkingConfig(
            strategy=base.strategy if self.strategy is None else self.strategy,
            chunk_size=base.chunk_size if self.chunk_size is None else self.chunk_size,
            chunk_overlap=base.chunk_overlap if self.chunk_overlap is None else self.chunk_overlap,
            separators=base.separators,
        )


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    documents: Annotated[list[Document] | None, Meta(description="Documents to store (id = name).")] = None
    text: Annotated[Text | None, Meta(description="A text to store as one document.")] = None
    name: Annotated[Text | None, Meta(description="Name of the text's document (overrides the name param).")] = None


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    report: Annotated[Json, Meta(description="Per document: added, replaced, unchanged or failed (with the error).")]
    chunks: Annotated[Int, Meta(description="Chunks added.")]


def _summary(report: IngestReport) -> str:
    failed = report.failed
    return "; ".join(f"{item.name}: {item.error or 'failed'}" for item in failed[:5]) + (
        f" (and {len(failed) - 5} more)" if len(failed) > 5 else ""
    )


async def _chunking(ctx: RunContext, kb: KnowledgeBase, params: Params) -> ChunkingConfig:
    """The space's chunking with the params' overrides (a space still to be created has the default chunking)."""
    try:
        base = (await kb.space(params.space)).chunking
    except NotFoundError as exc:
        if not params.create_space:
            raise fail(SPEC, ctx, f"space {params.space!r} not found — create it under Knowledge") from exc
        base = ChunkingConfig()
    except AppError as exc:
        raise fail(SPEC, ctx, f"space {params.space!r}: {exc.detail}") from exc
    try:
        return params.chunking(base)
    except ValueError as exc:
        raise fail(SPEC, ctx, f"cannot split with the space's chunking and these params: {exc}") from exc


class Ingest(Operator[Params, Inputs, Outputs]):
    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> Outputs:
        name = (inputs.name or "").strip() or params.name
        documents = documents_of(inputs.documents, inputs.text, name)
        if not documents:
            raise fail(SPEC, ctx, "nothing to ingest: the documents and text inputs are empty")
        kb = knowledge_of(SPEC, ctx)

        async def on_progress(progress: IngestProgress) -> None:
            await ctx.progress(progress.documents_done, progress.documents_total)

        chunking = await _chunking(ctx, kb, params) if params.overrides_chunking else None
        call = kb.ingest(
            params.space,
            documents,
            on_progress=on_progress,
            origin=origin_of(ctx),
            chunking=chunking,
            create_space=params.create_space,
        )
        report = await knowledge_call(SPEC, ctx, call, space=params.space)
        if report.items and len(report.failed) == len(report.items):
            raise fail(SPEC, ctx, f"no document could be ingested into {params.space!r}: {_summary(report)}")
        if report.failed:
            ctx.log.warning(
                "some documents failed", extra={"space": params.space, "failed": [i.name for i in report.failed]}
            )
        return Outputs(report=msgspec.to_builtins(report), chunks=report.chunks_added)
