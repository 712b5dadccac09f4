"""``RunStore`` on PostgreSQL: ``runs``, ``node_runs`` and the append-only ``run_events`` log (migration 0002)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec
import psycopg
from psycopg.rows import dict_row

from rivulet.lib.exceptions import ConflictError, NotFoundError
from rivulet.runtime.events import ErrorInfo, RunFinished, RunStatus, decode_event, encoder
from rivulet.storage.base import NodeRunRecord, RunQuery, RunRecord

if TYPE_CHECKING:
    from collections.abc import Sequence

    from psycopg_pool import AsyncConnectionPool

    from rivulet.runtime.events import Event

__all__ = ("PostgresRunStore", "event_type")

_RUN_COLUMNS = (
    "id, flow_id, flow_version, status, trigger, inputs::text AS inputs, outputs::text AS outputs,"
    " error::text AS error, reuse_from, owner, created_at, started_at, finished_at"
)
_NODE_COLUMNS = (
    "node_id, status, attempts, cached, started_at, finished_at, duration_ms, error::text AS error,"
    " inputs_preview::text AS inputs_preview, outputs_preview::text AS outputs_preview"
)
_COPY_EVENTS = "COPY run_events (run_id, seq, type, payload, ts) FROM STDIN"
_INSERT_EVENTS = (
    "INSERT INTO run_events (run_id, seq, type, payload, ts)"
    " SELECT * FROM unnest(%s::text[], %s::int[], %s::text[], %s::jsonb[], %s::timestamptz[])"
    " ON CONFLICT (run_id, seq) DO NOTHING"
)
_JSON_FIELDS = ("inputs", "outputs", "error", "inputs_preview", "outputs_preview")


def event_type(event: Event) -> str:
    """The ``type`` tag of an event."""
    tag = type(event).__struct_config__.tag
    assert isinstance(tag, str)
    return tag


def _json(value: Any) -> str:
    return encoder.encode(value).decode()


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    for name in _JSON_FIELDS:
        if name in row and row[name] is not None:
            row[name] = msgspec.json.decode(row[name])
    return row


def _copy_field(text: str) -> str:
    """Escape a value for COPY's text format (backslash, tab and line breaks)."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _copy_text(rows: Sequence[tuple[str, int, str, str, datetime]]) -> bytes:
    lines = [
        f"{_copy_field(run_id)}\t{seq}\t{kind}\t{_copy_field(payload)}\t{ts.isoformat()}\n"
        for run_id, seq, kind, payload, ts in rows
    ]
    return "".join(lines).encode()


def _run_not_found(run_id: str) -> NotFoundError:
    return NotFoundError(f"run {run_id!r} not found", extra={"run_id": run_id})


