"""The ``KnowledgeStore`` behaviour, run against the memory store and PostgreSQL (pgvector) alike.

Vectors are built with known cosines (``at(deg)`` is the unit vector at ``deg`` degrees from ``Q`` in the first
plane). Keyword ranks differ by design (BM25 in memory, ``ts_rank_cd`` on PostgreSQL), so those tests assert order
and membership, not scores. PostgreSQL-only tests (stemming, atomicity mid-COPY, the HNSW plan) use ``pg_kb``.
"""

from __future__ import annotations

import math
import random
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from psycopg.conninfo import make_conninfo

from rivulet.lib.exceptions import ConflictError, NotFoundError, ValidationError
from rivulet.sdk.knowledge import ChunkingConfig
from rivulet.storage.base import ChunkRow, GraphEdge
from rivulet.storage.memory_knowledge import MemoryKnowledgeStore
from rivulet.storage.postgres.knowledge import PostgresKnowledgeStore
from rivulet.storage.postgres.pool import open_pool

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from psycopg_pool import AsyncConnectionPool

    from rivulet.storage.base import DocumentRecord, KnowledgeStore, SpaceRecord

DIMS = 4
Q = [1.0, 0.0, 0.0, 0.0]


@pytest.fixture(params=["memory", "postgres"])
async def kb(request: pytest.FixtureRequest, pool: AsyncConnectionPool) -> KnowledgeStore:
    return MemoryKnowledgeStore() if request.param == "memory" else PostgresKnowledgeStore(pool)


@pytest.fixture
async def pg_kb(pool: AsyncConnectionPool) -> PostgresKnowledgeStore:
    return PostgresKnowledgeStore(pool)


def at(deg: float, dims: int = DIMS) -> list[float]:
    """The unit vector at ``deg`` degrees from ``Q`` (cosine ``cos(deg)``)."""
    rad = math.radians(deg)
    return [math.cos(rad), math.sin(rad), *([0.0] * (dims - 2))]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def rows(
    prefix: str,
    texts: Sequence[str],
    vectors: Sequence[list[float]] | None = None,
    metadata: Sequence[dict[str, Any]] | None = None,
) -> list[ChunkRow]:
    return [
        ChunkRow(
            id=f"{prefix}-{i}",
            ordinal=i,
            text=text,
            embedding=vectors[i] if vectors else at(10.0 * i),
            metadata=metadata[i] if metadata else {},
        )
        for i, text in enumerate(texts)
    ]


async def new_space(kb: KnowledgeStore, **kwargs: Any) -> SpaceRecord:
    return await kb.create_space(name=unique("space"), embedding_model="test-embedding", **kwargs)


async def add_document(
    kb: KnowledgeStore, space: SpaceRecord, name: str, chunks: Sequence[ChunkRow], *, source: str = ""
) -> DocumentRecord:
    doc = await kb.begin_document(space.id, name=name, source=source or f"{name}.txt", size_bytes=10)
    return await kb.replace_document(space.id, doc.id, content_hash=f"hash-{name}", chunks=chunks)


def ids(hits: Sequence[Any]) -> list[str]:
    return [h.chunk.id if hasattr(h, "chunk") else h.id for h in hits]


# --- spaces ------------------------------------------------------------------------------------------------------


async def test_space_is_created_with_defaults_and_found_by_name_or_id(kb: KnowledgeStore) -> None:
    space = await new_space(kb, description="docs")
    assert (space.embedding_model, space.description, space.language) == ("test-embedding", "docs", "english")
    assert (space.dimensions, space.document_count, space.chunk_count) == (None, 0, 0)
    assert space.chunking == ChunkingConfig()
    assert await kb.get_space(space.id) == space
    assert await kb.get_space(space.name) == space
    assert space.info().name == space.name


async def test_space_name_taken_is_a_conflict(kb: KnowledgeStore) -> None:
    space = await new_space(kb)
    with pytest.raises(ConflictError, match=space.name):
        await kb.create_space(name=space.name, embedding_model="other")


