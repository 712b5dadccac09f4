"""KnowledgeService on the memory store with a fake model registry: ingestion (batching, idempotence, replacement,
failure isolation, progress, cancellation), search (vector, keyword, hybrid, filters, MMR, min_score) and graph RAG.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from rivulet.knowledge.graph import parse_triplets
from rivulet.knowledge.ingest import IngestOptions, SourceFile
from rivulet.knowledge.service import KnowledgeService, RunKnowledge
from rivulet.lib.exceptions import ModelError, NotFoundError, ValidationError
from rivulet.sdk.knowledge import ChunkingConfig, IngestProgress, KnowledgeBase, SearchRequest
from rivulet.sdk.models import CallOrigin, ChatChunk, ChatRequest, ChatResult, EmbeddingResult
from rivulet.sdk.net import BlockedAddressError
from rivulet.sdk.ports import Chunk, Document
from rivulet.storage.memory_knowledge import MemoryKnowledgeStore

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Sequence
    from pathlib import Path

    from rivulet.storage.base import SpaceRecord


DIMS = 1024


def embed_text(text: str, dims: int = DIMS) -> list[float]:
    """A bag-of-words vector: each word hashed to a dimension (texts sharing words point the same way)."""
    vector = [0.0] * dims
    for word in re.findall(r"\w+", text.lower()):
        vector[int(hashlib.blake2b(word.encode(), digest_size=4).hexdigest(), 16) % dims] += 1.0
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector] if any(vector) else [1.0] + [0.0] * (dims - 1)


@dataclass
class FakeModels:
    """A ``ModelRegistry``: hash embeddings (model ``wide`` gives 64 dimensions), scripted chat answers."""

    answers: list[str] = field(default_factory=lambda: ['{"triplets": []}'])
    embedded: list[list[str]] = field(default_factory=list[list[str]])
    chats: list[ChatRequest] = field(default_factory=list[ChatRequest])
    gate: asyncio.Event | None = None
    delay: float = 0.0
    entered: asyncio.Event = field(default_factory=asyncio.Event)

    async def embed(self, model: str, texts: Sequence[str], *, origin: CallOrigin | None = None) -> EmbeddingResult:
        self.embedded.append(list(texts))
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        await asyncio.sleep(self.delay)
        if model == "missing":
            raise NotFoundError("model 'missing' not found")
        if any("EMBED-FAIL" in t for t in texts):
            raise ModelError("model 'default-embedding' failed: the input is poisoned")
        dims = 64 if model == "wide" else DIMS
        return EmbeddingResult(vectors=[embed_text(t, dims) for t in texts], model=model, dimensions=dims)

    async def chat(self, model: str, request: ChatRequest, *, origin: CallOrigin | None = None) -> ChatResult:
        self.chats.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if answer == "ERROR":
            raise ModelError("model 'default' failed: timeout")
        return ChatResult(text=answer, model=model)

    async def stream(
        self, model: str, request: ChatRequest, *, origin: CallOrigin | None = None
    ) -> AsyncGenerator[ChatChunk]:
        raise NotImplementedError
        yield ChatChunk()

    @property
    def texts_embedded(self) -> int:
        return sum(len(batch) for batch in self.embedded)


SENTENCES = ChunkingConfig(strategy="sentence", chunk_size=16, chunk_overlap=0)

DOCS = {
    "passwords.md": "# Accounts\n\nTo reset your password open Settings, choose Security and press Reset password.",
    "holidays.txt": "Employees get twenty-five days of paid holiday each year. Unused days expire in March.",
    "expenses.txt": "Travel expenses are refunded within ten days when the receipt is uploaded to the portal.",
}


def documents(**changes: str) -> list[Document]:
    texts = {**DOCS, **changes}
    return [Document(id=name, text=text, metadata={"source": name}) for name, text in texts.items()]


@pytest.fixture
def models() -> FakeModels:
    return FakeModels()


@pytest.fixture
def store() -> MemoryKnowledgeStore:
    return MemoryKnowledgeStore()


@pytest.fixture
async def service(store: MemoryKnowledgeStore, models: FakeModels) -> KnowledgeService:
    service = KnowledgeService(store, models)
    chunking = ChunkingConfig(strategy="markdown", chunk_size=64, chunk_overlap=8)
    await service.create_space(name="handbook", chunking=chunking)
    return service


def test_the_service_is_a_knowledge_base(service: KnowledgeService) -> None:
    base: KnowledgeBase = service
    assert base is service


async def test_runs_never_reach_an_internal_space_by_name_or_id(service: KnowledgeService) -> None:
    internal = await service.create_space(name="_datasource.ds_1")
    await service.ingest(internal.name, documents())
    runs: KnowledgeBase = RunKnowledge(service)
    request = SearchRequest(query="reset password", top_k=2)
    for space in (internal.name, internal.id):
        with pytest.raises(NotFoundError):
            await runs.search(space, request)
        with pytest.raises(NotFoundError):
            await runs.space(space)
        with pytest.raises(NotFoundError):
            await runs.graph_search(space, "password")
        with pytest.raises(NotFoundError):
            await runs.ingest(space, documents())
    with pytest.raises(NotFoundError):  # nor create one
        await runs.ingest("_mine", documents(), create_space=True)
    assert all(space.name != "_mine" for space in await service.list_spaces())
    # every other space works as through the service
    await runs.ingest("handbook", documents())
    assert (await runs.search("handbook", request))[0].source == "passwords.md"
    assert (await runs.space("handbook")).document_count == 3
    created = await runs.ingest("notes", documents()[:1], create_space=True)
    assert created.items[0].status == "added"


async def test_ingest_stores_every_document_and_search_finds_it(service: KnowledgeService) -> None:
    report = await service.ingest("handbook", documents(), origin=CallOrigin(kind="test"))
    assert [(i.name, i.status) for i in report.items] == [(name, "added") for name in DOCS]
    assert report.chunks_added == sum(i.chunks for i in report.items) == 3
    assert report.failed == []
    space = await service.space("handbook")
    assert (space.document_count, space.chunk_count, space.dimensions) == (3, 3, DIMS)
    listed = await service.list_documents("handbook")
    assert {d.name: d.status for d in listed} == dict.fromkeys(sorted(DOCS), "ready")

    for mode in ("vector", "keyword", "hybrid"):
        hits = await service.search("handbook", SearchRequest(query="how do I reset my password", mode=mode, top_k=2))
        top = hits[0]
        assert top.source == "passwords.md", mode
        assert top.metadata["document"] == "passwords.md"
        assert top.metadata["heading_path"] == ["Accounts"]
        assert mode in top.metadata["retrievers"] or mode == "hybrid"
        assert top.id.startswith("c_")
    hybrid = await service.search("handbook", SearchRequest(query="reset password", mode="hybrid"))
    assert set(hybrid[0].metadata["retrievers"]) == {"vector", "keyword"}
    assert hybrid[0].metadata["retrievers"]["vector"]["rank"] == 1


async def test_reingesting_unchanged_documents_is_a_no_op(service: KnowledgeService, models: FakeModels) -> None:
    await service.ingest("handbook", documents())
    models.embedded.clear()
    report = await service.ingest("handbook", documents())
    assert [i.status for i in report.items] == ["unchanged"] * 3
    assert [i.chunks for i in report.items] == [1, 1, 1]
    assert report.chunks_added == 0
    assert models.embedded == []  # not one embedding call


async def test_a_changed_document_replaces_its_chunks(service: KnowledgeService, models: FakeModels) -> None:
    await service.ingest("handbook", documents())
    before = {d.name: d.id for d in await service.list_documents("handbook")}
    models.embedded.clear()
    changed = "Employees get thirty days of paid vacation. Carry-over needs the manager's approval.\n\n" * 8
    report = await service.ingest("handbook", documents(**{"holidays.txt": changed}))
    statuses = {i.name: i.status for i in report.items}
    assert statuses == {"passwords.md": "unchanged", "holidays.txt": "replaced", "expenses.txt": "unchanged"}
    assert models.texts_embedded == report.chunks_added > 1
    after = {d.name: d for d in await service.list_documents("handbook")}
    assert after["holidays.txt"].id == before["holidays.txt"]
    assert after["holidays.txt"].chunk_count == report.chunks_added
    old = await service.search("handbook", SearchRequest(query="twenty-five days expire March", mode="keyword"))
    assert all("twenty-five" not in hit.text for hit in old)
    new = await service.search("handbook", SearchRequest(query="thirty days vacation", mode="keyword"))
    assert new[0].source == "holidays.txt"


async def test_a_new_chunking_config_reingests(service: KnowledgeService, models: FakeModels) -> None:
    await service.ingest("handbook", documents())
    await service.update_space("handbook", chunking=SENTENCES)
    report = await service.ingest("handbook", documents())
    assert {i.status for i in report.items} == {"replaced"}
    assert report.chunks_added > 3


async def test_a_chunking_override_splits_these_documents_only(service: KnowledgeService, models: FakeModels) -> None:
    report = await service.ingest("handbook", documents(), chunking=SENTENCES)
    assert {i.status for i in report.items} == {"added"}
    assert report.chunks_added > 3  # sentences of at most 16 tokens, not the space's markdown chunks of 64
    space = await service.space("handbook")
    assert space.chunking == ChunkingConfig(strategy="markdown", chunk_size=64, chunk_overlap=8)  # unchanged
    models.embedded.clear()
    again = await service.ingest("handbook", documents(), chunking=SENTENCES)
    assert {i.status for i in again.items} == {"unchanged"}
    assert models.embedded == []
    by_space = await service.ingest("handbook", documents())  # the space's chunking differs: re-chunked
    assert {i.status for i in by_space.items} == {"replaced"}
    assert by_space.chunks_added == 3
    same = await service.ingest("handbook", documents(), chunking=(await service.space("handbook")).chunking)
    assert {i.status for i in same.items} == {"unchanged"}  # the override equal to the space's is the same hash


async def test_a_failing_document_is_reported_and_the_others_are_kept(
    service: KnowledgeService, models: FakeModels
) -> None:
    models.delay = 0.01  # the producer queues documents while the first batch embeds: the next batch mixes them
    poison = Document(id="poison.txt", text="This one has EMBED-FAIL inside.")
    docs = [*documents(), poison, Document(id="empty", text=" ")]
    report = await service.ingest("handbook", docs)
    statuses = {i.name: i.status for i in report.items}
    assert statuses == {**dict.fromkeys(DOCS, "added"), "poison.txt": "failed", "empty": "failed"}
    failed = {i.name: i.error or "" for i in report.failed}
    assert "embedding failed" in failed["poison.txt"]
    assert "poisoned" in failed["poison.txt"]
    assert "no text" in failed["empty"]
    stored = {d.name: d for d in await service.list_documents("handbook")}
    assert stored["poison.txt"].status == "failed"
    assert stored["poison.txt"].error == failed["poison.txt"]
    assert stored["passwords.md"].status == "ready"
    # the shared batch failed, then each of its documents was embedded alone: only the poisoned one failed
    mixed = next(i for i, batch in enumerate(models.embedded) if len(batch) > 1 and poison.text in batch)
    assert sorted(models.embedded[mixed + 1 :]) == sorted([text] for text in models.embedded[mixed])


async def test_a_failed_document_keeps_its_previous_chunks(service: KnowledgeService) -> None:
    await service.ingest("handbook", documents())
    report = await service.ingest("handbook", documents(**{"expenses.txt": "now EMBED-FAIL"}))
    assert {i.name: i.status for i in report.items}["expenses.txt"] == "failed"
    hits = await service.search("handbook", SearchRequest(query="travel expenses refunded receipt", mode="keyword"))
    assert hits[0].source == "expenses.txt"
    again = await service.ingest("handbook", documents())  # failed → ingested again, though the text is the old one
    assert {i.name: i.status for i in again.items}["expenses.txt"] == "replaced"


async def test_files_are_parsed_and_a_broken_file_fails_alone(service: KnowledgeService, tmp_path: Path) -> None:
    good = tmp_path / "guide.md"
    good.write_text("# Guide\n\n## Install\n\nRun the installer and restart.", encoding="utf-8")
    page = tmp_path / "page.html"
    page.write_text("<html><body><h1>Office</h1><p>The office opens at nine.</p></body></html>", encoding="utf-8")
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7 this is not a pdf at all")
    files = [
        SourceFile(name="guide.md", path=str(good)),
        SourceFile(name="broken.pdf", path=str(broken)),
        SourceFile(name="gone.txt", path=str(tmp_path / "gone.txt")),
        SourceFile(name="page.html", path=str(page)),
    ]
    report = await service.ingest_files("handbook", files)
    statuses = {i.name: i.status for i in report.items}
    assert statuses == {"guide.md": "added", "broken.pdf": "failed", "gone.txt": "failed", "page.html": "added"}
    assert "broken.pdf" in (report.items[1].error or "")
    stored = {d.name: d for d in await service.list_documents("handbook")}
    assert stored["guide.md"].size_bytes == good.stat().st_size
    assert stored["broken.pdf"].status == "failed"
    hits = await service.search("handbook", SearchRequest(query="when does the office open", mode="vector", top_k=1))
    assert hits[0].source == "page.html"
    guide = await service.search("handbook", SearchRequest(query="installer", mode="keyword", top_k=1))
    assert guide[0].metadata["heading_path"] == ["Guide", "Install"]
    with pytest.raises(ValidationError, match="distinct names"):
        await service.ingest_files("handbook", [files[0], files[0]])


async def test_embedding_batches_span_documents_and_respect_the_batch_size(
    store: MemoryKnowledgeStore, models: FakeModels
) -> None:
    models.delay = 0.01
    service = KnowledgeService(store, models, options=IngestOptions(batch_size=4, max_in_flight=1))
    await service.create_space(name="small", chunking=SENTENCES)
    texts = [" ".join(f"Fact {d}.{n} is about topic {d * 10 + n}." for n in range(d % 3 + 1)) for d in range(9)]
    report = await service.ingest("small", [Document(id=f"doc{i}", text=t) for i, t in enumerate(texts)])
    assert {i.status for i in report.items} == {"added"}
    assert all(len(batch) <= 4 for batch in models.embedded)
    assert models.texts_embedded == report.chunks_added > 9
    full = [batch for batch in models.embedded if len(batch) == 4]
    assert len(full) >= report.chunks_added // 4 - 1  # full batches (only the first and last may be partial)
    assert any(len({t.split(".")[0] for t in batch}) > 1 for batch in full)  # chunks of several documents


async def test_progress_is_monotonic_and_complete(store: MemoryKnowledgeStore, models: FakeModels) -> None:
    service = KnowledgeService(store, models, options=IngestOptions(batch_size=3))
    await service.create_space(name="p", chunking=SENTENCES)
    seen: list[IngestProgress] = []

    async def record(progress: IngestProgress) -> None:
        seen.append(progress)
        await asyncio.sleep(0)

    docs = [Document(id=f"d{i}", text=" ".join(f"Sentence {i}-{n} here." for n in range(i + 1))) for i in range(6)]
    docs.append(Document(id="bad", text="EMBED-FAIL " * 3))
    report = await service.ingest("p", docs, on_progress=record)
    assert len(seen) > len(docs)
    for before, after in itertools.pairwise(seen):
        assert after.documents_done >= before.documents_done
        assert after.chunks_done >= before.chunks_done
        assert after.chunks_total >= before.chunks_total
    assert all(p.chunks_done <= p.chunks_total and p.documents_total == 7 for p in seen)
    last = seen[-1]
    assert (last.documents_done, last.chunks_done) == (7, last.chunks_total)
    assert last.chunks_total == report.chunks_added + 1

    seen.clear()
    await service.ingest("p", docs[:3], on_progress=record)  # unchanged: documents only
    assert (seen[-1].documents_done, seen[-1].chunks_done, seen[-1].chunks_total) == (3, 0, 0)


async def test_vectors_of_another_size_fail_every_document(
    service: KnowledgeService, store: MemoryKnowledgeStore
) -> None:
    record = await service.create_space(name="wide-space", embedding_model="wide")
    await store.set_dimensions(record.id, DIMS)
    report = await service.ingest("wide-space", documents())
    assert {i.status for i in report.items} == {"failed"}
    assert "64-dimensional" in (report.items[0].error or "")
    with pytest.raises(ValidationError, match="64-dimensional"):
        await service.search("wide-space", SearchRequest(query="anything", mode="vector"))


async def test_an_unknown_embedding_model_fails_the_documents(service: KnowledgeService, models: FakeModels) -> None:
    models.delay = 0.01
    await service.create_space(name="nomodel", embedding_model="missing")
    report = await service.ingest("nomodel", documents())
    assert {i.status for i in report.items} == {"failed"}
    assert "not found" in (report.items[0].error or "")
    embedded = [text for batch in models.embedded for text in batch]
    assert len(embedded) == len(set(embedded))  # the model's fault: no document is retried alone


async def test_cancelling_an_ingestion_marks_unfinished_documents_failed(
    service: KnowledgeService, models: FakeModels
) -> None:
    models.gate = asyncio.Event()
    task = asyncio.create_task(service.ingest("handbook", documents()))
    await models.entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    stored = await service.list_documents("handbook")
    assert {d.status for d in stored} == {"failed"}
    assert all("stopped" in (d.error or "") for d in stored)


async def test_search_modes_filters_min_score_and_mmr(service: KnowledgeService, models: FakeModels) -> None:
    twins = [
        Document(id="a.txt", text="The printer on floor two jams with thick paper.", metadata={"team": "it"}),
        Document(id="b.txt", text="The printer on floor two jams with thick paper!", metadata={"team": "it"}),
        Document(id="c.txt", text="Printer paper is ordered by the office manager.", metadata={"team": "office"}),
    ]
    await service.ingest("handbook", [*documents(), *twins])
    query = "printer jams paper"
    plain = await service.search("handbook", SearchRequest(query=query, mode="vector", top_k=2))
    assert {h.source for h in plain} == {"a.txt", "b.txt"}
    diverse = await service.search("handbook", SearchRequest(query=query, mode="vector", top_k=2, mmr=True))
    assert diverse[0].source in {"a.txt", "b.txt"}
    assert diverse[1].source == "c.txt"
    models.embedded.clear()
    keyword_mmr = await service.search("handbook", SearchRequest(query=query, mode="keyword", top_k=2, mmr=True))
    assert keyword_mmr[1].source == "c.txt"
    assert len(models.embedded) == 1  # the keyword candidates, embedded in one call for MMR

    only = await service.search("handbook", SearchRequest(query=query, mode="hybrid", filters={"team": "office"}))
    assert [h.source for h in only] == ["c.txt"]
    by_name = await service.search("handbook", SearchRequest(query=query, filters={"document": ["b.txt"]}))
    assert [h.source for h in by_name] == ["b.txt"]
    strict = await service.search("handbook", SearchRequest(query=query, mode="vector", min_score=0.99, top_k=5))
    assert strict == []
    loose = await service.search("handbook", SearchRequest(query=query, mode="vector", min_score=0.3, top_k=5))
    assert loose
    assert all((h.score or 0) >= 0.3 for h in loose)
    with pytest.raises(ValidationError, match="empty"):
        await service.search("handbook", SearchRequest(query="   "))


async def test_an_empty_space_searches_without_embedding(service: KnowledgeService, models: FakeModels) -> None:
    assert await service.search("handbook", SearchRequest(query="anything", mode="hybrid")) == []
    assert models.embedded == []
    with pytest.raises(NotFoundError):
        await service.search("nope", SearchRequest(query="anything"))


async def test_space_and_document_management(service: KnowledgeService) -> None:
    await service.ingest("handbook", documents())
    record = await service.get_space("handbook")
    assert (await service.get_space(record.id)).name == "handbook"
    updated = await service.update_space(record.id, description="Company handbook")
    assert updated.description == "Company handbook"
    assert [s.name for s in await service.list_spaces()] == ["handbook"]
    await service.delete_document("handbook", "holidays.txt")
    assert sorted(d.name for d in await service.list_documents("handbook")) == ["expenses.txt", "passwords.md"]
    with pytest.raises(NotFoundError, match=r"holidays\.txt"):
        await service.delete_document("handbook", "holidays.txt")
    await service.delete_space("handbook")
    assert await service.list_spaces() == []


def test_chunk_splits_without_storing(service: KnowledgeService) -> None:
    docs = [
        Document(id="r.pdf", text="Page one text.", metadata={"page": 1, "source": "r.pdf"}),
        Document(id="r.pdf", text="Page two text.", metadata={"page": 2, "source": "r.pdf"}),
    ]
    chunks = service.chunk(docs, ChunkingConfig())
    assert [(c.id, c.metadata["page"], c.source) for c in chunks] == [("r.pdf#0", 1, "r.pdf"), ("r.pdf#1", 2, "r.pdf")]


async def test_pages_of_one_document_are_ingested_together(service: KnowledgeService) -> None:
    docs = [
        Document(id="r.pdf", text="Alpha page about rockets.", metadata={"page": 1, "source": "r.pdf"}),
        Document(id="r.pdf", text="Beta page about submarines.", metadata={"page": 2, "source": "r.pdf"}),
    ]
    report = await service.ingest("handbook", docs)
    assert [(i.name, i.chunks) for i in report.items] == [("r.pdf", 2)]
    hit = (await service.search("handbook", SearchRequest(query="submarines", mode="keyword")))[0]
    assert hit.metadata["page"] == 2


async def test_load_url_refuses_private_addresses(service: KnowledgeService) -> None:
    with pytest.raises(BlockedAddressError):
        await service.load_url("http://127.0.0.1:9/secret")


MESSY_ANSWERS = [
    '```json\n{"triplets": [{"subject": "Ada  Lovelace", "predicate": "wrote", "object": "the first program."}]}\n```',
    (  # cut off
        'Sure! Here you go: {"triplets": [{"head": "Ada Lovelace", "relation": "worked with",'
        ' "tail": "Charles Babbage"},'
        ' {"subject": "Charles Babbage", "predicate": "designed", "obj'
    ),
    "I cannot find any facts.",
    '[["Charles Babbage", "lived in", "London"], {"subject": "", "predicate": "x", "object": "y"}, 42]',
]


def test_parse_triplets_tolerates_messy_answers() -> None:
    assert parse_triplets(MESSY_ANSWERS[0]) == [("Ada Lovelace", "wrote", "the first program")]
    assert parse_triplets(MESSY_ANSWERS[1]) == [("Ada Lovelace", "worked with", "Charles Babbage")]
    assert parse_triplets(MESSY_ANSWERS[2]) == []
    assert parse_triplets(MESSY_ANSWERS[3]) == [("Charles Babbage", "lived in", "London")]
    assert parse_triplets('{"triplets": [{"subject": ["a"], "predicate": "p", "object": "o"}]}') == []
    assert parse_triplets('{"subject": "A", "predicate": "is", "object": "' + "x" * 600 + '"}') == []
    doubled = (
        '{"triplets": [{"subject": "A", "predicate": "is", "object": "B"},'
        ' {"subject": "A ", "predicate": "is", "object": "B"}]}'
    )
    assert parse_triplets(doubled) == [("A", "is", "B")]


async def test_graph_extraction_and_graph_search(service: KnowledgeService, models: FakeModels) -> None:
    texts = [
        "Ada Lovelace wrote the first program.",
        "Ada Lovelace worked with Charles Babbage.",
        "The weather was fine.",
        "Charles Babbage lived in London.",
    ]
    await service.ingest("handbook", [Document(id=f"bio{i}.txt", text=t) for i, t in enumerate(texts)])
    everything = SearchRequest(query="Ada Babbage weather London", mode="keyword", top_k=10)
    chunks = await service.search("handbook", everything)
    chunks.sort(key=lambda c: c.source)
    models.answers = list(MESSY_ANSWERS)
    report = await service.extract_graph("handbook", chunks, model="default")
    assert len(models.chats) == 4
    assert models.chats[0].json_schema is not None
    facts = {(t.subject, t.predicate, t.object) for t in report.triplets}
    assert facts == {
        ("Ada Lovelace", "wrote", "the first program"),
        ("Ada Lovelace", "worked with", "Charles Babbage"),
        ("Charles Babbage", "lived in", "London"),
    }
    assert report.entities == 4
    assert {t.chunk_id for t in report.triplets} <= {c.id for c in chunks}

    hits = await service.graph_search("handbook", "Where did Charles Babbage live?", depth=2, top_k=6)
    graph_hits = [h for h in hits if "graph" in h.metadata["retrievers"]]
    vector_hits = [h for h in hits if "vector" in h.metadata["retrievers"]]
    assert graph_hits
    assert vector_hits
    assert "Charles Babbage lived in London" in {h.text for h in graph_hits}
    fact = next(h for h in graph_hits if h.text == "Charles Babbage lived in London")
    assert fact.id.startswith("f_")
    assert fact.source == "bio3.txt"
    assert fact.metadata["chunk_id"] in {c.id for c in chunks}
    with pytest.raises(ValidationError, match="depth"):
        await service.graph_search("handbook", "x", depth=9)


async def test_graph_extraction_fails_on_a_model_error_and_stores_nothing(
    service: KnowledgeService, models: FakeModels
) -> None:
    chunk = Chunk(id="loose", document_id="nowhere", text="Ada Lovelace wrote notes.")
    models.answers = ['{"triplets": [{"subject": "Ada", "predicate": "wrote", "object": "notes"}]}']
    report = await service.extract_graph("handbook", [chunk], model="default")
    assert [t.chunk_id for t in report.triplets] == [None]  # not a stored chunk: a fact without a source
    models.answers = ["ERROR"]
    with pytest.raises(ModelError, match="timeout"):
        await service.extract_graph("handbook", [chunk, chunk], model="default")


async def test_ingesting_into_a_missing_space_creates_it_only_when_asked(
    store: MemoryKnowledgeStore, models: FakeModels
) -> None:
    with pytest.raises(NotFoundError):
        await KnowledgeService(store, models).ingest("fresh", documents())
    report = await KnowledgeService(store, models, create_missing_spaces=True).ingest("fresh", documents())
    assert {i.status for i in report.items} == {"added"}
    assert (await store.get_space("fresh")).embedding_model == "default-embedding"


async def test_ingest_creates_a_missing_space_when_the_call_asks(
    store: MemoryKnowledgeStore, models: FakeModels
) -> None:
    service = KnowledgeService(store, models)
    with pytest.raises(NotFoundError):
        await service.ingest("fresh", documents())
    report = await service.ingest("fresh", documents(), create_space=True, chunking=SENTENCES)
    assert {i.status for i in report.items} == {"added"}
    assert report.chunks_added > 3  # the override applies to a space created by the same call
    created = await store.get_space("fresh")
    assert (created.embedding_model, created.chunking, created.document_count) == (
        "default-embedding",
        ChunkingConfig(),
        3,
    )
    again = await service.ingest("fresh", documents(), create_space=True, chunking=SENTENCES)
    assert {i.status for i in again.items} == {"unchanged"}  # an existing space is used as it is
    assert [s.name for s in await service.list_spaces()] == ["fresh"]


class RacingStore(MemoryKnowledgeStore):
    """Another ingestion creates the space between this one's lookup and its creation."""

    async def create_space(self, **fields: Any) -> SpaceRecord:
        await super().create_space(**fields)
        return await super().create_space(**fields)  # ConflictError: the name is taken now


