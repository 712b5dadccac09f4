"""Retrieval's pure parts: rank fusion, maximal marginal relevance and score filters.

Every function takes and returns ``Chunk`` lists, best first, and touches no store or model:

- ``label_hits`` marks one retriever's hits with their rank and score (``metadata["retrievers"]``);
- ``fuse`` merges several retrievers' rankings by reciprocal rank (``1 / (k + rank)`` summed, k=60);
- ``mmr`` re-ranks candidates by maximal marginal relevance over their embeddings (numpy).

The context an answer reads (passages within a token budget) and its citations are built by the ``rag`` operators
(``rivulet_operators.rag._common``), the one place that formats them.

>>> from rivulet.sdk.ports import Chunk
>>> a, b = Chunk(id="c_a", document_id="d", text="A", score=0.9), Chunk(id="c_b", document_id="d", text="B", score=0.5)
>>> [c.id for c in fuse({"vector": [a, b], "keyword": [b]})]
['c_b', 'c_a']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
import numpy as np

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from rivulet.sdk.ports import Chunk

__all__ = (
    "RRF_K",
    "filter_min_score",
    "fuse",
    "label_hits",
    "mmr",
)

RRF_K = 60
"""The usual constant of reciprocal rank fusion (Cormack et al.): damps the weight of the very first ranks."""


def _retrievers(chunk: Chunk) -> dict[str, Any]:
    found = chunk.metadata.get("retrievers")
    return dict(found) if isinstance(found, dict) else {}  # pyright: ignore[reportUnknownArgumentType]


def label_hits(chunks: Sequence[Chunk], retriever: str) -> list[Chunk]:
    """The hits of one retriever, each marked ``metadata["retrievers"][retriever] = {"rank", "score"}``."""
    labelled: list[Chunk] = []
    for rank, chunk in enumerate(chunks, start=1):
        retrievers = _retrievers(chunk)
        retrievers[retriever] = {"rank": rank, "score": chunk.score}
        labelled.append(msgspec.structs.replace(chunk, metadata={**chunk.metadata, "retrievers": retrievers}))
    return labelled


def fuse(rankings: Mapping[str, Sequence[Chunk]], *, k: int = RRF_K) -> list[Chunk]:
    """Reciprocal rank fusion: each chunk scores ``sum(1 / (k + rank))`` over the rankings that hold it.

    Args:
        rankings: Each retriever's hits, best first, by retriever name (``vector``, ``keyword``, ``graph``).
        k: The fusion constant (larger: flatter weights).

    Returns:
        Every chunk once, best fused score first (ties: the better best rank, then first seen), its ``score`` the
        fused score and ``metadata["retrievers"]`` each retriever's ``rank`` and ``score`` for it.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    fused: dict[str, float] = {}
    best_rank: dict[str, int] = {}
    first: dict[str, Chunk] = {}
    retrievers: dict[str, dict[str, Any]] = {}
    for name, hits in rankings.items():
        seen: set[str] = set()
        for rank, chunk in enumerate(hits, start=1):
            if chunk.id in seen:  # a retriever's duplicate counts once, at its best rank
                continue
            seen.add(chunk.id)
            if chunk.id not in first:
                first[chunk.id] = chunk
                retrievers[chunk.id] = _retrievers(chunk)
            fused[chunk.id] = fused.get(chunk.id, 0.0) + 1.0 / (k + rank)
            best_rank[chunk.id] = min(best_rank.get(chunk.id, rank), rank)
            retrievers[chunk.id][name] = {"rank": rank, "score": chunk.score}
    order = {chunk_id: index for index, chunk_id in enumerate(first)}
    ranked = sorted(first, key=lambda cid: (-fused[cid], best_rank[cid], order[cid]))
    return [
        msgspec.structs.replace(
            first[cid], score=fused[cid], metadata={**first[cid].metadata, "retrievers": retrievers[cid]}
        )
        for cid in ranked
    ]


def _unit_rows(embeddings: Sequence[Sequence[float] | None]) -> np.ndarray[Any, np.dtype[np.float32]]:
    """Row-normalised embeddings; a missing or zero embedding is a zero row (similar to nothing)."""
    width = next((len(e) for e in embeddings if e), 0)
    matrix = np.zeros((len(embeddings), width), dtype=np.float32)
    for row, embedding in enumerate(embeddings):
        if embedding and len(embedding) == width:
            matrix[row] = embedding
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    np.divide(matrix, norms, out=matrix, where=norms > 0)
    return matrix


def mmr(
    chunks: Sequence[Chunk], embeddings: Sequence[Sequence[float] | None], *, top_k: int, lambda_mult: float = 0.5
) -> list[Chunk]:
    """Maximal marginal relevance: pick, one at a time, the chunk best balancing relevance and novelty.

    Each step takes the candidate maximising ``lambda * relevance - (1 - lambda) * max_similarity_to_picked``.
    Relevance is the chunk's ``score`` scaled so the best candidate has 1 (so fused, keyword and cosine scores
    all work); similarity is the cosine of the embeddings. A candidate without an embedding is similar to
    nothing (it competes on relevance alone).

    Args:
        chunks: The candidates, best first.
        embeddings: One per candidate (``None`` where unknown).
        top_k: How many to pick.
        lambda_mult: 1: relevance only (the input order), 0: diversity only.

    Returns:
        At most ``top_k`` chunks in the order picked, their scores unchanged.
    """
    if len(embeddings) != len(chunks):
        raise ValueError(f"{len(chunks)} chunks but {len(embeddings)} embeddings")
    if not 0.0 <= lambda_mult <= 1.0:
        raise ValueError(f"lambda_mult must be between 0 and 1, not {lambda_mult}")
    count = min(top_k, len(chunks))
    if count <= 0:
        return []
    relevance = np.array([c.score if c.score is not None else 0.0 for c in chunks], dtype=np.float32)
    top = float(np.abs(relevance).max())
    if top > 0:
        relevance /= top
    unit = _unit_rows(embeddings)
    closest = np.zeros(len(chunks), dtype=np.float32)
    available = np.ones(len(chunks), dtype=bool)
    picked: list[int] = []
    for _ in range(count):
        gain = lambda_mult * relevance - (1.0 - lambda_mult) * closest
        gain[~available] = -np.inf
        best = int(np.argmax(gain))
        picked.append(best)
        available[best] = False
        if unit.shape[1]:
            np.maximum(closest, unit @ unit[best], out=closest)
    return [chunks[i] for i in picked]


def filter_min_score(chunks: Sequence[Chunk], min_score: float | None) -> list[Chunk]:
    """The chunks scoring at least ``min_score`` (all of them when it is ``None``; unscored chunks stay)."""
    if min_score is None:
        return list(chunks)
    return [c for c in chunks if c.score is None or c.score >= min_score]
