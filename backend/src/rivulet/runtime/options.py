"""How one run executes (``RunOptions``) and what every run of an executor shares (``ExecutorShared``).

A leaf of the runtime: the run state, the node runner and the executor all read these, and it imports none of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from rivulet.runtime.bus import EventBus
from rivulet.runtime.cache import NodeCache

__all__ = ("ExecutorShared", "RunOptions")


def _empty() -> dict[str, Any]:
    return {}


class RunOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How one run executes (a Struct: one is built per run, at a tenth of a frozen dataclass's cost)."""

    inputs: Mapping[str, Any] = msgspec.field(default_factory=_empty)
    """Run inputs by name (``RunContext.run_inputs``)."""
    variables: Mapping[str, Any] = msgspec.field(default_factory=_empty)
    """Resolved flow variables."""
    trigger: str = "api"
    deadline_s: float | None = None
    """Cancel the whole run (status ``failed``, ``deadline_exceeded``) after this many seconds."""
    use_cache: bool = False
    """Serve unchanged cacheable nodes from the content-addressed cache and store new results."""
    record_outputs: bool = False
    """Keep every node's outputs in the cache under this run's id (what partial re-runs reuse)."""
    reuse: Mapping[str, dict[str, Any]] | None = None
    """What an earlier run recorded by node id (``cache.run_key`` entries: outputs and what they were computed
    from): a node is served these outputs instead of running when its params, inputs and context are the same."""
    rerun: frozenset[str] | None = None
    """Nodes that must execute even when reusable or cached (a partial re-run's selection)."""
    defer_node_events: bool = False
    """Build the ``node_started``/``node_output``/``node_succeeded`` events of nodes that succeed only when asked
    for (``RunHandle.materialize``), or never when the run succeeds without any other event: for runs whose
    history keeps only their start and end. Any other event builds them first, so the events seen are the same."""


@dataclass(slots=True)
class ExecutorShared:
    """What every run of an executor shares."""

    bus: EventBus
    cache: NodeCache | None
    services: Mapping[type[Any], Any]
    secrets: Callable[[str], Awaitable[str]] | None
    semaphores: dict[str, asyncio.Semaphore] = field(default_factory=dict[str, asyncio.Semaphore])