async def test_space_language_must_be_a_text_search_configuration(kb: KnowledgeStore) -> None:
    assert (await new_space(kb, language="simple")).language == "simple"
    assert (await new_space(kb, language="german")).language == "german"
    with pytest.raises(ValidationError, match="klingon"):
        await new_space(kb, language="klingon")
    with pytest.raises(ValidationError):
        await kb.create_space(name="  ", embedding_model="e")


async def test_text_that_columns_cannot_hold_is_refused(kb: KnowledgeStore) -> None:
    with pytest.raises(ValidationError, match="description"):
        await new_space(kb, description="a\x00b")
    with pytest.raises(ValidationError, match="name"):
        await kb.create_space(name="a\x00b", embedding_model="e")
    space = await new_space(kb)
    with pytest.raises(ValidationError, match="description"):
        await kb.update_space(space.id, description="\x00")
    with pytest.raises(ValidationError, match="source"):
        await kb.begin_document(space.id, name="d", source="\x00")
    doc = await kb.begin_document(space.id, name="d")
    with pytest.raises(ValidationError, match="NUL"):
        await kb.replace_document(space.id, doc.id, content_hash="h", chunks=rows("n", ["a\x00b"]))
    assert await kb.list_spaces() == [await kb.get_space(space.id)]


async def test_spaces_are_listed_by_name_and_updated(kb: KnowledgeStore) -> None:
    b = await kb.create_space(name=unique("b"), embedding_model="e")
    a = await kb.create_space(name=unique("a"), embedding_model="e")
    assert [s.id for s in await kb.list_spaces()] == [a.id, b.id]
    chunking = ChunkingConfig(strategy="markdown", chunk_size=300, chunk_overlap=20)
    updated = await kb.update_space(a.id, description="new", chunking=chunking)
    assert (updated.description, updated.chunking) == ("new", chunking)
    assert (await kb.update_space(a.id, description="newer")).chunking == chunking
    assert (await kb.get_space(a.id)).description == "newer"


async def test_missing_space_is_not_found_everywhere(kb: KnowledgeStore) -> None:
    calls = (
        kb.get_space("missing"),
        kb.update_space("missing", description="x"),
        kb.set_dimensions("missing", 4),
        kb.delete_space("missing"),
        kb.list_documents("missing"),
        kb.get_document("missing", "doc"),
        kb.begin_document("missing", name="doc"),
        kb.vector_search("missing", Q, top_k=3),
        kb.keyword_search("missing", "word", top_k=3),
        kb.get_chunks("missing", ["c"]),
        kb.add_graph_edges("missing", []),
        kb.find_entities("missing", ["x"]),
        kb.neighbourhood("missing", ["x"]),
    )
    for call in calls:
        with pytest.raises(NotFoundError, match="missing"):
            await call


async def test_dimensions_are_fixed_and_a_mismatch_refused(kb: KnowledgeStore) -> None:
    space = await new_space(kb)
    for bad in (0, 16_001):
        with pytest.raises(ValidationError):
            await kb.set_dimensions(space.id, bad)
    assert (await kb.set_dimensions(space.id, 8)).dimensions == 8
    assert (await kb.set_dimensions(space.id, DIMS)).dimensions == DIMS  # no vectors yet: may change
    await add_document(kb, space, "a", rows("a", ["one", "two"]))
    assert (await kb.set_dimensions(space.id, DIMS)).dimensions == DIMS
    with pytest.raises(ValidationError, match=space.name):
        await kb.set_dimensions(space.id, 8)
    doc = await kb.begin_document(space.id, name="b")
    with pytest.raises(ValidationError, match="3 dimensions"):
        await kb.replace_document(space.id, doc.id, content_hash="h", chunks=rows("b", ["x"], [[1.0, 0.0, 0.0]]))
    with pytest.raises(ValidationError, match=space.name):
        await kb.vector_search(space.id, [1.0, 0.0], top_k=3)
    assert (await kb.get_space(space.id)).dimensions == DIMS


async def test_first_stored_chunks_fix_the_dimensions(kb: KnowledgeStore) -> None:
    space = await new_space(kb)
    assert await kb.vector_search(space.id, Q, top_k=3) == []  # no vectors: nothing, whatever the size
    await add_document(kb, space, "a", rows("a", ["one"]))
    assert (await kb.get_space(space.id)).dimensions == DIMS


