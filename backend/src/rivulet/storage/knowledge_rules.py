"""Input rules every ``KnowledgeStore`` applies alike (memory and PostgreSQL): names, sizes, filters, graph facts.

Example:
    >>> [(f.key, f.values) for f in parse_chunk_filters({"lang": ["en", "de"], "document": "guide.md"})]
    [('lang', ['en', 'de']), ('document', ['guide.md'])]
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any, cast

import msgspec

from rivulet.lib.exceptions import ValidationError
from rivulet.storage.base import GraphEdge

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = (
    "FILTER_COLUMNS",
    "MAX_GRAPH_DEPTH",
    "MAX_VECTOR_DIMENSIONS",
    "ChunkFilter",
    "check_chunk_dimensions",
    "check_dimensions",
    "check_graph_query",
    "check_name",
    "check_no_nul",
    "check_query_vector",
    "clean_edge",
    "clean_error",
    "metadata_forms",
    "parse_chunk_filters",
)

MAX_VECTOR_DIMENSIONS = 16_000
"""The most dimensions a space's embeddings may have (pgvector's ``vector`` limit)."""

MAX_GRAPH_DEPTH = 5
"""The most hops ``neighbourhood`` walks."""

FILTER_COLUMNS = frozenset({"document_id", "source", "document"})
"""Filter keys that match a chunk's document id, source or document name instead of its metadata."""

_FILTER_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class ChunkFilter(msgspec.Struct, frozen=True):
    """One search filter: the chunk's ``key`` is any of ``values``.

    ``key`` is a metadata key or one of ``FILTER_COLUMNS``. A metadata value matches by JSON containment (as
    ``jsonb @>``: ``{"page": 2}`` does not match ``"2"``); a scalar also matches a list holding it (``{"tags": "x"}``
    matches ``["x", "y"]``).
    """

    key: str
    values: list[Any]


def parse_chunk_filters(filters: dict[str, Any] | None) -> list[ChunkFilter]:
    """Search filters (``{key: value or [any of values]}``) checked and normalised.

    Raises:
        ValidationError: A key is not 1-64 letters, digits, ``_ . -``; or a column filter's value is not text.
    """
    parsed: list[ChunkFilter] = []
    for key, value in (filters or {}).items():
        if not _FILTER_KEY.match(key):
            raise ValidationError(
                f"filter key {key[:80]!r} is not allowed: use 1-64 letters, digits, '_', '.' or '-'",
                extra={"errors": [{"path": "$.filters", "message": f"unsafe filter key {key[:80]!r}"}]},
            )
        values = list(cast("list[Any]", value)) if isinstance(value, (list, tuple)) else [value]
        if key in FILTER_COLUMNS and not all(isinstance(v, str) for v in values):
            raise ValidationError(
                f"filter {key!r} takes a text or a list of texts",
                extra={"errors": [{"path": f"$.filters.{key}", "message": "expected text"}]},
            )
        parsed.append(ChunkFilter(key, values))
    return parsed


def metadata_forms(key: str, value: Any) -> tuple[dict[str, Any], ...]:
    """The JSON objects whose containment in a chunk's metadata means ``key`` matches ``value``."""
    if isinstance(value, (dict, list)):
        return ({key: value},)
    return ({key: value}, {key: [value]})


def check_dimensions(dimensions: int) -> int:
    """``dimensions`` if it is 1..``MAX_VECTOR_DIMENSIONS``. Raises ``ValidationError``."""
    if not 1 <= dimensions <= MAX_VECTOR_DIMENSIONS:
        raise ValidationError(f"dimensions must be between 1 and {MAX_VECTOR_DIMENSIONS}, not {dimensions}")
    return dimensions


def check_name(kind: str, name: str) -> str:
    """A space or document name: 1-1024 characters, not blank, no NUL. Raises ``ValidationError``."""
    if not name.strip() or "\x00" in name or len(name) > 1024:
        raise ValidationError(f"{kind} name {name[:80]!r} must be 1-1024 characters (not blank, no NUL)")
    return name


def check_query_vector(vector: Sequence[float]) -> None:
    """Raises ``ValidationError`` unless the query vector is finite numbers, not all zero (cosine needs a direction)."""
    if not all(math.isfinite(v) for v in vector) or not any(vector):
        raise ValidationError("the query vector must hold finite numbers, not all zero")


def check_no_nul(**fields: str | None) -> None:
    """Raises ``ValidationError`` naming the first field whose text holds a NUL (text columns cannot keep one)."""
    for field, value in fields.items():
        if value is not None and "\x00" in value:
            raise ValidationError(f"{field} must not hold a NUL character", extra={"field": field})


def clean_error(error: str) -> str:
    """An error message that text columns can hold (NUL replaced)."""
    return error.replace("\x00", "\ufffd")


def check_chunk_dimensions(document: str, chunks: list[tuple[str, int, str]]) -> int | None:
    """The common vector size of chunks given as ``(id, size, text)`` (``None`` when there are none).

    Raises:
        ValidationError: Sizes differ, a size is out of range, or an id or text holds a NUL.
    """
    if not chunks:
        return None
    size = chunks[0][1]
    for chunk_id, dims, text in chunks:
        if dims != size:
            raise ValidationError(
                f"document {document!r}: chunk {chunk_id!r} has {dims} dimensions, the first chunk {size}",
                extra={"document": document, "chunk_id": chunk_id},
            )
        if "\x00" in text or "\x00" in chunk_id:
            raise ValidationError(f"document {document!r}: chunk {chunk_id!r} holds a NUL character")
    return check_dimensions(size)


def clean_edge(edge: GraphEdge) -> GraphEdge:
    """The fact with its subject, predicate and object trimmed. Raises ``ValidationError`` if one is empty."""
    parts = (edge.subject.strip(), edge.predicate.strip(), edge.object.strip())
    if not all(parts) or any("\x00" in p for p in parts):
        raise ValidationError(
            f"graph fact ({edge.subject[:80]!r}, {edge.predicate[:80]!r}, {edge.object[:80]!r}) needs a subject,"
            " a predicate and an object (no NUL)"
        )
    return GraphEdge(
        subject=parts[0], predicate=parts[1], object=parts[2], chunk_id=edge.chunk_id, document_id=edge.document_id
    )


def check_graph_query(depth: int, limit: int) -> None:
    """Raises ``ValidationError`` for a depth outside 1..``MAX_GRAPH_DEPTH`` or a limit below 1."""
    if not 1 <= depth <= MAX_GRAPH_DEPTH or limit < 1:
        raise ValidationError(f"graph depth must be 1..{MAX_GRAPH_DEPTH} and limit at least 1 (got {depth}, {limit})")
