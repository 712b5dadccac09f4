"""Where model configs and call records live: the ``ModelStore`` Protocol and an in-memory implementation.

The PostgreSQL implementation is ``rivulet.storage.postgres.model_configs.PostgresModelStore``.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Literal, Protocol

import msgspec

from rivulet.lib.exceptions import NotFoundError
from rivulet.providers.config import ModelConfig  # noqa: TC001 - msgspec resolves annotations at runtime

__all__ = ("CallStatus", "MemoryModelStore", "ModelCallRecord", "ModelStore", "model_not_found")

CallStatus = Literal["ok", "error", "timeout", "cancelled"]


class ModelCallRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One attempt at one model (a fallback makes a second record)."""

    model: str
    provider: str
    operation: Literal["chat", "embed"]
    status: CallStatus
    run_id: str | None = None
    node_id: str | None = None
    origin: str = "run"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    """Time to the first streamed token."""
    error: str | None = None
    id: int | None = None
    created_at: datetime | None = None


def model_not_found(name: str, known: list[str]) -> NotFoundError:
    return NotFoundError(f"model {name!r} not found; configured: {', '.join(known)}", extra={"model": name})


class ModelStore(Protocol):
    """Stored model configs (``/api/models``) and the call log."""

    async def list_models(self) -> list[ModelConfig]: ...

    async def get_model(self, name: str) -> ModelConfig | None: ...

    async def put_model(self, config: ModelConfig) -> ModelConfig:
        """Create or replace; a model with ``is_default`` clears the flag on others of its kind."""
        ...

    async def delete_model(self, name: str) -> bool: ...

    async def record_call(self, record: ModelCallRecord) -> None: ...

    async def list_calls(
        self, *, run_id: str | None = None, model: str | None = None, limit: int = 100
    ) -> list[ModelCallRecord]:
        """Newest first."""
        ...


class MemoryModelStore:
    """A ``ModelStore`` in a dict (unit tests, schema export)."""

    def __init__(self) -> None:
        self.models: dict[str, ModelConfig] = {}
        self.calls: list[ModelCallRecord] = []
        self._ids = itertools.count(1)

    async def list_models(self) -> list[ModelConfig]:
        return sorted(self.models.values(), key=lambda m: m.name)

    async def get_model(self, name: str) -> ModelConfig | None:
        return self.models.get(name)

    async def put_model(self, config: ModelConfig) -> ModelConfig:
        now = datetime.now(UTC)
        old = self.models.get(config.name)
        if config.is_default:
            for other in list(self.models.values()):
                if other.kind == config.kind and other.is_default:
                    self.models[other.name] = msgspec.structs.replace(other, is_default=False)
        stored = msgspec.structs.replace(
            config, builtin=False, created_at=old.created_at if old else now, updated_at=now
        )
        self.models[config.name] = stored
        return stored

    async def delete_model(self, name: str) -> bool:
        return self.models.pop(name, None) is not None

    async def record_call(self, record: ModelCallRecord) -> None:
        self.calls.append(msgspec.structs.replace(record, id=next(self._ids), created_at=datetime.now(UTC)))

    async def list_calls(
        self, *, run_id: str | None = None, model: str | None = None, limit: int = 100
    ) -> list[ModelCallRecord]:
        found = [
            c
            for c in reversed(self.calls)
            if (run_id is None or c.run_id == run_id) and (model is None or c.model == model)
        ]
        return found[:limit]
