"""HTTP request bodies of the runs API (responses are the storage/runtime Structs themselves)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

__all__ = ("RunCreate",)

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
