"""``rivulet run FLOW.json``: run a flow file without a server (in-memory stores), with live progress.

``--json`` prints every event as one JSON line (``rivulet.events/v1``) instead of the progress display.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from rivulet.compiler.flow import decode_flow
from rivulet.lib.exceptions import ValidationError
from rivulet.records.events import (
    NodeChunk,
    NodeFailed,
    NodeSkipped,
    NodeStarted,
    NodeSucceeded,
    RunFinished,
    RunStarted,
    encoder,
)
from rivulet.runtime.cache import NodeCache
from rivulet.runtime.executor import Executor
from rivulet.runtime.memory import MemoryEventBus
from rivulet.runtime.service import RunRequest, RunService, RunServiceConfig
from rivulet.app.run_service import compiler_for
from rivulet.storage.memory import MemoryFlowStore, MemoryRunStore

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from rich.console import Console

    from rivulet.compiler.flow import FlowDocument
    from rivulet.compiler.graph import CompiledGraph
    from rivulet.records.events import Event

__all__ = ("parse_inputs", "run_flow_file")

_ICONS = {"pending": "·", "running": "▶", "succeeded": "✔", "failed": "✖", "skipped": "↷", "cached": "≡"}


def parse_inputs(pairs: Sequence[str]) -> dict[str, Any]:
    """``["k=v", ...]`` → mapping; a value that parses as JSON is used as such (``n=3`` is an int).

    Raises:
        ValidationError: A pair without ``=``.
    """
    inputs: dict[str, Any] = {}
    for index, pair in enumerate(pairs):
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise ValidationError(
                f"--input {pair!r} must look like name=value",
                extra={"errors": [{"path": f"$.inputs[{index}]", "message": "expected name=value", "got": pair}]},
            )
        try:
            inputs[name] = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            inputs[name] = raw
    return inputs


class _Display:
    """Node states rendered as a rich table; stream chunks shown as they arrive."""

    def __init__(self) -> None:
        self.states: dict[str, str] = {}
        self.notes: dict[str, str] = {}
        self.chunks: dict[str, str] = {}

    def apply(self, event: Event) -> None:
        match event:
            case RunStarted(node_ids=node_ids):
                self.states = dict.fromkeys(node_ids, "pending")
            case NodeStarted(node_id=node_id, attempt=attempt):
                self.states[node_id] = "running"
                self.notes[node_id] = f"attempt {attempt}" if attempt > 1 else ""
            case NodeSucceeded(node_id=node_id, duration_ms=ms, cached=cached):
                self.states[node_id] = "cached" if cached else "succeeded"
                self.notes[node_id] = f"{ms:.1f} ms"
            case NodeFailed(node_id=node_id, error=error, retrying=retrying):
                self.states[node_id] = "running" if retrying else "failed"
                self.notes[node_id] = error.message
            case NodeSkipped(node_id=node_id, reason=reason):
                self.states[node_id] = "skipped"
                self.notes[node_id] = reason
            case NodeChunk(node_id=node_id, data=data):
                self.chunks[node_id] = (self.chunks.get(node_id, "") + str(data))[-80:]
                self.notes[node_id] = self.chunks[node_id]
            case _:
                pass

    def render(self) -> Any:
        from rich.table import Table

        table = Table(show_header=True, header_style="bold", box=None)
        table.add_column("")
        table.add_column("node")
        table.add_column("status")
        table.add_column("")
        for node_id, state in self.states.items():
            table.add_row(_ICONS[state], node_id, state, self.notes.get(node_id, ""))
        return table


def _headless_services() -> dict[type, object]:
    """Operator services of a headless run: the built-in models (no database, so nothing configured)."""
    from rivulet.providers import MemoryModelStore, ModelService
    from rivulet.sdk.models import ModelRegistry

    return {ModelRegistry: ModelService(MemoryModelStore())}


async def _follow(service: RunService, run_id: str, *, as_json: bool, console: Console) -> RunFinished:
    events = await service.subscribe(run_id)
    final: RunFinished | None = None
    if as_json:
        async for event in events:
            sys.stdout.write(encoder.encode(event).decode() + "\n")
            final = event if isinstance(event, RunFinished) else final
    else:
        from rich.live import Live

        display = _Display()
        with Live(display.render(), console=console, refresh_per_second=12) as live:
            async for event in events:
                display.apply(event)
                live.update(display.render())
                final = event if isinstance(event, RunFinished) else final
    assert final is not None
    return final


async def _run(
    document: FlowDocument,
    inputs: dict[str, Any],
    *,
    as_json: bool,
    deadline_s: float | None,
    compile_graph: Callable[[FlowDocument], CompiledGraph],
) -> int:
    from rich.console import Console

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
        console = Console(stderr=True)
        final = await _follow(service, record.id, as_json=as_json, console=console)
        await service.wait(record.id)
    finally:
        await service.close()
    if not as_json:
        if final.error is not None:
            console.print(f"[red]run {final.status}[/red]: {final.error.message}")
        sys.stdout.write(msgspec.json.format(encoder.encode(final.outputs), indent=2).decode() + "\n")
    return 0 if final.status == "succeeded" else 1


def run_flow_file(
    path: str,
    inputs: Sequence[str],
    *,
    as_json: bool = False,
    deadline_s: float | None = None,
    compile_graph: Callable[[FlowDocument], CompiledGraph] | None = None,
) -> int:
    """Run a flow file to the end; returns the process exit code (0 when the run succeeded).

    Args:
        path: A ``rivulet.flow/v1`` JSON file.
        inputs: ``name=value`` pairs.
        as_json: Print events as JSON lines instead of the progress display.
        deadline_s: Fail the run after this many seconds.
        compile_graph: The compiler (default: ``rivulet.compiler`` with the default registry).

    Raises:
        ValidationError: The file is not a valid flow document or an input is malformed.
        CompileError: The flow does not compile.
    """
    file = Path(path)
    if not file.is_file():
        raise ValidationError(f"{path}: no such flow file", extra={"errors": [{"path": "$", "message": "not found"}]})
    document = decode_flow(file.read_bytes())
    if compile_graph is None:
        from rivulet.registry.loader import default_registry

        compile_graph = compiler_for(default_registry())
    return asyncio.run(
        _run(document, parse_inputs(inputs), as_json=as_json, deadline_s=deadline_s, compile_graph=compile_graph)
    )