class PostgresRunStore:
    """A ``RunStore`` on a psycopg pool."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def create_run(self, run: RunRecord) -> None:
        async with self._pool.connection() as conn:
            try:
                await conn.execute(
                    "INSERT INTO runs (id, flow_id, flow_version, status, trigger, inputs, outputs, error, reuse_from,"
                    " owner, created_at, started_at, finished_at)"
                    " VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s::jsonb, %s, %s, %s, %s, %s)",
                    (
                        run.id,
                        run.flow_id,
                        run.flow_version,
                        run.status,
                        run.trigger,
                        _json(run.inputs),
                        _json(run.outputs),
                        None if run.error is None else _json(run.error),
                        run.reuse_from,
                        run.owner,
                        run.created_at,
                        run.started_at,
                        run.finished_at,
                    ),
                )
            except psycopg.errors.UniqueViolation:
                raise ConflictError(f"run id {run.id!r} already exists", extra={"run_id": run.id}) from None

    async def get_run(self, run_id: str) -> RunRecord:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = %s", (run_id,))
            row = await cur.fetchone()
        if row is None:
            raise _run_not_found(run_id)
        return msgspec.convert(_decoded(row), RunRecord)

    async def list_runs(self, query: RunQuery) -> list[RunRecord]:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"SELECT {_RUN_COLUMNS} FROM runs WHERE (%(flow)s::text IS NULL OR flow_id = %(flow)s)"
                " AND (%(status)s::text IS NULL OR status = %(status)s)"
                " AND (%(since)s::timestamptz IS NULL OR created_at >= %(since)s)"
                " AND (%(until)s::timestamptz IS NULL OR created_at < %(until)s)"
                " ORDER BY created_at DESC, id DESC LIMIT %(limit)s OFFSET %(offset)s",
                {
                    "flow": query.flow_id,
                    "status": query.status,
                    "since": query.since,
                    "until": query.until,
                    "limit": query.limit,
                    "offset": query.offset,
                },
            )
            rows = await cur.fetchall()
        return [msgspec.convert(_decoded(r), RunRecord) for r in rows]

    async def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus,
        outputs: dict[str, Any] | None = None,
        error: ErrorInfo | None = None,
        started_at: datetime | None = None,
        finished_at: datetime | None = None,
    ) -> None:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE runs SET status = %s, outputs = COALESCE(%s::jsonb, outputs),"
                " error = COALESCE(%s::jsonb, error), started_at = COALESCE(%s, started_at),"
                " finished_at = COALESCE(%s, finished_at),"
                " heartbeat_at = clock_timestamp() WHERE id = %s",
                (
                    status,
                    None if outputs is None else _json(outputs),
                    None if error is None else _json(error),
                    started_at,
                    finished_at,
                    run_id,
                ),
            )
            if cur.rowcount == 0:
                raise _run_not_found(run_id)

    async def save_node_runs(self, run_id: str, nodes: Sequence[NodeRunRecord]) -> None:
        if not nodes:
            return
        rows = [
            (
                run_id,
                n.node_id,
                n.status,
                n.attempts,
                n.cached,
                n.started_at,
                n.finished_at,
                n.duration_ms,
                None if n.error is None else _json(n.error),
                _json(n.inputs_preview),
                _json(n.outputs_preview),
            )
            for n in nodes
        ]
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO node_runs (run_id, node_id, status, attempts, cached, started_at, finished_at,"
                " duration_ms, error, inputs_preview, outputs_preview)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s::jsonb)"
                " ON CONFLICT (run_id, node_id) DO UPDATE SET status = EXCLUDED.status,"
                " attempts = EXCLUDED.attempts, cached = EXCLUDED.cached, started_at = EXCLUDED.started_at,"
                " finished_at = EXCLUDED.finished_at, duration_ms = EXCLUDED.duration_ms, error = EXCLUDED.error,"
                " inputs_preview = EXCLUDED.inputs_preview, outputs_preview = EXCLUDED.outputs_preview",
                rows,
            )

    async def list_node_runs(self, run_id: str) -> list[NodeRunRecord]:
        await self.get_run(run_id)
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(f"SELECT {_NODE_COLUMNS} FROM node_runs WHERE run_id = %s ORDER BY node_id", (run_id,))
            rows = await cur.fetchall()
        return [msgspec.convert(_decoded(r), NodeRunRecord) for r in rows]

    async def append_events(self, events: Sequence[Event]) -> None:
        if not events:
            return
        rows = [
            (e.run_id, e.seq, event_type(e), encoder.encode(e).decode(), datetime.fromtimestamp(e.ts, UTC))
            for e in events
        ]
        try:
            async with (
                self._pool.connection() as conn,
                conn.transaction(),
                conn.cursor() as cur,
                cur.copy(_COPY_EVENTS) as copy,
            ):
                await copy.write(_copy_text(rows))
        except psycopg.errors.UniqueViolation:
            # A retried batch that was partly stored: fall back to the idempotent (slower) insert.
            columns = tuple(list(column) for column in zip(*rows, strict=True))
            async with self._pool.connection() as conn:
                await conn.execute(_INSERT_EVENTS, columns)

    async def list_events(self, run_id: str, *, after_seq: int = 0, limit: int | None = None) -> list[Event]:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT payload::text FROM run_events WHERE run_id = %s AND seq > %s ORDER BY seq LIMIT %s",
                (run_id, after_seq, limit),
            )
            rows = await cur.fetchall()
        return [decode_event(row[0]) for row in rows]

    async def last_event(self, run_id: str) -> Event | None:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT payload::text FROM run_events WHERE run_id = %s ORDER BY seq DESC LIMIT 1", (run_id,)
            )
            row = await cur.fetchone()
        return None if row is None else decode_event(row[0])

    async def heartbeat(self, owner: str, run_ids: Sequence[str]) -> None:
        if not run_ids:
            return
        async with self._pool.connection() as conn:
            await conn.execute(
                "UPDATE runs SET heartbeat_at = clock_timestamp() WHERE owner = %s AND id = ANY(%s)",
                (owner, list(run_ids)),
            )

    async def interrupt_orphans(self, *, owner: str, stale_after_s: float, reason: str) -> list[str]:
        error = ErrorInfo(code="interrupted", message=reason)
        async with self._pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "UPDATE runs SET status = 'interrupted', error = %s::jsonb, finished_at = clock_timestamp()"
                " WHERE status IN ('queued', 'running') AND owner <> %s"
                " AND heartbeat_at <= clock_timestamp() - make_interval(secs => %s) RETURNING id",
                (_json(error), owner, stale_after_s),
            )
            orphans: list[str] = [row[0] for row in await cur.fetchall()]
            if not orphans:
                return []
            cur = await conn.execute(
                "SELECT r.id, COALESCE(MAX(e.seq), 0) FROM unnest(%s::text[]) AS r(id)"
                " LEFT JOIN run_events e ON e.run_id = r.id GROUP BY r.id",
                (orphans,),
            )
            now = time.time()
            finals = [
                RunFinished(run_id=run_id, seq=last + 1, ts=now, status="interrupted", error=error)
                for run_id, last in await cur.fetchall()
            ]
        await self.append_events(finals)
        return orphans
