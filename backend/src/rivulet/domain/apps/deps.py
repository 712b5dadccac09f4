"""What the chat app APIs use, handed to their handlers as one dependency (``deps``)."""

from __future__ import annotations

from dataclasses import dataclass

from rivulet.publishing.apps import AppService
from rivulet.storage.base import ChangeNotifier, FlowStore

__all__ = ("AppsDeps",)


@dataclass(frozen=True, slots=True, kw_only=True)
class AppsDeps:
    """The app service (with its store), the flows (access checks) and the change notices (token revocation)."""

    apps: AppService
    flows: FlowStore
    changes: ChangeNotifier
