"""HTTP bodies of the runs API (responses are mostly the storage/runtime Structs themselves)."""

from __future__ import annotations

from datetime import datetime  # noqa: TC003 - msgspec reads the annotations at runtime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from rivulet.records.runs import RunRecord

__all__ = ("RunCreate", "RunListItem")

NodeId = Annotated[str, Meta(min_length=1, max_length=128)]


def _empty() -> dict[str, Any]:
    return {}


class RunCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Start a run of a stored flow."""

    inputs: dict[str, Any] = msgspec.field(default_factory=_empty)
    """Run inputs by name (what ``core.input`` nodes read)."""
    version: Annotated[int, Meta(ge=1)] | None = None
    """The flow version; the latest when omitted."""
    variables: dict[str, Any] | None = None
    """Values for the flow's (non-secret) variables."""
    trigger: Literal["editor", "api"] = "api"
    """``editor`` runs use the node cache (unchanged nodes are not run again)."""
    from_node: NodeId | None = None
    """Partial re-run: this node and everything downstream run; the rest reuses the flow's latest run."""
    only_nodes: Annotated[list[NodeId], Meta(min_length=1)] | None = None
    """Partial re-run: exactly these nodes run; the rest reuses the flow's latest run."""
    deadline_s: Annotated[float, Meta(gt=0, le=86_400)] | None = None
    """Fail the run when it takes longer."""


class RunListItem(RunRecord, frozen=True, kw_only=True, gc=False):
    """A run of the history, with its flow's current name (``None``: the flow is gone) to show instead of its id."""

    flow_name: str | None = None
    flow_updated_at: datetime | None = None
    """When the flow was last saved (tells same-named flows apart, with the id)."""
    feedback: Literal["up", "down"] | None = None
    """The rating of the chat app answer this run produced (trigger ``app``), if it was rated."""

    @classmethod
    def of(
        cls,
        run: RunRecord,
        name: str | None,
        updated_at: datetime | None,
        feedback: Literal["up", "down"] | None = None,
    ) -> RunListItem:
        """``run`` with its flow's name (and its chat answer's rating)."""
        fields = {f: getattr(run, f) for f in RunRecord.__struct_fields__}
        return cls(**fields, flow_name=name, flow_updated_at=updated_at, feedback=feedback)
