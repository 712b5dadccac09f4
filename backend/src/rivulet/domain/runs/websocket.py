"""``/api/ws``: one WebSocket per client multiplexing run starts, subscriptions and cancellations.

Each subscription is a task reading ``RunService.subscribe(run_id, after_seq)`` and queueing encoded events for
the single writer task, so a slow client only slows its own subscriptions. A bad message is answered with an
``error`` frame and the connection stays open.

The socket lives only as long as the credential that opened it: on logout, revocation, password change or user
deletion (on any replica: the ``auth`` change notice) and at the latest after ``Authenticator.recheck_s``, a socket
whose credential no longer resolves to the same principal is closed with code ``4401``.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from rivulet.domain.access import require_flow, require_run
from rivulet.domain.runs.deps import RunsDeps
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
from rivulet.lib.redact import redact, redact_value
from rivulet.records.events import encoder
from rivulet.runtime.service import RunRequest, RunService
from rivulet.security import Principal
from rivulet.security.permissions import Access, Permission, requires
from rivulet.server.auth import Authenticator, presented_secret, same_principal
from rivulet.server.deps import Injected
from rivulet.server.permissions import check_permission

if TYPE_CHECKING:
    from rivulet.storage.base import FlowStore

__all__ = ("run_socket",)

_log = get_logger(__name__)
_OUTBOX_SIZE = 1024
REVOKED_CLOSE_CODE = 4401
"""Close code of a socket whose credential was revoked (logout, password change, user deleted, expired)."""


def _error(message: ClientMessage, code: str, text: str, details: dict[str, Any] | None = None) -> ErrorMessage:
    path = "$.flow_id" if code == "not_found" and isinstance(message, RunStartMessage) else None
    path = "$.run_id" if code == "not_found" and hasattr(message, "run_id") else path
    return ErrorMessage(
        code=code,
        message=redact(text),
        path=path,
        request_id=message.request_id,
        run_id=getattr(message, "run_id", None),
        details=redact_value(details or {}),
    )


class _Session:
    def __init__(self, socket: WebSocket[Any, Any, Any], runs: RunService, flows: FlowStore) -> None:
        self.socket = socket
        self.runs = runs
        self.flows = flows
        self.principal: Principal = socket.user
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
                await self.allow_run(run_id, "write")
                await self.runs.cancel(run_id)
                await self.send(CancelAccepted(run_id=run_id, request_id=message.request_id))
            case PingMessage():
                await self.send(PongMessage(request_id=message.request_id))

    async def allow_run(self, run_id: str, need: Access) -> None:
        """Raise ``NotFoundError``/``PermissionDeniedError`` unless the caller may ``need`` the run's flow."""
        if not self.principal.is_admin:
            await require_run(self.flows, self.principal, (await self.runs.get(run_id)).run, need)

    async def start(self, message: RunStartMessage) -> None:
        check_permission(self.principal, Permission.FLOWS_WRITE)
        await require_flow(self.flows, self.principal, message.flow_id, "write")
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
        await self.allow_run(run_id, "read")
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
    description="Start, follow (with replay via `after_seq`) and cancel runs; see docs/events.md. Following needs "
    "read access to the run's flow, starting and cancelling write access.",
    opt=requires(Permission.FLOWS_READ),
)
async def run_socket(
    socket: WebSocket[Any, Any, Any],
    deps: Injected[RunsDeps],
) -> None:
    """Serve one client until it disconnects."""
    await socket.accept()
    session = _Session(socket, deps.runs, deps.flows)
    revoked = asyncio.Event()
    unwatch = _watch_credential(socket, deps.authenticator, revoked)
    writer = asyncio.create_task(session.write_forever(), name="rivulet-ws-writer")
    reader = asyncio.create_task(session.read_forever(), name="rivulet-ws-reader")
    guard = asyncio.create_task(_guard(socket, deps.authenticator, revoked), name="rivulet-ws-guard")
    try:
        await asyncio.wait((reader, guard), return_when=asyncio.FIRST_COMPLETED)
        if revoked.is_set():
            _log.info("closing a websocket whose credential was revoked")
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                await socket.close(code=REVOKED_CLOSE_CODE, reason="credentials revoked")
        elif reader.done() and not reader.cancelled():
            failure = reader.exception()
            if failure is not None and not isinstance(failure, WebSocketDisconnect):
                raise failure  # an unexpected failure (logged by the server)
    finally:
        unwatch()
        for task in (reader, guard):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await task
        await session.close()
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
            await writer


def _watch_credential(socket: WebSocket[Any, Any, Any], authenticator: Authenticator, revoked: asyncio.Event) -> Any:
    """Have the authenticator set ``revoked`` when the socket's credential changes (any replica's notice)."""
    secret = presented_secret(socket)
    principal: Any = socket.user if "user" in socket.scope else None
    if secret is None or not isinstance(principal, Principal):
        return lambda: None
    return authenticator.watch(secret, principal, revoked.set)


async def _guard(socket: WebSocket[Any, Any, Any], authenticator: Authenticator, revoked: asyncio.Event) -> None:
    """Return once the credential is revoked: on a notice at once, else found by a re-check every ``recheck_s``."""
    secret = presented_secret(socket)
    principal: Any = socket.user if "user" in socket.scope else None
    if secret is None or not isinstance(principal, Principal):
        await revoked.wait()
        return
    while not revoked.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(revoked.wait(), timeout=authenticator.recheck_s)
        if revoked.is_set():
            continue
        try:
            if not same_principal(await authenticator.authenticate(secret, fresh=True), principal):
                revoked.set()
        except Exception:  # noqa: BLE001 - a database hiccup is not a revocation; the next check retries
            _log.warning("re-checking a websocket's credential failed", exc_info=True)
