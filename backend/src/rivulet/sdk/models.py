"""What operators see of the model layer (SMMF): request/result Structs and the ``ModelRegistry`` service.

An operator asks for the registry with ``ctx.service(ModelRegistry)`` and names a model (``"default"`` is the
default chat model, ``"default-embedding"`` the default embedding model)::

    models = ctx.service(ModelRegistry)
    request = ChatRequest(messages=[Message(role="user", content="Hi")], max_tokens=32)
    async for chunk in models.stream(params.model, request, origin=origin_of(ctx)):
        ...

Every call is recorded (tokens, latency, time to first token) against ``origin`` (run and node), so a run shows
what its model calls cost. Providers, configuration and fallback chains live in ``rivulet.providers``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol

import msgspec
from msgspec import Meta

from rivulet.sdk.ports import Message

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Sequence

    from rivulet.sdk.context import RunContext

__all__ = (
    "DEFAULT_CHAT_MODEL",
    "DEFAULT_EMBEDDING_MODEL",
    "CallOrigin",
    "ChatChunk",
    "ChatRequest",
    "ChatResult",
    "ConversationStore",
    "EmbeddingResult",
    "ModelRegistry",
    "ToolCall",
    "ToolSpec",
    "Usage",
    "origin_of",
)

DEFAULT_CHAT_MODEL = "default"
DEFAULT_EMBEDDING_MODEL = "default-embedding"


class ToolSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A function the model may call."""

    name: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    description: str = ""
    parameters: dict[str, Any] = msgspec.field(default_factory=lambda: {"type": "object", "properties": {}})
    """JSON Schema of the arguments."""


class ToolCall(msgspec.Struct, frozen=True, kw_only=True):
    """A call the model asked for; ``arguments`` is JSON text as the model wrote it."""

    id: str
    name: str
    arguments: str = "{}"


class ChatRequest(msgspec.Struct, frozen=True, kw_only=True):
    """One chat completion request (provider-neutral)."""

    messages: list[Message]
    temperature: Annotated[float, Meta(ge=0, le=2)] = 0.7
    max_tokens: Annotated[int, Meta(ge=1, le=131_072)] | None = 256
    top_p: Annotated[float, Meta(gt=0, le=1)] | None = None
    stop: list[str] = msgspec.field(default_factory=list[str])
    seed: int | None = None
    tools: list[ToolSpec] = msgspec.field(default_factory=list[ToolSpec])
    json_schema: dict[str, Any] | None = None
    """Constrain the answer to this JSON Schema (structured output) where the provider supports it."""
    json_mode: bool = False
    """Ask for a JSON object (without a schema)."""


class Usage(msgspec.Struct, frozen=True, kw_only=True):
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class ChatChunk(msgspec.Struct, frozen=True, kw_only=True):
    """A piece of a streamed answer. The last chunk carries ``finish_reason`` and ``usage``."""

    text: str = ""
    tool_calls: list[ToolCall] = msgspec.field(default_factory=list[ToolCall])
    finish_reason: str | None = None
    usage: Usage | None = None


class ChatResult(msgspec.Struct, frozen=True, kw_only=True):
    """A complete answer."""

    text: str
    model: str
    """The configured model that answered (a fallback's name when the first choice failed)."""
    tool_calls: list[ToolCall] = msgspec.field(default_factory=list[ToolCall])
    finish_reason: str | None = None
    usage: Usage = msgspec.field(default_factory=Usage)
    latency_ms: float = 0.0
    ttft_ms: float | None = None

    @property
    def message(self) -> Message:
        return Message(role="assistant", content=self.text)


class EmbeddingResult(msgspec.Struct, frozen=True, kw_only=True):
    vectors: list[list[float]]
    model: str
    dimensions: int
    usage: Usage = msgspec.field(default_factory=Usage)
    latency_ms: float = 0.0


class CallOrigin(msgspec.Struct, frozen=True, kw_only=True):
    """Who made a model call (recorded with it)."""

    run_id: str | None = None
    node_id: str | None = None
    kind: Literal["run", "test", "api", "cli"] = "run"


def origin_of(ctx: RunContext) -> CallOrigin:
    """The origin of calls made by the node ``ctx`` executes."""
    return CallOrigin(run_id=ctx.run_id, node_id=ctx.node_id)


class ModelRegistry(Protocol):
    """The configured models, by name (``ctx.service(ModelRegistry)``)."""

    async def chat(self, model: str, request: ChatRequest, *, origin: CallOrigin | None = None) -> ChatResult:
        """A complete answer (falls back along the model's chain on failure).

        Raises:
            NotFoundError: No model of that name.
            ModelError: Every model of the chain failed or timed out.
        """
        ...

    def stream(
        self, model: str, request: ChatRequest, *, origin: CallOrigin | None = None
    ) -> AsyncGenerator[ChatChunk]:
        """Stream the answer chunk by chunk; closing the iterator early stops generation."""
        ...

    async def embed(self, model: str, texts: Sequence[str], *, origin: CallOrigin | None = None) -> EmbeddingResult:
        """Embed ``texts`` (one vector each, in order)."""
        ...


class ConversationStore(Protocol):
    """Chat history per session id (``ctx.service(ConversationStore)``)."""

    async def history(self, session_id: str, limit: int) -> list[Message]:
        """The last ``limit`` messages of a session, oldest first."""
        ...

    async def append(self, session_id: str, messages: Sequence[Message]) -> None:
        """Add messages at the end of a session."""
        ...

    async def clear(self, session_id: str) -> None:
        """Forget a session."""
        ...

    async def drop_last_turn(self, session_id: str) -> int:
        """Remove the last user message and everything after it (a chat app's "regenerate"); how many went."""
        ...
