"""The 'test this model' action: one short real call, timed, with its token counts (also the health check)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import msgspec

from rivulet.lib.exceptions import AppError
from rivulet.lib.redact import redact
from rivulet.sdk.models import CallOrigin, ChatRequest
from rivulet.sdk.ports import Message

if TYPE_CHECKING:
    from rivulet.providers.service import ModelService

__all__ = ("PROBE_PROMPT", "ModelProbe", "probe_model")

PROBE_PROMPT = "Reply with one short friendly sentence."


class ModelProbe(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of a test call."""

    model: str
    """The model asked for."""
    ok: bool
    answered_by: str | None = None
    """The model that answered (differs from ``model`` after a fallback or for ``default``)."""
    kind: str = "chat"
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tokens_per_s: float | None = None
    output: str = ""
    """The answer (chat) or a description of the vectors (embedding)."""
    dimensions: int | None = None
    error: str | None = None
    error_code: str | None = None


async def probe_model(service: ModelService, name: str, *, max_tokens: int = 24, origin: str = "test") -> ModelProbe:
    """Call ``name`` once with a tiny request and report latency and tokens; failures are reported, not raised.

    Raises:
        NotFoundError: No such model.
    """
    config = await service.get(name)
    where = CallOrigin(kind="cli" if origin == "cli" else "test")
    started = time.perf_counter()
    try:
        if config.kind == "embedding":
            result = await service.embed(name, ["Rivulet connects models to data."], origin=where)
            return ModelProbe(
                model=name,
                ok=True,
                answered_by=result.model,
                kind="embedding",
                latency_ms=result.latency_ms,
                prompt_tokens=result.usage.prompt_tokens,
                dimensions=result.dimensions,
                output=f"1 vector of {result.dimensions} dimensions",
            )
        request = ChatRequest(
            messages=[Message(role="user", content=PROBE_PROMPT)], temperature=0, max_tokens=max_tokens
        )
        result = await service.chat(name, request, origin=where)
        completion = result.usage.completion_tokens
        seconds = (result.latency_ms - (result.ttft_ms or 0)) / 1000
        return ModelProbe(
            model=name,
            ok=True,
            answered_by=result.model,
            latency_ms=result.latency_ms,
            ttft_ms=result.ttft_ms,
            prompt_tokens=result.usage.prompt_tokens,
            completion_tokens=completion,
            tokens_per_s=(completion - 1) / seconds if completion > 1 and seconds > 0 else None,
            output=result.text,
        )
    except AppError as exc:
        return ModelProbe(
            model=name,
            ok=False,
            kind=config.kind,
            latency_ms=(time.perf_counter() - started) * 1000,
            error=redact(exc.detail),
            error_code=exc.code,
        )
