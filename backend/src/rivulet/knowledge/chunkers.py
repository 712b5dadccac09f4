r"""Cutting loaded documents into chunks that fit the embedding model, sizes measured in its tokens.

Four strategies (``ChunkingConfig.strategy``):

- ``tokens``: windows of ``chunk_size`` tokens, each starting ``chunk_overlap`` tokens before the previous one ended;
- ``recursive``: split by the first separator present (paragraphs, lines, sentence ends, words), again by the
  next separator where a piece is still too large (down to token windows), then pack pieces up to ``chunk_size``
  and repeat the trailing pieces of at most ``chunk_overlap`` tokens in the next chunk;
- ``markdown``: one section per heading (parsed with markdown-it, so ``#`` lines in code blocks are no headings),
  each with its ``heading_path`` (``["Guide", "Install"]``), then ``recursive`` within each section;
- ``sentence``: sentences (pysbd, per paragraph) packed up to ``chunk_size``, whole trailing sentences of at most
  ``chunk_overlap`` tokens repeated; a sentence longer than a chunk is split like ``recursive``.

The other strategies cut as if there were no headings, yet their chunks carry a ``heading_path`` too: the path of
the heading in force where the chunk starts (headings found as ``markdown`` finds them, once per part). That holds
for parts whose ``metadata["format"]`` has headings (``md``, and ``html`` and ``docx``, whose loaders write headings
as ``#`` lines) and for parts without a format (a text handed in as is); other formats (txt, pdf, csv, json, xlsx)
have no markdown, so a ``#`` line there is a comment or a number, not a heading: ``heading_path`` is ``[]``.

Cuts fall between words (a gap with whitespace) wherever a word fits, so a chunk's text re-tokenizes to exactly its
tokens; a word longer than a chunk (a URL, an unspaced CJK paragraph) is cut inside, and that chunk is re-counted.
Every chunk has at most ``chunk_size`` tokens, is neither empty nor whitespace, and records where it is: ``start``
and ``end`` (``part.text[start:end] == chunk.text``), ``part`` (the index of its part) and ``heading_path``, next
to the part's own metadata (``page``, ``sheet``, ...). Together the chunks cover every non-space character. The
output depends on the text and the config only. CPU work: call it from a worker thread.

>>> parts = [LoadedPart(text="# Guide\n\nIntro.\n\n## Install\n\nRun pip.", metadata={"format": "md"})]
>>> [(c.text, c.metadata["heading_path"]) for c in chunk_parts(parts, ChunkingConfig(strategy="markdown"))]
[('# Guide\n\nIntro.', ['Guide']), ('## Install\n\nRun pip.', ['Guide', 'Install'])]
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_left, bisect_right
from typing import TYPE_CHECKING, Any, Final

import msgspec

from rivulet.knowledge.loaders import LoadedPart
from rivulet.knowledge.tokens import default_tokenizer
from rivulet.sdk.knowledge import ChunkingConfig  # noqa: TC001 - the doctest uses it

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from markdown_it import MarkdownIt

    from rivulet.knowledge.tokens import TextTokenizer

__all__ = ("DEFAULT_SEPARATORS", "ChunkDraft", "chunk_parts", "chunk_text")

DEFAULT_SEPARATORS: Final = ("\n\n", "\n", ". ", " ", "")
"""Recursive split points, coarsest first; ``""`` (always implied last) means token windows."""

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_HEADED_FORMATS: Final = frozenset({"md", "html", "docx"})
"""Formats whose parts are markdown (``md``) or rendered with markdown headings (see ``rivulet.knowledge._parsers``)."""
_SENTENCE_BLOCK: Final = 20_000
"""pysbd is slow on long inputs: it gets paragraphs, and text without paragraphs in blocks of about this size."""


class ChunkDraft(msgspec.Struct, frozen=True, kw_only=True):
    """A chunk before it is embedded and stored."""

    text: str
    ordinal: int
    """Position among all chunks of the document (0-based)."""
    tokens: int
    """Its token count (at most ``chunk_size``)."""
    metadata: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])
    """The part's metadata plus ``part``, ``start``, ``end`` (offsets in the part's text) and ``heading_path``."""


_SPACES: Final = frozenset(" \t\n\r\u00a0\u1680\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B))))
"""Whitespace as WordPiece sees it (tab, line breaks, Unicode Zs): a cut there never changes how words tokenize."""


class _Tokens:
    """A text's tokens, where cuts between them keep words whole, and counts of token ranges."""

    def __init__(self, text: str, tokenizer: TextTokenizer) -> None:
        self.text = text
        self.tokenizer = tokenizer
        spans = tokenizer.spans(text)
        self.exact = bool(spans)
        if not spans and text.strip():  # only characters the tokenizer drops: one pseudo-token holds them
            spans = [(0, len(text))]
        self.starts = [start for start, _ in spans]
        self.n = len(spans)
        # A cut before token k keeps words whole when whitespace separates k from k - 1.
        self.whole = [True] * (self.n + 1)
        for k in range(1, self.n):
            end, start = spans[k - 1][1], spans[k][0]
            if start - end == 1:
                self.whole[k] = text[end] in _SPACES
            else:
                self.whole[k] = start > end and not _SPACES.isdisjoint(text[end:start])
        self.breaks = [k for k in range(self.n + 1) if self.whole[k]]

    def bound(self, k: int) -> int:
        """The character offset where token ``k`` begins (0 before the first, the text's end after the last)."""
        if k <= 0:
            return 0
        return self.starts[k] if k < self.n else len(self.text)

    def token_at(self, offset: int, lo: int, hi: int) -> int:
        """The first token in ``[lo, hi]`` starting at or after character ``offset``."""
        return bisect_left(self.starts, offset, lo, hi)

    def span(self, i: int, j: int) -> tuple[int, int]:
        """The stripped character range of tokens ``[i, j)``."""
        start, end = self.bound(i), self.bound(j)
        chunk = self.text[start:end]
        lead = len(chunk) - len(chunk.lstrip())
        return start + lead, start + len(chunk.rstrip())

    def count(self, i: int, j: int) -> int:
        """Tokens ``[i, j)`` re-counted: exact even where a cut falls inside a word."""
        if self.exact and self.whole[i] and self.whole[j]:
            return j - i
        start, end = self.span(i, j)
        return self.tokenizer.count(self.text[start:end])

    def last_break(self, lo: int, hi: int) -> int | None:
        """The last whole-word cut in ``(lo, hi]``."""
        index = bisect_right(self.breaks, hi) - 1
        return self.breaks[index] if index >= 0 and self.breaks[index] > lo else None

    def first_break(self, lo: int, hi: int) -> int | None:
        """The first whole-word cut in ``[lo, hi)``."""
        index = bisect_left(self.breaks, lo)
        return self.breaks[index] if index < len(self.breaks) and self.breaks[index] < hi else None


