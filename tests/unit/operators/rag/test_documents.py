"""rag.load_url, rag.chunk and rag.ingest against a fake KnowledgeBase."""

from __future__ import annotations

import msgspec
import pytest

from rivulet.lib.exceptions import OperatorError
from rivulet.sdk.knowledge import ChunkingConfig, KnowledgeBase
from rivulet.sdk.ports import Document
from rivulet_operators.rag import chunk, ingest, load_url
from tests.unit.operators.conftest import FakeContext, params_of, run_operator
from tests.unit.operators.rag.fakes import FakeKnowledge


def context(kb: FakeKnowledge) -> FakeContext:
    return FakeContext(services={KnowledgeBase: kb})


async def test_load_url_loads_param_and_inputs_once_each_with_progress() -> None:
    kb = FakeKnowledge()
    ctx = context(kb)
    out = await run_operator(
        load_url.LoadUrl,
        {"url": "https://a.example/x"},
        {"url": "https://b.example/y", "urls": ["https://a.example/x", "https://c.example/z"]},
        ctx,
    )
    assert [d.id for d in out["documents"]] == ["https://a.example/x", "https://b.example/y", "https://c.example/z"]
    assert out["count"] == 3
    assert ctx.progress_calls == [(1, 3), (2, 3), (3, 3)]
    assert {private for _, private in kb.loaded} == {False}


async def test_load_url_refusal_is_located_and_names_the_url() -> None:
    kb = FakeKnowledge()
    with pytest.raises(OperatorError, match=r"http://127\.0\.0\.1/admin: 127\.0\.0\.1 is a loopback") as info:
        await run_operator(load_url.LoadUrl, {"url": "http://127.0.0.1/admin"}, {}, context(kb))
    assert info.value.extra == {"operator_id": "rag.load_url", "node_id": "node-1"}
    out = await run_operator(
        load_url.LoadUrl, {"url": "http://127.0.0.1/admin", "allow_private_network": True}, {}, context(kb)
    )
    assert out["count"] == 1


async def test_load_url_without_a_url_or_service_says_so() -> None:
    with pytest.raises(OperatorError, match="no URL"):
        await run_operator(load_url.LoadUrl, {}, {"urls": ["  "]}, context(FakeKnowledge()))
    with pytest.raises(OperatorError, match="no knowledge service in this process"):
        await run_operator(load_url.LoadUrl, {"url": "https://a.example"}, {}, FakeContext())


async def test_chunk_splits_documents_and_text_with_the_params_config() -> None:
    kb = FakeKnowledge()
    out = await run_operator(
        chunk.ChunkDocuments,
        {"strategy": "markdown", "chunk_size": 100, "chunk_overlap": 10, "name": "notes.md"},
        {"documents": [Document(id="a", text="one\n\ntwo")], "text": "three"},
        context(kb),
    )
    assert [(c.id, c.text) for c in out["chunks"]] == [("a:0", "one"), ("a:1", "two"), ("notes.md:0", "three")]
    assert out["count"] == 3
    assert kb.chunkings == [ChunkingConfig(strategy="markdown", chunk_size=100, chunk_overlap=10)]


def test_chunk_params_reject_an_overlap_as_large_as_the_chunk() -> None:
    with pytest.raises(msgspec.ValidationError, match=r"chunk_overlap \(50\) must be smaller than chunk_size \(50\)"):
        params_of(chunk.ChunkDocuments, {"chunk_size": 50, "chunk_overlap": 50})


async def test_chunk_of_nothing_is_a_located_error() -> None:
    with pytest.raises(OperatorError, match="nothing to split") as info:
        await run_operator(chunk.ChunkDocuments, {}, {"text": "   ", "documents": []}, context(FakeKnowledge()))
    assert info.value.extra["operator_id"] == "rag.chunk"


async def test_ingest_reports_per_document_and_progress() -> None:
    kb = FakeKnowledge()
    ctx = context(kb)
    documents = [Document(id="a.md", text="one\n\ntwo"), Document(id="bad.pdf", text="FAIL")]
    out = await run_operator(
        ingest.Ingest, {"space": "docs"}, {"documents": documents, "text": "three", "name": "pasted"}, ctx
    )
    assert out["chunks"] == 3
    report = out["report"]
    assert report["space"] == "docs"
    assert [(i["name"], i["status"]) for i in report["items"]] == [
        ("a.md", "added"), ("bad.pdf", "failed"), ("pasted", "added"),
    ]  # fmt: skip
    assert report["items"][1]["error"] == "unreadable"
    assert ctx.progress_calls == [(1, 3), (2, 3), (3, 3)]
    assert [c.document_id for c in kb.spaces["docs"]] == ["a.md", "a.md", "pasted"]


