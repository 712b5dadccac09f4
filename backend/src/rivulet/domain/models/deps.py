"""What the models API uses, handed to its handlers as one dependency (``deps``)."""

from __future__ import annotations

from dataclasses import dataclass

from rivulet.providers.service import ModelService
from rivulet.runtime.service import RunService
from rivulet.storage.base import FlowStore

__all__ = ("ModelsDeps",)


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelsDeps:
    """The model service, and the runs and flows that decide who may read a run's model calls."""

    models: ModelService
    runs: RunService
    flows: FlowStore
