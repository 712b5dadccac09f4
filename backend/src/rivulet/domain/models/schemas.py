"""HTTP DTOs of the models resource."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta

from rivulet.providers.config import ModelConfig, ModelKind, ProviderName
from rivulet.providers.store import ModelCallRecord

__all__ = ("ModelCallList", "ModelCreate", "ModelList", "ModelUpdate")


class ModelUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Everything about a model except its name."""

    provider: ProviderName
    kind: ModelKind = "chat"
    params: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])
    description: Annotated[str, Meta(max_length=2000)] = ""
    concurrency: Annotated[int, Meta(ge=1, le=1024)] = 4
    timeout_s: Annotated[float, Meta(gt=0, le=3600)] = 120.0
    fallbacks: list[str] = msgspec.field(default_factory=list[str])
    is_default: bool = False
    allow_private_network: bool = False

    def to_config(self, name: str) -> ModelConfig:
        return msgspec.convert({**msgspec.structs.asdict(self), "name": name}, ModelConfig)


class ModelCreate(ModelUpdate, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A new model (or a stored replacement of a built-in one)."""

    name: Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9_.:-]{0,99}$")]


class ModelList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[ModelConfig]


class ModelCallList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[ModelCallRecord]
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: float = 0.0
    """Sum over the listed calls."""
