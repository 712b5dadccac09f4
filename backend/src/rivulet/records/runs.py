"""Run records: what storage keeps about a run and its nodes, shared by the runtime (which produces them) and storage.

Plain data with no behaviour; the event union they carry lives next door in ``rivulet.records.events``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import msgspec

from rivulet.records.events import ErrorInfo, Event, RunStatus

__all__ = (
    "FinishedRun",
    "NodeRunRecord",
    "NodeStatus",
    "RunQuery",
    "RunRecord",
    "RunTrigger",
)


RunTrigger = Literal["editor", "api", "schedule", "cli", "app"]
NodeStatus = Literal["pending", "running", "succeeded", "failed", "skipped", "cancelled"]


class RunRecord(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One execution of a flow version (plain data: not tracked by the cycle collector)."""

    id: str
    flow_id: str
    flow_version: int
    status: RunStatus
    trigger: RunTrigger
    inputs: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])
    outputs: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])
    error: ErrorInfo | None = None
    reuse_from: str | None = None
    """The run whose results a partial re-run reused."""
    owner: str = ""
    """The process instance executing the run (used to detect runs orphaned by a crash)."""
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None


class NodeRunRecord(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The state of one node in one run; previews are bounded to a few KB."""

    node_id: str
    status: NodeStatus
    attempts: int = 0
    cached: bool = False
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_ms: float | None = None
    error: ErrorInfo | None = None
    inputs_preview: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])
    outputs_preview: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])


class RunQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Filters of the run list (newest first)."""

    flow_id: str | None = None
    flow_ids: tuple[str, ...] | None = None
    """Only runs of these flows (what a non-administrator may see); ``None``: every flow."""
    status: RunStatus | None = None
    since: datetime | None = None
    """Runs created at or after this instant."""
    until: datetime | None = None
    """Runs created before this instant."""
    limit: int = 50
    offset: int = 0


class FinishedRun(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A whole run recorded at once after it ended: the run row, its node states and every event it published.

    Plain data, not tracked by the cycle collector (a busy endpoint keeps thousands queued for a group write).
    """

    run: RunRecord
    nodes: Sequence[NodeRunRecord]
    events: Sequence[Event]
