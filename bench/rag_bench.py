"""RAG benchmark: ingestion rate, search latency and recall at 100k chunks, retrieval quality — one table.

Each measurement has its baseline taken in the same process:

1. **ingestion** — ``KnowledgeService.ingest`` (chunk, embed with ``default-embedding``, store with COPY into
   PostgreSQL) of a corpus made of the project's docs (README.md and docs/*.md, then copies with their paragraphs
   rotated until ``--ingest-chunks``), against the raw model (``SentenceTransformer.encode``, batch 32, the same
   loaded weights) on the same chunk texts: chunks/s, goal >= 90 %;
2. **search** at ``--chunks`` chunks — 384-d unit vectors shaped like text embeddings (a random 24-d latent space
   projected to 384-d, plus noise: uniformly random vectors have no near neighbours, so every ANN index only
   guesses on them) and texts drawn from the docs' vocabulary by frequency, loaded in documents of 1,000 chunks
   (the HNSW and full-text indexes are kept up to date while loading: the load time is the build time);
   p50/p95 of vector, keyword and hybrid search (top 10) through ``KnowledgeService.search`` with precomputed
   query vectors (embedding a query is reported apart), recall@10 of the HNSW index against exact search
   (numpy), and the same vectors in chromadb (DB-GPT's default vector store: ``PersistentClient``, cosine, its
   default HNSW settings) as the baseline;
3. **quality** — README.md and docs/*.md ingested as files with the default chunking, then the labelled questions
   of ``bench/data/rag_questions.json``: recall@5 of vector, keyword and hybrid search (a hit is a top-5 chunk of
   an expected document that contains the expected passage or covers at least half of it).

Runs on the embedded PostgreSQL in a temporary directory, or on the server of ``RIVULET_DATABASE_URL`` (it creates
and drops three scratch databases there). chromadb comes with the ``bench`` extra (``make bench-rag``).

Usage: ``.venv/bin/python bench/rag_bench.py [--chunks 100000] [--ingest-chunks 3000] [--queries 200] [--quick]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from _rag_support import (
    DIMENSIONS,
    LATENT,
    ROOT,
    CpuClock,
    embedding_like,
    ingestion_corpus,
    is_hit,
    load_questions,
    postgres_server,
    postmaster_pid,
    random_texts,
    scratch_pool,
)
from rivulet.knowledge.ingest import SourceFile
from rivulet.knowledge.service import KnowledgeService
from rivulet.providers import MemoryModelStore, ModelService
from rivulet.providers.local_embeddings import bundled_model_dir, load_sentence_transformer
from rivulet.sdk.knowledge import ChunkingConfig, SearchRequest
from rivulet.sdk.models import EmbeddingResult
from rivulet.storage.base import ChunkRow
from rivulet.storage.postgres.knowledge import PostgresKnowledgeStore

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from rivulet.sdk.knowledge import SearchMode
    from rivulet.sdk.models import ModelRegistry
    from rivulet.sdk.ports import Chunk, Document

DOCUMENT_CHUNKS = 1_000
BATCH = 32  # what the provider's encode batches by (local_sentence_transformers' default batch_size)


@dataclass(frozen=True)
class Row:
    """One line of the table: what was measured, Rivulet's number, the baseline's, their ratio and the goal."""

    part: str
    what: str
    ours: str
    baseline: str = ""
    ratio: str = ""
    goal: str = ""


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ms(samples: Sequence[float]) -> str:
    """p50 / p95 of latencies in seconds, as milliseconds."""
    p50, p95 = np.percentile(np.array(samples) * 1000, [50, 95])
    return f"{p50:.1f} / {p95:.1f} ms"


# --- databases --------------------------------------------------------------------------------------------------


# --- 1. ingestion -----------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """Wall and CPU seconds of one side of the ingestion comparison."""

    wall: float = 0.0
    cpu: float = 0.0


async def measured(clock: CpuClock, tally: Tally, work: Callable[[], Awaitable[object]]) -> float:
    before, started = clock.read(), time.perf_counter()
    await work()
    wall = time.perf_counter() - started
    tally.wall += wall
    tally.cpu += clock.spent(before, clock.read())
    return wall


async def bench_ingestion(server_url: str, models: ModelService, model: Any, args: argparse.Namespace) -> list[Row]:
    async with scratch_pool(server_url, "ingest") as pool:
        service = KnowledgeService(PostgresKnowledgeStore(pool), models)
        config = ChunkingConfig()
        documents = await asyncio.to_thread(ingestion_corpus, args.ingest_chunks, lambda d: service.chunk(d, config))
        texts: dict[str, list[str]] = {}
        for chunk in await asyncio.to_thread(service.chunk, documents, config):
            texts.setdefault(chunk.document_id, []).append(chunk.text)
        total = sum(len(t) for t in texts.values())
        note(f"ingestion: {len(documents)} documents, {total} chunks in {args.slices} slices; warming up")
        await asyncio.to_thread(encode, model, texts[documents[0].id])
        await service.create_space(name="warm-up")
        await service.ingest("warm-up", documents[:2])  # also creates the 384-d HNSW index
        await service.create_space(name="ingest")
        clock, raw, ours = CpuClock(await postmaster_pid(pool)), Tally(), Tally()
        size = -(-len(documents) // args.slices)
        for number, start in enumerate(range(0, len(documents), size)):
            part = documents[start : start + size]
            batch = [t for d in part for t in texts[d.id]]
            steps = [
                lambda b=batch: measured(clock, raw, lambda: asyncio.to_thread(encode, model, b)),
                lambda p=part: measured(clock, ours, lambda: ingest(service, p, "ingest")),
            ]
            walls = [await step() for step in (steps if number % 2 == 0 else steps[::-1])]  # ABBA: load drifts
            note(
                f"  slice {number + 1}: {len(batch)} chunks, wall s raw {walls[number % 2]:.1f}, ingest "
                f"{walls[1 - number % 2]:.1f}"
            )

    def rate(seconds: float) -> str:
        return f"{total / seconds:.1f}"

    return [
        Row(
            "ingestion",
            f"chunks/s, {total:,} chunks, {args.slices} interleaved slices",
            f"{rate(ours.wall)} ingest",
            f"{rate(raw.wall)} raw encode",
            f"{raw.wall / ours.wall:.1%}",
            ">= 90%",
        ),
        Row(
            "ingestion",
            "chunks per CPU second (ingest: + PostgreSQL's)",
            rate(ours.cpu),
            rate(raw.cpu),
            f"{raw.cpu / ours.cpu:.1%}",
        ),
    ]


def encode(model: Any, texts: list[str]) -> None:
    """The raw model on ``texts``: batch 32, normalised, as the provider calls it."""
    model.encode(texts, batch_size=BATCH, normalize_embeddings=True, show_progress_bar=False)


async def ingest(service: KnowledgeService, documents: list[Document], space: str) -> None:
    """``KnowledgeService.ingest`` of ``documents``; each must be added in full."""
    report = await service.ingest(space, documents)
    if report.failed or sum(1 for item in report.items if item.status == "added") != len(documents):
        raise RuntimeError(f"ingestion did not add every document: {report.items}")


# --- 2. search at scale -----------------------------------------------------------------------------------------


class PrecomputedEmbeddings:
    """A ``ModelRegistry`` whose ``embed`` returns the vector prepared for each query text (embedding excluded)."""

    def __init__(self, vectors: dict[str, list[float]]) -> None:
        self.vectors = vectors

    async def embed(self, model: str, texts: Sequence[str], *, origin: object = None) -> EmbeddingResult:
        return EmbeddingResult(vectors=[self.vectors[t] for t in texts], model=model, dimensions=DIMENSIONS)


async def load_space(store: PostgresKnowledgeStore, space_id: str, vectors: np.ndarray, texts: list[str]) -> float:
    """Store the chunks in documents of 1,000 (two at a time: both cores); returns the seconds it took."""

    async def document(number: int) -> None:
        start = number * DOCUMENT_CHUNKS
        rows = [
            ChunkRow(id=f"c{j}", ordinal=j - start, text=texts[j], embedding=vectors[j].tolist())
            for j in range(start, min(start + DOCUMENT_CHUNKS, len(texts)))
        ]
        record = await store.begin_document(space_id, name=f"doc-{number:05d}")
        await store.replace_document(space_id, record.id, content_hash="bench", chunks=rows)

    count = -(-len(texts) // DOCUMENT_CHUNKS)
    started = time.perf_counter()
    await document(0)  # fixes the space's size first
    pending = iter(range(1, count))

    async def worker() -> None:
        for number in pending:
            await document(number)
            if number % 10 == 0:
                note(f"  {number * DOCUMENT_CHUNKS:,} of {len(texts):,} chunks, {time.perf_counter() - started:.0f} s")

    await asyncio.gather(worker(), worker())
    return time.perf_counter() - started


async def timed(calls: Sequence[Callable[[], Awaitable[list[Chunk]]]]) -> tuple[list[float], list[list[Chunk]]]:
    latencies: list[float] = []
    results: list[list[Chunk]] = []
    for call in calls:
        started = time.perf_counter()
        results.append(await call())
        latencies.append(time.perf_counter() - started)
    return latencies, results


def recall_at_10(results: Sequence[Sequence[int]], truth: np.ndarray) -> float:
    return float(
        np.mean([len(set(found) & set(expected.tolist())) / 10 for found, expected in zip(results, truth, strict=True)])
    )


async def bench_search(server_url: str, models: ModelService, args: argparse.Namespace) -> list[Row]:
    rng = np.random.default_rng(args.seed)
    projection = rng.standard_normal((LATENT, DIMENSIONS), dtype=np.float32)
    vectors = embedding_like(rng, projection, args.chunks)
    texts, query_texts = random_texts(rng, args.chunks, args.queries)
    queries = embedding_like(rng, projection, len(query_texts))
    truth = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    rows: list[Row] = []
    async with scratch_pool(server_url, "search") as pool:
        store = PostgresKnowledgeStore(pool)
        precomputed = {text: q.tolist() for text, q in zip(query_texts, queries, strict=True)}
        service = KnowledgeService(store, cast("ModelRegistry", PrecomputedEmbeddings(precomputed)))
        space = await store.create_space(name="search", embedding_model="precomputed")
        note(f"search: loading {args.chunks:,} chunks into PostgreSQL")
        load_s = await load_space(store, space.id, vectors, texts)
        async with pool.connection() as conn:
            await conn.execute("ANALYZE kb_chunks")  # what autovacuum does after a bulk load
        chroma = await asyncio.to_thread(chroma_baseline, vectors, texts, queries, truth, args)
        rows.append(Row("search", f"load {args.chunks:,} chunks (index build)", f"{load_s:.0f} s", chroma["load"]))

        def search(text: str, mode: SearchMode) -> Callable[[], Awaitable[list[Chunk]]]:
            return lambda: service.search(space.name, SearchRequest(query=text, mode=mode, top_k=10))

        warm = [search(t, m) for t in query_texts[:20] for m in ("vector", "keyword")]
        await timed(warm)
        vector_s, vector_hits = await timed([search(t, "vector") for t in query_texts])
        keyword_s, _ = await timed([search(t, "keyword") for t in query_texts])
        hybrid_s, _ = await timed([search(t, "hybrid") for t in query_texts])
        exact = [(lambda q=q: _exact(store, space.id, q)) for q in queries[: min(20, len(query_texts))].tolist()]
        exact_s, exact_hits = await timed(exact)
    found = [[int(c.id[1:]) for c in hits] for hits in vector_hits]
    recall = recall_at_10(found, truth)
    exact_recall = recall_at_10([[int(c.id[1:]) for c in hits] for hits in exact_hits], truth[: len(exact_hits)])
    rows += [
        Row("search", f"vector top 10 p50 / p95 ({len(query_texts)} queries)", ms(vector_s), chroma["latency"]),
        Row("search", "vector recall@10 vs exact", f"{recall:.3f}", chroma["recall"], "", ">= 0.95"),
        Row("search", "hybrid top 10 p50 / p95 (vector + keyword, RRF)", ms(hybrid_s), "n/a"),
        Row("search", "keyword top 10 p50 / p95", ms(keyword_s)),
        Row("search", f"exact scan p50 / p95 (recall {exact_recall:.3f})", ms(exact_s)),
        Row("search", "query embedding p50 / p95 (MiniLM, CPU)", ms(await embed_latencies(models, query_texts))),
    ]
    return rows


async def _exact(store: PostgresKnowledgeStore, space_id: str, vector: list[float]) -> list[Chunk]:
    return [hit.chunk for hit in await store.vector_search(space_id, vector, top_k=10, exact=True)]


async def embed_latencies(models: ModelService, texts: Sequence[str]) -> list[float]:
    latencies: list[float] = []
    for text in texts[:50]:
        started = time.perf_counter()
        await models.embed("default-embedding", [text])
        latencies.append(time.perf_counter() - started)
    return latencies


def chroma_baseline(
    vectors: np.ndarray, texts: list[str], queries: np.ndarray, truth: np.ndarray, args: argparse.Namespace
) -> dict[str, str]:
    """The same vectors (with their texts) in chromadb, in process, on disk; its load time, latency and recall."""
    try:
        import chromadb
    except ImportError:
        missing = "chromadb missing: pip install -c constraints.txt -e '.[bench]'"
        return {"load": missing, "latency": "", "recall": ""}
    note(f"search: loading {len(texts):,} chunks into chromadb {chromadb.__version__}")
    with tempfile.TemporaryDirectory(prefix="rivulet-rag-chroma-") as path:
        client = chromadb.PersistentClient(path=path, settings=chromadb.Settings(anonymized_telemetry=False))
        collection = client.create_collection("bench", embedding_function=None, metadata={"hnsw:space": "cosine"})
        batch = min(client.get_max_batch_size(), 5_000)
        started = time.perf_counter()
        for start in range(0, len(texts), batch):
            end = min(start + batch, len(texts))
            ids = [f"c{j}" for j in range(start, end)]
            collection.add(ids=ids, embeddings=vectors[start:end], documents=texts[start:end])
        load_s = time.perf_counter() - started
        for query in queries[:20]:  # warm-up
            collection.query(query_embeddings=[query], n_results=10)
        latencies: list[float] = []
        found: list[list[int]] = []
        for query in queries:
            started = time.perf_counter()
            result = collection.query(query_embeddings=[query], n_results=10)
            latencies.append(time.perf_counter() - started)
            found.append([int(i[1:]) for i in result["ids"][0]])
    recall = recall_at_10(found, truth)
    return {"load": f"{load_s:.0f} s chromadb", "latency": f"{ms(latencies)} chromadb", "recall": f"{recall:.3f}"}


# --- 3. retrieval quality ---------------------------------------------------------------------------------------


async def bench_quality(server_url: str, models: ModelService) -> list[Row]:
    corpus, questions = load_questions()
    texts = {path: (ROOT / path).read_text() for path in corpus}
    async with scratch_pool(server_url, "quality") as pool:
        service = KnowledgeService(PostgresKnowledgeStore(pool), models)
        await service.create_space(name="docs")
        report = await service.ingest_files("docs", [SourceFile(name=path, path=str(ROOT / path)) for path in corpus])
        if report.failed:
            raise RuntimeError(f"ingesting the docs failed: {report.failed}")
        note(f"quality: {len(corpus)} documents, {report.chunks_added} chunks, {len(questions)} questions")
        rows: list[Row] = []
        modes: tuple[SearchMode, ...] = ("vector", "keyword", "hybrid")
        for mode in modes:
            hits = 0
            for question in questions:
                found = await service.search("docs", SearchRequest(query=question.text, mode=mode, top_k=5))
                hits += any(is_hit(chunk, question.answers, texts) for chunk in found)
            what = f"{mode} recall@5 ({len(questions)} questions, {report.chunks_added} chunks)"
            rows.append(Row("quality", what, f"{hits / len(questions):.3f}"))
    return rows


# --- the run ----------------------------------------------------------------------------------------------------


def print_table(rows: Sequence[Row]) -> None:
    header = Row("PART", "MEASURE", "RIVULET", "BASELINE", "RATIO", "GOAL")
    table = [header, *rows]
    widths = [max(len(getattr(r, f)) for r in table) for f in ("part", "what", "ours", "baseline", "ratio")]
    for r in table:
        cells = (r.part, r.what, r.ours, r.baseline, r.ratio)
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + "  " + r.goal)


async def main(args: argparse.Namespace) -> None:
    model = load_sentence_transformer(bundled_model_dir())
    models = ModelService(MemoryModelStore())
    provider = models._provider(await models.get("default-embedding"))  # noqa: SLF001 - share the loaded weights
    provider._model = model  # noqa: SLF001
    started = time.perf_counter()
    try:
        async with postgres_server() as server_url:
            rows = await bench_ingestion(server_url, models, model, args)
            rows += await bench_search(server_url, models, args)
            rows += await bench_quality(server_url, models)
    finally:
        await models.close()
    import torch

    took = time.perf_counter() - started
    print(f"RAG benchmark: {os.cpu_count()} cores, torch on {torch.get_num_threads()} threads, {took:.0f} s in all")
    print_table(rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=100_000, help="chunks in the search part (default 100,000)")
    parser.add_argument("--ingest-chunks", type=int, default=2_000, help="chunks of the ingestion corpus")
    parser.add_argument("--queries", type=int, default=200, help="queries timed in the search part")
    parser.add_argument("--slices", type=int, default=8, help="ingestion runs in slices, raw and product interleaved")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run (5,000 chunks)")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.chunks, arguments.ingest_chunks = min(arguments.chunks, 5_000), min(arguments.ingest_chunks, 300)
        arguments.queries, arguments.slices = min(arguments.queries, 50), 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds: the embedded server and databases go too
    asyncio.run(main(arguments))
