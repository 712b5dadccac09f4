"""The RAG benchmark's data and plumbing (``bench/rag_bench.py``): corpora, vectors, labelled questions, databases.

- ``ingestion_corpus``: README.md and docs/*.md, then copies with their paragraphs rotated, to a number of chunks;
- ``embedding_like`` / ``random_texts``: 384-d unit vectors shaped like text embeddings and texts drawn from the
  docs' vocabulary by frequency, for the search part;
- ``load_questions`` / ``is_hit``: the labelled questions of ``bench/data/rag_questions.json`` and what counts as
  finding one;
- ``postgres_server`` / ``scratch_pool``: the server (embedded, or ``RIVULET_DATABASE_URL``'s) and a migrated
  database per part; ``CpuClock``: CPU seconds of this process and of a local PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import psutil
import psycopg
from psycopg.conninfo import make_conninfo

from rivulet.sdk.ports import Document
from rivulet.storage.embedded import EmbeddedPostgres
from rivulet.storage.postgres.migrate import apply_migrations
from rivulet.storage.postgres.pool import open_pool

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Sequence

    from psycopg_pool import AsyncConnectionPool

    from rivulet.sdk.ports import Chunk

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "bench" / "data" / "rag_questions.json"
DIMENSIONS = 384
LATENT = 24


def whitespace(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def corpus_paths() -> list[str]:
    return ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]


@contextlib.asynccontextmanager
async def postgres_server() -> AsyncIterator[str]:
    """The server URL: ``RIVULET_DATABASE_URL``'s server, or an embedded one in a temporary directory."""
    if url := os.environ.get("RIVULET_DATABASE_URL"):
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="rivulet-rag-bench-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "home")
        url = await asyncio.to_thread(server.start)
        try:
            yield url
        finally:
            await asyncio.to_thread(server.stop)


