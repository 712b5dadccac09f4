"""``RunContext``: what a running node may touch. The runtime provides the implementation."""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    import asyncio
    import logging
    from collections.abc import Mapping

__all__ = ("RunContext", "node_deadline")

S = TypeVar("S")

node_deadline: ContextVar[float | None] = ContextVar("rivulet_node_deadline", default=None)
"""When the running node's timeout ends (``time.monotonic()``), or ``None`` without a timeout. Set by the runtime
around each attempt; CPU-bound work in a worker thread (template rendering) stops by it instead of running on
after the node has already failed."""


class RunContext(Protocol):
    """Services and signals for one node execution."""

    @property
    def run_id(self) -> str:
        """The run being executed."""
        ...

    @property
    def node_id(self) -> str:
        """The flow node being executed."""
        ...

    @property
    def log(self) -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
        """A logger bound to run and node ids."""
        ...

    @property
    def variables(self) -> Mapping[str, Any]:
        """Resolved flow variables (secrets excluded; use ``secret``)."""
        ...

    @property
    def run_inputs(self) -> Mapping[str, Any]:
        """The inputs the run was started with, by name (read by ``core.input`` and trigger operators)."""
        ...

    @property
    def cancelled(self) -> asyncio.Event:
        """Set when the run is cancelled; long loops should check it."""
        ...

    async def progress(self, value: float, maximum: float | None = None) -> None:
        """Report progress (emits ``node.progress``)."""
        ...

    async def secret(self, name: str) -> str:
        """Decrypt a secret by name. Raises ``NotFoundError``; never log the value."""
        ...

    def service(self, kind: type[S]) -> S:
        """A shared service by its Protocol type (models, vector store, datasources).

        Raises:
            MissingDependencyError: The service is not configured in this process.
        """
        ...

    def nondeterministic(self) -> None:
        """Declare that this execution's result depends on chance or the clock: it is not cached.

        For operators that only sometimes are (a template that uses ``random``); one that always is declares
        ``OperatorSpec(cacheable=False)``. Reading ``run_id`` or a ``service`` has the same effect.
        """
        ...