class _Splitter:
    """The strategies of one part, as token ranges ``(i, j)``."""

    def __init__(self, tokens: _Tokens, config: ChunkingConfig) -> None:
        self.t = tokens
        self.size = config.chunk_size
        self.overlap = config.chunk_overlap
        separators = list(config.separators) if config.separators is not None else list(DEFAULT_SEPARATORS)
        self.separators = [sep for sep in separators if sep]

    def windows(self, lo: int, hi: int, overlap: int) -> list[tuple[int, int]]:
        """Windows of at most ``size`` tokens over ``[lo, hi)``, ending at whole-word cuts where a word fits."""
        t, out, i = self.t, list[tuple[int, int]](), lo
        while i < hi:
            j = min(i + self.size, hi)
            if j < hi:
                j = t.last_break(i, j) or j
            while j > i + 1 and t.count(i, j) > self.size:  # only where a long word was cut
                j -= 1
            out.append((i, j))
            if j >= hi:
                break
            start = max(j - overlap, i + 1)  # overlap at most ``overlap``, starting at a whole word if one fits
            i = t.first_break(start, j) or (j if t.whole[j] else start)
        return out

    def split(self, lo: int, hi: int, separators: Sequence[str]) -> list[tuple[int, int]]:
        """``[lo, hi)`` split by the first separator present, recursing into pieces still too large."""
        if hi - lo <= self.size and self.t.count(lo, hi) <= self.size:
            return [(lo, hi)]
        for index, separator in enumerate(separators):
            cuts = self._cuts(lo, hi, separator)
            if cuts:
                edges = [lo, *cuts, hi]
                pieces: list[tuple[int, int]] = []
                for a, b in itertools.pairwise(edges):
                    pieces += self.split(a, b, separators[index + 1 :])
                return pieces
        return self.windows(lo, hi, 0)

    def _cuts(self, lo: int, hi: int, separator: str) -> list[int]:
        """Token indexes in ``(lo, hi)`` just after each ``separator`` (which stays with the piece before it)."""
        t, cuts = self.t, list[int]()
        start, end = t.bound(lo), t.bound(hi)
        position = t.text.find(separator, start, end)
        while position >= 0:
            k = t.token_at(position + len(separator), lo, hi)
            if lo < k < hi and (not cuts or cuts[-1] < k):
                cuts.append(k)
            position = t.text.find(separator, position + len(separator), end)
        return cuts

    def merge(self, pieces: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        """Pack consecutive pieces up to ``size``; a chunk repeats the previous one's trailing pieces (``overlap``)."""
        chunks: list[tuple[int, int]] = []
        first = 0  # the pieces of the chunk being built: pieces[first:index]
        for index, (a, b) in enumerate(pieces):
            if index > first and b - pieces[first][0] > self.size:
                chunks.append((pieces[first][0], pieces[index - 1][1]))
                while first < index and (a - pieces[first][0] > self.overlap or b - pieces[first][0] > self.size):
                    first += 1
        if pieces:
            chunks.append((pieces[first][0], pieces[-1][1]))
        return chunks

    def fit(self, chunks: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        """Chunks re-counted where an edge cuts a word (rare: only words longer than a chunk), re-cut if too large."""
        out: list[tuple[int, int]] = []
        for i, j in chunks:
            out += [(i, j)] if self.t.count(i, j) <= self.size else self.windows(i, j, 0)
        return out

    def recursive(self, lo: int, hi: int) -> list[tuple[int, int]]:
        return self.fit(self.merge(self.split(lo, hi, self.separators)))

    def sentences(self, lo: int, hi: int) -> list[tuple[int, int]]:
        t, pieces = self.t, list[tuple[int, int]]()
        starts = [t.token_at(offset, lo, hi) for offset in _sentence_starts(t.text)]
        edges = sorted({lo, hi, *(k for k in starts if lo < k < hi)})
        for a, b in itertools.pairwise(edges):
            pieces += self.split(a, b, self.separators)
        return self.fit(self.merge(pieces))


def _sentence_blocks(text: str) -> Iterator[tuple[int, int]]:
    """Paragraphs of ``text`` as character ranges, long ones cut at line breaks or spaces near ``_SENTENCE_BLOCK``."""
    start = 0
    for match in [*_BLANK_LINE.finditer(text), None]:
        end = match.start() if match else len(text)
        while end - start > _SENTENCE_BLOCK:
            limit = start + _SENTENCE_BLOCK
            cut = max(text.rfind("\n", start, limit), text.rfind(" ", start, limit))
            cut = cut + 1 if cut > start else limit
            yield start, cut
            start = cut
        yield start, end
        start = match.end() if match else end


def _sentence_starts(text: str) -> list[int]:
    """Where each sentence of ``text`` starts (pysbd, run per block)."""
    import pysbd  # pyright: ignore[reportMissingTypeStubs]

    segmenter: Any = pysbd.Segmenter(language="en", clean=False)
    starts: list[int] = []
    for start, end in _sentence_blocks(text):
        block = text[start:end]
        cursor = 0
        for sentence in segmenter.segment(block):
            stripped = str(sentence).strip()
            found = block.find(stripped, cursor) if stripped else -1
            if found >= 0:
                starts.append(start + found)
                cursor = found + len(stripped)
    return starts


def _markdown() -> MarkdownIt:
    """A block-level markdown parser: headings as CommonMark finds them; their inline markup is not parsed."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").disable(["inline", "text_join"])


def _sections(text: str, parser: MarkdownIt) -> list[tuple[int, list[str]]]:
    """Where each markdown section starts, with its heading path (the text before the first heading has ``[]``).

    Offsets ascend; a heading on the first line makes a second section at 0 (the empty one before it).
    """
    line_starts = [0] + [match.end() for match in _LINE_BREAK.finditer(text)]
    stack: list[tuple[int, str]] = []
    sections: list[tuple[int, list[str]]] = [(0, [])]
    tokens = parser.parse(text)
    for index, token in enumerate(tokens):
        if token.type != "heading_open" or token.level != 0 or token.map is None:
            continue
        level = int(token.tag[1:])
        title = " ".join(tokens[index + 1].content.split()) if index + 1 < len(tokens) else ""
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
        sections.append((line_starts[min(token.map[0], len(line_starts) - 1)], [name for _, name in stack]))
    return sections


def _has_headings(part: LoadedPart) -> bool:
    """Whether the part's text may hold markdown headings: its format has them, or it has no format."""
    fmt = part.metadata.get("format")
    return fmt is None or fmt in _HEADED_FORMATS


def _part_ranges(
    tokens: _Tokens, splitter: _Splitter, strategy: str, sections: Sequence[tuple[int, list[str]]]
) -> list[tuple[int, int, list[str] | None]]:
    """The part's chunks as token ranges, each with its section's heading path (``markdown``) or ``None``."""
    if strategy == "tokens":
        return [(i, j, None) for i, j in splitter.windows(0, tokens.n, splitter.overlap)]
    if strategy == "sentence":
        return [(i, j, None) for i, j in splitter.sentences(0, tokens.n)]
    if strategy == "recursive":
        return [(i, j, None) for i, j in splitter.recursive(0, tokens.n)]
    out: list[tuple[int, int, list[str] | None]] = []
    for index, (offset, path) in enumerate(sections):
        lo = tokens.token_at(offset, 0, tokens.n)
        hi = tokens.token_at(sections[index + 1][0], 0, tokens.n) if index + 1 < len(sections) else tokens.n
        out += [(i, j, path) for i, j in splitter.recursive(lo, hi)] if hi > lo else []
    return out


def chunk_parts(
    parts: Sequence[LoadedPart], config: ChunkingConfig, *, tokenizer: TextTokenizer | None = None
) -> list[ChunkDraft]:
    """Split each part into chunks (see the module docstring); ordinals run across all parts.

    Args:
        parts: A document's parts, in order.
        config: Strategy, ``chunk_size`` and ``chunk_overlap`` (tokens), and the recursive separators.
        tokenizer: What sizes are measured with (default: the embedding model's, see ``rivulet.knowledge.tokens``).
    """
    tokenizer = tokenizer or default_tokenizer()
    parser: MarkdownIt | None = None
    drafts: list[ChunkDraft] = []
    for part_index, part in enumerate(parts):
        tokens = _Tokens(part.text, tokenizer)
        splitter = _Splitter(tokens, config)
        sections: list[tuple[int, list[str]]] = [(0, [])]
        if config.strategy == "markdown" or _has_headings(part):
            parser = parser or _markdown()
            sections = _sections(part.text, parser)
        offsets = [offset for offset, _ in sections]
        for i, j, section_path in _part_ranges(tokens, splitter, config.strategy, sections):
            start, end = tokens.span(i, j)
            if start >= end:
                continue
            # The path in force at the chunk's start: the last section starting at or before it.
            path = section_path if section_path is not None else sections[bisect_right(offsets, start) - 1][1]
            metadata = {**part.metadata, "part": part_index, "start": start, "end": end, "heading_path": list(path)}
            text = part.text[start:end]
            drafts.append(ChunkDraft(text=text, ordinal=len(drafts), tokens=tokens.count(i, j), metadata=metadata))
    return drafts


def chunk_text(text: str, config: ChunkingConfig, *, metadata: dict[str, Any] | None = None) -> list[ChunkDraft]:
    """``chunk_parts`` of one text."""
    return chunk_parts([LoadedPart(text=text, metadata=dict(metadata or {}))], config)
