"""Storage contracts.

Each store is a Protocol with a memory and a PostgreSQL implementation, and one conformance suite
(``tests/integration/test_storage_conformance.py``) runs against both.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from rivulet.compiler.flow import FlowDocument

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rivulet.records.events import ErrorInfo, Event, RunStatus
    from rivulet.records.runs import FinishedRun, NodeRunRecord, RunQuery, RunRecord

__all__ = (
    "FlowRecord",
    "FlowScope",
    "FlowStore",
    "FlowSummary",
    "FlowVersionInfo",
    "FlowVersionRecord",
    "RunStore",
)


class FlowSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A row of the flow list."""

    id: str
    name: str
    description: str
    version: int
    """The latest version number."""
    tags: list[str]
    node_count: int
    created_at: datetime
    updated_at: datetime
    owner_id: str | None = None
    """The user who owns the flow (``None``: nobody; only administrators reach it)."""
    workspace_id: str | None = None
    """The shared workspace whose members may reach the flow."""


class FlowScope(msgspec.Struct, frozen=True, kw_only=True):
    """Which flows a non-administrator may see: their own and those of their workspaces."""

    user_id: str
    workspace_ids: tuple[str, ...] = ()


class FlowRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A flow with its latest document."""

    summary: FlowSummary
    document: FlowDocument


class FlowVersionInfo(msgspec.Struct, frozen=True, kw_only=True):
    """One immutable saved version."""

    flow_id: str
    version: int
    message: str
    created_at: datetime


class FlowVersionRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A saved version with its document."""

    info: FlowVersionInfo
    document: FlowDocument


class FlowStore(Protocol):
    """Flows and their immutable versions. Every save appends a version; nothing is overwritten."""

    async def create(
        self, document: FlowDocument, *, message: str = "", owner_id: str | None = None, workspace_id: str | None = None
    ) -> FlowRecord:
        """Store a new flow as version 1, owned by ``owner_id``; a fresh id is assigned when ``document.id`` is empty.

        Raises:
            ConflictError: ``document.id`` is already taken.
        """
        ...

    async def get(self, flow_id: str) -> FlowRecord:
        """The latest version. Raises ``NotFoundError``."""
        ...

    async def list(
        self, *, search: str | None = None, limit: int = 50, offset: int = 0, scope: FlowScope | None = None
    ) -> list[FlowSummary]:
        """Flows ordered by last update (newest first), optionally filtered by a case-insensitive name match.

        With ``scope``, only the flows it covers (owned by the user or in one of the workspaces).
        """
        ...

    async def set_workspace(self, flow_id: str, workspace_id: str | None) -> FlowSummary:
        """Share a flow with a workspace (``None``: unshare). Raises ``NotFoundError``."""
        ...

    async def save(
        self, flow_id: str, document: FlowDocument, *, base_version: int | None = None, message: str = ""
    ) -> FlowRecord:
        """Append a new version.

        Args:
            flow_id: The flow to update.
            document: The new content (its ``id``/``version`` are overwritten by the store).
            base_version: When given, the save fails with ``ConflictError`` unless it is the latest version
                (optimistic concurrency for editors).
            message: A commit-style note for the version list.
        """
        ...

    async def write_many(
        self,
        creates: Sequence[FlowDocument],
        updates: Sequence[tuple[str, FlowDocument]] = (),
        *,
        message: str = "",
        owner_id: str | None = None,
    ) -> list[FlowRecord]:
        """Create flows (owned by ``owner_id``) and append versions to others, all or nothing (one transaction).

        Returns the records of ``creates`` then ``updates``, in order.

        Raises:
            ConflictError: A create's id is taken (nothing is written).
            NotFoundError: An update's flow does not exist (nothing is written).
        """
        ...

    async def delete(self, flow_id: str) -> None:
        """Delete a flow and all its versions. Raises ``NotFoundError``."""
        ...

    async def list_versions(self, flow_id: str) -> list[FlowVersionInfo]:
        """Versions newest first. Raises ``NotFoundError``."""
        ...

    async def get_version(self, flow_id: str, version: int) -> FlowVersionRecord:
        """One version. Raises ``NotFoundError``."""
        ...


class RunStore(Protocol):
    """Run history: runs, per-node states and the append-only event log (``run_events``)."""

    async def create_run(self, run: RunRecord) -> None:
        """Insert a new run. Raises ``ConflictError`` when the id exists."""
        ...

    async def get_run(self, run_id: str) -> RunRecord:
        """One run. Raises ``NotFoundError``."""
        ...

    async def list_runs(self, query: RunQuery) -> list[RunRecord]:
        """Runs matching ``query``, newest first."""
        ...

    async def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus,
        outputs: dict[str, Any] | None = None,
        error: ErrorInfo | None = None,
        started_at: datetime | None = None,
        finished_at: datetime | None = None,
    ) -> None:
        """Set the status and, where given, the other fields (``None`` leaves a field unchanged)."""
        ...

    async def save_node_runs(self, run_id: str, nodes: Sequence[NodeRunRecord]) -> None:
        """Insert or replace node states of a run."""
        ...

    async def list_node_runs(self, run_id: str) -> list[NodeRunRecord]:
        """Node states of a run, ordered by node id."""
        ...

    async def append_events(self, events: Sequence[Event]) -> None:
        """Persist events (any runs, any order); an event already stored (same run and seq) is ignored."""
        ...

    async def record_runs(self, runs: Sequence[FinishedRun]) -> None:
        """Insert finished runs (never stored before) with their node states and events, in one transaction."""
        ...

    async def list_events(self, run_id: str, *, after_seq: int = 0, limit: int | None = None) -> list[Event]:
        """Stored events of a run with ``seq > after_seq`` in seq order."""
        ...

    async def last_event(self, run_id: str) -> Event | None:
        """The stored event with the highest seq, or ``None``."""
        ...

    async def heartbeat(self, owner: str, run_ids: Sequence[str]) -> None:
        """Record that ``owner`` is still executing these runs."""
        ...

    async def interrupt_orphans(self, *, owner: str, stale_after_s: float, reason: str) -> list[str]:
        """Mark runs orphaned by a dead process as ``interrupted``; returns their ids.

        A ``queued``/``running`` run is orphaned when its owner is not ``owner`` and it had no heartbeat for
        ``stale_after_s``. Every stored event is kept and a final ``run_finished`` is appended.
        """
        ...
