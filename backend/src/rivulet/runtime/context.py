"""``NodeContext``: the runtime's implementation of ``rivulet.sdk.RunContext`` for one node execution."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast, overload

from rivulet.lib.exceptions import MissingDependencyError, NotFoundError
from rivulet.runtime.cache import Deps, secret_digest

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

__all__ = (
    "ContextReads",
    "NodeContext",
    "RecordingMapping",
    "RunEnvironment",
    "ServiceUnavailableError",
    "TrackingContext",
)

S = TypeVar("S")
_log = logging.getLogger("rivulet.run")


class ServiceUnavailableError(MissingDependencyError):
    """``ctx.service(kind)`` asked for a service this process does not provide."""

    def __init__(self, kind: type[Any]) -> None:
        super(MissingDependencyError, self).__init__(
            f"service {kind.__name__} is not configured in this process", extra={"service": kind.__name__}
        )


class RunEnvironment:
    """What every node of one run shares: ids, inputs, variables, services, the cancel signal, the emitter.

    Args:
        run_id: The run.
        run_inputs: The inputs the run was started with.
        variables: Resolved flow variables (no secrets).
        cancelled: Set when the run is cancelled.
        progress: ``(node_id, value, maximum)`` → emits ``node_progress`` (event-loop thread only).
        services: Shared services by their Protocol type.
        secrets: Resolves a secret by name (raises ``NotFoundError``).
    """

    __slots__ = ("cancelled", "loop", "progress", "run_id", "run_inputs", "secrets", "services", "variables")

    def __init__(
        self,
        *,
        run_id: str,
        run_inputs: Mapping[str, Any],
        variables: Mapping[str, Any],
        cancelled: asyncio.Event,
        progress: Callable[[str, float, float | None], None],
        services: Mapping[type[Any], Any],
        secrets: Callable[[str], Awaitable[str]] | None,
    ) -> None:
        self.run_id = run_id
        self.run_inputs = run_inputs
        self.variables = variables
        self.cancelled = cancelled
        self.progress = progress
        self.services = services
        self.secrets = secrets
        self.loop = asyncio.get_running_loop()


class NodeContext:
    """A ``RunContext`` bound to one node. Cheap to create (one per node execution)."""

    __slots__ = ("_env", "_log", "_node_id")

    def __init__(self, env: RunEnvironment, node_id: str) -> None:
        self._env = env
        self._node_id = node_id
        self._log: logging.LoggerAdapter[logging.Logger] | None = None

    @property
    def run_id(self) -> str:
        return self._env.run_id

    @property
    def node_id(self) -> str:
        return self._node_id

    @property
    def log(self) -> logging.LoggerAdapter[logging.Logger]:
        if self._log is None:
            self._log = logging.LoggerAdapter(_log, {"run_id": self._env.run_id, "node_id": self._node_id})
        return self._log

    @property
    def variables(self) -> Mapping[str, Any]:
        return self._env.variables

    @property
    def run_inputs(self) -> Mapping[str, Any]:
        return self._env.run_inputs

    @property
    def cancelled(self) -> asyncio.Event:
        return self._env.cancelled

    async def progress(self, value: float, maximum: float | None = None) -> None:
        env = self._env
        try:
            on_loop = asyncio.get_running_loop() is env.loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            env.progress(self._node_id, value, maximum)
        else:  # a cpu_bound operator running in a worker thread
            env.loop.call_soon_threadsafe(env.progress, self._node_id, value, maximum)

    async def secret(self, name: str) -> str:
        if self._env.secrets is None:
            raise NotFoundError(f"secret {name!r} not found: no secret store is configured", extra={"secret": name})
        return await self._env.secrets(name)

    def nondeterministic(self) -> None:
        """Nothing to record outside the cache (``TrackingContext`` records it)."""

    def service(self, kind: type[S]) -> S:
        try:
            found: S = self._env.services[kind]
        except KeyError:
            raise ServiceUnavailableError(kind) from None
        scoped = getattr(found, "for_run", None)
        if callable(scoped):  # a service that narrows itself to what this run may use (data sources: the owner's)
            return cast("S", scoped(self._env.run_id))
        return found


class RecordingMapping(Mapping[str, Any]):
    """A read-only view of a mapping that records which names were looked up (or that all of it was read)."""

    __slots__ = ("data", "names", "whole")

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.names: set[Any] = set()
        self.whole = False
        """Iterated or measured: everything in it was read."""

    def __getitem__(self, key: str) -> Any:
        self.names.add(key)  # ``in`` and ``get`` come through here too (``Mapping`` mixins)
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        self.whole = True
        return iter(self.data)

    def __len__(self) -> int:
        self.whole = True
        return len(self.data)

    def spec(self) -> Any:
        """``"*"`` when all of it was read, else the names looked up (sorted)."""
        return "*" if self.whole else tuple(sorted(self.names, key=repr))


class ContextReads:
    """What one node execution read from its ``RunContext``: the context its cache key must cover."""

    __slots__ = ("inputs", "node_id", "secrets", "variables", "volatile")

    def __init__(self) -> None:
        self.inputs: RecordingMapping | None = None
        self.variables: RecordingMapping | None = None
        self.secrets: dict[str, bytes | None] = {}
        """``secret_digest`` of each secret resolved (``None``: it was not found)."""
        self.node_id = False
        self.volatile = False
        """It read the run id or a service, or declared itself ``nondeterministic``: its result may depend on more
        than the run (never cached)."""

    @overload
    def deps(self, *, pinned: Literal[True]) -> Deps: ...

    @overload
    def deps(self, *, pinned: bool = False) -> Deps | None: ...

    def deps(self, *, pinned: bool = False) -> Deps | None:
        """The reads as a cache entry (``None`` when volatile, unless ``pinned``: what a re-run may reuse)."""
        if self.volatile and not pinned:
            return None
        inputs = None if self.inputs is None else self.inputs.spec()
        variables = None if self.variables is None else self.variables.spec()
        return (inputs, variables, tuple(sorted(self.secrets)), self.node_id)


class TrackingContext(NodeContext):
    """A ``NodeContext`` that records what the node reads (``reads``), for nodes whose result is cached."""

    __slots__ = ("reads",)

    def __init__(self, env: RunEnvironment, node_id: str) -> None:
        super().__init__(env, node_id)
        self.reads = ContextReads()

    @property
    def run_id(self) -> str:
        self.reads.volatile = True
        return self._env.run_id

    @property
    def node_id(self) -> str:
        self.reads.node_id = True
        return self._node_id

    @property
    def variables(self) -> Mapping[str, Any]:
        reads = self.reads
        if reads.variables is None:
            reads.variables = RecordingMapping(self._env.variables)
        return reads.variables

    @property
    def run_inputs(self) -> Mapping[str, Any]:
        reads = self.reads
        if reads.inputs is None:
            reads.inputs = RecordingMapping(self._env.run_inputs)
        return reads.inputs

    async def secret(self, name: str) -> str:
        try:
            value = await super().secret(name)
        except NotFoundError:
            self.reads.secrets[name] = None
            raise
        except Exception:
            self.reads.volatile = True  # the store failed: what the node does next depends on more than the run
            raise
        self.reads.secrets[name] = secret_digest(value)
        return value

    def service(self, kind: type[S]) -> S:
        self.reads.volatile = True
        return super().service(kind)

    def nondeterministic(self) -> None:
        self.reads.volatile = True
