"""What the runs API and its WebSocket use, handed to their handlers as one dependency (``deps``)."""

from __future__ import annotations

from dataclasses import dataclass

from rivulet.runtime.service import RunService
from rivulet.server.auth import Authenticator
from rivulet.storage.base import AppStore, FlowStore

__all__ = ("RunsDeps",)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunsDeps:
    """The run service, the flows (access checks) and the authenticator (a socket lives as long as its credential)."""

    runs: RunService
    flows: FlowStore
    authenticator: Authenticator
    apps: AppStore
    """Chat apps: the feedback stored with the runs that answered them."""