async def test_ingest_uses_the_name_param_for_text() -> None:
    kb = FakeKnowledge()
    await run_operator(ingest.Ingest, {"name": "faq"}, {"text": "Q and A"}, context(kb))
    assert kb.spaces["docs"][0].document_id == "faq"


async def test_ingest_fails_when_every_document_failed() -> None:
    with pytest.raises(OperatorError, match=r"no document could be ingested into 'docs': bad\.pdf: unreadable"):
        await run_operator(
            ingest.Ingest, {}, {"documents": [Document(id="bad.pdf", text="FAIL")]}, context(FakeKnowledge())
        )


async def test_ingest_into_a_missing_space_says_where_to_create_it() -> None:
    with pytest.raises(OperatorError, match="space 'handbook' not found — create it under Knowledge") as info:
        await run_operator(ingest.Ingest, {"space": "handbook"}, {"text": "x"}, context(FakeKnowledge()))
    assert info.value.extra == {"operator_id": "rag.ingest", "node_id": "node-1"}


async def test_ingest_uses_the_space_chunking_and_does_not_create_spaces_by_default() -> None:
    kb = FakeKnowledge()
    await run_operator(ingest.Ingest, {}, {"text": "x"}, context(kb))
    assert kb.ingested == [("docs", None, False)]


async def test_ingest_overrides_the_space_chunking_param_by_param() -> None:
    kb = FakeKnowledge()  # the fake space splits into sentences of 64 tokens without overlap
    await run_operator(ingest.Ingest, {"chunk_size": 128, "chunk_overlap": 13}, {"text": "x"}, context(kb))
    await run_operator(ingest.Ingest, {"strategy": "tokens"}, {"text": "x"}, context(kb))
    await run_operator(
        ingest.Ingest, {"strategy": "markdown", "chunk_size": 300, "chunk_overlap": 30}, {"text": "x"}, context(kb)
    )
    assert [chunking for _, chunking, _ in kb.ingested] == [
        ChunkingConfig(strategy="sentence", chunk_size=128, chunk_overlap=13),
        ChunkingConfig(strategy="tokens", chunk_size=64, chunk_overlap=0),
        ChunkingConfig(strategy="markdown", chunk_size=300, chunk_overlap=30),
    ]


def test_ingest_chunk_params_are_checked_together_when_both_are_set() -> None:
    with pytest.raises(msgspec.ValidationError, match=r"chunk_overlap \(64\) must be smaller than chunk_size \(64\)"):
        params_of(ingest.Ingest, {"chunk_size": 64, "chunk_overlap": 64})
    with pytest.raises(msgspec.ValidationError, match=r">= 16 - at `\$.chunk_size`"):
        params_of(ingest.Ingest, {"chunk_size": 8})
    assert params_of(ingest.Ingest, {"chunk_overlap": 100}).chunk_size is None  # checked with the space's size


async def test_ingest_an_overlap_too_large_for_the_space_size_is_a_located_error() -> None:
    kb = FakeKnowledge()
    with pytest.raises(OperatorError, match=r"chunk_overlap \(100\) must be smaller than chunk_size \(64\)") as info:
        await run_operator(ingest.Ingest, {"chunk_overlap": 100}, {"text": "x"}, context(kb))
    assert info.value.extra == {"operator_id": "rag.ingest", "node_id": "node-1"}
    assert kb.ingested == []


async def test_ingest_creates_a_missing_space_when_asked() -> None:
    kb = FakeKnowledge()
    out = await run_operator(
        ingest.Ingest, {"space": "fresh", "create_space": True, "chunk_size": 128}, {"text": "a\n\nb"}, context(kb)
    )
    assert out["chunks"] == 2
    # a space still to be created has the default chunking: the override applies to it
    assert kb.ingested == [("fresh", ChunkingConfig(chunk_size=128), True)]
    assert [c.text for c in kb.spaces["fresh"]] == ["a", "b"]


async def test_ingest_chunk_overrides_into_a_missing_space_say_where_to_create_it() -> None:
    with pytest.raises(OperatorError, match="space 'fresh' not found — create it under Knowledge"):
        await run_operator(
            ingest.Ingest, {"space": "fresh", "chunk_size": 128}, {"text": "x"}, context(FakeKnowledge())
        )


def test_ingest_is_not_cacheable() -> None:
    assert ingest.SPEC.cacheable is False
    assert load_url.SPEC.cacheable is False