async def test_mixed_sizes_in_one_document_are_refused(kb: KnowledgeStore) -> None:
    space = await new_space(kb)
    doc = await kb.begin_document(space.id, name="mixed")
    chunks = rows("m", ["a", "b"], [at(0), [1.0, 0.0]])
    with pytest.raises(ValidationError, match="m-1"):
        await kb.replace_document(space.id, doc.id, content_hash="h", chunks=chunks)


# --- documents ---------------------------------------------------------------------------------------------------


async def test_document_lifecycle_and_counts(kb: KnowledgeStore) -> None:
    space = await new_space(kb)
    doc = await kb.begin_document(space.id, name="guide.md", source="guide.md", size_bytes=42, metadata={"lang": "en"})
    assert (doc.status, doc.chunk_count, doc.content_hash, doc.metadata) == ("processing", 0, None, {"lang": "en"})
    assert ((await kb.get_space(space.id)).document_count, (await kb.get_space(space.id)).chunk_count) == (1, 0)

    ready = await kb.replace_document(space.id, doc.id, content_hash="h1", chunks=rows("g", ["a", "b", "c"]))
    assert (ready.status, ready.chunk_count, ready.content_hash, ready.error) == ("ready", 3, "h1", None)
    space_now = await kb.get_space(space.id)
    assert (space_now.document_count, space_now.chunk_count) == (1, 3)

    again = await kb.begin_document(space.id, name="guide.md", source="guide.md", size_bytes=50)
    assert (again.id, again.status, again.content_hash, again.size_bytes) == (doc.id, "processing", "h1", 50)
    assert again.metadata == {"lang": "en"}  # kept when not given
    assert ids(await kb.get_chunks(space.id, ["g-0", "g-2"])) == ["g-0", "g-2"]  # old chunks stay searchable

    failed = await kb.fail_document(space.id, doc.id, "parser broke\x00here")
    assert (failed.status, failed.error, failed.chunk_count) == ("failed", "parser broke\ufffdhere", 3)
    assert len(await kb.get_chunks(space.id, ["g-0", "g-1", "g-2"])) == 3

    replaced = await kb.replace_document(space.id, doc.id, content_hash="h2", chunks=rows("g2", ["only"]))
    assert (replaced.status, replaced.error, replaced.chunk_count) == ("ready", None, 1)
    assert await kb.get_chunks(space.id, ["g-0"]) == []
    assert (await kb.get_space(space.id)).chunk_count == 1


async def test_documents_are_listed_by_name_and_found_by_name_or_id(kb: KnowledgeStore) -> None:
    space = await new_space(kb)
    b = await kb.begin_document(space.id, name="b.txt")
    a = await kb.begin_document(space.id, name="a.txt")
    assert [d.id for d in await kb.list_documents(space.id)] == [a.id, b.id]
    assert await kb.get_document(space.id, "a.txt") == a
    assert await kb.get_document(space.id, b.id) == b
    assert await kb.get_document(space.id, "nope") is None
    with pytest.raises(ValidationError):
        await kb.begin_document(space.id, name="")
    with pytest.raises(NotFoundError, match="nope"):
        await kb.fail_document(space.id, "nope", "x")
    with pytest.raises(NotFoundError, match="nope"):
        await kb.replace_document(space.id, "nope", content_hash="h", chunks=[])


async def test_a_document_of_another_space_is_not_found(kb: KnowledgeStore) -> None:
    one, two = await new_space(kb), await new_space(kb)
    doc = await kb.begin_document(one.id, name="d")
    for call in (
        kb.replace_document(two.id, doc.id, content_hash="h", chunks=[]),
        kb.fail_document(two.id, doc.id, "x"),
        kb.delete_document(two.id, doc.id),
    ):
        with pytest.raises(NotFoundError):
            await call


