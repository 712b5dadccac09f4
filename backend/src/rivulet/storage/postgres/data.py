"""Data sources (with their cached schema), reports (with share links) and evaluations on PostgreSQL.

Tables from migration ``0009_data.sql``. Structured values are ``jsonb`` (NUL characters survive through
``jsonb.dump``/``restore``); a report's share token is only ever stored as its hash (``share_token_hash``, unique),
and evaluation items are rows of ``evaluation_items`` keyed by ``(evaluation_id, item_index)``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import msgspec
import psycopg
from psycopg.rows import dict_row

from rivulet.lib.exceptions import ConflictError, NotFoundError
from rivulet.lib.ids import random_id
from rivulet.sdk.data import DatasourceKind, ReportChart, SchemaInfo, Text2SQLExample
from rivulet.storage.base import DatasourceRecord, EvaluationItem, EvaluationRecord, ReportRecord
from rivulet.storage.data_rules import (
    DATASOURCE_KINDS,
    EVALUATION_KINDS,
    EVALUATION_METRICS,
    EVALUATION_STATUSES,
    check_choice,
    datasource_not_found,
    evaluation_not_found,
    report_not_found,
)
from rivulet.storage.knowledge_rules import check_name, check_no_nul, clean_error
from rivulet.storage.postgres import jsonb

if TYPE_CHECKING:
    from collections.abc import Sequence

    from psycopg_pool import AsyncConnectionPool

    from rivulet.storage.base import EvaluationMetric, EvaluationStatus

__all__ = ("PostgresDatasourceStore", "PostgresEvaluationStore", "PostgresReportStore")

_T = TypeVar("_T")

_DATASOURCE_COLUMNS = (
    "id, name, kind, description, config, secret_name, examples, owner_id, workspace_id, created_at, updated_at,"
    " schema_refreshed_at"
)
_REPORT_COLUMNS = (
    "id, title, summary, charts, datasource, flow_id, run_id, owner_id, workspace_id,"
    " share_token_hash IS NOT NULL AS shared, created_at, updated_at"
)
_EVALUATION_COLUMNS = (
    "id, name, kind, flow_id, flow_version, dataset, dataset_hash, metric, model, datasource, status, summary, error,"
    " owner_id, created_at, finished_at"
)
_ITEM_COLUMNS = "item_index AS index, inputs, expected, output, score, passed, error, details, duration_ms"


def _load(value: Any, type_: type[_T]) -> _T:
    """A ``jsonb`` value read back as ``type_``."""
    return msgspec.convert(jsonb.restore(value), type_)


def _no_owner(owner_id: str | None, workspace_id: str | None = None) -> NotFoundError:
    return NotFoundError("no such owner or workspace", extra={"owner_id": owner_id, "workspace_id": workspace_id})


# --- data sources -------------------------------------------------------------------------------------------------


def _datasource(row: dict[str, Any]) -> DatasourceRecord:
    fields: dict[str, Any] = dict(row)
    fields["config"] = _load(row["config"], dict[str, Any])
    fields["examples"] = _load(row["examples"], list[Text2SQLExample])
    return DatasourceRecord(**fields)


class PostgresDatasourceStore:
    """A ``DatasourceStore`` on a psycopg pool (autocommit connections)."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def create(
        self,
        *,
        name: str,
        kind: DatasourceKind,
        description: str = "",
        config: dict[str, Any] | None = None,
        secret_name: str | None = None,
        examples: Sequence[Text2SQLExample] = (),
        owner_id: str | None = None,
        workspace_id: str | None = None,
    ) -> DatasourceRecord:
        check_name("data source", name)
        check_choice("kind", kind, DATASOURCE_KINDS)
        check_no_nul(description=description, secret_name=secret_name, owner_id=owner_id, workspace_id=workspace_id)
        try:
            async with self._pool.connection() as conn:
                cur = conn.cursor(row_factory=dict_row)
                await cur.execute(
                    "INSERT INTO datasources (id, name, kind, description, config, secret_name, examples, owner_id,"
                    " workspace_id) VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s::jsonb, %s, %s)"
                    f" RETURNING {_DATASOURCE_COLUMNS}",
                    (
                        random_id(),
                        name,
                        kind,
                        description,
                        jsonb.dump(config or {}),
                        secret_name,
                        jsonb.dump(list(examples)),
                        owner_id,
                        workspace_id,
                    ),
                )
                row = await cur.fetchone()
        except psycopg.errors.UniqueViolation:
            raise ConflictError(f"data source {name!r} already exists", extra={"datasource": name}) from None
        except psycopg.errors.ForeignKeyViolation:
            raise _no_owner(owner_id, workspace_id) from None
        assert row is not None
        return _datasource(row)

    async def get(self, datasource: str) -> DatasourceRecord:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"SELECT {_DATASOURCE_COLUMNS} FROM datasources WHERE id = %(d)s OR name = %(d)s"
                " ORDER BY id = %(d)s DESC LIMIT 1",
                {"d": datasource},
            )
            row = await cur.fetchone()
        if row is None:
            raise datasource_not_found(datasource)
        return _datasource(row)

    async def list(self) -> list[DatasourceRecord]:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(f'SELECT {_DATASOURCE_COLUMNS} FROM datasources ORDER BY name COLLATE "C"')
            return [_datasource(row) for row in await cur.fetchall()]

    async def update(
        self,
        datasource_id: str,
        *,
        description: str | None = None,
        config: dict[str, Any] | None = None,
        secret_name: str | None = None,
        examples: Sequence[Text2SQLExample] | None = None,
    ) -> DatasourceRecord:
        check_no_nul(description=description, secret_name=secret_name)
        params = {
            "id": datasource_id,
            "description": description,
            "secret_name": secret_name,
            "config": None if config is None else jsonb.dump(config),
            "examples": None if examples is None else jsonb.dump(list(examples)),
        }
        # the right-hand sides read the row as it was: a config that differs drops the cached schema
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "UPDATE datasources SET description = coalesce(%(description)s, description),"
                " secret_name = coalesce(%(secret_name)s, secret_name),"
                " examples = coalesce(%(examples)s::jsonb, examples),"
                " schema = CASE WHEN %(config)s::jsonb IS DISTINCT FROM config"
                "   AND %(config)s::jsonb IS NOT NULL THEN NULL ELSE schema END,"
                " schema_refreshed_at = CASE WHEN %(config)s::jsonb IS DISTINCT FROM config"
                "   AND %(config)s::jsonb IS NOT NULL THEN NULL ELSE schema_refreshed_at END,"
                " config = coalesce(%(config)s::jsonb, config),"
                " updated_at = clock_timestamp()"
                f" WHERE id = %(id)s RETURNING {_DATASOURCE_COLUMNS}",
                params,
            )
            row = await cur.fetchone()
        if row is None:
            raise datasource_not_found(datasource_id)
        return _datasource(row)

    async def delete(self, datasource_id: str) -> None:
        async with self._pool.connection() as conn:
            cur = await conn.execute("DELETE FROM datasources WHERE id = %s", (datasource_id,))
            if cur.rowcount == 0:
                raise datasource_not_found(datasource_id)

    async def set_schema(self, datasource_id: str, schema: SchemaInfo) -> DatasourceRecord:
        refreshed_at = schema.refreshed_at or datetime.now(UTC)
        stored = jsonb.dump(msgspec.structs.replace(schema, refreshed_at=refreshed_at))
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "UPDATE datasources SET schema = %s::jsonb, schema_refreshed_at = %s"
                f" WHERE id = %s RETURNING {_DATASOURCE_COLUMNS}",
                (stored, refreshed_at, datasource_id),
            )
            row = await cur.fetchone()
        if row is None:
            raise datasource_not_found(datasource_id)
        return _datasource(row)

    async def get_schema(self, datasource_id: str) -> SchemaInfo | None:
        async with self._pool.connection() as conn:
            cur = await conn.execute("SELECT schema FROM datasources WHERE id = %s", (datasource_id,))
            row = await cur.fetchone()
        if row is None:
            raise datasource_not_found(datasource_id)
        return None if row[0] is None else _load(row[0], SchemaInfo)


