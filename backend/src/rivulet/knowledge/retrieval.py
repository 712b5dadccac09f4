"""Retrieval's pure parts: rank fusion, maximal marginal relevance, score filters, the context and its citations.

Every function takes and returns ``Chunk`` lists, best first, and touches no store or model:

- ``label_hits`` marks one retriever's hits with their rank and score (``metadata["retrievers"]``);
- ``fuse`` merges several retrievers' rankings by reciprocal rank (``1 / (k + rank)`` summed, k=60);
- ``mmr`` re-ranks candidates by maximal marginal relevance over their embeddings (numpy);
- ``build_context`` numbers passages by chunk id within a token budget; ``cited_ids`` reads an answer's citations.

>>> from rivulet.sdk.ports import Chunk
>>> a, b = Chunk(id="c_a", document_id="d", text="A", score=0.9), Chunk(id="c_b", document_id="d", text="B", score=0.5)
>>> [c.id for c in fuse({"vector": [a, b], "keyword": [b]})]
['c_b', 'c_a']
>>> cited_ids("Reset it in settings [c_b].", [a, b])
['c_b']
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import msgspec
import numpy as np

from rivulet.knowledge.tokens import count_tokens, token_spans
from rivulet.sdk.ports import Chunk

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = (
    "DEFAULT_PASSAGE_TEMPLATE",
    "RRF_K",
    "Context",
    "build_context",
    "cited_ids",
    "filter_min_score",
    "fuse",
    "label_hits",
    "mmr",
    "passage_label",
)

RRF_K = 60
"""The usual constant of reciprocal rank fusion (Cormack et al.): damps the weight of the very first ranks."""

DEFAULT_PASSAGE_TEMPLATE = "[{id}] ({label}) {text}"
"""How ``build_context`` writes a passage (placeholders: ``id n label source document text``)."""

_SEPARATOR = "\n\n"
_MIN_TRUNCATED_TOKENS = 24
"""A passage cut shorter than this is left out instead (too little text to be worth citing)."""
_ELLIPSIS = " ..."
_PLACEHOLDER = re.compile(r"\{(id|n|label|source|document|text)\}")
_BRACKETS = re.compile(r"\[([^\[\]]{1,400})\]")
_NUMBER = re.compile(r"^\s*(\d{1,4})\s*$")


class Context(msgspec.Struct, frozen=True, kw_only=True):
    """Passages that fit a token budget, ready to put into a prompt."""

    text: str
    """The numbered passages, separated by blank lines."""
    chunks: list[Chunk]
    """The chunks it holds, in order (the last one's text is cut when ``truncated``)."""
    tokens: int
    """Tokens of ``text`` (default tokenizer)."""
    dropped: list[str] = msgspec.field(default_factory=list[str])
    """Ids of the chunks left out for want of room."""
    truncated: bool = False


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


def passage_label(chunk: Chunk) -> str:
    """Where a chunk is from, for people: ``handbook.pdf p.3``, ``guide.md > Install``, ``sales.xlsx sheet Q1``."""
    meta = chunk.metadata
    name = chunk.source or str(meta.get("document") or chunk.document_id)
    page, sheet, heading = meta.get("page"), meta.get("sheet"), meta.get("heading_path")
    if page is not None:
        return f"{name} p.{page}"
    if sheet:
        return f"{name} sheet {sheet}"
    if isinstance(heading, list) and heading:
        return name + "".join(f" > {part}" for part in heading)  # pyright: ignore[reportUnknownVariableType]
    if isinstance(heading, str) and heading:
        return f"{name} > {heading}"
    return name


def _render(template: str, chunk: Chunk, n: int, text: str) -> str:
    values = {
        "id": chunk.id,
        "n": str(n),
        "label": passage_label(chunk),
        "source": chunk.source,
        "document": str(chunk.metadata.get("document") or chunk.document_id),
        "text": text,
    }
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def _cut(text: str, tokens: int) -> str:
    """``text`` up to its first ``tokens`` tokens (default tokenizer)."""
    spans = token_spans(text)
    return text if len(spans) <= tokens else text[: spans[tokens - 1][1]] if tokens > 0 else ""


def build_context(
    chunks: Sequence[Chunk],
    budget_tokens: int,
    *,
    template: str = DEFAULT_PASSAGE_TEMPLATE,
    count: Callable[[str], int] = count_tokens,
) -> Context:
    """Number the passages (by chunk id) in rank order until ``budget_tokens`` are used.

    A passage that does not fit whole is cut to the room left (if at least a few dozen tokens remain) and ends
    the context; one that would be cut shorter is left out and the next, smaller ones are tried.

    Args:
        chunks: The passages, best first.
        budget_tokens: Most tokens of the whole context (default tokenizer unless ``count`` says otherwise).
        template: One passage; ``{id}``, ``{n}`` (1-based), ``{label}`` (source and page or heading),
            ``{source}``, ``{document}`` and ``{text}`` are filled in, other text is kept as written.
        count: Counts a text's tokens.

    Raises:
        ValueError: ``budget_tokens`` is not positive.
    """
    if budget_tokens < 1:
        raise ValueError(f"budget_tokens must be positive, not {budget_tokens}")
    passages: list[str] = []
    kept: list[Chunk] = []
    dropped: list[str] = []
    used, truncated = 0, False
    for chunk in chunks:
        if truncated:
            dropped.append(chunk.id)
            continue
        passage = _render(template, chunk, len(kept) + 1, chunk.text)
        cost = count(passage)
        if used + cost > budget_tokens:
            frame = count(_render(template, chunk, len(kept) + 1, _ELLIPSIS))
            room = budget_tokens - used - frame
            if room < _MIN_TRUNCATED_TOKENS:
                dropped.append(chunk.id)
                continue
            cut = _cut(chunk.text, room).rstrip() + _ELLIPSIS
            passage, truncated = _render(template, chunk, len(kept) + 1, cut), True
            chunk, cost = msgspec.structs.replace(chunk, text=cut), count(passage)  # noqa: PLW2901 - the cut chunk
        passages.append(passage)
        kept.append(chunk)
        used += cost
    return Context(text=_SEPARATOR.join(passages), chunks=kept, tokens=used, dropped=dropped, truncated=truncated)


def cited_ids(answer: str, chunks: Sequence[Chunk]) -> list[str]:
    """The ids of ``chunks`` the answer cites, in order of first citation, each once.

    Citations are chunk ids anywhere in the answer (``[c_ab12]``, ``[c_ab12, c_cd34]``, ``(c_ab12)``); an
    answer citing no id but passage numbers (``[2]``) cites the chunks at those 1-based positions.
    """
    found: dict[str, int] = {}
    for chunk in chunks:
        if not chunk.id:
            continue
        match = re.search(rf"(?<![\w:-]){re.escape(chunk.id)}(?![\w:-])", answer)
        if match is not None and chunk.id not in found:
            found[chunk.id] = match.start()
    if found:
        return sorted(found, key=found.__getitem__)
    numbered: list[str] = []
    for group in _BRACKETS.finditer(answer):
        for part in re.split(r"[,;]", group.group(1)):
            number = _NUMBER.match(part)
            if number is not None and 1 <= int(number.group(1)) <= len(chunks):
                chunk_id = chunks[int(number.group(1)) - 1].id
                if chunk_id not in numbered:
                    numbered.append(chunk_id)
    return numbered
