"""What the flows API uses, handed to its handlers as one dependency (``deps``)."""

from __future__ import annotations

from dataclasses import dataclass

from rivulet.registry.registry import OperatorRegistry
from rivulet.storage.base import ChangeNotifier, FlowStore

__all__ = ("FlowsDeps",)


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowsDeps:
    """The flow store, the operators (validation) and change notices (sharing changes who may call an endpoint)."""

    flows: FlowStore
    registry: OperatorRegistry
    changes: ChangeNotifier