async def test_replace_is_atomic_when_a_chunk_id_is_taken(kb: KnowledgeStore) -> None:
    space = await new_space(kb)
    a = await add_document(kb, space, "a", rows("a", ["alpha one", "alpha two"]))
    await add_document(kb, space, "b", rows("b", ["beta"]))
    await kb.add_graph_edges(space.id, [GraphEdge(subject="A", predicate="is", object="first", document_id=a.id)])
    for chunks in (rows("a", ["new"]) + rows("b", ["taken"]), rows("x", ["dup"]) + rows("x", ["dup"])):
        with pytest.raises(ConflictError, match="chunk id"):
            await kb.replace_document(space.id, a.id, content_hash="h2", chunks=chunks)
    assert ids(await kb.get_chunks(space.id, ["a-0", "a-1", "b-0"])) == ["a-0", "a-1", "b-0"]
    assert (await kb.get_chunks(space.id, ["a-0"]))[0].text == "alpha one"
    assert (await kb.get_document(space.id, "a")) == a
    assert len(await kb.neighbourhood(space.id, ["A"])) == 1
    assert (await kb.get_space(space.id)).chunk_count == 3


async def test_replace_is_atomic_when_a_vector_is_refused_mid_insert(kb: KnowledgeStore) -> None:
    # PostgreSQL refuses the NaN while copying, after the old chunks were deleted: the transaction restores them
    space = await new_space(kb)
    doc = await add_document(kb, space, "a", rows("a", ["alpha one", "alpha two"]))
    bad = rows("n", ["fine", "fine too", "broken"], [at(0), at(5), [math.nan, 0.0, 0.0, 0.0]])
    with pytest.raises(ValidationError):
        await kb.replace_document(space.id, doc.id, content_hash="h2", chunks=bad)
    assert ids(await kb.get_chunks(space.id, ["a-0", "a-1", "n-0"])) == ["a-0", "a-1"]
    assert (await kb.get_document(space.id, doc.id)) == doc
    assert ids(await kb.vector_search(space.id, Q, top_k=5)) == ["a-0", "a-1"]


async def test_delete_document_removes_its_chunks_and_facts(kb: KnowledgeStore) -> None:
    space = await new_space(kb)
    a = await add_document(kb, space, "a", rows("a", ["alpha", "alpha again"]))
    b = await add_document(kb, space, "b", rows("b", ["beta"]))
    await kb.add_graph_edges(
        space.id,
        [
            GraphEdge(subject="Alpha", predicate="knows", object="Beta", chunk_id="a-0", document_id=a.id),
            GraphEdge(subject="Beta", predicate="knows", object="Gamma", chunk_id="b-0", document_id=b.id),
        ],
    )
    await kb.delete_document(space.id, a.id)
    assert [d.name for d in await kb.list_documents(space.id)] == ["b"]
    assert ids(await kb.keyword_search(space.id, "alpha beta", top_k=5)) == ["b-0"]
    assert [e.object for e in await kb.neighbourhood(space.id, ["beta"])] == ["Gamma"]
    space_now = await kb.get_space(space.id)
    assert (space_now.document_count, space_now.chunk_count) == (1, 1)
    with pytest.raises(NotFoundError, match=a.id):
        await kb.delete_document(space.id, a.id)


async def test_delete_space_removes_everything(kb: KnowledgeStore) -> None:
    space = await new_space(kb)
    doc = await add_document(kb, space, "a", rows("a", ["alpha"]))
    await kb.add_graph_edges(space.id, [GraphEdge(subject="x", predicate="y", object="z", document_id=doc.id)])
    await kb.delete_space(space.id)
    with pytest.raises(NotFoundError):
        await kb.get_space(space.name)
    again = await kb.create_space(name=space.name, embedding_model="e")
    assert (again.document_count, again.dimensions) == (0, None)
    assert await kb.find_entities(again.id, ["x"]) == []
    assert await kb.get_chunks(again.id, ["a-0"]) == []


# --- search ------------------------------------------------------------------------------------------------------


