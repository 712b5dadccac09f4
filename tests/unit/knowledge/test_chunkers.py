"""Chunkers: every chunk fits, maps back to its text, overlaps as configured; together they cover the text."""

from __future__ import annotations

import doctest
import itertools
from typing import TYPE_CHECKING

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rivulet.knowledge import chunkers
from rivulet.knowledge.chunkers import ChunkDraft, chunk_parts, chunk_text
from rivulet.knowledge.loaders import LoadedPart
from rivulet.knowledge.tokens import RegexTokenizer, count_tokens, default_tokenizer
from rivulet.sdk.knowledge import ChunkingConfig

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pytest

    from rivulet.knowledge.tokens import TextTokenizer
    from rivulet.sdk.knowledge import ChunkStrategy

STRATEGIES = ("tokens", "recursive", "markdown", "sentence")
# One WordPiece token each: exact token arithmetic in the overlap tests.
WORDS = "the cat sat on a mat and dog ran far away from big red house with green door".split()  # noqa: SIM905

_PIECES = [
    *"abcdefghij", "é", "中", "文", " ", " ", "\n", "\n\n", ".", ",", "!", "#", "-", "\t", "\u00a0", "\x00", "\ufffd",
    "\u200b", "\x1c", "hello", "world", "unbelievably", "# Title\n", "## Sub\n", "Dr. ", "3.14", "```\n",
    "https://x.y/z?a=1", "Sentence one. ", "Is it two? ",
]  # fmt: skip
_texts = st.lists(st.sampled_from(_PIECES), max_size=200).map("".join)
_configs = st.builds(
    lambda strategy, size, overlap: ChunkingConfig(strategy=strategy, chunk_size=size, chunk_overlap=overlap % size),
    st.sampled_from(STRATEGIES),
    st.integers(16, 48),
    st.integers(0, 47),
)


def _check(parts: Sequence[LoadedPart], config: ChunkingConfig, tokenizer: TextTokenizer) -> list[ChunkDraft]:
    chunks = chunk_parts(parts, config, tokenizer=tokenizer)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert chunk_parts(parts, config, tokenizer=tokenizer) == chunks  # deterministic
    for chunk in chunks:
        part = parts[chunk.metadata["part"]]
        start, end = chunk.metadata["start"], chunk.metadata["end"]
        assert part.text[start:end] == chunk.text
        assert chunk.text.strip() == chunk.text != ""
        assert chunk.tokens == tokenizer.count(chunk.text) <= config.chunk_size
        assert {k: chunk.metadata[k] for k in part.metadata} == part.metadata
    for index, part in enumerate(parts):
        covered = [False] * len(part.text)
        for chunk in (c for c in chunks if c.metadata["part"] == index):
            covered[chunk.metadata["start"] : chunk.metadata["end"]] = [True] * (
                chunk.metadata["end"] - chunk.metadata["start"]
            )
        missing = [i for i, char in enumerate(part.text) if not covered[i] and not char.isspace()]
        assert not missing, (part.text, missing)
    return chunks


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(_texts, min_size=1, max_size=3), config=_configs)
def test_chunk_invariants_wordpiece(texts: list[str], config: ChunkingConfig) -> None:
    parts = [LoadedPart(text=text, metadata={"format": "txt", "page": i + 1}) for i, text in enumerate(texts)]
    _check(parts, config, default_tokenizer())


@settings(max_examples=150, deadline=None)
@given(text=_texts, config=_configs)
def test_chunk_invariants_regex_fallback(text: str, config: ChunkingConfig) -> None:
    _check([LoadedPart(text=text)], config, RegexTokenizer())


@settings(max_examples=50, deadline=None)
@given(
    words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=300),
    size=st.integers(16, 40),
    overlap=st.integers(0, 15),
)
def test_token_windows_overlap_exactly(words: list[str], size: int, overlap: int) -> None:
    config = ChunkingConfig(strategy="tokens", chunk_size=size, chunk_overlap=overlap)
    chunks = _check([LoadedPart(text=" ".join(words))], config, default_tokenizer())
    assert chunks[0].text.split() == words[:size]
    for before, after in itertools.pairwise(chunks):
        assert before.tokens == size
        shared = before.text.split()[size - overlap :] if overlap else []
        assert after.text.split()[: len(shared)] == shared
        assert after.metadata["start"] == (before.metadata["end"] + 1 if not overlap else after.metadata["start"])
    rebuilt = chunks[0].text.split()
    for chunk in chunks[1:]:
        rebuilt += chunk.text.split()[overlap:]
    assert rebuilt == words


