"""Data sources, reports and evaluations in dictionaries, for unit tests and headless runs.

The conformance suite (``tests/integration/test_data_store_conformance.py``) holds these stores to the PostgreSQL
ones in ``rivulet.storage.postgres.data``. Structured values are kept as their JSON form (``as_stored``), as
``jsonb`` keeps them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from rivulet.lib.exceptions import ConflictError
from rivulet.lib.ids import random_id
from rivulet.sdk.data import DatasourceKind, ReportChart, SchemaInfo, Text2SQLExample
from rivulet.storage.base import DatasourceRecord, EvaluationItem, EvaluationRecord, ReportRecord
from rivulet.storage.data_rules import (
    DATASOURCE_KINDS,
    EVALUATION_KINDS,
    EVALUATION_METRICS,
    EVALUATION_STATUSES,
    as_stored,
    check_choice,
    datasource_not_found,
    evaluation_not_found,
    report_not_found,
)
from rivulet.storage.knowledge_rules import check_name, check_no_nul, clean_error

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rivulet.storage.base import EvaluationMetric, EvaluationStatus

__all__ = ("MemoryDatasourceStore", "MemoryEvaluationStore", "MemoryReportStore")


def _now() -> datetime:
    return datetime.now(UTC)


class MemoryDatasourceStore:
    """A ``DatasourceStore`` in dictionaries (same behaviour as ``PostgresDatasourceStore``)."""

    def __init__(self) -> None:
        self._records: dict[str, DatasourceRecord] = {}
        self._schemas: dict[str, SchemaInfo] = {}

    def _record(self, datasource_id: str) -> DatasourceRecord:
        try:
            return self._records[datasource_id]
        except KeyError:
            raise datasource_not_found(datasource_id) from None

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
        if any(r.name == name for r in self._records.values()):
            raise ConflictError(f"data source {name!r} already exists", extra={"datasource": name})
        now = _now()
        record = DatasourceRecord(
            id=random_id(),
            name=name,
            kind=kind,
            description=description,
            config=as_stored(config or {}, dict[str, Any]),
            secret_name=secret_name,
            examples=as_stored(list(examples), list[Text2SQLExample]),
            owner_id=owner_id,
            workspace_id=workspace_id,
            created_at=now,
            updated_at=now,
        )
        self._records[record.id] = record
        return record

    async def get(self, datasource: str) -> DatasourceRecord:
        if datasource in self._records:
            return self._records[datasource]
        for record in self._records.values():
            if record.name == datasource:
                return record
        raise datasource_not_found(datasource)

    async def list(self) -> list[DatasourceRecord]:
        return sorted(self._records.values(), key=lambda r: r.name)

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
        record = self._record(datasource_id)
        changes: dict[str, Any] = {"updated_at": _now()}
        if description is not None:
            changes["description"] = description
        if secret_name is not None:
            changes["secret_name"] = secret_name
        if examples is not None:
            changes["examples"] = as_stored(list(examples), list[Text2SQLExample])
        if config is not None:
            stored = as_stored(config, dict[str, Any])
            if stored != record.config:
                self._schemas.pop(datasource_id, None)
                changes["schema_refreshed_at"] = None
            changes["config"] = stored
        record = msgspec.structs.replace(record, **changes)
        self._records[datasource_id] = record
        return record

    async def delete(self, datasource_id: str) -> None:
        self._record(datasource_id)
        del self._records[datasource_id]
        self._schemas.pop(datasource_id, None)

    async def set_schema(self, datasource_id: str, schema: SchemaInfo) -> DatasourceRecord:
        record = self._record(datasource_id)
        refreshed_at = schema.refreshed_at or _now()
        self._schemas[datasource_id] = as_stored(msgspec.structs.replace(schema, refreshed_at=refreshed_at), SchemaInfo)
        record = msgspec.structs.replace(record, schema_refreshed_at=refreshed_at)
        self._records[datasource_id] = record
        return record

    async def get_schema(self, datasource_id: str) -> SchemaInfo | None:
        self._record(datasource_id)
        return self._schemas.get(datasource_id)


class MemoryReportStore:
    """A ``ReportStore`` in dictionaries (same behaviour as ``PostgresReportStore``)."""

    def __init__(self) -> None:
        self._records: dict[str, ReportRecord] = {}
        self._tokens: dict[str, str] = {}
        """Share token hash -> report id."""

    def _record(self, report_id: str) -> ReportRecord:
        try:
            return self._records[report_id]
        except KeyError:
            raise report_not_found(report_id) from None

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
        now = _now()
        record = ReportRecord(
            id=random_id(),
            title=clean_error(title),
            summary=clean_error(summary),
            charts=as_stored(list(charts), list[ReportChart]),
            datasource=datasource,
            flow_id=flow_id,
            run_id=run_id,
            owner_id=owner_id,
            workspace_id=workspace_id,
            created_at=now,
            updated_at=now,
        )
        self._records[record.id] = record
        return record

    async def get(self, report_id: str) -> ReportRecord:
        return self._record(report_id)

    async def list(self, *, owner_id: str | None = None, limit: int = 100) -> list[ReportRecord]:
        newest_first = reversed(self._records.values())
        found = [r for r in newest_first if owner_id is None or r.owner_id == owner_id]
        return found[: max(limit, 0)]

    async def update(
        self,
        report_id: str,
        *,
        title: str | None = None,
        summary: str | None = None,
        charts: Sequence[ReportChart] | None = None,
    ) -> ReportRecord:
        record = self._record(report_id)
        record = msgspec.structs.replace(
            record,
            title=record.title if title is None else clean_error(title),
            summary=record.summary if summary is None else clean_error(summary),
            charts=record.charts if charts is None else as_stored(list(charts), list[ReportChart]),
            updated_at=_now(),
        )
        self._records[report_id] = record
        return record

    async def delete(self, report_id: str) -> None:
        self._record(report_id)
        del self._records[report_id]
        self._tokens = {h: r for h, r in self._tokens.items() if r != report_id}

    async def set_share_token(self, report_id: str, token_hash: str | None) -> ReportRecord:
        check_no_nul(token_hash=token_hash)
        record = self._record(report_id)
        if token_hash is not None and self._tokens.get(token_hash, report_id) != report_id:
            raise ConflictError("this share token is already in use", extra={"report": report_id})
        self._tokens = {h: r for h, r in self._tokens.items() if r != report_id}
        if token_hash is not None:
            self._tokens[token_hash] = report_id
        record = msgspec.structs.replace(record, shared=token_hash is not None)
        self._records[report_id] = record
        return record

    async def get_shared(self, token_hash: str) -> ReportRecord | None:
        report_id = self._tokens.get(token_hash)
        return None if report_id is None else self._records[report_id]


class MemoryEvaluationStore:
    """An ``EvaluationStore`` in dictionaries (same behaviour as ``PostgresEvaluationStore``)."""

    def __init__(self) -> None:
        self._records: dict[str, EvaluationRecord] = {}
        self._items: dict[str, dict[int, EvaluationItem]] = {}

    def _record(self, evaluation_id: str) -> EvaluationRecord:
        try:
            return self._records[evaluation_id]
        except KeyError:
            raise evaluation_not_found(evaluation_id) from None

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
        record = EvaluationRecord(
            id=random_id(),
            name=name,
            kind=kind,
            flow_id=flow_id,
            flow_version=flow_version,
            dataset=dataset,
            dataset_hash=dataset_hash,
            metric=metric,
            model=model,
            datasource=datasource,
            owner_id=owner_id,
            created_at=_now(),
        )
        self._records[record.id] = record
        self._items[record.id] = {}
        return record

    async def add_items(self, evaluation_id: str, items: Sequence[EvaluationItem]) -> None:
        self._record(evaluation_id)
        stored = as_stored(list(items), list[EvaluationItem])
        for item in stored:
            clean = item if item.error is None else msgspec.structs.replace(item, error=clean_error(item.error))
            self._items[evaluation_id][item.index] = clean

    async def finish(
        self,
        evaluation_id: str,
        *,
        status: EvaluationStatus,
        summary: dict[str, Any],
        error: str | None = None,
    ) -> EvaluationRecord:
        check_choice("status", status, EVALUATION_STATUSES)
        record = msgspec.structs.replace(
            self._record(evaluation_id),
            status=status,
            summary=as_stored(summary, dict[str, Any]),
            error=None if error is None else clean_error(error),
            finished_at=_now(),
        )
        self._records[evaluation_id] = record
        return await self.get(evaluation_id)

    async def get(self, evaluation_id: str) -> EvaluationRecord:
        record = self._record(evaluation_id)
        items = self._items[evaluation_id]
        return msgspec.structs.replace(record, items=[items[i] for i in sorted(items)])

    async def list(self, *, flow_id: str | None = None, limit: int = 100) -> list[EvaluationRecord]:
        newest_first = reversed(self._records.values())
        found = [r for r in newest_first if flow_id is None or r.flow_id == flow_id]
        return found[: max(limit, 0)]

    async def delete(self, evaluation_id: str) -> None:
        self._record(evaluation_id)
        del self._records[evaluation_id], self._items[evaluation_id]
