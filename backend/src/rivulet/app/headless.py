"""Headless runs: one flow run to the end without a server, on in-memory stores (``rivulet run`` uses it).

The composition is the server's, minus the database: a ``RunService`` over memory stores and a memory event bus,
an executor whose operators see the built-in models only. How the events are shown is the caller's business.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rivulet.app.run_service import compiler_for
from rivulet.records.events import RunFinished
from rivulet.runtime.cache import NodeCache
from rivulet.runtime.executor import Executor
from rivulet.runtime.memory import MemoryEventBus
from rivulet.runtime.service import RunRequest, RunService, RunServiceConfig
from rivulet.storage.memory import MemoryFlowStore, MemoryRunStore

if TYPE_CHECKING:
    from collections.abc import Callable

    from rivulet.compiler.flow import FlowDocument
    from rivulet.compiler.graph import CompiledGraph
    from rivulet.records.events import Event

__all__ = ("run_headless",)


def _headless_services() -> dict[type, object]:
    """Operator services of a headless run: the built-in models and knowledge spaces in memory (no database).

    Ingesting creates the space named; what a run stores lives as long as the run (a server's spaces are not
    reachable from here).
    """
    from rivulet.knowledge.service import KnowledgeService
    from rivulet.providers import MemoryModelStore, ModelService
    from rivulet.sdk.knowledge import KnowledgeBase
    from rivulet.sdk.models import ModelRegistry
    from rivulet.storage.memory_knowledge import MemoryKnowledgeStore

    models = ModelService(MemoryModelStore())
    knowledge = KnowledgeService(MemoryKnowledgeStore(), models, create_missing_spaces=True)
    return {ModelRegistry: models, KnowledgeBase: knowledge}


async def run_headless(
    document: FlowDocument,
    inputs: dict[str, Any],
    *,
    on_event: Callable[[Event], None],
    deadline_s: float | None = None,
    compile_graph: Callable[[FlowDocument], CompiledGraph] | None = None,
) -> RunFinished:
    """Run ``document`` to the end, handing every event to ``on_event`` in order; returns the final event.

    Args:
        document: The flow.
        inputs: The run's inputs.
        on_event: Called with each ``rivulet.events/v1`` event as it is published.
        deadline_s: Fail the run after this many seconds.
        compile_graph: The compiler (default: ``rivulet.compiler`` with the default registry).

    Raises:
        CompileError: The flow does not compile.
    """
    if compile_graph is None:
        from rivulet.registry.loader import default_registry

        compile_graph = compiler_for(default_registry())
    runs = MemoryRunStore()
    bus = MemoryEventBus(runs)
    service = RunService(
        flows=MemoryFlowStore(),
        runs=runs,
        bus=bus,
        executor=Executor(bus, cache=NodeCache(), services=_headless_services()),
        compile_graph=compile_graph,
        config=RunServiceConfig(stale_after_s=0),
    )
    await service.start()
    try:
        graph = service.compile_graph(document)
        record = await service.start_graph(graph, RunRequest(inputs=inputs, trigger="cli", deadline_s=deadline_s))
        final: RunFinished | None = None
        async for event in await service.subscribe(record.id):
            on_event(event)
            final = event if isinstance(event, RunFinished) else final
        await service.wait(record.id)
    finally:
        await service.close()
    assert final is not None
    return final