@settings(max_examples=50, deadline=None)
@given(
    paragraphs=st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=60), min_size=1, max_size=12),
    size=st.integers(16, 64),
    overlap=st.integers(0, 15),
)
def test_recursive_overlap_is_at_most_the_configured_tokens(
    paragraphs: list[list[str]], size: int, overlap: int
) -> None:
    text = "\n\n".join(" ".join(words) for words in paragraphs)
    chunks = _check(
        [LoadedPart(text=text)], ChunkingConfig(chunk_size=size, chunk_overlap=overlap), default_tokenizer()
    )
    for before, after in itertools.pairwise(chunks):
        assert before.metadata["start"] < after.metadata["start"]
        shared = text[after.metadata["start"] : before.metadata["end"]]
        assert count_tokens(shared) <= overlap


def test_recursive_keeps_paragraphs_whole_when_they_fit() -> None:
    paragraphs = [" ".join(WORDS[i : i + 8]) for i in range(0, 16, 4)]
    chunks = chunk_text("\n\n".join(paragraphs), ChunkingConfig(chunk_size=20, chunk_overlap=0))
    assert [c.text for c in chunks] == ["\n\n".join(paragraphs[:2]), "\n\n".join(paragraphs[2:])]


def test_custom_separators() -> None:
    text = "alpha beta gamma | delta epsilon | zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau"
    chunks = chunk_text(text, ChunkingConfig(chunk_size=16, chunk_overlap=0, separators=[" | "]))
    assert chunks[0].text == "alpha beta gamma | delta epsilon |"
    assert all(c.tokens <= 16 for c in chunks)


def test_a_word_longer_than_a_chunk_is_cut_inside_and_recounted() -> None:
    url = "https://example.com/" + "/".join(["abcdefghijklmnopqrstuvwxyz0123456789"] * 30)  # no space: one "word"
    for strategy in STRATEGIES:
        chunks = chunk_text(f"See {url} now.", ChunkingConfig(strategy=strategy, chunk_size=32, chunk_overlap=4))
        assert len(chunks) > 5
        assert all(count_tokens(c.text) == c.tokens <= 32 for c in chunks)
        assert "".join(c.text for c in chunks).replace(" ", "").startswith("Seehttps://example.com/abc")


def test_unspaced_cjk_text_is_windowed_with_overlap() -> None:
    text = "知识库检索增强生成" * 40
    chunks = chunk_text(text, ChunkingConfig(strategy="tokens", chunk_size=50, chunk_overlap=10))
    assert all(c.tokens == len(c.text) <= 50 for c in chunks)
    for before, after in itertools.pairwise(chunks):
        assert before.metadata["end"] - after.metadata["start"] == 10


MARKDOWN = """Preface text.

# Guide

Welcome to the guide.

## Install

Run the installer.

```
# not a heading: inside a code block
```

### On Linux

Use the package manager.

## Configure

Setext heading follows.

Advanced
--------

Tune everything.

# Reference

Last words.
"""


def test_markdown_heading_paths() -> None:
    chunks = chunk_text(MARKDOWN, ChunkingConfig(strategy="markdown", chunk_size=64, chunk_overlap=8))
    assert [(c.text.splitlines()[0], c.metadata["heading_path"]) for c in chunks] == [
        ("Preface text.", []),
        ("# Guide", ["Guide"]),
        ("## Install", ["Guide", "Install"]),
        ("### On Linux", ["Guide", "Install", "On Linux"]),
        ("## Configure", ["Guide", "Configure"]),
        ("Advanced", ["Guide", "Advanced"]),  # a setext heading underlined with dashes is a level 2 heading
        ("# Reference", ["Reference"]),
    ]
    assert "# not a heading" in chunks[2].text


def test_markdown_sections_larger_than_a_chunk_split_within_the_section() -> None:
    body = "\n\n".join(" ".join(WORDS) for _ in range(6))
    text = f"# Big\n\n{body}\n\n# Small\n\nshort"
    chunks = chunk_text(text, ChunkingConfig(strategy="markdown", chunk_size=40, chunk_overlap=5))
    assert {tuple(c.metadata["heading_path"]) for c in chunks[:-1]} == {("Big",)}
    assert len(chunks) > 3
    assert chunks[-1].text == "# Small\n\nshort"
    assert chunks[-1].metadata["heading_path"] == ["Small"]