async def test_vector_search_orders_by_cosine(kb: KnowledgeStore) -> None:
    space = await new_space(kb)
    angles = [60.0, 0.0, 120.0, 30.0, 90.0]
    await add_document(kb, space, "d", rows("v", [f"t{a}" for a in angles], [at(a) for a in angles]))
    for exact in (False, True):
        hits = await kb.vector_search(space.id, Q, top_k=3, exact=exact)
        assert ids(hits) == ["v-1", "v-3", "v-0"]
        assert [h.chunk.score for h in hits] == pytest.approx([1.0, math.cos(math.radians(30)), 0.5], abs=1e-6)
        assert all(h.embedding is None for h in hits)
    everything = await kb.vector_search(space.id, at(180), top_k=10)
    assert ids(everything) == ["v-2", "v-4", "v-0", "v-3", "v-1"]
    first = everything[0].chunk
    assert (first.document_id, first.source, first.metadata["document"]) == (
        everything[0].chunk.document_id,
        "d.txt",
        "d",
    )


async def test_vector_search_returns_embeddings_when_asked(kb: KnowledgeStore) -> None:
    space = await new_space(kb)
    await add_document(kb, space, "d", rows("v", ["a", "b"], [at(0), at(45)]))
    hits = await kb.vector_search(space.id, at(40), top_k=1, with_embeddings=True)
    assert ids(hits) == ["v-1"]
    assert hits[0].embedding == pytest.approx(at(45), abs=1e-6)


async def test_query_vector_must_have_a_direction(kb: KnowledgeStore) -> None:
    space = await new_space(kb)
    await add_document(kb, space, "d", rows("v", ["a"]))
    for bad in ([0.0] * DIMS, [math.inf, 0.0, 0.0, 0.0]):
        with pytest.raises(ValidationError, match="query vector"):
            await kb.vector_search(space.id, bad, top_k=1)


async def test_exact_and_index_search_agree(kb: KnowledgeStore) -> None:
    space = await new_space(kb)
    rng = random.Random(7)
    vectors = [[rng.gauss(0, 1) for _ in range(16)] for _ in range(120)]
    await add_document(kb, space, "d", rows("r", [f"chunk {i}" for i in range(120)], vectors))
    for _ in range(5):
        query = [rng.gauss(0, 1) for _ in range(16)]
        indexed = await kb.vector_search(space.id, query, top_k=10)
        exact = await kb.vector_search(space.id, query, top_k=10, exact=True)
        assert ids(indexed) == ids(exact)


async def test_filters_on_metadata_and_columns(kb: KnowledgeStore) -> None:
    space = await new_space(kb)
    meta = [{"lang": "en", "page": 1}, {"lang": "de", "page": 2}, {"lang": "fr", "page": 3, "tags": ["x", "y"]}]
    a = await add_document(kb, space, "a.md", rows("a", ["alpha word", "beta word", "gamma word"], metadata=meta))
    b = await add_document(kb, space, "b.md", rows("b", ["delta word"], metadata=[{"lang": "en", "page": 1}]))

    async def both(filters: dict[str, Any]) -> tuple[set[str], set[str]]:
        vector = await kb.vector_search(space.id, Q, top_k=10, filters=filters)
        keyword = await kb.keyword_search(space.id, "word", top_k=10, filters=filters)
        return set(ids(vector)), set(ids(keyword))

    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({"lang": "en"}, {"a-0", "b-0"}),
        ({"lang": ["de", "fr"]}, {"a-1", "a-2"}),
        ({"lang": "en", "page": 1}, {"a-0", "b-0"}),
        ({"page": 2}, {"a-1"}),
        ({"page": "2"}, set()),  # JSON types matter
        ({"tags": ["y"]}, {"a-2"}),  # containment in a list value
        ({"lang": []}, set()),
        ({"document": "b.md"}, {"b-0"}),
        ({"document": ["a.md", "zzz"], "lang": "en"}, {"a-0"}),
        ({"document_id": a.id}, {"a-0", "a-1", "a-2"}),
        ({"source": "b.md.txt"}, {"b-0"}),
        ({"missing_key": "x"}, set()),
    ]
    for filters, expected in cases:
        assert await both(filters) == (expected, expected), filters
    assert b.id
    for unsafe in ("a;drop table kb_chunks", "", "x" * 65, "lang'"):
        with pytest.raises(ValidationError, match="filter key"):
            await kb.vector_search(space.id, Q, top_k=3, filters={unsafe: "x"})
        with pytest.raises(ValidationError, match="filter key"):
            await kb.keyword_search(space.id, "word", top_k=3, filters={unsafe: "x"})
    with pytest.raises(ValidationError, match="document_id"):
        await kb.vector_search(space.id, Q, top_k=3, filters={"document_id": 5})


