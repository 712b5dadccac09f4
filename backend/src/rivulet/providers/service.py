"""``ModelService``: the process's ``ModelRegistry`` — named models behind one interface.

It resolves a name (``default`` → the default chat model) to a ``ModelConfig``, builds and caches the provider,
and wraps every call in the model's concurrency limit and timeout. A call that fails or times out before any
output was streamed moves on to the next model of the ``fallbacks`` chain. Every attempt is recorded
(``ModelCallRecord``: tokens, latency, time to first token, status) against the calling run and node.

Error texts are redacted (``rivulet.lib.redact``) before they are recorded or raised, whatever the provider.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any

import msgspec

from rivulet.lib.exceptions import AppError, ConfigError, ModelError, ValidationError
from rivulet.lib.log import get_logger
from rivulet.lib.redact import redact
from rivulet.providers.base import collect_chunks
from rivulet.providers.config import BUILTIN_MODELS, ModelConfig, validate_config
from rivulet.providers.factory import build_provider
from rivulet.providers.store import ModelCallRecord, model_not_found
from rivulet.sdk.models import (
    DEFAULT_CHAT_MODEL,
    DEFAULT_EMBEDDING_MODEL,
    CallOrigin,
    ChatChunk,
    ChatRequest,
    ChatResult,
    EmbeddingResult,
    Usage,
)

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence

    from rivulet.providers.store import CallStatus, ModelStore
    from rivulet.sdk.net import NetworkPolicy

__all__ = ("ModelService",)

_log = get_logger(__name__)
_ALIASES = {DEFAULT_CHAT_MODEL: "chat", DEFAULT_EMBEDDING_MODEL: "embedding"}
_RETRYABLE = (ModelError, ConfigError, TimeoutError)


class _Attempt:
    """Timing and token counts of one attempt, turned into a ``ModelCallRecord``."""

    def __init__(self, config: ModelConfig, operation: str, origin: CallOrigin | None) -> None:
        self.config = config
        self.operation = operation
        self.origin = origin or CallOrigin(kind="api")
        self.started = time.perf_counter()
        self.ttft_ms: float | None = None
        self.usage = Usage()

    @property
    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000

    def record(self, status: CallStatus, error: BaseException | None = None) -> ModelCallRecord:
        return ModelCallRecord(
            model=self.config.name,
            provider=self.config.provider,
            operation="embed" if self.operation == "embed" else "chat",
            status=status,
            run_id=self.origin.run_id,
            node_id=self.origin.node_id,
            origin=self.origin.kind,
            prompt_tokens=self.usage.prompt_tokens,
            completion_tokens=self.usage.completion_tokens,
            latency_ms=self.elapsed_ms,
            ttft_ms=self.ttft_ms,
            error=None if error is None else redact(str(error) or type(error).__name__)[:2000],
        )


class ModelService:
    """Implements ``rivulet.sdk.models.ModelRegistry`` over a ``ModelStore``.

    Args:
        store: Stored configs and the call log.
        secrets: Resolves secret names (API keys).
        policy: The network policy ``openai_compatible`` base URLs must pass.
        builtins: Models that exist without configuration.
        provider_factory: ``(config, *, secrets, policy, model_dirs) → provider`` (``build_provider``; fakes in
            unit tests).
        model_dirs: Directories local models may be loaded from (``model_path``; the bundled models always).
    """

    def __init__(
        self,
        store: ModelStore,
        *,
        secrets: Callable[[str], Awaitable[str]] | None = None,
        policy: NetworkPolicy | None = None,
        builtins: Sequence[ModelConfig] = BUILTIN_MODELS,
        provider_factory: Callable[..., Any] = build_provider,
        model_dirs: Sequence[str] = (),
    ) -> None:
        self.store = store
        self._model_dirs = tuple(model_dirs)
        self._factory = provider_factory
        self._secrets = secrets
        self._policy = policy
        self._builtins = {m.name: m for m in builtins}
        self._providers: dict[str, tuple[ModelConfig, Any]] = {}
        self._limits: dict[str, tuple[int, asyncio.Semaphore]] = {}

    # -- configuration -----------------------------------------------------------------------------------------

    async def list_models(self) -> list[ModelConfig]:
        """Built-in and stored models (stored ones replace built-ins of the same name), with defaults marked."""
        stored = {m.name: m for m in await self.store.list_models()}
        merged = {**self._builtins, **stored}
        defaults = {kind: self._default_name(kind, stored) for kind in ("chat", "embedding")}
        return [
            msgspec.structs.replace(m, is_default=defaults[m.kind] == m.name)
            for m in sorted(merged.values(), key=lambda m: (not m.builtin, m.name))
        ]

    def _default_name(self, kind: str, stored: dict[str, ModelConfig]) -> str:
        for model in stored.values():
            if model.kind == kind and model.is_default:
                return model.name
        return DEFAULT_CHAT_MODEL if kind == "chat" else DEFAULT_EMBEDDING_MODEL

    async def get(self, name: str, *, exact: bool = False) -> ModelConfig:
        """A model by name; ``default``/``default-embedding`` resolve to the default model of their kind.

        With ``exact`` the aliases are not resolved (``default`` is the built-in model of that name).

        Raises:
            NotFoundError: No such model (the message lists the configured ones).
        """
        models = await self.list_models()
        by_name = {m.name: m for m in models}
        if name in _ALIASES and not exact:
            for model in models:
                if model.kind == _ALIASES[name] and model.is_default:
                    return model
        found = by_name.get(name)
        if found is None:
            raise model_not_found(name, sorted(by_name))
        return found

    async def save(self, config: ModelConfig) -> ModelConfig:
        """Validate and store a model (create or replace). Raises ``ValidationError``."""
        config = validate_config(config)
        known = {m.name for m in await self.list_models()} | {config.name}
        missing = [f for f in config.fallbacks if f not in known and f not in _ALIASES]
        if missing:
            raise ValidationError(
                f"model {config.name!r}: unknown fallback model(s) {missing}",
                extra={"model": config.name, "errors": [{"message": "unknown model", "key": "fallbacks"}]},
            )
        stored = await self.store.put_model(config)
        await self._drop_provider(config.name)
        return stored

    async def delete(self, name: str) -> None:
        """Delete a stored model (a built-in comes back). Raises ``NotFoundError``/``ValidationError``."""
        if not await self.store.delete_model(name):
            if name in self._builtins:
                raise ValidationError(f"model {name!r} is built in and cannot be deleted", extra={"model": name})
            raise model_not_found(name, [m.name for m in await self.list_models()])
        await self._drop_provider(name)

    async def set_default(self, name: str) -> ModelConfig:
        """Make ``name`` the default of its kind (a built-in is stored to carry the flag)."""
        config = await self.get(name, exact=True)
        stored = await self.store.put_model(msgspec.structs.replace(config, is_default=True, builtin=False))
        await self._drop_provider(name)
        return stored

    # -- providers and limits ----------------------------------------------------------------------------------

    def _provider(self, config: ModelConfig) -> Any:
        cached = self._providers.get(config.name)
        if cached is not None and cached[0] == config:
            return cached[1]
        provider = self._factory(config, secrets=self._secrets, policy=self._policy, model_dirs=self._model_dirs)
        self._providers[config.name] = (config, provider)
        return provider

    async def _drop_provider(self, name: str) -> None:
        cached = self._providers.pop(name, None)
        if cached is not None:
            await cached[1].close()

    def _limit(self, config: ModelConfig) -> asyncio.Semaphore:
        current = self._limits.get(config.name)
        if current is None or current[0] != config.concurrency:
            current = self._limits[config.name] = (config.concurrency, asyncio.Semaphore(config.concurrency))
        return current[1]

    async def _chain(self, name: str, kind: str) -> list[ModelConfig]:
        first = await self.get(name)
        if first.kind != kind:
            raise ValidationError(f"model {first.name!r} is a {first.kind} model, not a {kind} model")
        chain = [first]
        for fallback in first.fallbacks:
            config = await self.get(fallback)
            if config.kind == kind and all(c.name != config.name for c in chain):
                chain.append(config)
        return chain

    async def _record(self, record: ModelCallRecord) -> None:
        if record.status in ("error", "timeout"):  # the error is redacted already (``_Attempt.record``)
            _log.warning(
                "model call failed",
                extra={"model": record.model, "status": record.status, "run_id": record.run_id, "error": record.error},
            )
        try:
            await self.store.record_call(record)
        except AppError:
            _log.warning("recording a model call failed", extra={"model": record.model}, exc_info=True)

    async def close(self) -> None:
        """Release every provider."""
        for name in list(self._providers):
            await self._drop_provider(name)

    # -- calls -------------------------------------------------------------------------------------------------

    async def chat(self, model: str, request: ChatRequest, *, origin: CallOrigin | None = None) -> ChatResult:
        started = time.perf_counter()
        answered: list[str] = []
        first: list[float] = []

        async def timed() -> AsyncGenerator[ChatChunk]:
            async for chunk in self._stream(model, request, origin, answered):
                if chunk.text and not first:
                    first.append((time.perf_counter() - started) * 1000)
                yield chunk

        result = await collect_chunks(timed(), model)
        return msgspec.structs.replace(
            result,
            model=answered[-1] if answered else model,
            latency_ms=(time.perf_counter() - started) * 1000,
            ttft_ms=first[0] if first else None,
        )

    def stream(
        self, model: str, request: ChatRequest, *, origin: CallOrigin | None = None
    ) -> AsyncGenerator[ChatChunk]:
        return self._stream(model, request, origin, [])

    async def _stream(
        self, model: str, request: ChatRequest, origin: CallOrigin | None, answered: list[str]
    ) -> AsyncGenerator[ChatChunk]:
        failures: list[str] = []
        for config in await self._chain(model, "chat"):
            attempt = _Attempt(config, "chat", origin)
            yielded = False
            try:
                async with self._limit(config), contextlib.aclosing(self._timed(config, attempt, request)) as timed:
                    attempt.started = time.perf_counter()
                    async for chunk in timed:
                        yielded = yielded or bool(chunk.text or chunk.tool_calls)
                        yield chunk
            except _RETRYABLE as exc:
                status: CallStatus = "timeout" if isinstance(exc, TimeoutError) else "error"
                await self._record(attempt.record(status, exc))
                failures.append(f"{config.name}: {_describe(exc, config)}")
                if yielded:
                    raise _failed(model, failures) from exc
                continue
            except (GeneratorExit, asyncio.CancelledError):
                await asyncio.shield(self._record(attempt.record("cancelled")))
                raise
            await self._record(attempt.record("ok"))
            answered.append(config.name)
            return
        raise _failed(model, failures)

    async def _timed(self, config: ModelConfig, attempt: _Attempt, request: ChatRequest) -> AsyncGenerator[ChatChunk]:
        """The provider's stream under the model's deadline (for the whole answer)."""
        deadline = time.monotonic() + config.timeout_s
        chunks = self._provider(config).stream(request)
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                try:
                    chunk = await asyncio.wait_for(anext(chunks), remaining)
                except StopAsyncIteration:
                    return
                if chunk.text and attempt.ttft_ms is None:
                    attempt.ttft_ms = attempt.elapsed_ms
                if chunk.usage is not None:
                    attempt.usage = chunk.usage
                yield chunk
        finally:
            await chunks.aclose()

    async def embed(self, model: str, texts: Sequence[str], *, origin: CallOrigin | None = None) -> EmbeddingResult:
        failures: list[str] = []
        for config in await self._chain(model, "embedding"):
            attempt = _Attempt(config, "embed", origin)
            try:
                async with self._limit(config):
                    attempt.started = time.perf_counter()
                    provider = self._provider(config)
                    vectors, attempt.usage = await asyncio.wait_for(provider.embed(texts), config.timeout_s)
            except _RETRYABLE as exc:
                status: CallStatus = "timeout" if isinstance(exc, TimeoutError) else "error"
                await self._record(attempt.record(status, exc))
                failures.append(f"{config.name}: {_describe(exc, config)}")
                continue
            await self._record(attempt.record("ok"))
            return EmbeddingResult(
                vectors=vectors,
                model=config.name,
                dimensions=len(vectors[0]) if vectors else 0,
                usage=attempt.usage,
                latency_ms=attempt.elapsed_ms,
            )
        raise _failed(model, failures)


def _describe(exc: BaseException, config: ModelConfig) -> str:
    if isinstance(exc, TimeoutError):
        return f"timed out after {config.timeout_s:g} s"
    return redact(str(exc))


def _failed(model: str, failures: list[str]) -> ModelError:
    return ModelError(f"model {model!r} failed: " + "; ".join(failures), extra={"model": model, "attempts": failures})