# Where each strategy cut MARKDOWN before the other strategies learned heading paths: annotating must not move a cut.
CUTS_BEFORE_HEADING_PATHS: dict[tuple[ChunkStrategy, int, int], list[tuple[int, int]]] = {
    ("tokens", 16, 4): [(0, 66), (50, 108), (91, 146), (129, 185), (179, 227), (223, 265)],
    ("tokens", 24, 0): [(0, 90), (91, 167), (168, 252), (254, 265)],
    ("recursive", 16, 4): [(0, 57), (47, 77), (79, 123), (125, 177), (179, 221), (223, 265)],
    ("recursive", 24, 0): [(0, 77), (79, 137), (139, 202), (204, 265)],
    ("sentence", 16, 4): [(0, 57), (47, 82), (79, 123), (120, 163), (165, 212), (204, 252), (241, 265)],
    ("sentence", 24, 0): [(0, 82), (83, 163), (165, 239), (241, 265)],
    ("markdown", 16, 4): [(0, 13), (15, 45), (47, 77), (79, 123), (125, 163), (165, 202), (204, 239), (241, 265)],
    ("markdown", 24, 0): [(0, 13), (15, 45), (47, 123), (125, 163), (165, 202), (204, 239), (241, 265)],
}


def test_heading_paths_leave_every_cut_where_it_was() -> None:
    for (strategy, size, overlap), cuts in CUTS_BEFORE_HEADING_PATHS.items():
        config = ChunkingConfig(strategy=strategy, chunk_size=size, chunk_overlap=overlap)
        for fmt in ("md", "txt"):
            chunks = chunk_text(MARKDOWN, config, metadata={"format": fmt})
            assert [(c.metadata["start"], c.metadata["end"]) for c in chunks] == cuts, (strategy, size, fmt)
            assert all(c.text == MARKDOWN[c.metadata["start"] : c.metadata["end"]] for c in chunks)


def test_every_strategy_carries_the_heading_path_at_the_chunk_start() -> None:
    def paths(strategy: ChunkStrategy) -> list[tuple[int, list[str]]]:
        config = ChunkingConfig(strategy=strategy, chunk_size=24, chunk_overlap=0)
        return [(c.metadata["start"], c.metadata["heading_path"]) for c in chunk_text(MARKDOWN, config)]

    assert paths("tokens") == [
        (0, []),  # "Preface text.": before the first heading, even though "# Guide" follows in the same chunk
        (91, ["Guide", "Install"]),
        (168, ["Guide", "Configure"]),  # starts inside the "## Configure" line: that heading is in force
        (254, ["Reference"]),
    ]
    assert paths("recursive") == [
        (0, []),
        (79, ["Guide", "Install"]),  # starts at a fenced "# not a heading" line, which is no heading
        (139, ["Guide", "Install", "On Linux"]),
        (204, ["Guide", "Advanced"]),  # setext heading
    ]
    assert paths("sentence") == [
        (0, []),
        (83, ["Guide", "Install"]),
        (165, ["Guide", "Configure"]),
        (241, ["Reference"]),
    ]


def test_heading_paths_only_where_the_format_has_headings() -> None:
    config = ChunkingConfig(strategy="recursive", chunk_size=24, chunk_overlap=0)
    for fmt in ("md", "html", "docx", None):  # no format: a text handed in as is, read as markdown
        chunks = chunk_text(MARKDOWN, config, metadata={"format": fmt} if fmt else {})
        assert chunks[-1].metadata["heading_path"] == ["Guide", "Advanced"], fmt
    for fmt in ("txt", "pdf", "csv", "json", "jsonl", "xlsx"):  # "#" there is a comment or a number
        chunks = chunk_text(MARKDOWN, config, metadata={"format": fmt})
        assert all(c.metadata["heading_path"] == [] for c in chunks), fmt
    # the markdown strategy is asked for headings: it finds them in any format
    chunks = chunk_text(MARKDOWN, ChunkingConfig(strategy="markdown"), metadata={"format": "txt"})
    assert chunks[-1].metadata["heading_path"] == ["Reference"]


def test_heading_paths_of_each_part_and_not_shared() -> None:
    parts = [
        LoadedPart(text="# One\n\nfirst part", metadata={"format": "docx"}),
        LoadedPart(text="no heading yet\n\n## Two\n\nsecond", metadata={"format": "docx"}),
    ]
    chunks = chunk_parts(parts, ChunkingConfig(chunk_size=16, chunk_overlap=0))
    assert [c.metadata["heading_path"] for c in chunks] == [["One"], []]  # a part's headings end with it
    body = "\n\n".join(" ".join(WORDS) for _ in range(4))
    for strategy in STRATEGIES:
        chunks = chunk_text(f"# Big\n\n{body}", ChunkingConfig(strategy=strategy, chunk_size=24, chunk_overlap=0))
        assert len(chunks) > 1
        chunks[0].metadata["heading_path"].append("changed")  # each chunk owns its list
        assert all(c.metadata["heading_path"] == ["Big"] for c in chunks[1:]), strategy


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_texts, config=_configs)
def test_heading_paths_change_no_cut_and_follow_the_headings(text: str, config: ChunkingConfig) -> None:
    tokenizer = default_tokenizer()
    headed = _check([LoadedPart(text=text, metadata={"format": "md"})], config, tokenizer)
    plain = _check([LoadedPart(text=text, metadata={"format": "txt"})], config, tokenizer)
    assert [(c.text, c.tokens, c.metadata["start"], c.metadata["end"]) for c in headed] == [
        (c.text, c.tokens, c.metadata["start"], c.metadata["end"]) for c in plain
    ]
    if config.strategy == "markdown":
        assert [c.metadata["heading_path"] for c in headed] == [c.metadata["heading_path"] for c in plain]
        return
    assert all(c.metadata["heading_path"] == [] for c in plain)
    sections = chunkers._sections(text, chunkers._markdown())  # what the markdown strategy splits by
    for chunk in headed:
        in_force = [path for offset, path in sections if offset <= chunk.metadata["start"]][-1]
        assert chunk.metadata["heading_path"] == in_force


