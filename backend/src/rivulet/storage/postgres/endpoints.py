"""Published endpoints (``METHOD /f/{slug}``) and the audit log of their calls, on PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, LiteralString

import msgspec
from psycopg.rows import dict_row

from rivulet.lib.exceptions import ConflictError
from rivulet.storage.base import CALL_OUTCOMES, CallRecord, EndpointRecord, EndpointStats, OutcomeStats

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

__all__ = ("PostgresEndpointStore",)


_COLUMNS = (
    "slug, method, flow_id, flow_version, trigger_node_id, concurrency_limit, published_by, created_at, updated_at"
)

_encoder = msgspec.json.Encoder()
_INSERT_CALLS: LiteralString = (
    "INSERT INTO endpoint_calls (slug, caller, api_key_id, user_id, run_id, status, duration_ms, created_at, outcome)"
    " SELECT slug, caller, api_key_id, user_id, run_id, status, duration_ms, coalesce(created_at, clock_timestamp()),"
    " outcome"
    " FROM json_populate_recordset(NULL::endpoint_calls, %s::json)"
)


_OUTCOME: LiteralString = (
    "coalesce(outcome, CASE WHEN status >= 400 THEN 'error' WHEN status = 202 THEN 'accepted' ELSE 'ok' END)"
)
"""A call's outcome; rows written before outcomes were kept are read from their status."""

_STATS: LiteralString = (
    f"SELECT slug, {_OUTCOME} AS outcome, count(*) AS calls, count(*) FILTER (WHERE status >= 400) AS errors,"
    " percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50_ms,"
    " percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95_ms,"
    f" max(created_at) AS last_call_at, grouping({_OUTCOME}) = 1 AS total"
    f" FROM endpoint_calls GROUP BY GROUPING SETS ((slug, {_OUTCOME}), (slug))"
)
"""Per slug: one row per outcome and one over all calls (``total``)."""


def _endpoint(row: dict[str, Any]) -> EndpointRecord:
    return msgspec.convert(row, EndpointRecord)


class PostgresEndpointStore:
    """``EndpointStore`` on the ``endpoints`` and ``endpoint_calls`` tables."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def publish(self, record: EndpointRecord) -> EndpointRecord:
        """Publish (or republish) ``record`` as this flow's only endpoint.

        Raises:
            ConflictError: The slug is published by another flow.
        """
        async with self._pool.connection() as conn, conn.transaction():
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute("SELECT flow_id FROM endpoints WHERE slug = %s FOR UPDATE", (record.slug,))
            owner = await cur.fetchone()
            if owner is not None and owner["flow_id"] != record.flow_id:
                raise ConflictError(
                    f"/f/{record.slug} is already published by flow {owner['flow_id']!r}",
                    extra={"slug": record.slug, "flow_id": owner["flow_id"]},
                )
            await cur.execute("DELETE FROM endpoints WHERE flow_id = %s AND slug <> %s", (record.flow_id, record.slug))
            await cur.execute(
                "INSERT INTO endpoints (slug, method, flow_id, flow_version, trigger_node_id, concurrency_limit,"
                " published_by) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (slug) DO UPDATE SET method = excluded.method, flow_version = excluded.flow_version,"
                " trigger_node_id = excluded.trigger_node_id, concurrency_limit = excluded.concurrency_limit,"
                " published_by = excluded.published_by, updated_at = clock_timestamp()"
                f" RETURNING {_COLUMNS}",
                (
                    record.slug,
                    record.method,
                    record.flow_id,
                    record.flow_version,
                    record.trigger_node_id,
                    record.concurrency_limit,
                    record.published_by,
                ),
            )
            row = await cur.fetchone()
        assert row is not None
        return _endpoint(row)

    async def unpublish(self, flow_id: str) -> list[str]:
        """Remove the flow's endpoints; returns their slugs."""
        async with self._pool.connection() as conn:
            cur = await conn.execute("DELETE FROM endpoints WHERE flow_id = %s RETURNING slug", (flow_id,))
            return [row[0] for row in await cur.fetchall()]

    async def get(self, slug: str) -> EndpointRecord | None:
        """The endpoint at ``/f/{slug}``, if published."""
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(f"SELECT {_COLUMNS} FROM endpoints WHERE slug = %s", (slug,))
            row = await cur.fetchone()
        return None if row is None else _endpoint(row)

    async def list(self, flow_id: str | None = None) -> list[EndpointRecord]:
        """Published endpoints by slug (of one flow when ``flow_id`` is given)."""
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            if flow_id is None:
                await cur.execute(f"SELECT {_COLUMNS} FROM endpoints ORDER BY slug")
            else:
                await cur.execute(f"SELECT {_COLUMNS} FROM endpoints WHERE flow_id = %s ORDER BY slug", (flow_id,))
            return [_endpoint(row) for row in await cur.fetchall()]

    async def record_calls(self, calls: list[CallRecord]) -> None:
        """Append audited calls (one JSON document expanded into rows by PostgreSQL); unstamped ones get now."""
        if not calls:
            return
        async with self._pool.connection() as conn:
            await conn.execute(_INSERT_CALLS, (_encoder.encode(calls).decode(),))

    async def calls(self, slug: str, limit: int = 100) -> list[CallRecord]:
        """The latest audited calls of an endpoint, newest first."""
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"SELECT id, slug, caller, api_key_id, user_id, run_id, status, duration_ms, created_at,"
                f" {_OUTCOME} AS outcome FROM endpoint_calls WHERE slug = %s ORDER BY id DESC LIMIT %s",
                (slug, limit),
            )
            return [msgspec.convert(row, CallRecord) for row in await cur.fetchall()]

    async def stats(self) -> dict[str, EndpointStats]:
        """Call statistics per slug, over all calls and per outcome (one grouped query)."""
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(_STATS)
            rows = await cur.fetchall()
        totals: dict[str, dict[str, Any]] = {}
        outcomes: dict[str, dict[str, OutcomeStats]] = {}
        for row in rows:
            if row["total"]:
                totals[row["slug"]] = row
            else:
                stats = OutcomeStats(
                    outcome=row["outcome"], calls=row["calls"], p50_ms=row["p50_ms"], p95_ms=row["p95_ms"]
                )
                outcomes.setdefault(row["slug"], {})[row["outcome"]] = stats
        return {
            slug: EndpointStats(
                calls=row["calls"],
                errors=row["errors"],
                p50_ms=row["p50_ms"],
                p95_ms=row["p95_ms"],
                last_call_at=row["last_call_at"],
                by_outcome=[o for name in CALL_OUTCOMES if (o := outcomes.get(slug, {}).get(name)) is not None],
            )
            for slug, row in totals.items()
        }
