"""Retrieval (RAG) operators: load, chunk, ingest, retrieve, rerank, build a context and answer with citations.

Documents go into knowledge spaces; retrieval is vector, keyword, hybrid or graph based; contexts respect a
token budget.

They reach knowledge spaces only through ``ctx.service(KnowledgeBase)`` (``rivulet.sdk.knowledge``) and models
through ``ctx.service(ModelRegistry)``. Passages are labelled with their chunk ids and answers cite them as
``[<chunk id>]``.
"""

from rivulet_operators.rag import (
    answer,
    chunk,
    context,
    graph_extract,
    graph_retrieve,
    ingest,
    load_url,
    rerank,
    retrieve,
)

__all__ = ("OPERATORS",)

OPERATORS = (
    load_url.LoadUrl,
    chunk.ChunkDocuments,
    ingest.Ingest,
    retrieve.Retrieve,
    rerank.Rerank,
    context.BuildContext,
    answer.Answer,
    graph_extract.GraphExtract,
    graph_retrieve.GraphRetrieve,
)
