"""Scripted providers and a fake ``ModelRegistry`` for unit tests (each has a real counterpart test)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rivulet.lib.exceptions import ModelError
from rivulet.sdk.models import CallOrigin, ChatChunk, ChatRequest, ChatResult, EmbeddingResult, Usage

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence


@dataclass
class ScriptedChat:
    """Answers with ``tokens``; ``fail`` raises ModelError, ``delay`` sleeps before each token."""

    tokens: list[str] = field(default_factory=lambda: ["Hello", " world"])
    fail: bool = False
    delay: float = 0.0
    requests: list[ChatRequest] = field(default_factory=list[ChatRequest])
    active: int = 0
    peak: int = 0
    closed: bool = False

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        self.requests.append(request)
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            if self.fail:
                raise ModelError("scripted failure")
            for token in self.tokens:
                await asyncio.sleep(self.delay)
                yield ChatChunk(text=token)
            yield ChatChunk(finish_reason="stop", usage=Usage(prompt_tokens=5, completion_tokens=len(self.tokens)))
        finally:
            self.active -= 1

    async def embed(self, texts: Sequence[str]) -> tuple[list[list[float]], Usage]:
        if self.fail:
            raise ModelError("scripted failure")
        return [[float(len(t)), 1.0] for t in texts], Usage(prompt_tokens=len(texts))

    async def close(self) -> None:
        self.closed = True


@dataclass
class FakeModels:
    """A ``ModelRegistry`` answering from a list of scripted answers (in turn), recording requests."""

    answers: list[str] = field(default_factory=lambda: ["ok"])
    requests: list[tuple[str, ChatRequest]] = field(default_factory=list[tuple[str, ChatRequest]])
    embedded: list[list[str]] = field(default_factory=list[list[str]])

    def _next(self) -> str:
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    async def chat(self, model: str, request: ChatRequest, *, origin: CallOrigin | None = None) -> ChatResult:
        self.requests.append((model, request))
        return ChatResult(text=self._next(), model=model, usage=Usage(prompt_tokens=3, completion_tokens=2))

    async def stream(
        self, model: str, request: ChatRequest, *, origin: CallOrigin | None = None
    ) -> AsyncIterator[ChatChunk]:
        self.requests.append((model, request))
        for word in self._next().split(" "):
            yield ChatChunk(text=word + " ")
        yield ChatChunk(finish_reason="stop", usage=Usage(completion_tokens=2))

    async def embed(self, model: str, texts: Sequence[str], *, origin: CallOrigin | None = None) -> EmbeddingResult:
        self.embedded.append(list(texts))
        return EmbeddingResult(vectors=[[1.0, float(len(t))] for t in texts], model=model, dimensions=2)


def factory(providers: dict[str, Any]) -> Any:
    """A ``provider_factory`` returning the scripted provider registered for a model name."""

    def build(config: Any, **_: Any) -> Any:
        return providers[config.name]

    return build
