"""Headless runs: one flow run to the end without a server, on in-memory stores (``rivulet run`` uses it).

The composition is the server's, minus the database: a ``RunService`` over memory stores and a memory event bus,
an executor whose operators see the built-in models, in-memory knowledge spaces and the sample data source.
How the events are shown is the caller's business.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rivulet.app.run_service import compiler_for
from rivulet.records.events import RunFinished
from rivulet.runtime.cache import NodeCache
from rivulet.runtime.executor import Executor
from rivulet.runtime.memory import MemoryEventBus
from rivulet.runtime.service import RunRequest, RunService, RunServiceConfig
from rivulet.storage.memory import MemoryFlowStore, MemoryRunStore

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from rivulet.compiler.flow import FlowDocument
    from rivulet.compiler.graph import CompiledGraph
    from rivulet.records.events import Event

__all__ = ("run_headless",)


async def _headless_services(files_dir: Path) -> tuple[dict[type, object], Callable[[], Awaitable[None]]]:
    """Operator services of a headless run: the built-in models, knowledge spaces and data sources in memory.

    Ingesting creates the space named; what a run stores lives as long as the run (a server's spaces and data
    sources are not reachable from here). The one data source is the sample ``shop`` (SQLite, built in
    ``files_dir``), so the data templates run headless too.
    """
    from rivulet.data.samples import build_sample
    from rivulet.data.service import DataOptions, DataService
    from rivulet.data.specs import DatasourceSpec
    from rivulet.knowledge.service import KnowledgeService
    from rivulet.providers import MemoryModelStore, ModelService
    from rivulet.sdk.data import Datasources
    from rivulet.sdk.knowledge import KnowledgeBase
    from rivulet.sdk.models import ModelRegistry
    from rivulet.storage.memory import MemorySecretStore
    from rivulet.storage.memory_data import MemoryDatasourceStore
    from rivulet.storage.memory_knowledge import MemoryKnowledgeStore

    models = ModelService(MemoryModelStore())
    knowledge = KnowledgeService(MemoryKnowledgeStore(), models, create_missing_spaces=True)
    data = DataService(
        MemoryDatasourceStore(), MemorySecretStore(), models, None, options=DataOptions(files_dir=files_dir)
    )
    sample = await asyncio.to_thread(build_sample, files_dir / "shop.sqlite", "sqlite")
    await data.create(
        DatasourceSpec(name="shop", kind="sqlite", path=str(sample), description="Sample shop"), owner_id=None
    )
    return {ModelRegistry: models, KnowledgeBase: knowledge, Datasources: data}, data.close


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
    scratch = tempfile.TemporaryDirectory(prefix="rivulet-run-")
    services, close_data = await _headless_services(Path(scratch.name))
    service = RunService(
        flows=MemoryFlowStore(),
        runs=runs,
        bus=bus,
        executor=Executor(bus, cache=NodeCache(), services=services),
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
        await close_data()
        scratch.cleanup()
    assert final is not None
    return final
