"""The pure helpers the RAG operators share: token estimates, passages within a budget, citation parsing."""

from __future__ import annotations

import pytest

from rivulet.sdk.ports import Chunk
from rivulet_operators.rag._common import (
    build_context,
    check_template,
    cosine,
    estimate_tokens,
    format_passage,
    parse_citations,
)
from tests.unit.operators.rag.fakes import corpus


def test_estimate_tokens_is_positive_and_grows_with_text() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("one two three") == 4  # 13 characters / 4, rounded up
    assert estimate_tokens("a, b, c") == 5  # words and punctuation
    assert estimate_tokens("word " * 100) > estimate_tokens("word " * 10)


def test_format_passage_fills_placeholders_and_keeps_other_braces() -> None:
    chunk = Chunk(id="c1", document_id="d", text="Body {x}", source="a.md", score=0.5, metadata={"document": "A"})
    assert format_passage("{n}. [{id}] {source} ({document}, {score}) {text} {unknown}", chunk, 2) == (
        "2. [c1] a.md (A, 0.500) Body {x} {unknown}"
    )


def test_build_context_labels_passages_with_chunk_ids_in_order() -> None:
    text, kept = build_context(corpus())
    assert [c.id for c in kept] == ["c-ada", "c-tea", "c-babbage"]
    assert text.startswith("Ada Lovelace wrote the first program for the Analytical Engine.\n(source: ada.md [c-ada])")
    assert text.count("\n\n") == 2


def test_build_context_skips_what_does_not_fit_and_keeps_order() -> None:
    long = Chunk(id="long", document_id="d", text="word " * 400, source="big.txt")
    short = Chunk(id="short", document_id="d", text="tiny", source="s.txt")
    text, kept = build_context([corpus()[0], long, short], budget_tokens=60)
    assert [c.id for c in kept] == ["c-ada", "short"]
    assert "[long]" not in text
    assert estimate_tokens(text) <= 60


def test_build_context_truncates_a_first_passage_larger_than_the_budget() -> None:
    long = Chunk(id="long", document_id="d", text="word " * 400, source="big.txt")
    text, kept = build_context([long], budget_tokens=50)
    assert [c.id for c in kept] == ["long"]
    assert kept[0].metadata["truncated"] is True
    assert text.startswith("word word")
    assert text.endswith("…\n(source: big.txt [long])")
    assert estimate_tokens(text) <= 52


def test_templates_must_hold_the_text() -> None:
    with pytest.raises(ValueError, match=r"must contain \{text\}"):
        check_template("[{id}]")


def test_citations_by_id_several_per_bracket_decorated_and_by_number() -> None:
    chunks = corpus()
    answer = "Ada wrote it [c-babbage, c-ada]. Tea [chunk: c-tea] [`c-ada`] and [2] again [see below] [9]."
    assert [c.id for c in parse_citations(answer, chunks)] == ["c-babbage", "c-ada", "c-tea"]
    assert [c.id for c in parse_citations("As passage [3] and [1][2] say.", chunks)] == [
        "c-babbage", "c-ada", "c-tea",
    ]  # fmt: skip
    assert parse_citations("No sources at all.", chunks) == []


def test_a_numeric_chunk_id_wins_over_a_position() -> None:
    chunks = [Chunk(id="2", document_id="d", text="x"), Chunk(id="7", document_id="d", text="y")]
    assert [c.id for c in parse_citations("see [2]", chunks)] == ["2"]
    assert [c.id for c in parse_citations("see [1]", chunks)] == ["2"]  # position 1


def test_cosine() -> None:
    assert cosine([1.0, 0.0], [1.0, 0.0]) == pytest.approx(1.0)
    assert cosine([1.0, 0.0], [0.0, 1.0]) == pytest.approx(0.0)
    assert cosine([0.0, 0.0], [1.0, 1.0]) == 0.0