@contextlib.asynccontextmanager
async def scratch_pool(server_url: str, part: str) -> AsyncIterator[AsyncConnectionPool]:
    """A migrated database of its own for one part (so no part walks another part's vectors in the index)."""
    name = f"rag_bench_{part}_{uuid.uuid4().hex[:8]}"
    async with await psycopg.AsyncConnection.connect(server_url, autocommit=True) as conn:
        await conn.execute(f"CREATE DATABASE {name}")
    pool = await open_pool(make_conninfo(server_url, dbname=name), min_size=1, max_size=4)
    try:
        await apply_migrations(pool)
        yield pool
    finally:
        await pool.close()
        async with await psycopg.AsyncConnection.connect(server_url, autocommit=True) as conn:
            await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def ingestion_corpus(target_chunks: int, chunk: Callable[[list[Document]], list[Chunk]]) -> list[Document]:
    """The docs, then copies with their paragraphs rotated (other texts, same style) until ``target_chunks``."""
    base = [(path, (ROOT / path).read_text().split("\n\n")) for path in corpus_paths()]
    per_copy = len(chunk([Document(id=path, text="\n\n".join(parts)) for path, parts in base]))
    documents: list[Document] = []
    for copy in range(max(1, -(-target_chunks // per_copy))):
        for path, parts in base:
            shift = copy % len(parts)
            text = "\n\n".join(parts[shift:] + parts[:shift])
            documents.append(Document(id=f"copy-{copy}/{path}", text=text, metadata={"source": path}))
    return documents


class CpuClock:
    """CPU seconds used by this process and, when the server runs on this machine, by every PostgreSQL process."""

    def __init__(self, postmaster: int | None) -> None:
        self.postmaster = postmaster

    def _processes(self) -> list[psutil.Process]:
        found = [psutil.Process()]
        with contextlib.suppress(psutil.Error):
            if self.postmaster is not None:
                server = psutil.Process(self.postmaster)
                found += [server, *server.children()]
        return found

    def read(self) -> dict[int, float]:
        seconds: dict[int, float] = {}
        for process in self._processes():
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                seconds[process.pid] = times.user + times.system
        return seconds

    @staticmethod
    def spent(before: dict[int, float], after: dict[int, float]) -> float:
        return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


async def postmaster_pid(pool: AsyncConnectionPool) -> int | None:
    """The server's main process, when it runs on this machine (its CPU time then counts as the product's)."""
    async with pool.connection() as conn:
        row = await (await conn.execute("SELECT pg_backend_pid()")).fetchone()
    try:
        return psutil.Process(row[0]).ppid() if row else None
    except psutil.Error:
        return None


def embedding_like(rng: np.random.Generator, projection: np.ndarray, count: int) -> np.ndarray:
    """Unit vectors on a random 24-d subspace of 384-d plus noise (nearest neighbours at cosine ~0.7, like text)."""
    latent = rng.standard_normal((count, LATENT), dtype=np.float32)
    vectors = latent @ projection / np.sqrt(LATENT) + 0.3 * rng.standard_normal((count, DIMENSIONS), dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def vocabulary() -> tuple[np.ndarray, np.ndarray]:
    """The docs' words (3+ letters) and their frequencies there, most frequent first."""
    counts: dict[str, int] = {}
    for path in corpus_paths():
        for word in re.findall(r"[a-z]{3,}", (ROOT / path).read_text().lower()):
            counts[word] = counts.get(word, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    words = np.array([w for w, _ in ranked])
    frequencies = np.array([c for _, c in ranked], dtype=np.float64)
    return words, frequencies / frequencies.sum()


def random_texts(rng: np.random.Generator, count: int, queries: int) -> tuple[list[str], list[str]]:
    """``count`` chunk texts of 30-90 words drawn by the docs' word frequencies, and distinct 2-4 word queries."""
    words, p = vocabulary()
    lengths = rng.integers(30, 91, count)
    drawn = rng.choice(len(words), size=int(lengths.sum()), p=p)
    ends = np.cumsum(lengths)
    texts = [" ".join(words[drawn[end - n : end]]) for end, n in zip(ends, lengths, strict=True)]
    middle = words[50 : min(len(words), 2_000)]  # selective but present: not stop words, not hapaxes
    asked: dict[str, None] = {}
    while len(asked) < queries:
        asked[" ".join(rng.choice(middle, size=int(rng.integers(2, 5))))] = None
    return texts, list(asked)


@dataclass(frozen=True)
class Answer:
    document: str
    passage: str


def is_hit(chunk: Chunk, answers: Sequence[Answer], texts: dict[str, str]) -> bool:
    """The chunk is from an expected document and contains the passage or covers at least half of it."""
    for answer in answers:
        if chunk.metadata.get("document") != answer.document:
            continue
        if whitespace(answer.passage) in whitespace(chunk.text):
            return True
        text = texts[answer.document]
        start, end = chunk.metadata.get("start"), chunk.metadata.get("end")
        if not (isinstance(start, int) and isinstance(end, int) and text[start:end] == chunk.text):
            start = text.find(chunk.text)
            end = start + len(chunk.text)
        pattern = r"\s+".join(re.escape(word) for word in answer.passage.split())
        for match in re.finditer(pattern, text):
            if start >= 0 and min(end, match.end()) - max(start, match.start()) >= len(match[0]) / 2:
                return True
    return False


@dataclass(frozen=True)
class Question:
    text: str
    answers: list[Answer]


def load_questions() -> tuple[list[str], list[Question]]:
    """The labelled corpus (paths from the repository root) and questions; stops if a doc lost a labelled passage."""
    labelled = json.loads(QUESTIONS.read_text())
    corpus: list[str] = labelled["corpus"]
    texts = {path: whitespace((ROOT / path).read_text()) for path in corpus}
    questions = [Question(q["question"], [Answer(**a) for a in q["answers"]]) for q in labelled["questions"]]
    for answer in (a for q in questions for a in q.answers):  # a stale label would count as a miss
        if whitespace(answer.passage) not in texts[answer.document]:
            raise SystemExit(f"{QUESTIONS.name}: {answer.document} no longer contains {answer.passage!r}")
    return corpus, questions
