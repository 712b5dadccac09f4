"""``ModelStore`` on PostgreSQL: the ``models`` table and the ``model_calls`` log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from rivulet.lib.redact import redact
from rivulet.providers.config import ModelConfig
from rivulet.providers.store import ModelCallRecord

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

__all__ = ("PostgresModelStore",)

_MODEL_COLUMNS = (
    "name, kind, provider, params, description, concurrency, timeout_s, fallbacks, is_default,"
    " allow_private_network, created_at, updated_at"
)
_CALL_COLUMNS = (
    "id, run_id, node_id, origin, model, provider, operation, status, prompt_tokens, completion_tokens,"
    " latency_ms, ttft_ms, error, created_at"
)


class PostgresModelStore:
    """Model configs and call records in PostgreSQL."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def list_models(self) -> list[ModelConfig]:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(f"SELECT {_MODEL_COLUMNS} FROM models ORDER BY name")
            rows = await cur.fetchall()
        return [msgspec.convert(row, ModelConfig) for row in rows]

    async def get_model(self, name: str) -> ModelConfig | None:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(f"SELECT {_MODEL_COLUMNS} FROM models WHERE name = %s", (name,))
            row = await cur.fetchone()
        return None if row is None else msgspec.convert(row, ModelConfig)

    async def put_model(self, config: ModelConfig) -> ModelConfig:
        values: dict[str, Any] = {
            "name": config.name,
            "kind": config.kind,
            "provider": config.provider,
            "params": Jsonb(config.params),
            "description": config.description,
            "concurrency": config.concurrency,
            "timeout_s": config.timeout_s,
            "fallbacks": list(config.fallbacks),
            "is_default": config.is_default,
            "allow_private_network": config.allow_private_network,
        }
        statement = sql.SQL(
            "INSERT INTO models ({columns}) VALUES ({placeholders}) "
            "ON CONFLICT (name) DO UPDATE SET {updates}, updated_at = clock_timestamp()"
        ).format(
            columns=sql.SQL(", ").join(map(sql.Identifier, values)),
            placeholders=sql.SQL(", ").join(map(sql.Placeholder, values)),
            updates=sql.SQL(", ").join(
                sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(k)) for k in values if k != "name"
            ),
        )
        async with self._pool.connection() as conn, conn.transaction():
            if config.is_default:
                await conn.execute(
                    "UPDATE models SET is_default = false WHERE kind = %s AND is_default AND name <> %s",
                    (config.kind, config.name),
                )
            await conn.execute(statement, values)
        stored = await self.get_model(config.name)
        assert stored is not None
        return stored

    async def delete_model(self, name: str) -> bool:
        async with self._pool.connection() as conn:
            cur = await conn.execute("DELETE FROM models WHERE name = %s", (name,))
            return cur.rowcount > 0

    async def record_call(self, record: ModelCallRecord) -> None:
        values = msgspec.structs.asdict(record)
        values.pop("id")
        values.pop("created_at")
        if record.error is not None:  # providers redact already; the stored log is one more surface to guard
            values["error"] = redact(record.error)
        statement = sql.SQL("INSERT INTO model_calls ({columns}) VALUES ({placeholders})").format(
            columns=sql.SQL(", ").join(map(sql.Identifier, values)),
            placeholders=sql.SQL(", ").join(map(sql.Placeholder, values)),
        )
        async with self._pool.connection() as conn:
            await conn.execute(statement, values)

    async def list_calls(
        self, *, run_id: str | None = None, model: str | None = None, limit: int = 100
    ) -> list[ModelCallRecord]:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"SELECT {_CALL_COLUMNS} FROM model_calls"
                " WHERE (%(run_id)s::text IS NULL OR run_id = %(run_id)s)"
                " AND (%(model)s::text IS NULL OR model = %(model)s)"
                " ORDER BY id DESC LIMIT %(limit)s",
                {"run_id": run_id, "model": model, "limit": limit},
            )
            rows = await cur.fetchall()
        return [msgspec.convert(row, ModelCallRecord) for row in rows]
