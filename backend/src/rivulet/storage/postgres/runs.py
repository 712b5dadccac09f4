"""``RunStore`` on PostgreSQL: ``runs``, ``node_runs`` and the append-only event log ``run_event_batches``.

Events are stored one row per written batch per run (migration 0003): ``seq_from``, ``seq_to`` and the JSON array
of the events as encoded once by the writer. Readers fetch the batches that reach past ``after_seq`` and filter.
"""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING, Any, LiteralString

import msgspec
import psycopg
from psycopg.rows import dict_row

from rivulet.lib.exceptions import ConflictError, NotFoundError
from rivulet.records.events import ErrorInfo, RunFinished, RunStatus, decode_events, encoder
from rivulet.records.runs import NodeRunRecord, RunQuery, RunRecord
from rivulet.storage.postgres import jsonb

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime

    from psycopg_pool import AsyncConnectionPool

    from rivulet.records.events import Event
    from rivulet.records.runs import FinishedRun

__all__ = ("PostgresRunStore", "event_type")

_RUN_COLUMNS = (
    "id, flow_id, flow_version, status, trigger, inputs::text AS inputs, outputs::text AS outputs,"
    " error::text AS error, reuse_from, owner, created_at, started_at, finished_at"
)
_NODE_COLUMNS = (
    "node_id, status, attempts, cached, started_at, finished_at, duration_ms, error::text AS error,"
    " inputs_preview::text AS inputs_preview, outputs_preview::text AS outputs_preview"
)
_UPSERT_BATCHES = (
    "INSERT INTO run_event_batches (run_id, seq_from, seq_to, payload)"
    " SELECT * FROM unnest(%s::text[], %s::int[], %s::int[], %b::bytea[])"
    " ON CONFLICT (run_id, seq_from) DO UPDATE SET seq_to = EXCLUDED.seq_to, payload = EXCLUDED.payload"
    " WHERE EXCLUDED.seq_to > run_event_batches.seq_to"
)
_COPY_NODE_RUNS = (
    "COPY node_runs (run_id, node_id, status, attempts, cached, started_at, finished_at, duration_ms, error,"
    " inputs_preview, outputs_preview) FROM STDIN"
)
_INSERT_RUNS: LiteralString = (
    "INSERT INTO runs (id, flow_id, flow_version, status, trigger, inputs, outputs, error, reuse_from, owner,"
    " created_at, started_at, finished_at)"
    " SELECT id, flow_id, flow_version, status, trigger, inputs, outputs, error, reuse_from, owner, created_at,"
    " started_at, finished_at FROM json_populate_recordset(NULL::runs, %s::json)"
)


_JSON_FIELDS = ("inputs", "outputs", "error", "inputs_preview", "outputs_preview")
_RUN_JSON_FIELDS = ("inputs", "outputs", "error")


def event_type(event: Event) -> str:
    """The ``type`` tag of an event."""
    tag = type(event).__struct_config__.tag
    assert isinstance(tag, str)
    return tag


def _json(value: Any) -> str:
    """A ``jsonb`` parameter: a value holding a NUL is stored wrapped (``storage.postgres.jsonb``)."""
    return jsonb.dump(value)


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    for name in _JSON_FIELDS:
        if name in row and row[name] is not None:
            row[name] = jsonb.restore(msgspec.json.decode(row[name]))
    return row


def _runs_document(records: list[RunRecord]) -> str:
    """The ``json_populate_recordset`` document of ``records`` (JSON columns holding a NUL wrapped)."""
    data = encoder.encode(records)
    if not jsonb.may_need_wrapping(data):  # the common case: one encode, nothing to look at
        return data.decode()
    rows: list[dict[str, Any]] = msgspec.to_builtins(records)
    for row in rows:
        for name in _RUN_JSON_FIELDS:
            value = row.get(name)
            if value is not None:
                encoded = encoder.encode(value)
                if jsonb.needs_wrapping(value, encoded):
                    row[name] = jsonb.wrap(encoded)
    return encoder.encode(rows).decode()


def _seq(event: Event) -> int:
    return event.seq


def _merge(batches: list[list[Event]], after_seq: int, limit: int | None) -> list[Event]:
    """The events with ``seq > after_seq`` of batches ordered by first seq, in seq order, each seq once."""
    events = [e for batch in batches for e in batch if e.seq > after_seq]
    if any(a.seq >= b.seq for a, b in itertools.pairwise(events)):  # overlapping or out-of-order batches
        unique: dict[int, Event] = {}
        for event in events:
            unique.setdefault(event.seq, event)
        events = [unique[seq] for seq in sorted(unique)]
    return events if limit is None else events[:limit]


def _batch_params(
    groups: Iterable[tuple[str, Sequence[Event]]],
) -> tuple[list[str], list[int], list[int], list[bytes]]:
    """The ``_UPSERT_BATCHES`` arrays for one batch per ``(run_id, events)``: first and last seq, payload."""
    run_ids: list[str] = []
    firsts: list[int] = []
    lasts: list[int] = []
    payloads: list[bytes] = []
    for run_id, group in groups:
        seqs = [e.seq for e in group]
        run_ids.append(run_id)
        firsts.append(min(seqs))
        lasts.append(max(seqs))
        payloads.append(encoder.encode(group))
    return run_ids, firsts, lasts, payloads