async def test_keyword_search_matches_any_term_best_first(kb: KnowledgeStore) -> None:
    space = await new_space(kb)
    texts = [
        "Cherries grow on trees in the orchard.",
        "The postgres database stores vectors; postgres indexes them.",
        "A database keeps records.",
        "Vectors and the database server.",
    ]
    await add_document(kb, space, "d", rows("k", texts))
    hits = await kb.keyword_search(space.id, "how does the postgres database index vectors?", top_k=10)
    assert set(ids(hits)) == {"k-1", "k-2", "k-3"}
    assert ids(hits)[0] == "k-1"
    assert ids(hits)[-1] == "k-2"  # one term only
    assert all(h.chunk.score is not None and h.chunk.score > 0 for h in hits)
    assert hits[0].chunk.metadata["document"] == "d"
    assert ids(await kb.keyword_search(space.id, "orchard", top_k=10)) == ["k-0"]
    assert ids(await kb.keyword_search(space.id, "database", top_k=1)) != []
    assert await kb.keyword_search(space.id, "the of and", top_k=10) == []  # only stop words
    assert await kb.keyword_search(space.id, "nothing matches here", top_k=10) == []
    assert await kb.keyword_search(space.id, "", top_k=10) == []


async def test_spaces_never_see_each_others_chunks(kb: KnowledgeStore) -> None:
    one, two = await new_space(kb), await new_space(kb)
    await add_document(kb, one, "d", rows("one", ["shared words here"], [at(0)]))
    await add_document(kb, two, "d", rows("two", ["shared words here"], [at(1)]))
    assert ids(await kb.vector_search(one.id, Q, top_k=5)) == ["one-0"]
    assert ids(await kb.vector_search(two.id, Q, top_k=5, exact=True)) == ["two-0"]
    assert ids(await kb.keyword_search(one.id, "shared", top_k=5)) == ["one-0"]
    assert ids(await kb.keyword_search(two.id, "shared", top_k=5)) == ["two-0"]
    assert await kb.get_chunks(one.id, ["two-0"]) == []
    assert ids(await kb.vector_search(one.id, Q, top_k=5, filters={"document": "d"})) == ["one-0"]


async def test_get_chunks_keeps_the_order_given(kb: KnowledgeStore) -> None:
    space = await new_space(kb)
    await add_document(kb, space, "d", [*rows("c", ["a", "b", "c"])], source="d.pdf")
    chunks = await kb.get_chunks(space.id, ["c-2", "nope", "c-0", "c-2"])
    assert ids(chunks) == ["c-2", "c-0"]
    assert (chunks[0].text, chunks[0].source, chunks[0].score, chunks[0].metadata) == (
        "c",
        "d.pdf",
        None,
        {"document": "d"},
    )


async def test_chunk_source_and_metadata_round_trip(kb: KnowledgeStore) -> None:
    space = await new_space(kb)
    doc = await kb.begin_document(space.id, name="site", source="https://example.com/")
    meta = {"page": 2, "heading_path": ["Intro", "Setup"], "note": "nul \x00 kept", "start": 0, "end": 5}
    chunk = ChunkRow(id="s-0", ordinal=0, text="hello", embedding=at(0), metadata=meta, source="https://example.com/a")
    await kb.replace_document(space.id, doc.id, content_hash="h", chunks=[chunk, *rows("t", ["plain"])[:1]])
    got = {c.id: c for c in await kb.get_chunks(space.id, ["s-0", "t-0"])}
    assert got["s-0"].source == "https://example.com/a"
    assert got["t-0"].source == "https://example.com/"
    assert got["s-0"].metadata == {**meta, "document": "site"}


# --- graph -------------------------------------------------------------------------------------------------------


def fact(subject: str, predicate: str, obj: str, chunk_id: str | None = None) -> GraphEdge:
    return GraphEdge(subject=subject, predicate=predicate, object=obj, chunk_id=chunk_id)


