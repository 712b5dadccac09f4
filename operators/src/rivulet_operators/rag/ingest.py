"""Add documents to a knowledge space: split by the space's chunking, embedded in batches, stored with pgvector.

A document's ``id`` is its name in the space. Re-ingesting an unchanged document is a no-op; a changed one
replaces its chunks. A document that fails (unreadable, empty, a model error) is listed in the report with its
error and the others are kept; the node fails only when every document failed. A ``text`` input becomes one
document named by the ``name`` input (or param). Progress (documents done of total) shows on the node.
Never cached: it writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import msgspec
from msgspec import Meta

from rivulet.sdk import Operator, OperatorSpec
from rivulet.sdk.models import origin_of
from rivulet.sdk.ports import Document, Int, Json, Text
from rivulet.sdk.rules import requires_one_of
from rivulet.sdk.ui import SpaceRef
from rivulet_operators.rag._common import documents_of, fail, knowledge_call, knowledge_of

if TYPE_CHECKING:
    from rivulet.sdk import RunContext
    from rivulet.sdk.knowledge import IngestProgress, IngestReport

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

        call = kb.ingest(params.space, documents, on_progress=on_progress, origin=origin_of(ctx))
        report = await knowledge_call(SPEC, ctx, call, space=params.space)
        if report.items and len(report.failed) == len(report.items):
            raise fail(SPEC, ctx, f"no document could be ingested into {params.space!r}: {_summary(report)}")
        if report.failed:
            ctx.log.warning(
                "some documents failed", extra={"space": params.space, "failed": [i.name for i in report.failed]}
            )
        return Outputs(report=msgspec.to_builtins(report), chunks=report.chunks_added)