SENTENCES = (
    "Dr. Smith paid $3.50 for the apples at 5 p.m. on Monday. "
    "The shop, e.g. the one near the mall, closes early! "
    "Did he pay by card? "
    "Version 2.1 of the app fixes this. "
    "Then everyone went home and slept for a very long time indeed."
)


def test_sentence_chunks_hold_whole_sentences_with_sentence_overlap() -> None:
    sentences = [
        "Dr. Smith paid $3.50 for the apples at 5 p.m. on Monday.",
        "The shop, e.g. the one near the mall, closes early!",
        "Did he pay by card?",
        "Version 2.1 of the app fixes this.",
        "Then everyone went home and slept for a very long time indeed.",
    ]
    chunks = chunk_text(SENTENCES, ChunkingConfig(strategy="sentence", chunk_size=30, chunk_overlap=10))
    for chunk in chunks:
        held = [s for s in sentences if s in chunk.text]
        assert " ".join(held) == chunk.text  # whole sentences only
    # 20, 16, 6, 11 and 13 tokens: the 6-token sentence fits the overlap and is repeated, the 16-token one is not
    assert [c.text for c in chunks] == [sentences[0], " ".join(sentences[1:3]), " ".join(sentences[2:])]
    assert [c.tokens for c in chunks] == [20, 22, 30]


def test_sentence_longer_than_a_chunk_is_split() -> None:
    long_sentence = " ".join(WORDS * 4) + "."
    chunks = chunk_text(
        f"Short one. {long_sentence} Another short one.",
        ChunkingConfig(strategy="sentence", chunk_size=20, chunk_overlap=0),
    )
    assert all(c.tokens <= 20 for c in chunks)
    assert chunks[-1].text.endswith("Another short one.")


def test_long_unparagraphed_text_is_sentence_split_in_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunkers, "_SENTENCE_BLOCK", 200)
    text = " ".join(f"Sentence number {i} is here." for i in range(100))
    chunks = chunk_text(text, ChunkingConfig(strategy="sentence", chunk_size=24, chunk_overlap=0))
    assert all(c.text.startswith("Sentence number") and c.text.endswith("is here.") for c in chunks)
    assert " ".join(c.text for c in chunks) == text


def test_default_config_fits_minilm() -> None:
    text = "\n\n".join(" ".join(WORDS * 20) for _ in range(5))
    chunks = chunk_text(text, ChunkingConfig())
    assert max(c.tokens for c in chunks) <= 200 < 254  # MiniLM: 256 pieces with [CLS] and [SEP]


def test_metadata_carries_part_offsets_and_page() -> None:
    parts = [
        LoadedPart(text="First page text.", metadata={"format": "pdf", "page": 1}),
        LoadedPart(text="   ", metadata={"format": "pdf", "page": 2}),
        LoadedPart(text="Third page.", metadata={"format": "pdf", "page": 3}),
    ]
    chunks = chunk_parts(parts, ChunkingConfig(strategy="sentence"))
    assert [(c.text, c.ordinal, c.metadata) for c in chunks] == [
        ("First page text.", 0, {"format": "pdf", "page": 1, "part": 0, "start": 0, "end": 16, "heading_path": []}),
        ("Third page.", 1, {"format": "pdf", "page": 3, "part": 2, "start": 0, "end": 11, "heading_path": []}),
    ]


def test_no_chunks_for_empty_or_blank_text() -> None:
    for strategy in STRATEGIES:
        assert chunk_text("", ChunkingConfig(strategy=strategy)) == []
        assert chunk_text(" \n\n\t ", ChunkingConfig(strategy=strategy)) == []


def test_text_the_tokenizer_drops_entirely_is_still_kept() -> None:
    [chunk] = chunk_text("\x00\x01\x02", ChunkingConfig())
    assert chunk.text == "\x00\x01\x02"
    assert chunk.tokens == 0


def test_doctest() -> None:
    assert doctest.testmod(chunkers).failed == 0