async def test_graph_edges_are_deduplicated(kb: KnowledgeStore) -> None:
    space = await new_space(kb)
    edges = [fact("Alice", "knows", "Bob"), fact(" Alice ", "knows", "Bob"), fact("Alice", "knows", "Bob", "c1")]
    assert await kb.add_graph_edges(space.id, edges) == 2
    assert await kb.add_graph_edges(space.id, [*edges, fact("Bob", "knows", "Carol")]) == 1
    with pytest.raises(ValidationError):
        await kb.add_graph_edges(space.id, [fact("Alice", " ", "Bob")])
    with pytest.raises(NotFoundError, match="nope"):
        await kb.add_graph_edges(space.id, [GraphEdge(subject="a", predicate="b", object="c", document_id="nope")])


async def test_find_entities_exact_first_then_substring_by_degree(kb: KnowledgeStore) -> None:
    space = await new_space(kb)
    await kb.add_graph_edges(
        space.id,
        [
            fact("PostgreSQL", "supports", "pgvector"),
            fact("PostgreSQL", "has", "GIN indexes"),
            fact("pgvector", "provides", "HNSW"),
            fact("Postgres Conference", "features", "PostgreSQL"),
            fact("Mongo", "is", "database"),
            fact("Postgres", "is", "database"),
        ],
    )
    assert await kb.find_entities(space.id, ["postgres"]) == ["Postgres", "PostgreSQL", "Postgres Conference"]
    assert await kb.find_entities(space.id, ["HNSW", "mongo"]) == ["HNSW", "Mongo"]
    assert await kb.find_entities(space.id, ["postgres"], limit=1) == ["Postgres"]
    assert await kb.find_entities(space.id, ["100%"]) == []  # wildcards are literal
    assert await kb.find_entities(space.id, ["  "]) == []


async def test_neighbourhood_walks_both_directions_nearest_first(kb: KnowledgeStore) -> None:
    space = await new_space(kb)
    await kb.add_graph_edges(
        space.id,
        [
            fact("B", "likes", "C"),
            fact("A", "knows", "B"),
            fact("C", "owns", "D"),
            fact("X", "knows", "a"),
            fact("D", "sells", "E"),
            fact("Y", "unrelated", "Z"),
        ],
    )

    def triples(edges: list[GraphEdge]) -> list[tuple[str, str, str]]:
        return [(e.subject, e.predicate, e.object) for e in edges]

    assert triples(await kb.neighbourhood(space.id, ["a"])) == [("A", "knows", "B"), ("X", "knows", "a")]
    two = triples(await kb.neighbourhood(space.id, ["A"], depth=2))
    assert two == [("A", "knows", "B"), ("X", "knows", "a"), ("B", "likes", "C")]
    three = triples(await kb.neighbourhood(space.id, ["a"], depth=3))
    assert three == [*two, ("C", "owns", "D")]
    assert len(await kb.neighbourhood(space.id, ["A"], depth=3, limit=2)) == 2
    assert await kb.neighbourhood(space.id, ["nobody"], depth=2) == []
    for depth in (0, 6):
        with pytest.raises(ValidationError):
            await kb.neighbourhood(space.id, ["A"], depth=depth)


# --- PostgreSQL only ---------------------------------------------------------------------------------------------


async def test_keyword_search_stems_in_the_space_language(pg_kb: PostgresKnowledgeStore) -> None:
    english = await new_space(pg_kb)
    simple = await new_space(pg_kb, language="simple")
    for space in (english, simple):
        await add_document(pg_kb, space, "d", rows("s", ["The runners were running quickly", "Cats sleep"]))
    assert ids(await pg_kb.keyword_search(english.id, "run", top_k=5)) == ["s-0"]
    assert ids(await pg_kb.keyword_search(english.id, "cat", top_k=5)) == ["s-1"]
    assert await pg_kb.keyword_search(simple.id, "run", top_k=5) == []
    assert ids(await pg_kb.keyword_search(simple.id, "were", top_k=5)) == ["s-0"]  # no stop words in simple


