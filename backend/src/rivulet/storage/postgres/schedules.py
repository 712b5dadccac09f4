"""Schedules on PostgreSQL: the single source of truth for what fires when, claimed with ``SKIP LOCKED``.

``claim_due`` runs in one transaction: it locks the due rows no other replica holds, advances ``next_fire_at``,
and inserts one ``schedule_fires`` row per fire time (``fired`` or ``missed``). Whoever commits a fire row owns
that fire; the primary key ``(schedule_id, fire_at)`` makes a second fire of the same time impossible.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from rivulet.lib.exceptions import NotFoundError
from rivulet.storage.base import DueFire, FireRecord, ScheduleRecord
from rivulet.storage.firing import classify_fires, plan_fires

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

    from rivulet.sdk.triggers import ScheduleTriggerParams
    from rivulet.storage.base import NextFire

__all__ = ("PostgresScheduleStore",)

_COLUMNS = (
    "id, flow_id, flow_version, node_id, cron, interval_s, timezone, inputs, missed_policy, enabled,"
    " next_fire_at, last_fire_at, created_at, updated_at"
)


def _schedule(row: dict[str, Any]) -> ScheduleRecord:
    return msgspec.convert(row, ScheduleRecord)


class PostgresScheduleStore:
    """``ScheduleStore`` on the ``schedules`` and ``schedule_fires`` tables."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def upsert(
        self,
        flow_id: str,
        flow_version: int,
        node_id: str,
        params: ScheduleTriggerParams,
        next_fire_at: datetime | None,
    ) -> ScheduleRecord:
        """Publish the flow's schedule (replacing any other schedule of the flow)."""
        async with self._pool.connection() as conn, conn.transaction():
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute("DELETE FROM schedules WHERE flow_id = %s AND node_id <> %s", (flow_id, node_id))
            await cur.execute(
                "INSERT INTO schedules (id, flow_id, flow_version, node_id, cron, interval_s, timezone, inputs,"
                " missed_policy, next_fire_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (flow_id, node_id) DO UPDATE SET flow_version = excluded.flow_version,"
                " cron = excluded.cron, interval_s = excluded.interval_s, timezone = excluded.timezone,"
                " inputs = excluded.inputs, missed_policy = excluded.missed_policy,"
                " next_fire_at = excluded.next_fire_at, updated_at = clock_timestamp()"
                f" RETURNING {_COLUMNS}",
                (
                    uuid.uuid4().hex,
                    flow_id,
                    flow_version,
                    node_id,
                    params.cron,
                    params.interval_s,
                    params.timezone,
                    Jsonb(params.inputs),
                    params.missed_policy,
                    next_fire_at,
                ),
            )
            row = await cur.fetchone()
        assert row is not None
        return _schedule(row)

    async def delete_for_flow(self, flow_id: str) -> int:
        """Remove the flow's schedules; returns how many."""
        async with self._pool.connection() as conn:
            cur = await conn.execute("DELETE FROM schedules WHERE flow_id = %s", (flow_id,))
            return cur.rowcount

    async def list(self, flow_id: str | None = None) -> list[ScheduleRecord]:
        """Schedules, next to fire first."""
        where, args = ("WHERE flow_id = %s", (flow_id,)) if flow_id else ("", ())
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(f"SELECT {_COLUMNS} FROM schedules {where} ORDER BY next_fire_at NULLS LAST, id", args)
            return [_schedule(row) for row in await cur.fetchall()]

    async def get(self, schedule_id: str) -> ScheduleRecord:
        """One schedule. Raises ``NotFoundError``."""
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(f"SELECT {_COLUMNS} FROM schedules WHERE id = %s", (schedule_id,))
            row = await cur.fetchone()
        if row is None:
            raise NotFoundError(f"schedule {schedule_id!r} not found", extra={"schedule_id": schedule_id})
        return _schedule(row)

    async def set_enabled(self, schedule_id: str, enabled: bool, next_fire_at: datetime | None) -> ScheduleRecord:
        """Enable (firing from ``next_fire_at``) or disable a schedule. Raises ``NotFoundError``."""
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"UPDATE schedules SET enabled = %s, next_fire_at = %s, updated_at = clock_timestamp()"
                f" WHERE id = %s RETURNING {_COLUMNS}",
                (enabled, next_fire_at, schedule_id),
            )
            row = await cur.fetchone()
        if row is None:
            raise NotFoundError(f"schedule {schedule_id!r} not found", extra={"schedule_id": schedule_id})
        return _schedule(row)

    async def fires(self, schedule_id: str, limit: int = 100) -> list[FireRecord]:
        """The latest fires of a schedule (missed ones included), newest first."""
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "SELECT schedule_id, fire_at, status, run_id, error FROM schedule_fires WHERE schedule_id = %s"
                " ORDER BY fire_at DESC LIMIT %s",
                (schedule_id, limit),
            )
            return [msgspec.convert(row, FireRecord) for row in await cur.fetchall()]

    async def claim_due(self, next_after: NextFire, *, limit: int = 20) -> list[DueFire]:
        """Lock due schedules no other replica holds, record their fires, advance them; return what to start."""
        claimed: list[DueFire] = []
        async with self._pool.connection() as conn, conn.transaction():
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"SELECT {_COLUMNS} FROM schedules WHERE enabled AND next_fire_at <= now()"
                " ORDER BY next_fire_at LIMIT %s FOR UPDATE SKIP LOCKED",
                (limit,),
            )
            rows = await cur.fetchall()
            now = datetime.now(UTC)
            for row in rows:
                record = _schedule(row)
                due, following = plan_fires(record, now, next_after)
                fires = classify_fires(record, due, now)
                for fire_at, run_id in fires:
                    status = "missed" if run_id is None else "fired"
                    await cur.execute(
                        "INSERT INTO schedule_fires (schedule_id, fire_at, status, run_id) VALUES (%s, %s, %s, %s)"
                        " ON CONFLICT DO NOTHING",
                        (record.id, fire_at, status, run_id),
                    )
                    if run_id is not None and cur.rowcount == 1:
                        claimed.append(DueFire(schedule=record, fire_at=fire_at, run_id=run_id))
                await cur.execute(
                    "UPDATE schedules SET next_fire_at = %s, last_fire_at = %s WHERE id = %s",
                    (following, due[-1] if due else record.last_fire_at, record.id),
                )
        return claimed

    async def mark_failed(self, schedule_id: str, fire_at: datetime, error: str) -> None:
        """A claimed fire could not start its run."""
        async with self._pool.connection() as conn:
            await conn.execute(
                "UPDATE schedule_fires SET status = 'failed', error = %s WHERE schedule_id = %s AND fire_at = %s",
                (error[:2000], schedule_id, fire_at),
            )

    async def missed_count(self, schedule_id: str) -> int:
        """How many fires of the schedule were missed."""
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT count(*) FROM schedule_fires WHERE schedule_id = %s AND status = 'missed'", (schedule_id,)
            )
            row = await cur.fetchone()
        return int(row[0]) if row else 0