# --- reports ------------------------------------------------------------------------------------------------------


def _report(row: dict[str, Any]) -> ReportRecord:
    fields: dict[str, Any] = dict(row)
    fields["charts"] = _load(row["charts"], list[ReportChart])
    return ReportRecord(**fields)


class PostgresReportStore:
    """A ``ReportStore`` on a psycopg pool (autocommit connections)."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def create(
        self,
        *,
        title: str,
        summary: str = "",
        charts: Sequence[ReportChart] = (),
        datasource: str | None = None,
        flow_id: str | None = None,
        run_id: str | None = None,
        owner_id: str | None = None,
        workspace_id: str | None = None,
    ) -> ReportRecord:
        check_no_nul(
            datasource=datasource, flow_id=flow_id, run_id=run_id, owner_id=owner_id, workspace_id=workspace_id
        )
        try:
            async with self._pool.connection() as conn:
                cur = conn.cursor(row_factory=dict_row)
                await cur.execute(
                    "INSERT INTO reports (id, title, summary, charts, datasource, flow_id, run_id, owner_id,"
                    " workspace_id) VALUES (%s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s)"
                    f" RETURNING {_REPORT_COLUMNS}",
                    (
                        random_id(),
                        clean_error(title),
                        clean_error(summary),
                        jsonb.dump(list(charts)),
                        datasource,
                        flow_id,
                        run_id,
                        owner_id,
                        workspace_id,
                    ),
                )
                row = await cur.fetchone()
        except psycopg.errors.ForeignKeyViolation:
            raise _no_owner(owner_id, workspace_id) from None
        assert row is not None
        return _report(row)

    async def get(self, report_id: str) -> ReportRecord:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(f"SELECT {_REPORT_COLUMNS} FROM reports WHERE id = %s", (report_id,))
            row = await cur.fetchone()
        if row is None:
            raise report_not_found(report_id)
        return _report(row)

    async def list(self, *, owner_id: str | None = None, limit: int = 100) -> list[ReportRecord]:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"SELECT {_REPORT_COLUMNS} FROM reports WHERE (%(owner)s::text IS NULL OR owner_id = %(owner)s)"
                " ORDER BY created_at DESC, id DESC LIMIT %(limit)s",
                {"owner": owner_id, "limit": max(limit, 0)},
            )
            return [_report(row) for row in await cur.fetchall()]

    async def update(
        self,
        report_id: str,
        *,
        title: str | None = None,
        summary: str | None = None,
        charts: Sequence[ReportChart] | None = None,
    ) -> ReportRecord:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "UPDATE reports SET title = coalesce(%s, title), summary = coalesce(%s, summary),"
                " charts = coalesce(%s::jsonb, charts), updated_at = clock_timestamp()"
                f" WHERE id = %s RETURNING {_REPORT_COLUMNS}",
                (
                    None if title is None else clean_error(title),
                    None if summary is None else clean_error(summary),
                    None if charts is None else jsonb.dump(list(charts)),
                    report_id,
                ),
            )
            row = await cur.fetchone()
        if row is None:
            raise report_not_found(report_id)
        return _report(row)

    async def delete(self, report_id: str) -> None:
        async with self._pool.connection() as conn:
            cur = await conn.execute("DELETE FROM reports WHERE id = %s", (report_id,))
            if cur.rowcount == 0:
                raise report_not_found(report_id)

    async def set_share_token(self, report_id: str, token_hash: str | None) -> ReportRecord:
        check_no_nul(token_hash=token_hash)
        try:
            async with self._pool.connection() as conn:
                cur = conn.cursor(row_factory=dict_row)
                await cur.execute(
                    f"UPDATE reports SET share_token_hash = %s WHERE id = %s RETURNING {_REPORT_COLUMNS}",
                    (token_hash, report_id),
                )
                row = await cur.fetchone()
        except psycopg.errors.UniqueViolation:
            raise ConflictError("this share token is already in use", extra={"report": report_id}) from None
        if row is None:
            raise report_not_found(report_id)
        return _report(row)

    async def get_shared(self, token_hash: str) -> ReportRecord | None:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(f"SELECT {_REPORT_COLUMNS} FROM reports WHERE share_token_hash = %s", (token_hash,))
            row = await cur.fetchone()
        return None if row is None else _report(row)


# --- evaluations --------------------------------------------------------------------------------------------------


def _evaluation(row: dict[str, Any], items: list[EvaluationItem] | None = None) -> EvaluationRecord:
    fields: dict[str, Any] = dict(row)
    fields["summary"] = _load(row["summary"], dict[str, Any])
    fields["items"] = items or []
    return EvaluationRecord(**fields)


def _item(row: dict[str, Any]) -> EvaluationItem:
    fields: dict[str, Any] = dict(row)
    for key in ("inputs", "details"):
        fields[key] = _load(row[key], dict[str, Any])
    for key in ("expected", "output"):
        fields[key] = jsonb.restore(row[key])
    return EvaluationItem(**fields)


class PostgresEvaluationStore:
    """An ``EvaluationStore`` on a psycopg pool (autocommit connections)."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def create(
        self,
        *,
        name: str = "",
        kind: Literal["flow", "text2sql"] = "flow",
        flow_id: str | None = None,
        flow_version: int | None = None,
        dataset: str,
        dataset_hash: str,
        metric: EvaluationMetric,
        model: str | None = None,
        datasource: str | None = None,
        owner_id: str | None = None,
    ) -> EvaluationRecord:
        check_choice("kind", kind, EVALUATION_KINDS)
        check_choice("metric", metric, EVALUATION_METRICS)
        check_no_nul(
            name=name,
            flow_id=flow_id,
            dataset=dataset,
            dataset_hash=dataset_hash,
            model=model,
            datasource=datasource,
            owner_id=owner_id,
        )
        try:
            async with self._pool.connection() as conn:
                cur = conn.cursor(row_factory=dict_row)
                await cur.execute(
                    "INSERT INTO evaluations (id, name, kind, flow_id, flow_version, dataset, dataset_hash, metric,"
                    " model, datasource, owner_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                    f" RETURNING {_EVALUATION_COLUMNS}",
                    (
                        random_id(),
                        name,
                        kind,
                        flow_id,
                        flow_version,
                        dataset,
                        dataset_hash,
                        metric,
                        model,
                        datasource,
                        owner_id,
                    ),
                )
                row = await cur.fetchone()
        except psycopg.errors.ForeignKeyViolation:
            raise _no_owner(owner_id) from None
        assert row is not None
        return _evaluation(row)

    async def add_items(self, evaluation_id: str, items: Sequence[EvaluationItem]) -> None:
        rows = [
            (
                evaluation_id,
                item.index,
                jsonb.dump(item.inputs),
                jsonb.dump(item.expected),
                jsonb.dump(item.output),
                item.score,
                item.passed,
                None if item.error is None else clean_error(item.error),
                jsonb.dump(item.details),
                item.duration_ms,
            )
            for item in items
        ]
        async with self._pool.connection() as conn, conn.transaction():
            cur = await conn.execute("SELECT 1 FROM evaluations WHERE id = %s FOR SHARE", (evaluation_id,))
            if await cur.fetchone() is None:
                raise evaluation_not_found(evaluation_id)
            async with conn.cursor() as many:
                await many.executemany(
                    "INSERT INTO evaluation_items (evaluation_id, item_index, inputs, expected, output, score, passed,"
                    " error, details, duration_ms)"
                    " VALUES (%s, %s, %s::jsonb, %s::jsonb, %s::jsonb, %s, %s, %s, %s::jsonb, %s)"
                    " ON CONFLICT (evaluation_id, item_index) DO UPDATE SET inputs = EXCLUDED.inputs,"
                    " expected = EXCLUDED.expected, output = EXCLUDED.output, score = EXCLUDED.score,"
                    " passed = EXCLUDED.passed, error = EXCLUDED.error, details = EXCLUDED.details,"
                    " duration_ms = EXCLUDED.duration_ms",
                    rows,
                )

    async def finish(
        self,
        evaluation_id: str,
        *,
        status: EvaluationStatus,
        summary: dict[str, Any],
        error: str | None = None,
    ) -> EvaluationRecord:
        check_choice("status", status, EVALUATION_STATUSES)
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE evaluations SET status = %s, summary = %s::jsonb, error = %s, finished_at = clock_timestamp()"
                " WHERE id = %s",
                (status, jsonb.dump(summary), None if error is None else clean_error(error), evaluation_id),
            )
            if cur.rowcount == 0:
                raise evaluation_not_found(evaluation_id)
        return await self.get(evaluation_id)

    async def get(self, evaluation_id: str) -> EvaluationRecord:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(f"SELECT {_EVALUATION_COLUMNS} FROM evaluations WHERE id = %s", (evaluation_id,))
            row = await cur.fetchone()
            if row is None:
                raise evaluation_not_found(evaluation_id)
            await cur.execute(
                f"SELECT {_ITEM_COLUMNS} FROM evaluation_items WHERE evaluation_id = %s ORDER BY item_index",
                (evaluation_id,),
            )
            items = [_item(r) for r in await cur.fetchall()]
        return _evaluation(row, items)

    async def list(self, *, flow_id: str | None = None, limit: int = 100) -> list[EvaluationRecord]:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"SELECT {_EVALUATION_COLUMNS} FROM evaluations WHERE (%(flow)s::text IS NULL OR flow_id = %(flow)s)"
                " ORDER BY created_at DESC, id DESC LIMIT %(limit)s",
                {"flow": flow_id, "limit": max(limit, 0)},
            )
            return [_evaluation(row) for row in await cur.fetchall()]

    async def delete(self, evaluation_id: str) -> None:
        async with self._pool.connection() as conn:
            cur = await conn.execute("DELETE FROM evaluations WHERE id = %s", (evaluation_id,))
            if cur.rowcount == 0:
                raise evaluation_not_found(evaluation_id)
