"""Provider contracts: a chat provider streams ``ChatChunk``s, an embedding provider returns vectors.

Providers are built from a ``ModelConfig`` by ``rivulet.providers.factory.build_provider`` and owned by the
``ModelService``, which adds concurrency limits, timeouts, fallbacks and call recording around them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from rivulet.sdk.models import ChatResult, ToolCall, Usage

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator, Sequence

    from rivulet.sdk.models import ChatChunk, ChatRequest

__all__ = ("ChatProvider", "EmbeddingProvider", "collect_chunks")


@runtime_checkable
class ChatProvider(Protocol):
    """Generates chat answers."""

    def stream(self, request: ChatRequest) -> AsyncGenerator[ChatChunk]:
        """Stream the answer; the last chunk has ``finish_reason`` and ``usage``. Closing it stops generation."""
        ...

    async def close(self) -> None:
        """Release clients, threads and loaded weights."""
        ...


@runtime_checkable
class EmbeddingProvider(Protocol):
    """Turns texts into vectors."""

    async def embed(self, texts: Sequence[str]) -> tuple[list[list[float]], Usage]:
        """One vector per text, in order, and the token usage where known."""
        ...

    async def close(self) -> None: ...


async def collect_chunks(chunks: AsyncIterator[ChatChunk], model: str) -> ChatResult:
    """Join a stream into one ``ChatResult`` (text concatenated, tool calls merged, last usage kept)."""
    parts: list[str] = []
    calls: dict[str, ToolCall] = {}
    usage = Usage()
    finish: str | None = None
    async for chunk in chunks:
        parts.append(chunk.text)
        for call in chunk.tool_calls:
            calls[call.id] = call
        if chunk.usage is not None:
            usage = chunk.usage
        if chunk.finish_reason is not None:
            finish = chunk.finish_reason
    return ChatResult(
        text="".join(parts), model=model, tool_calls=list(calls.values()), finish_reason=finish, usage=usage
    )
