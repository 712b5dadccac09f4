"""Helpers shared by the retrieval operators (internal): services, located errors, passages and citations.

Context building and citation parsing are small pure functions so that ``rag.context``, ``rag.retrieve`` and
``rag.answer`` agree on one format: each passage is labelled with its chunk id, and an answer cites a passage as
``[<chunk id>]`` (``[1]``, the passage's position, is understood too: tiny models rarely copy long ids).
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import msgspec
from msgspec import Meta

from rivulet.lib.exceptions import AppError, MissingDependencyError, NotFoundError
from rivulet.sdk.knowledge import KnowledgeBase
from rivulet.sdk.ports import Chunk, Document
from rivulet.sdk.ui import ui_hint
from rivulet_operators.llm._common import fail, models_of

if TYPE_CHECKING:
    from collections.abc import Awaitable, Sequence

    from rivulet.sdk import OperatorSpec, RunContext

__all__ = (
    "DEFAULT_PASSAGE_TEMPLATE",
    "PassageTemplate",
    "build_context",
    "check_template",
    "cosine",
    "documents_of",
    "estimate_tokens",
    "fail",
    "format_passage",
    "knowledge_call",
    "knowledge_of",
    "models_of",
    "parse_citations",
    "with_metadata",
)

DEFAULT_PASSAGE_TEMPLATE = "{text}\n(source: {source} [{id}])"
"""How a passage is written into a context: the text, then its source and chunk id in brackets (what answers cite).

Text first: the bundled SmolLM2-135M answers from passages laid out this way far more often than from passages
that open with a long id (which it tends to repeat instead of answering)."""

R = TypeVar("R")

_PLACEHOLDER = re.compile(r"\{(id|n|source|document|score|text)\}")
_WORD = re.compile(r"\w+|[^\w\s]")
_BRACKETS = re.compile(r"\[([^\[\]\n]{1,300})\]")
_CITATION_PREFIX = re.compile(r"^(?:chunk|passage|source|id)\s*[:#]?\s*|^#", re.IGNORECASE)


def check_template(template: str) -> str:
    """``template`` when it is a usable passage template (it must contain ``{text}``); raises ``ValueError``."""
    if "{text}" not in template:
        raise ValueError("the passage template must contain {text}")
    return template


PassageTemplate = Annotated[
    str,
    Meta(
        min_length=6,
        max_length=2000,
        description="How each passage is written: {id} (chunk id, what answers cite), {n} (position), {source}, "
        "{document}, {score} and {text}.",
        extra_json_schema=ui_hint("textarea"),
    ),
]


def knowledge_of(spec: OperatorSpec, ctx: RunContext) -> KnowledgeBase:
    """The process's knowledge service, or a located error saying it is missing."""
    try:
        return ctx.service(KnowledgeBase)
    except MissingDependencyError as exc:
        raise fail(spec, ctx, f"no knowledge service in this process: {exc.detail}") from exc


async def knowledge_call(
    spec: OperatorSpec, ctx: RunContext, call: Awaitable[R], *, space: str | None = None, what: str | None = None
) -> R:
    """Await a knowledge-service call, turning its errors into located ones.

    A ``NotFoundError`` is checked against ``space``: when the space itself is missing the node says so and
    where to create it; otherwise (a model, a document) the service's own message is kept, prefixed by ``what``
    (default: the space).
    """
    prefix = f"{what}: " if what else f"space {space!r}: " if space is not None else ""
    try:
        return await call
    except NotFoundError as exc:
        if space is not None and not await _space_exists(ctx, space):
            raise fail(spec, ctx, f"space {space!r} not found — create it under Knowledge") from exc
        raise fail(spec, ctx, f"{prefix}{exc.detail}") from exc
    except AppError as exc:
        raise fail(spec, ctx, f"{prefix}{exc.detail}") from exc


async def _space_exists(ctx: RunContext, space: str) -> bool:
    try:
        await ctx.service(KnowledgeBase).space(space)
    except NotFoundError:
        return False
    except AppError:
        return True  # unknown: keep the service's own message
    return True


