"""``/api/ws``: one WebSocket per client multiplexing run starts, subscriptions and cancellations.

Each subscription is a task reading ``RunService.subscribe(run_id, after_seq)`` and queueing encoded events for
the single writer task, so a slow client only slows its own subscriptions. A bad message is answered with an
``error`` frame and the connection stays open.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from rivulet.domain.runs.protocol import (
    CancelAccepted,
    CancelMessage,
    ClientMessage,
    ErrorMessage,
    PingMessage,
    PongMessage,
    RunAccepted,
    RunStartMessage,
    ServerMessage,
    Subscribed,
    SubscribeMessage,
    Unsubscribed,
    UnsubscribeMessage,
    decode_client_message,
)
from rivulet.lib.exceptions import AppError
from rivulet.lib.log import get_logger
from rivulet.runtime.events import encoder
from rivulet.runtime.service import RunRequest

if TYPE_CHECKING:
    from rivulet.runtime.service import RunService
    from rivulet.server.services import Services

__all__ = ("run_socket",)

_log = get_logger(__name__)
_OUTBOX_SIZE = 1024


def _error(message: ClientMessage, code: str, text: str, details: dict[str, Any] | None = None) -> ErrorMessage:
    path = "$.flow_id" if code == "not_found" and isinstance(message, RunStartMessage) else None
    path = "$.run_id" if code == "not_found" and hasattr(message, "run_id") else path
    return ErrorMessage(
        code=code,
        message=text,
        path=path,
        request_id=message.request_id,
        run_id=getattr(message, "run_id", None),
        details=details or {},
    )


class _Session:
    def __init__(self, socket: WebSocket[Any, Any, Any], runs: RunService) -> None:
        self.socket = socket
        self.runs = runs
        self.outbox: asyncio.Queue[bytes] = asyncio.Queue(_OUTBOX_SIZE)
        self.subscriptions: dict[str, asyncio.Task[None]] = {}

    async def send(self, message: ServerMessage) -> None:
        await self.outbox.put(encoder.encode(message))

    async def write_forever(self) -> None:
        while True:
            data = await self.outbox.get()
            await self.socket.send_data(data.decode(), mode="text")

    async def read_forever(self) -> None:
        while True:
            raw = await self.socket.receive_data(mode="text")
            message = decode_client_message(raw)
            if isinstance(message, ErrorMessage):
                await self.send(message)
                continue
            try:
                await self.handle(message)
            except AppError as exc:
                await self.send(_error(message, exc.code, exc.detail, exc.extra))
            except Exception:  # noqa: BLE001 - answer and keep the connection; the trace goes to the log
                _log.exception("websocket request failed", extra={"type": type(message).__name__})
                await self.send(_error(message, "internal_error", "an internal error occurred; see the server log"))

    async def handle(self, message: ClientMessage) -> None:
        match message:
            case RunStartMessage():
                await self.start(message)
            case SubscribeMessage(run_id=run_id, after_seq=after_seq):
                await self.subscribe(run_id, after_seq, message.request_id)
            case UnsubscribeMessage(run_id=run_id):
                self.unsubscribe(run_id)
                await self.send(Unsubscribed(run_id=run_id, request_id=message.request_id))
            case CancelMessage(run_id=run_id):
                await self.runs.cancel(run_id)
                await self.send(CancelAccepted(run_id=run_id, request_id=message.request_id))
            case PingMessage():
                await self.send(PongMessage(request_id=message.request_id))

    async def start(self, message: RunStartMessage) -> None:
        request = RunRequest(
            inputs=message.inputs,
            version=message.version,
            trigger=message.trigger,
            variables=message.variables,
            from_node=message.from_node,
            only_nodes=message.only_nodes,
        )
        record = await self.runs.start_flow_run(message.flow_id, request)
        accepted = RunAccepted(
            run_id=record.id, flow_id=record.flow_id, flow_version=record.flow_version, request_id=message.request_id
        )
        await self.send(accepted)
        if message.subscribe:
            await self.subscribe(record.id, 0, message.request_id)

    async def subscribe(self, run_id: str, after_seq: int, request_id: str | None) -> None:
        events = await self.runs.subscribe(run_id, after_seq)  # raises NotFoundError before anything is sent
        self.unsubscribe(run_id)
        await self.send(Subscribed(run_id=run_id, after_seq=after_seq, request_id=request_id))

        async def pump() -> None:
            try:
                async for event in events:
                    await self.outbox.put(encoder.encode(event))
            finally:
                await events.aclose()
                if self.subscriptions.get(run_id) is task:
                    del self.subscriptions[run_id]

        task = asyncio.create_task(pump(), name=f"rivulet-ws-{run_id}")
        self.subscriptions[run_id] = task

    def unsubscribe(self, run_id: str) -> None:
        task = self.subscriptions.pop(run_id, None)
        if task is not None:
            task.cancel()

    async def close(self) -> None:
        tasks = list(self.subscriptions.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


@websocket(
    "/api/ws",
    name="run_socket",
    summary="Run events",
    description="Start, follow (with replay via `after_seq`) and cancel runs; see docs/events.md.",
)
async def run_socket(socket: WebSocket[Any, Any, Any]) -> None:
    """Serve one client until it disconnects."""
    services: Services = socket.app.state["services"]
    await socket.accept()
    if services.runs is None:
        error = ErrorMessage(code="config_error", message="the runtime is not configured in this process")
        await socket.send_data(encoder.encode(error).decode(), mode="text")
        await socket.close(code=1011)
        return
    session = _Session(socket, services.runs)
    writer = asyncio.create_task(session.write_forever(), name="rivulet-ws-writer")
    try:
        await session.read_forever()
    except WebSocketDisconnect:
        pass
    finally:
        await session.close()
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
            await writer
