"""The run service factory of a server process: Postgres run store, LISTEN/NOTIFY bus, executor, cache, service."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from rivulet.compiler import compile_flow
from rivulet.runtime.cache import NodeCache
from rivulet.runtime.executor import Executor
from rivulet.runtime.postgres import PostgresEventBus
from rivulet.runtime.service import RunService, RunServiceConfig
from rivulet.storage.postgres.runs import PostgresRunStore

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from psycopg_pool import AsyncConnectionPool

    from rivulet.compiler.flow import FlowDocument
    from rivulet.compiler.graph import CompiledGraph
    from rivulet.registry.registry import OperatorRegistry
    from rivulet.storage.base import FlowStore

__all__ = ("compiler_for", "open_run_service")


def compiler_for(registry: OperatorRegistry) -> Callable[[FlowDocument], CompiledGraph]:
    """``document → CompiledGraph`` with ``rivulet.compiler.compile_flow`` and this registry."""
    return functools.partial(compile_flow, registry=registry)


async def open_run_service(
    *,
    pool: AsyncConnectionPool,
    flows: FlowStore,
    registry: OperatorRegistry,
    single_process: bool,
    cache_bytes: int = 256 * 1024 * 1024,
    services: Mapping[type, object] | None = None,
    secrets: Callable[[str], Awaitable[str]] | None = None,
) -> RunService:
    """Build and start the run service of a server process.

    Args:
        pool: The database pool (runs, events, NOTIFY).
        flows: The flow store runs are started from.
        registry: Operators for the compiler.
        single_process: The database serves only this process (embedded): runs left ``running`` are
            interrupted at once instead of after a missed heartbeat.
        cache_bytes: Budget of the node cache.
        services: Shared services operators look up with ``ctx.service(kind)`` (network policy, models, ...).
        secrets: Resolves ``ctx.secret(name)`` (the secret store).
    """
    store = PostgresRunStore(pool)
    bus = PostgresEventBus(store, pool)
    service = RunService(
        flows=flows,
        runs=store,
        bus=bus,
        executor=Executor(bus, cache=NodeCache(cache_bytes), services=dict(services or {}), secrets=secrets),
        compile_graph=compiler_for(registry),
        config=RunServiceConfig(stale_after_s=0.0 if single_process else 30.0),
    )
    await service.start()
    return service