def _run_row(run: RunRecord) -> tuple[Any, ...]:
    """The ``runs`` columns of ``run``, in ``INSERT`` order."""
    error = None if run.error is None else _json(run.error)
    return (
        run.id, run.flow_id, run.flow_version, run.status, run.trigger, _json(run.inputs), _json(run.outputs), error,
        run.reuse_from, run.owner, run.created_at, run.started_at, run.finished_at,
    )  # fmt: skip


def _node_row(run_id: str, n: NodeRunRecord) -> tuple[Any, ...]:
    """The ``node_runs`` columns of one node state, in ``INSERT``/``COPY`` order."""
    error = None if n.error is None else _json(n.error)
    return (
        run_id, n.node_id, n.status, n.attempts, n.cached, n.started_at, n.finished_at, n.duration_ms, error,
        _json(n.inputs_preview), _json(n.outputs_preview),
    )  # fmt: skip


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
                    _run_row(run),
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
                " AND (NOT %(scoped)s OR flow_id = ANY(%(flows)s::text[]))"
                " AND (%(status)s::text IS NULL OR status = %(status)s)"
                " AND (%(since)s::timestamptz IS NULL OR created_at >= %(since)s)"
                " AND (%(until)s::timestamptz IS NULL OR created_at < %(until)s)"
                " ORDER BY created_at DESC, id DESC LIMIT %(limit)s OFFSET %(offset)s",
                {
                    "flow": query.flow_id,
                    "scoped": query.flow_ids is not None,
                    "flows": list(query.flow_ids or ()),
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
        rows = [_node_row(run_id, n) for n in nodes]
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

    async def append_events(self, events: Sequence[Event], *, notify: tuple[str, Sequence[str]] | None = None) -> None:
        """Store events as one ``run_event_batches`` row per run, all in one statement and one transaction.

        Idempotent: a batch retried with the same first seq replaces the stored one when it covers more; other
        overlaps are resolved when reading (a seq always names the same event).

        Args:
            events: Events of any runs, each run's in seq order.
            notify: ``(channel, payloads)`` to ``NOTIFY`` in the same transaction (delivered on commit).
        """
        if not events:
            return
        by_run: dict[str, list[Event]] = {}
        for event in events:
            group = by_run.get(event.run_id)
            if group is None:
                by_run[event.run_id] = [event]
            else:
                group.append(event)
        params: tuple[object, ...] = _batch_params(by_run.items())
        query = _UPSERT_BATCHES
        if notify is not None:
            query = f"WITH stored AS ({query}) SELECT pg_notify(%s, p) FROM unnest(%s::text[]) AS p"
            params = (*params, notify[0], list(notify[1]))
        async with self._pool.connection() as conn:
            await conn.execute(query, params)

    async def record_runs(self, runs: Sequence[FinishedRun]) -> None:
        """Insert runs, node states and event batches (one row per run) in one transaction.

        The run rows go as one JSON document expanded into rows by PostgreSQL (encoding a group is one ``msgspec``
        call, and the per-row work happens in the database process, not here), the event batches as arrays.
        """
        if not runs:
            return
        records = [finished.run for finished in runs]
        node_rows = [_node_row(f.run.id, n) for f in runs for n in f.nodes]
        # event batches as binary arrays, not JSON: a payload is stored byte for byte (a NUL in a string included)
        logged = [(f.run.id, f.events) for f in runs if f.events]
        try:
            async with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                await cur.execute(_INSERT_RUNS, (_runs_document(records),))
                if node_rows:
                    async with cur.copy(_COPY_NODE_RUNS) as copy:
                        for row in node_rows:
                            await copy.write_row(row)
                if logged:
                    await cur.execute(_UPSERT_BATCHES, _batch_params(logged))
        except psycopg.errors.UniqueViolation as exc:
            raise ConflictError(f"a run id already exists: {exc.diag.message_detail}") from None

    async def list_events(self, run_id: str, *, after_seq: int = 0, limit: int | None = None) -> list[Event]:
        # seqs are gap-free, so the first ``limit`` events lie in batches starting at or before after_seq + limit
        last = None if limit is None else after_seq + limit
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT payload FROM run_event_batches WHERE run_id = %s AND seq_to > %s"
                " AND (%s::int IS NULL OR seq_from <= %s) ORDER BY seq_from",
                (run_id, after_seq, last, last),
                binary=True,
            )
            rows = await cur.fetchall()
        return _merge([decode_events(row[0]) for row in rows], after_seq, limit)

    async def last_event(self, run_id: str) -> Event | None:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT payload FROM run_event_batches WHERE run_id = %s ORDER BY seq_to DESC LIMIT 1",
                (run_id,),
                binary=True,
            )
            row = await cur.fetchone()
        return None if row is None else max(decode_events(row[0]), key=_seq)

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
                "SELECT r.id, COALESCE(MAX(b.seq_to), 0) FROM unnest(%s::text[]) AS r(id)"
                " LEFT JOIN run_event_batches b ON b.run_id = r.id GROUP BY r.id",
                (orphans,),
            )
            now = time.time()
            finals = [
                RunFinished(run_id=run_id, seq=last + 1, ts=now, status="interrupted", error=error)
                for run_id, last in await cur.fetchall()
            ]
        await self.append_events(finals)
        return orphans