async def test_a_space_created_meanwhile_is_used(models: FakeModels) -> None:
    store = RacingStore()
    report = await KnowledgeService(store, models).ingest("fresh", documents(), create_space=True)
    assert {i.status for i in report.items} == {"added"}
    assert [(s.name, s.document_count) for s in await store.list_spaces()] == [("fresh", 3)]


async def test_graph_extraction_creates_a_missing_space_when_asked(
    store: MemoryKnowledgeStore, models: FakeModels
) -> None:
    chunk = Chunk(id="loose", document_id="nowhere", text="Ada Lovelace wrote notes.")
    answer = '{"triplets": [{"subject": "Ada", "predicate": "wrote", "object": "notes"}]}'
    service = KnowledgeService(store, models)
    with pytest.raises(NotFoundError):
        await service.extract_graph("fresh", [chunk], model="default")
    assert models.chats == []  # nothing asked of the model for a missing space
    models.answers = [answer]
    report = await service.extract_graph("fresh", [chunk], model="default", create_space=True)
    assert [(t.subject, t.object) for t in report.triplets] == [("Ada", "notes")]
    created = await store.get_space("fresh")
    assert (created.embedding_model, created.chunking) == ("default-embedding", ChunkingConfig())
    models.answers = [answer]
    await service.extract_graph("fresh", [chunk], model="default", create_space=True)  # existing: used as it is
    assert [s.name for s in await service.list_spaces()] == ["fresh"]
    hits = await service.graph_search("fresh", "What did Ada write?")
    assert "Ada wrote notes" in {h.text for h in hits}


async def test_graph_extraction_into_a_missing_space_follows_create_missing_spaces(
    store: MemoryKnowledgeStore, models: FakeModels
) -> None:
    chunk = Chunk(id="loose", document_id="nowhere", text="Ada Lovelace wrote notes.")
    models.answers = ['{"triplets": []}']
    service = KnowledgeService(store, models, create_missing_spaces=True)
    report = await service.extract_graph("fresh", [chunk], model="default")
    assert report.triplets == []
    assert (await store.get_space("fresh")).name == "fresh"


async def test_a_space_the_ingestion_beside_created_is_used_by_graph_extraction(models: FakeModels) -> None:
    store = RacingStore()  # the ingestion beside it creates the space between the lookup and the creation
    chunk = Chunk(id="loose", document_id="nowhere", text="Ada Lovelace wrote notes.")
    models.answers = ['{"triplets": [{"subject": "Ada", "predicate": "wrote", "object": "notes"}]}']
    report = await KnowledgeService(store, models).extract_graph("fresh", [chunk], model="default", create_space=True)
    assert len(report.triplets) == 1
    assert [s.name for s in await store.list_spaces()] == ["fresh"]
