"""Token counts: the bundled MiniLM WordPiece tokenizer, its regex fallback, one shared instance."""

from __future__ import annotations

import doctest
import itertools
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rivulet.knowledge import tokens
from rivulet.knowledge.tokens import RegexTokenizer, WordPieceTokenizer, count_tokens, default_tokenizer, token_spans


@pytest.fixture
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "_default", None)


def test_doctests() -> None:
    assert doctest.testmod(tokens).failed == 0


def test_the_default_is_the_embedding_models_wordpiece_tokenizer() -> None:
    tokenizer = default_tokenizer()
    assert isinstance(tokenizer, WordPieceTokenizer)
    assert tokenizer.name == "wordpiece:all-MiniLM-L6-v2"
    assert count_tokens("tokenization") == 2  # word pieces, not words: token ##ization
    assert token_spans("tokenization") == [(0, 5), (5, 12)]


def test_no_truncation_special_tokens_or_padding() -> None:
    text = " ".join(["word"] * 1000)
    assert count_tokens(text) == 1000  # the tokenizer.json truncates at 128 and pads to 128: both switched off
    assert count_tokens("") == 0
    assert token_spans("") == []
    assert count_tokens("a") == 1


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=200))
def test_spans_are_ordered_disjoint_and_counted(text: str) -> None:
    for tokenizer in (default_tokenizer(), RegexTokenizer()):
        spans = tokenizer.spans(text)
        assert len(spans) == tokenizer.count(text)
        assert all(0 <= start < end <= len(text) for start, end in spans)
        assert all(end <= start for (_, end), (start, _) in itertools.pairwise(spans))
        assert all(not text[start:end].isspace() for start, end in spans)


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(max_size=120) | st.lists(st.sampled_from(["ab ", "中文", "x\n", "élan\t", "\x00", "!?"])).map("".join)
)
def test_blocks_tokenize_like_the_whole_text(text: str) -> None:
    tokenizer = default_tokenizer()
    assert isinstance(tokenizer, WordPieceTokenizer)
    whole = tokenizer._tokenizer.encode(text, add_special_tokens=False)
    small = WordPieceTokenizer.__new__(WordPieceTokenizer)
    small.__dict__.update(tokenizer.__dict__)
    small.BLOCK_CHARS = 7  # type: ignore[misc]
    assert small.spans(text) == list(whole.offsets)
    assert small.count(text) == len(whole.ids)


def test_a_long_text_is_encoded_in_blocks() -> None:
    text = ("lorem ipsum dolor " * 2000) + "x" * 9000 + " end"
    tokenizer = default_tokenizer()
    assert isinstance(tokenizer, WordPieceTokenizer)
    assert list(tokens._blocks(text, tokenizer.BLOCK_CHARS))[-2:] == [(36000, 45001), (45001, 45004)]
    assert tokenizer.spans(text) == list(tokenizer._tokenizer.encode(text, add_special_tokens=False).offsets)


def test_regex_fallback_counts_words_and_punctuation() -> None:
    fallback = RegexTokenizer()
    assert fallback.name == "regex"
    assert fallback.spans("Hello, wörld!") == [(0, 5), (5, 6), (7, 12), (12, 13)]
    assert fallback.count("tokenization") == 1 < count_tokens("tokenization")


@pytest.mark.usefixtures("fresh_cache")
def test_without_the_model_package_the_regex_fallback_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "_bundled_tokenizer_file", lambda: None)
    assert isinstance(default_tokenizer(), RegexTokenizer)
    assert count_tokens("tokenization, yes") == 3


@pytest.mark.usefixtures("fresh_cache")
def test_loaded_once_and_shared_across_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[object] = []
    real = tokens.WordPieceTokenizer

    def counting(*args: object, **kwargs: object) -> WordPieceTokenizer:
        loads.append(args)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(tokens, "WordPieceTokenizer", counting)
    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(lambda _: default_tokenizer(), range(32)))
    assert len(loads) == 1
    assert all(tokenizer is found[0] for tokenizer in found)