async def test_keyword_query_with_operators_is_plain_text(pg_kb: PostgresKnowledgeStore) -> None:
    space = await new_space(pg_kb)
    await add_document(pg_kb, space, "d", rows("s", ["see https://example.com/a?b=1&c=2 now", "a & b | !c"]))
    assert ids(await pg_kb.keyword_search(space.id, "example.com/a?b=1&c=2 & | ! ( ':*", top_k=5)) == ["s-0"]


async def test_large_vectors_use_halfvec_and_huge_ones_no_index(
    pg_kb: PostgresKnowledgeStore, pool: AsyncConnectionPool
) -> None:
    for dims in (3000, 4500):
        space = await new_space(pg_kb)
        await add_document(pg_kb, space, "d", rows("h", ["a", "b"], [at(0, dims), at(50, dims)]))
        assert ids(await pg_kb.vector_search(space.id, at(45, dims), top_k=2)) == ["h-1", "h-0"]
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE 'kb_chunks_hnsw_%'")
        indexes = dict(await cur.fetchall())
    assert set(indexes) == {"kb_chunks_hnsw_3000"}
    assert "halfvec_cosine_ops" in indexes["kb_chunks_hnsw_3000"]
    assert "WHERE (dims = 3000)" in indexes["kb_chunks_hnsw_3000"]


@pytest.fixture
async def index_only_pool(db_url: str) -> AsyncIterator[AsyncConnectionPool]:
    """A pool whose sessions avoid full scans and sorts: an ordered index scan (HNSW) is the plan left.

    On a table this small the planner rightly prefers reading the space's rows by primary key and sorting them; on
    a big one it picks the HNSW index by itself.
    """
    url = make_conninfo(db_url, options="-c enable_seqscan=off -c enable_bitmapscan=off -c enable_sort=off")
    pool = await open_pool(url, min_size=1, max_size=2)
    try:
        yield pool
    finally:
        await pool.close()


async def test_filtered_search_walks_the_hnsw_index_without_losing_recall(
    pg_kb: PostgresKnowledgeStore, index_only_pool: AsyncConnectionPool
) -> None:
    # 5000 chunks crowd around the query; the 6 the filter keeps are far away. A plain HNSW scan (ef_search 40)
    # would find only crowd chunks and return nothing after filtering: the iterative scan keeps walking.
    rng = random.Random(3)
    dims, count = 8, 5006
    space = await new_space(pg_kb)
    other = await new_space(pg_kb)
    vectors = [[1.0, *(rng.uniform(-0.05, 0.05) for _ in range(dims - 1))] for _ in range(count - 6)]
    vectors += [[-1.0, *(rng.uniform(-1, 1) for _ in range(dims - 1))] for _ in range(6)]
    meta = [{"keep": i >= count - 6} for i in range(count)]
    await add_document(pg_kb, space, "d", rows("c", [f"c{i}" for i in range(count)], vectors, meta))
    await add_document(pg_kb, other, "d", rows("o", ["o"], [[-1.0, *([0.0] * (dims - 1))]], [{"keep": True}]))
    async with index_only_pool.connection() as conn:
        await conn.execute("ANALYZE kb_chunks")

    query = [1.0, *([0.0] * (dims - 1))]
    unfiltered = await pg_kb.explain_vector_search(space.id, query, top_k=5)  # the planner's own choice
    assert f"Index Scan using kb_chunks_hnsw_{dims}" in unfiltered, unfiltered
    store = PostgresKnowledgeStore(index_only_pool)
    plan = await store.explain_vector_search(space.id, query, top_k=5, filters={"keep": True})
    assert f"Index Scan using kb_chunks_hnsw_{dims}" in plan, plan
    assert "hnsw" not in await pg_kb.explain_vector_search(space.id, query, top_k=5, exact=True)
    indexed = await store.vector_search(space.id, query, top_k=5, filters={"keep": True})
    exact = await pg_kb.vector_search(space.id, query, top_k=5, filters={"keep": True}, exact=True)
    assert len(indexed) == 5
    assert ids(indexed) == ids(exact)
    scores = [h.chunk.score or 0.0 for h in indexed]
    assert scores == sorted(scores, reverse=True)
