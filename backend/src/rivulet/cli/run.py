"""``rivulet run FLOW.json``: run a flow file headless (in-memory stores) with a live progress table on stderr.

The run's outputs are the result (JSON on stdout); ``--json`` prints every event as one JSON line
(``rivulet.events/v1``) instead, the last one being ``run_finished``. Exit code 0 when the run succeeded, else 1.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rivulet.app.headless import run_headless
from rivulet.cli.common import failed, out, parse_assignments, print_json
from rivulet.compiler.flow import decode_flow
from rivulet.lib.exceptions import ValidationError
from rivulet.records.events import (
    NodeChunk,
    NodeFailed,
    NodeSkipped,
    NodeStarted,
    NodeSucceeded,
    RunStarted,
    encoder,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from rivulet.compiler.flow import FlowDocument
    from rivulet.compiler.graph import CompiledGraph
    from rivulet.records.events import Event, RunFinished

__all__ = ("parse_inputs", "run_flow_file")

_ICONS = {"pending": "·", "running": "▶", "succeeded": "✔", "failed": "✖", "skipped": "↷", "cached": "≡"}


def parse_inputs(pairs: Sequence[str]) -> dict[str, Any]:
    """``["k=v", ...]`` → run inputs; a value that parses as JSON is used as such (``n=3`` is an int).

    Raises:
        ValidationError: A pair without ``=``.
    """
    return parse_assignments(pairs, "--input")


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


def _print_event(event: Event) -> None:
    out(encoder.encode(event).decode())


async def _run_with_progress(
    document: FlowDocument,
    inputs: dict[str, Any],
    deadline_s: float | None,
    compile_graph: Callable[[FlowDocument], CompiledGraph] | None,
) -> RunFinished:
    from rich.console import Console
    from rich.live import Live

    display = _Display()
    with Live(display.render(), console=Console(stderr=True), refresh_per_second=12) as live:

        def show(event: Event) -> None:
            display.apply(event)
            live.update(display.render())

        return await run_headless(document, inputs, on_event=show, deadline_s=deadline_s, compile_graph=compile_graph)


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
        as_json: Print events as JSON lines instead of the progress display and the outputs.
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
    values = parse_inputs(inputs)
    if as_json:
        final = asyncio.run(
            run_headless(document, values, on_event=_print_event, deadline_s=deadline_s, compile_graph=compile_graph)
        )
        return 0 if final.status == "succeeded" else 1
    final = asyncio.run(_run_with_progress(document, values, deadline_s, compile_graph))
    print_json(final.outputs)
    if final.status != "succeeded":
        return failed("run", f"{final.status}: {final.error.message}" if final.error else final.status)
    return 0
