"""Retrieval's pure parts: reciprocal rank fusion, MMR, score filters, the token-budget context and citations."""

from __future__ import annotations

import doctest

import pytest

from rivulet.knowledge import retrieval
from rivulet.knowledge.retrieval import (
    filter_min_score,
    fuse,
    label_hits,
    mmr,
)
from rivulet.sdk.ports import Chunk


def chunk(cid: str, score: float | None = None, text: str = "text", **metadata: object) -> Chunk:
    return Chunk(id=cid, document_id="d1", text=text, score=score, source="handbook.pdf", metadata=dict(metadata))


def test_doctests() -> None:
    assert doctest.testmod(retrieval).failed == 0


def test_label_hits_records_rank_and_score_per_retriever() -> None:
    hits = label_hits([chunk("a", 0.9), chunk("b", 0.4)], "vector")
    assert [h.metadata["retrievers"] for h in hits] == [
        {"vector": {"rank": 1, "score": 0.9}},
        {"vector": {"rank": 2, "score": 0.4}},
    ]


def test_fuse_sums_reciprocal_ranks_and_keeps_each_retrievers_rank() -> None:
    vector = [chunk("a", 0.9), chunk("b", 0.8), chunk("c", 0.7)]
    keyword = [chunk("c", 3.0), chunk("b", 2.0), chunk("d", 1.0)]
    fused = fuse({"vector": vector, "keyword": keyword})
    assert [c.id for c in fused] == ["c", "b", "a", "d"]  # 1/63 + 1/61 > 1/62 + 1/62 > 1/61
    assert fused[0].score == pytest.approx(1 / 63 + 1 / 61)
    b = fused[1]
    assert b.score == pytest.approx(1 / 62 + 1 / 62)
    assert b.metadata["retrievers"] == {"vector": {"rank": 2, "score": 0.8}, "keyword": {"rank": 2, "score": 2.0}}
    assert fused[2].metadata["retrievers"] == {"vector": {"rank": 1, "score": 0.9}}
    assert fused[2].score == pytest.approx(1 / 61)


def test_fuse_ties_go_to_the_better_best_rank_then_first_seen() -> None:
    fused = fuse({"vector": [chunk("a"), chunk("b")], "keyword": [chunk("b"), chunk("a")]})
    assert [c.id for c in fused] == ["a", "b"]  # same fused score and best rank: first seen wins
    fused = fuse({"vector": [chunk("a"), chunk("x"), chunk("b")], "keyword": [chunk("b"), chunk("y"), chunk("a")]}, k=1)
    assert [c.id for c in fused][:2] == ["a", "b"]


def test_fuse_counts_a_duplicate_once_and_keeps_earlier_labels() -> None:
    graph = label_hits([chunk("g")], "graph")
    fused = fuse({"vector": [chunk("a"), chunk("a")], "extra": graph})
    by_id = {c.id: c for c in fused}
    assert by_id["a"].score == pytest.approx(1 / 61)
    assert by_id["g"].metadata["retrievers"] == {
        "graph": {"rank": 1, "score": None},
        "extra": {"rank": 1, "score": None},
    }
    with pytest.raises(ValueError, match="k must be"):
        fuse({}, k=0)


def test_mmr_with_lambda_one_keeps_the_relevance_order() -> None:
    chunks = [chunk("a", 0.9), chunk("b", 0.8), chunk("c", 0.7)]
    embeddings = [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]
    assert [c.id for c in mmr(chunks, embeddings, top_k=3, lambda_mult=1.0)] == ["a", "b", "c"]


def test_mmr_skips_near_duplicates_for_diversity() -> None:
    chunks = [chunk("a", 0.9), chunk("a2", 0.89), chunk("b", 0.7)]
    embeddings = [[1.0, 0.0], [0.99, 0.01], [0.0, 1.0]]
    picked = mmr(chunks, embeddings, top_k=2, lambda_mult=0.5)
    assert [c.id for c in picked] == ["a", "b"]
    assert picked[1].score == 0.7  # scores unchanged


def test_mmr_handles_missing_embeddings_and_limits() -> None:
    chunks = [chunk("a", 2.0), chunk("b", 1.0), chunk("c", 0.5)]
    picked = mmr(chunks, [None, [0.0, 1.0], None], top_k=5, lambda_mult=0.3)
    assert sorted(c.id for c in picked) == ["a", "b", "c"]
    assert mmr([], [], top_k=3) == []
    with pytest.raises(ValueError, match="embeddings"):
        mmr(chunks, [None], top_k=1)
    with pytest.raises(ValueError, match="lambda_mult"):
        mmr(chunks, [None, None, None], top_k=1, lambda_mult=1.5)


def test_min_score_filter() -> None:
    chunks = [chunk("a", 0.9), chunk("b", 0.2), chunk("c")]
    assert [c.id for c in filter_min_score(chunks, 0.5)] == ["a", "c"]
    assert len(filter_min_score(chunks, None)) == 3
