"""``NodeState``: the mutable bookkeeping of one node in a run (turned into ``NodeRunRecord`` at the end)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rivulet.records.events import ErrorInfo
    from rivulet.runtime.cache import Deps
    from rivulet.runtime.context import ContextReads

__all__ = ("NodeState",)


class NodeState:
    """One node of a run: its status, attempts, inputs and outputs, and what its deferred events need.

    Its outcome is set once, by ``RunState`` (``succeed``, ``fail``, ``cancel_node``, or when it is skipped).
    """

    __slots__ = (
        "attempts",
        "cached",
        "duration_ms",
        "error",
        "finished",
        "inputs",
        "key",
        "outputs",
        "reads",
        "seq_done",
        "seq_started",
        "started",
        "status",
        "verify",
    )

    def __init__(self, status: str, inputs: dict[str, Any] | None = None, started: float | None = None) -> None:
        self.status = status
        self.inputs = inputs
        self.outputs: dict[str, Any] | None = None
        self.attempts = 0
        self.cached = False
        self.error: ErrorInfo | None = None
        self.started = started if started is not None or status != "running" else time.time()
        self.finished: float | None = None
        self.key: str | None = None
        """The base key (``cache.node_key``) of a cacheable node looked up in the cache."""
        self.reads: ContextReads | None = None
        """What the node read from its context when it ran (recorded for nodes with a ``key``)."""
        self.verify: Deps | None = None
        """Reads recorded for ``key`` that name secrets not resolved yet in this run: ``run_node`` resolves them
        and looks the node up again before running it."""
        self.seq_started: int | None = None
        """The seq reserved for a deferred ``node_started`` (``RunState.quiet``)."""
        self.seq_done: int | None = None
        """The first seq reserved for the deferred ``node_output`` events and ``node_succeeded``."""
        self.duration_ms = 0.0
