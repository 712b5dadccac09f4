"""rag.retrieve, rag.rerank, rag.context, rag.graph_extract and rag.graph_retrieve with fake services."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from rivulet.lib.exceptions import OperatorError
from rivulet.sdk.knowledge import ChunkingConfig, KnowledgeBase, SearchRequest
from rivulet.sdk.models import ModelRegistry
from rivulet.sdk.ports import Chunk, Document
from rivulet_operators.rag import context as context_op
from rivulet_operators.rag import graph_extract, graph_retrieve, rerank, retrieve
from tests.unit.operators.conftest import FakeContext, params_of, run_operator
from tests.unit.operators.rag.fakes import FakeKnowledge, corpus
from tests.unit.providers.fakes import FakeModels


def context(kb: FakeKnowledge | None = None, models: Any = None) -> FakeContext:
    services: dict[type, Any] = {}
    if kb is not None:
        services[KnowledgeBase] = kb
    if models is not None:
        services[ModelRegistry] = models
    return FakeContext(services=services)


async def test_retrieve_sends_every_param_and_writes_a_labelled_context() -> None:
    kb = FakeKnowledge(spaces={"docs": corpus()})
    params = {
        "space": "docs", "mode": "keyword", "top_k": 2, "min_score": 0.1, "filters": {"lang": "en"},
        "mmr": True, "mmr_lambda": 0.7,
    }  # fmt: skip
    out = await run_operator(
        retrieve.Retrieve, params, {"query": "  Who wrote for the Analytical Engine? "}, context(kb)
    )
    assert [c.id for c in out["chunks"]] == ["c-ada", "c-babbage"]
    assert out["chunks"][0].metadata["retrievers"] == {"keyword": {"rank": 0, "score": out["chunks"][0].score}}
    assert out["context"].startswith(
        "Ada Lovelace wrote the first program for the Analytical Engine.\n(source: ada.md [c-ada])"
    )
    assert "(source: engine.pdf [c-babbage])" in out["context"]
    space, request = kb.searches[0]
    assert space == "docs"
    assert request == SearchRequest(
        query="Who wrote for the Analytical Engine?", mode="keyword", top_k=2, filters={"lang": "en"},
        min_score=0.1, mmr=True, mmr_lambda=0.7,
    )  # fmt: skip


async def test_retrieve_defaults_to_hybrid_and_reads_a_service() -> None:
    kb = FakeKnowledge(spaces={"docs": corpus()})
    assert params_of(retrieve.Retrieve, {}).mode == "hybrid"
    out = await run_operator(retrieve.Retrieve, {}, {"query": "green tea"}, context(kb))
    assert [c.id for c in out["chunks"]] == ["c-tea"]
    assert kb.searches[0][1].mode == "hybrid"


async def test_retrieve_errors_are_located() -> None:
    with pytest.raises(OperatorError, match="space 'nope' not found — create it under Knowledge") as info:
        await run_operator(retrieve.Retrieve, {"space": "nope"}, {"query": "x"}, context(FakeKnowledge()))
    assert info.value.extra == {"operator_id": "rag.retrieve", "node_id": "node-1"}
    with pytest.raises(OperatorError, match="the query is empty"):
        await run_operator(retrieve.Retrieve, {}, {"query": " "}, context(FakeKnowledge()))
    with pytest.raises(msgspec.ValidationError, match=r"Expected `int` >= 1 - at `\$.top_k`"):
        params_of(retrieve.Retrieve, {"top_k": 0})
    with pytest.raises(msgspec.ValidationError, match=r"Invalid enum value 'fuzzy' - at `\$.mode`"):
        params_of(retrieve.Retrieve, {"mode": "fuzzy"})


async def test_rerank_by_embedding_orders_by_cosine_and_keeps_the_old_score() -> None:
    class Vectors(FakeModels):
        async def embed(self, model: str, texts: Any, *, origin: Any = None) -> Any:
            from rivulet.sdk.models import EmbeddingResult

            table = {"query": [1.0, 0.0], "near": [0.9, 0.1], "far": [0.0, 1.0], "mid": [0.5, 0.5]}
            self.embedded.append(list(texts))
            return EmbeddingResult(vectors=[table[t] for t in texts], model=model, dimensions=2)

    models = Vectors()
    chunks = [Chunk(id=t, document_id="d", text=t, score=0.1 * n) for n, t in enumerate(["far", "mid", "near"])]
    out = await run_operator(
        rerank.Rerank, {"embedding_model": "mini", "top_k": 2}, {"query": "query", "chunks": chunks},
        context(models=models),
    )  # fmt: skip
    assert [c.id for c in out["chunks"]] == ["near", "mid"]
    assert out["chunks"][0].score == pytest.approx(0.9 / (0.82**0.5))
    assert out["chunks"][0].metadata["rerank"]["previous_score"] == pytest.approx(0.2)
    assert out["chunks"][0].metadata["rerank"]["scorer"] == "embedding"
    assert models.embedded == [["query", "far", "mid", "near"]]


async def test_rerank_by_llm_parses_ratings_robustly() -> None:
    models = FakeModels(answers=["Relevance: 3", '{"score": 9}', "I cannot say", "12/10"])
    chunks = [Chunk(id=f"c{n}", document_id="d", text=f"text {n}") for n in range(4)]
    ctx = context(models=models)
    out = await run_operator(
        rerank.Rerank, {"scorer": "llm", "model": "judge", "max_concurrency": 1}, {"query": "q", "chunks": chunks}, ctx
    )
    assert [(c.id, c.score) for c in out["chunks"]] == [("c3", 1.0), ("c1", 0.9), ("c0", 0.3), ("c2", 0.0)]
    assert out["chunks"][-1].metadata["rerank"]["parsed"] is False
    assert {model for model, _ in models.requests} == {"judge"}
    assert "Passage:\ntext 0" in models.requests[0][1].messages[-1].content
    assert ctx.progress_calls[-1] == (4, 4)


def test_parse_rating() -> None:
    assert rerank.parse_rating("7.5 out of 10") == 7.5
    assert rerank.parse_rating("-3") == 3.0
    assert rerank.parse_rating("none") is None


async def test_rerank_errors_are_located() -> None:
    class Broken(FakeModels):
        async def embed(self, model: str, texts: Any, *, origin: Any = None) -> Any:
            from rivulet.lib.exceptions import NotFoundError

            raise NotFoundError(f"model {model!r} not found")

    chunks = corpus()
    with pytest.raises(OperatorError, match="embedding scorer \\(model 'x'\\) failed: model 'x' not found"):
        await run_operator(
            rerank.Rerank, {"embedding_model": "x"}, {"query": "q", "chunks": chunks}, context(models=Broken())
        )
    with pytest.raises(OperatorError, match="no model registry"):
        await run_operator(rerank.Rerank, {}, {"query": "q", "chunks": chunks}, context())
    assert (await run_operator(rerank.Rerank, {}, {"query": "q", "chunks": []}, context()))["chunks"] == []


async def test_context_keeps_what_fits_and_counts_tokens() -> None:
    out = await run_operator(
        context_op.BuildContext,
        {"budget_tokens": 40, "template": "({n}) [{id}] {text}"},
        {"chunks": corpus()},
    )
    assert out["context"] == (
        "(1) [c-ada] Ada Lovelace wrote the first program for the Analytical Engine.\n\n"
        "(2) [c-tea] Green tea is brewed at 80 degrees for two minutes."
    )
    assert [c.id for c in out["chunks"]] == ["c-ada", "c-tea"]
    assert 0 < out["tokens"] <= 40


def test_context_params_are_checked() -> None:
    with pytest.raises(msgspec.ValidationError, match=r"must contain \{text\}"):
        params_of(context_op.BuildContext, {"template": "[{id}] only"})
    with pytest.raises(msgspec.ValidationError, match=r"\$.budget_tokens"):
        params_of(context_op.BuildContext, {"budget_tokens": 1})


async def test_graph_extract_batches_chunks_and_documents_with_progress() -> None:
    kb = FakeKnowledge()
    ctx = context(kb)
    documents = [Document(id="doc", text="Ada met Babbage.\n\nBabbage built engines.")]
    out = await run_operator(
        graph_extract.GraphExtract,
        {"batch_size": 2, "model": "extractor"},
        {"chunks": corpus()[:1], "documents": documents},
        ctx,
    )
    assert kb.graph_calls == [["c-ada", "doc:0"], ["doc:1"]]
    assert kb.chunkings[0].strategy == "sentence"  # the space's chunking
    assert out["triplets"][0] == {"subject": "Ada", "predicate": "relates to", "object": "Engine", "chunk_id": "c-ada"}
    assert out["entities"] == 4  # ada, engine, babbage, engines
    assert ctx.progress_calls == [(2, 3), (3, 3)]


async def test_graph_extract_errors_are_located() -> None:
    with pytest.raises(OperatorError, match="nothing to read"):
        await run_operator(graph_extract.GraphExtract, {}, {"chunks": []}, context(FakeKnowledge()))
    with pytest.raises(OperatorError, match="space 'docs': model 'broken' failed: timeout"):
        await run_operator(
            graph_extract.GraphExtract, {"model": "broken"}, {"chunks": corpus()}, context(FakeKnowledge())
        )
    with pytest.raises(OperatorError, match="space 'kg' not found"):
        await run_operator(
            graph_extract.GraphExtract, {"space": "kg"}, {"documents": [Document(id="d", text="a b")]},
            context(FakeKnowledge()),
        )  # fmt: skip


async def test_graph_extract_does_not_create_spaces_by_default() -> None:
    kb = FakeKnowledge()
    await run_operator(graph_extract.GraphExtract, {}, {"chunks": corpus()[:1]}, context(kb))
    assert kb.graph_spaces == [("docs", False)]
    with pytest.raises(OperatorError, match="space 'kg' not found — create it under Knowledge"):
        await run_operator(graph_extract.GraphExtract, {"space": "kg"}, {"chunks": corpus()[:1]}, context(kb))
    assert "kg" not in kb.spaces


async def test_graph_extract_creates_a_missing_space_when_asked() -> None:
    kb = FakeKnowledge()
    documents = [Document(id="doc", text="Ada met Babbage.\n\nBabbage built engines.")]
    out = await run_operator(
        graph_extract.GraphExtract, {"space": "kg", "create_space": True}, {"documents": documents}, context(kb)
    )
    assert kb.chunkings == [ChunkingConfig()]  # a space still to be created has the default chunking
    assert kb.graph_spaces == [("kg", True)]
    assert "kg" in kb.spaces
    assert len(out["triplets"]) == 2


async def test_graph_retrieve_returns_facts_and_a_context() -> None:
    out = await run_operator(
        graph_retrieve.GraphRetrieve, {"depth": 2, "top_k": 3}, {"query": "Ada?"}, context(FakeKnowledge())
    )
    assert [c.id for c in out["chunks"]] == ["fact-1"]
    assert out["context"] == "Ada -wrote-> notes (depth 2)\n(source: graph [fact-1])"
    with pytest.raises(OperatorError, match="space 'x' not found"):
        await run_operator(graph_retrieve.GraphRetrieve, {"space": "x"}, {"query": "Ada?"}, context(FakeKnowledge()))
    with pytest.raises(msgspec.ValidationError, match=r"\$.depth"):
        params_of(graph_retrieve.GraphRetrieve, {"depth": 5})