def documents_of(documents: list[Document] | None, text: str | None, name: str) -> list[Document]:
    """The documents input, then the text input as one document named ``name`` (blank texts are dropped)."""
    found = [d for d in documents or [] if d.text.strip()]
    if text is not None and text.strip():
        found.append(Document(id=name, text=text, metadata={"source": name}))
    return found


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate of a text's token count (the larger of words+punctuation and characters / 4).

    Close to BPE counts for English prose and on the safe side for code and numbers; budgets use it so that
    operators need no tokenizer.
    """
    if not text:
        return 0
    return max(len(_WORD.findall(text)), math.ceil(len(text) / 4))


def format_passage(template: str, chunk: Chunk, number: int) -> str:
    """``template`` with its placeholders filled from ``chunk`` (unknown braces are left as written)."""
    values: dict[str, str] = {
        "id": chunk.id,
        "n": str(number),
        "source": chunk.source or str(chunk.metadata.get("document", "")),
        "document": str(chunk.metadata.get("document", chunk.document_id)),
        "score": "" if chunk.score is None else f"{chunk.score:.3f}",
        "text": chunk.text,
    }
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def with_metadata(chunk: Chunk, **extra: Any) -> Chunk:
    """A copy of ``chunk`` with ``extra`` merged into its metadata."""
    return msgspec.structs.replace(chunk, metadata={**chunk.metadata, **extra})


def _truncate_to(text: str, tokens: int) -> str:
    if tokens <= 0:
        return ""
    cut = text[: tokens * 4]
    while cut and estimate_tokens(cut) > tokens:
        cut = cut[: int(len(cut) * 0.9)]
    return cut.rstrip() + " …"


def build_context(
    chunks: Sequence[Chunk],
    *,
    budget_tokens: int | None = None,
    template: str = DEFAULT_PASSAGE_TEMPLATE,
    separator: str = "\n\n",
) -> tuple[str, list[Chunk]]:
    """Write chunks as numbered passages, in order, within a token budget.

    A passage that does not fit the tokens left is skipped (a later, shorter one may still fit); when even the
    first passage is too long it is truncated (``metadata["truncated"] = True``) so the context is never empty.

    Returns:
        The context text and the chunks it holds (in context order).
    """
    check_template(template)
    parts: list[str] = []
    kept: list[Chunk] = []
    used = 0
    sep_tokens = estimate_tokens(separator)
    for chunk in chunks:
        passage = format_passage(template, chunk, len(kept) + 1)
        cost = estimate_tokens(passage) + (sep_tokens if parts else 0)
        if budget_tokens is not None and used + cost > budget_tokens:
            if kept:
                continue
            frame = estimate_tokens(format_passage(template, msgspec.structs.replace(chunk, text=""), 1))
            chunk = with_metadata(chunk, truncated=True)  # noqa: PLW2901 - the truncated copy replaces it
            chunk = msgspec.structs.replace(chunk, text=_truncate_to(chunk.text, budget_tokens - frame))  # noqa: PLW2901
            passage = format_passage(template, chunk, 1)
            cost = estimate_tokens(passage)
        parts.append(passage)
        kept.append(chunk)
        used += cost
    return separator.join(parts), kept


def _candidates(inside: str) -> list[str]:
    found: list[str] = []
    for piece in re.split(r"[,;]|\]\s*\[", inside):
        cleaned = _CITATION_PREFIX.sub("", piece.strip().strip("`'\"*")).strip()
        if cleaned:
            found.append(cleaned)
    return found


def parse_citations(answer: str, chunks: Sequence[Chunk]) -> list[Chunk]:
    """The chunks an answer cites as ``[<chunk id>]``, in order of first citation, each once.

    Several ids in one bracket (``[a, b]``) and decorations (``[chunk a]``, ``[`a`]``) are understood; a bare
    number ``[n]`` that is no chunk's id names the n-th passage. Anything else in brackets is ignored.
    """
    by_id = {chunk.id: chunk for chunk in chunks}
    cited: dict[str, Chunk] = {}
    for match in _BRACKETS.finditer(answer):
        for candidate in _candidates(match.group(1)):
            chunk = by_id.get(candidate)
            if chunk is None and candidate.isdigit() and 1 <= int(candidate) <= len(chunks):
                chunk = chunks[int(candidate) - 1]
            if chunk is not None and chunk.id not in cited:
                cited[chunk.id] = chunk
    return list(cited.values())


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two vectors (0 when either is all zeros)."""
    dot = math.fsum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(math.fsum(x * x for x in a)) * math.sqrt(math.fsum(y * y for y in b))
    return dot / norm if norm else 0.0
