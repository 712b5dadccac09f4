"""Knowledge settings of the DB-GPT converter, as pure functions: chunk sizes, search settings, summary instructions.

DB-GPT sizes chunks in characters (``ChunkParameters``: 512 with an overlap of 50 unless set); Rivulet in tokens
of the embedding model's tokenizer. About four characters make a token in English prose, so sizes are divided by
four and clamped to ``ChunkingConfig``'s limits (512/50 characters → 128/13 tokens).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from rivulet.sdk.knowledge import ChunkingConfig

__all__ = (
    "CHARS_PER_TOKEN",
    "ChunkPlan",
    "chunk_plan",
    "search_params",
    "summary_instructions",
)

CHARS_PER_TOKEN = 4
"""Characters per token assumed when DB-GPT's character sizes become token sizes."""
_MIN_SIZE, _MAX_SIZE, _MAX_OVERLAP = 16, 8192, 4096
"""``ChunkingConfig``'s limits."""
_STRATEGIES = {
    "CHUNK_BY_SIZE": "recursive",
    "CHUNK_BY_MARKDOWN_HEADER": "markdown",
    "CHUNK_BY_PARAGRAPH": "recursive",
    "CHUNK_BY_SEPARATOR": "recursive",
    "CHUNK_BY_PAGE": "recursive",
}
"""DB-GPT chunk strategy → Rivulet's (``Automatic``/unset: the space's own)."""
_SPLITTER_STRATEGIES = {"MarkdownHeaderTextSplitter": "markdown", "SpacyTextSplitter": "sentence"}


def _int(value: Any, fallback: int) -> int:
    if isinstance(value, bool):
        return fallback
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value.strip()))
        except ValueError:
            return fallback
    return fallback


@dataclass(frozen=True, slots=True)
class ChunkPlan:
    """How DB-GPT would have split the documents, and the Rivulet chunking that comes closest."""

    strategy: str | None
    """Rivulet's strategy (``None``: DB-GPT's ``Automatic``, i.e. by the document's kind: the space's own)."""
    size_chars: int
    overlap_chars: int
    separators: list[str] | None = None

    @property
    def size_tokens(self) -> int:
        return min(max(math.ceil(self.size_chars / CHARS_PER_TOKEN), _MIN_SIZE), _MAX_SIZE)

    @property
    def overlap_tokens(self) -> int:
        return min(max(math.ceil(self.overlap_chars / CHARS_PER_TOKEN), 0), _MAX_OVERLAP, self.size_tokens - 1)

    def config(self) -> ChunkingConfig:
        """The ``ChunkingConfig`` (recursive when DB-GPT picks by document kind)."""
        return ChunkingConfig(
            strategy="recursive" if self.strategy is None else self.strategy,  # pyright: ignore[reportArgumentType]
            chunk_size=self.size_tokens,
            chunk_overlap=self.overlap_tokens,
            separators=self.separators,
        )

    def describe(self) -> str:
        how = f"{self.strategy} " if self.strategy else ""
        return (
            f"{how}chunks of {self.size_chars} characters with {self.overlap_chars} overlap "
            f"(about {self.size_tokens}/{self.overlap_tokens} tokens)"
        )


def chunk_plan(resources: list[tuple[str, dict[str, Any]]], default_strategy: str | None) -> ChunkPlan:
    """The chunking a DB-GPT node would use, from the ``ChunkParameters`` / text splitter resources feeding it.

    Args:
        resources: ``(class name, params)`` of the chunking resources, nearest first.
        default_strategy: DB-GPT's strategy when none is set (``CHUNK_BY_SIZE`` for the embedding assembler,
            ``None`` = ``Automatic`` for the chunk manager).
    """
    strategy = _STRATEGIES.get(default_strategy or "")
    size, overlap, separators = 512, 50, None
    for cls, params in reversed(resources):  # the nearest resource wins: apply it last
        if cls == "ChunkParameters":
            named = str(params.get("chunk_strategy") or "")
            strategy = _STRATEGIES.get(named, strategy) if named != "Automatic" else None
            if named in ("CHUNK_BY_PARAGRAPH", "CHUNK_BY_SEPARATOR"):
                separator = params.get("separator")
                separators = [str(separator).replace("\\n", "\n")] if separator else None
        else:
            strategy = _SPLITTER_STRATEGIES.get(cls, "recursive")
        size = _int(params.get("chunk_size"), size)
        overlap = _int(params.get("chunk_overlap"), overlap)
    return ChunkPlan(strategy=strategy, size_chars=max(size, 1), overlap_chars=max(overlap, 0), separators=separators)


def search_params(top_k: Any, threshold: Any) -> dict[str, Any]:
    """``rag.retrieve``'s ``top_k``, ``mode`` and ``min_score`` for DB-GPT's ``top_k`` and ``score_threshold``.

    DB-GPT's threshold is a cosine similarity of its vector search: a positive one means ``mode: vector`` with that
    ``min_score`` (as faithful as it gets); none or 0 leaves Rivulet's hybrid search (vector and keyword fused).
    """
    params: dict[str, Any] = {"top_k": min(max(_int(top_k, 5), 1), 500)}
    score = threshold if isinstance(threshold, int | float) and not isinstance(threshold, bool) else None
    if score is not None and score > 0:
        params.update(mode="vector", min_score=float(score))
    else:
        params["mode"] = "hybrid"
    return params


_SUMMARY_EN = (
    "Write a quick summary of the following context. Be as concise as possible (about 200 characters); "
    "summarise the final conclusion in points 1, 2, 3."
)
_SUMMARY_ZH = "请简要总结以下内容, 尽可能简洁 (约 200 字), 并按照 1、2、3 点总结最终结论。"


def summary_instructions(language: Any) -> str:
    """``llm.summarize``'s instructions for ``SummaryAssemblerOperator``'s prompt language (``en`` or ``zh``)."""
    return _SUMMARY_ZH if str(language or "").lower().startswith("zh") else _SUMMARY_EN
