"""The data stores (data sources, reports, evaluations), run against the memory stores and PostgreSQL alike."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from rivulet.lib.exceptions import ConflictError, NotFoundError, ValidationError
from rivulet.sdk.data import ColumnInfo, ReportChart, SchemaInfo, TableInfo, Text2SQLExample
from rivulet.sdk.ports import ChartSpec, Table
from rivulet.storage.base import AuthStore, DatasourceStore, EvaluationItem, EvaluationStore, ReportStore
from rivulet.storage.memory import MemoryAuthStore
from rivulet.storage.memory_data import MemoryDatasourceStore, MemoryEvaluationStore, MemoryReportStore
from rivulet.storage.postgres.auth import PostgresAuthStore
from rivulet.storage.postgres.data import PostgresDatasourceStore, PostgresEvaluationStore, PostgresReportStore

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool


@dataclass
class Stores:
    datasources: DatasourceStore
    reports: ReportStore
    evaluations: EvaluationStore
    auth: AuthStore


@pytest.fixture(params=["memory", "postgres"])
async def stores(request: pytest.FixtureRequest, pool: AsyncConnectionPool) -> Stores:
    if request.param == "memory":
        return Stores(MemoryDatasourceStore(), MemoryReportStore(), MemoryEvaluationStore(), MemoryAuthStore())
    return Stores(
        PostgresDatasourceStore(pool), PostgresReportStore(pool), PostgresEvaluationStore(pool), PostgresAuthStore(pool)
    )


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


SCHEMA = SchemaInfo(
    datasource="shop",
    dialect="sqlite",
    refreshed_at=datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
    tables=[
        TableInfo(
            name="customers",
            comment="people who buy",
            row_count=3,
            columns=[
                ColumnInfo(name="id", type="INTEGER", nullable=False, primary_key=True),
                ColumnInfo(name="name", type="TEXT", comment="full name", samples=["Ada", "Bo\x00b", 3]),
            ],
        ),
        TableInfo(
            name="orders",
            kind="view",
            columns=[ColumnInfo(name="customer_id", type="INTEGER", references="customers.id")],
        ),
    ],
)


def chart(title: str, rows: list[list[Any]] | None = None) -> ReportChart:
    table = Table(
        columns=["month", "total"], rows=rows or [["2026-01", 12.5], ["2026-02", 7]], types=["text", "number"]
    )
    return ReportChart(
        title=title,
        chart=ChartSpec(title=title, kind="bar", option={"xAxis": {"type": "category"}, "series": [{"type": "bar"}]}),
        table=table,
        sql="SELECT month, total FROM sales",
    )


# --- data sources ------------------------------------------------------------------------------------------------


async def test_datasource_is_created_and_found_by_name_or_id(stores: Stores) -> None:
    ds = stores.datasources
    examples = [Text2SQLExample(question="How many customers?", sql="SELECT count(*) FROM customers")]
    record = await ds.create(
        name=unique("shop"),
        kind="sqlite",
        description="the sample shop",
        config={"path": "/tmp/shop.sqlite", "nested": {"a": [1, 2.5, None, True]}},
        examples=examples,
    )
    assert (record.kind, record.description, record.secret_name, record.schema_refreshed_at) == (
        "sqlite",
        "the sample shop",
        None,
        None,
    )
    assert record.config == {"path": "/tmp/shop.sqlite", "nested": {"a": [1, 2.5, None, True]}}
    assert record.examples == examples
    assert record.created_at == record.updated_at
    assert await ds.get(record.id) == record
    assert await ds.get(record.name) == record
    info = record.info()
    assert (info.name, info.kind, info.dialect) == (record.name, "sqlite", "sqlite")
    assert await ds.get_schema(record.id) is None


async def test_datasource_name_taken_is_a_conflict_and_bad_input_is_refused(stores: Stores) -> None:
    ds = stores.datasources
    record = await ds.create(name=unique("pg"), kind="postgres", config={"host": "db"}, secret_name="pg-password")
    assert record.secret_name == "pg-password"
    with pytest.raises(ConflictError, match=record.name):
        await ds.create(name=record.name, kind="duckdb")
    with pytest.raises(ValidationError):
        await ds.create(name="   ", kind="sqlite")
    with pytest.raises(ValidationError, match="kind"):
        await ds.create(name=unique("x"), kind="oracle")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="description"):
        await ds.create(name=unique("x"), kind="sqlite", description="a\x00b")
    assert [r.name for r in await ds.list()] == [record.name]


async def test_datasource_unknown_is_not_found(stores: Stores) -> None:
    ds = stores.datasources
    with pytest.raises(NotFoundError, match="nope"):
        await ds.get("nope")
    with pytest.raises(NotFoundError):
        await ds.update("nope", description="x")
    with pytest.raises(NotFoundError):
        await ds.delete("nope")
    with pytest.raises(NotFoundError):
        await ds.set_schema("nope", SCHEMA)
    with pytest.raises(NotFoundError):
        await ds.get_schema("nope")


async def test_datasources_are_listed_by_name(stores: Stores) -> None:
    ds = stores.datasources
    for name in ("b-shop", "a-shop", "C-shop", "a_shop"):
        await ds.create(name=name, kind="sqlite")
    assert [r.name for r in await ds.list()] == sorted(["b-shop", "a-shop", "C-shop", "a_shop"])


async def test_datasource_owner_must_exist(stores: Stores) -> None:
    user = await stores.auth.create_user(unique("owner"), "a-long-password-1")
    record = await stores.datasources.create(name=unique("mine"), kind="duckdb", owner_id=user.id)
    assert record.owner_id == user.id
    if isinstance(stores.datasources, PostgresDatasourceStore):
        with pytest.raises(NotFoundError):
            await stores.datasources.create(name=unique("mine"), kind="duckdb", owner_id="no-such-user")


async def test_datasource_schema_round_trips_with_its_datetime(stores: Stores) -> None:
    ds = stores.datasources
    record = await ds.create(name=unique("shop"), kind="sqlite", config={"path": "a.sqlite"})
    updated = await ds.set_schema(record.id, SCHEMA)
    assert updated.schema_refreshed_at == SCHEMA.refreshed_at
    stored = await ds.get_schema(record.id)
    assert stored == SCHEMA
    assert stored is not None
    assert stored.refreshed_at is not None
    assert stored.refreshed_at.tzinfo is not None
    assert stored.table("customers") is not None
    assert (await ds.get(record.id)).schema_refreshed_at == SCHEMA.refreshed_at

    # a schema without a time is stamped with the store's
    before = datetime.now(UTC)
    bare = SchemaInfo(datasource=record.name, dialect="sqlite", tables=[TableInfo(name="t")])
    stamped = await ds.set_schema(record.id, bare)
    assert stamped.schema_refreshed_at is not None
    assert stamped.schema_refreshed_at >= before
    again = await ds.get_schema(record.id)
    assert again is not None
    assert again.refreshed_at == stamped.schema_refreshed_at
    assert [t.name for t in again.tables] == ["t"]


async def test_datasource_update_changes_what_is_given_and_a_new_config_drops_the_schema(stores: Stores) -> None:
    ds = stores.datasources
    record = await ds.create(name=unique("shop"), kind="sqlite", config={"path": "a.sqlite"}, description="old")
    await ds.set_schema(record.id, SCHEMA)

    # no config change: the schema stays
    kept = await ds.update(
        record.id,
        description="new",
        secret_name="s1",
        examples=[Text2SQLExample(question="q", sql="SELECT 1")],
        config={"path": "a.sqlite"},
    )
    assert (kept.description, kept.secret_name, kept.config) == ("new", "s1", {"path": "a.sqlite"})
    assert kept.examples == [Text2SQLExample(question="q", sql="SELECT 1")]
    assert kept.updated_at > record.updated_at
    assert kept.schema_refreshed_at == SCHEMA.refreshed_at
    assert await ds.get_schema(record.id) == SCHEMA

    # None keeps every field
    same = await ds.update(record.id)
    assert (same.description, same.secret_name, same.examples, same.config) == (
        kept.description,
        kept.secret_name,
        kept.examples,
        kept.config,
    )

    # a different config drops the cached schema
    moved = await ds.update(record.id, config={"path": "b.sqlite"})
    assert moved.config == {"path": "b.sqlite"}
    assert moved.schema_refreshed_at is None
    assert await ds.get_schema(record.id) is None
    assert (await ds.get(record.name)).config == {"path": "b.sqlite"}


async def test_datasource_delete_removes_it_and_its_schema(stores: Stores) -> None:
    ds = stores.datasources
    record = await ds.create(name=unique("gone"), kind="file", config={"files": [{"table": "t", "path": "t.csv"}]})
    await ds.set_schema(record.id, SCHEMA)
    await ds.delete(record.id)
    with pytest.raises(NotFoundError):
        await ds.get(record.id)
    with pytest.raises(NotFoundError):
        await ds.get_schema(record.id)
    assert await ds.list() == []
    # the name is free again
    again = await ds.create(name=record.name, kind="file")
    assert again.id != record.id


async def test_stored_values_do_not_change_with_the_callers_objects(stores: Stores) -> None:
    config: dict[str, Any] = {"files": [{"table": "t", "path": "t.csv"}]}
    record = await stores.datasources.create(name=unique("f"), kind="file", config=config)
    config["files"].append({"table": "u"})
    assert (await stores.datasources.get(record.id)).config == {"files": [{"table": "t", "path": "t.csv"}]}


# --- reports -----------------------------------------------------------------------------------------------------


async def test_report_crud(stores: Stores) -> None:
    reports = stores.reports
    report = await reports.create(
        title="Sales", summary="**Up** 10 %", charts=[chart("by month")], datasource="shop", flow_id="f1", run_id="r1"
    )
    assert (report.title, report.summary, report.datasource, report.flow_id, report.run_id) == (
        "Sales",
        "**Up** 10 %",
        "shop",
        "f1",
        "r1",
    )
    assert report.charts == [chart("by month")]
    assert report.shared is False
    assert await reports.get(report.id) == report

    changed = await reports.update(report.id, title="Sales 2026", charts=[chart("a"), chart("b", [["x", 1]])])
    assert (changed.title, changed.summary) == ("Sales 2026", "**Up** 10 %")
    assert [c.title for c in changed.charts] == ["a", "b"]
    assert changed.charts[1].table is not None
    assert changed.charts[1].table.rows == [["x", 1]]
    assert changed.updated_at > report.updated_at
    assert changed.created_at == report.created_at
    assert (await reports.update(report.id, summary="")).summary == ""
    assert (await reports.get(report.id)).title == "Sales 2026"

    await reports.delete(report.id)
    with pytest.raises(NotFoundError):
        await reports.get(report.id)
    with pytest.raises(NotFoundError):
        await reports.delete(report.id)
    with pytest.raises(NotFoundError):
        await reports.update(report.id, title="x")
    with pytest.raises(NotFoundError):
        await reports.set_share_token(report.id, token_hash("t"))


async def test_report_text_with_nul_is_kept_readable(stores: Stores) -> None:
    report = await stores.reports.create(title="a\x00b", summary="c\x00d", charts=[chart("t", [["nul\x00", 1]])])
    stored = await stores.reports.get(report.id)
    assert (stored.title, stored.summary) == ("a\ufffdb", "c\ufffdd")
    assert stored.charts[0].table is not None
    assert stored.charts[0].table.rows == [["nul\x00", 1]]


async def test_reports_are_listed_newest_first_and_by_owner(stores: Stores) -> None:
    reports = stores.reports
    ada = await stores.auth.create_user(unique("ada"), "a-long-password-1")
    first = await reports.create(title="one", owner_id=ada.id)
    second = await reports.create(title="two")
    third = await reports.create(title="three", owner_id=ada.id)
    assert [r.id for r in await reports.list()] == [third.id, second.id, first.id]
    assert [r.id for r in await reports.list(owner_id=ada.id)] == [third.id, first.id]
    assert [r.id for r in await reports.list(limit=1)] == [third.id]
    assert await reports.list(owner_id="nobody") == []


async def test_report_share_token_set_replace_revoke(stores: Stores) -> None:
    reports = stores.reports
    report = await reports.create(title="shared", charts=[chart("c")])
    other = await reports.create(title="other")
    assert await reports.get_shared(token_hash("first")) is None

    shared = await reports.set_share_token(report.id, token_hash("first"))
    assert shared.shared is True
    assert (await reports.get(report.id)).shared is True
    found = await reports.get_shared(token_hash("first"))
    assert found is not None
    assert found.id == report.id
    assert found.charts == [chart("c")]

    # a new token replaces the old one
    await reports.set_share_token(report.id, token_hash("second"))
    assert await reports.get_shared(token_hash("first")) is None
    found = await reports.get_shared(token_hash("second"))
    assert found is not None
    assert found.id == report.id
    # setting the same hash again is not a conflict
    assert (await reports.set_share_token(report.id, token_hash("second"))).shared is True

    # a hash is unique across reports
    with pytest.raises(ConflictError):
        await reports.set_share_token(other.id, token_hash("second"))
    assert (await reports.get(other.id)).shared is False

    # revoke
    revoked = await reports.set_share_token(report.id, None)
    assert revoked.shared is False
    assert await reports.get_shared(token_hash("second")) is None
    # the revoked hash is free again
    assert (await reports.set_share_token(other.id, token_hash("second"))).shared is True

    # deleting a shared report kills its link
    await reports.delete(other.id)
    assert await reports.get_shared(token_hash("second")) is None


# --- evaluations -------------------------------------------------------------------------------------------------


def item(index: int, *, score: float = 1.0, **kwargs: Any) -> EvaluationItem:
    return EvaluationItem(
        index=index,
        inputs={"question": f"q{index}"},
        expected={"rows": [[index]]},
        output=[[index]],
        score=score,
        passed=score == 1.0,
        details={"sql": f"SELECT {index}", "repairs": 0},
        duration_ms=12.5,
        **kwargs,
    )


async def new_evaluation(stores: Stores, **kwargs: Any) -> Any:
    fields: dict[str, Any] = {"dataset": "shop_text2sql.jsonl", "dataset_hash": "ab" * 32, "metric": "sql_execution"}
    return await stores.evaluations.create(**{**fields, **kwargs})


async def test_evaluation_lifecycle(stores: Stores) -> None:
    evaluations = stores.evaluations
    record = await new_evaluation(
        stores, name="baseline", kind="text2sql", model="qwen", datasource="shop", flow_id=None
    )
    assert (record.status, record.items, record.summary, record.finished_at) == ("running", [], {}, None)
    assert (record.kind, record.metric, record.model, record.datasource) == (
        "text2sql",
        "sql_execution",
        "qwen",
        "shop",
    )

    await evaluations.add_items(record.id, [item(2), item(0, score=0.0, error="no such column")])
    await evaluations.add_items(record.id, [item(1, score=0.5)])
    # the same index again replaces the stored item
    await evaluations.add_items(record.id, [item(0, score=1.0)])
    await evaluations.add_items(record.id, [])

    got = await evaluations.get(record.id)
    assert [i.index for i in got.items] == [0, 1, 2]
    assert got.items[0] == item(0, score=1.0)
    assert got.items[1] == item(1, score=0.5)
    assert got.items[1].passed is False

    summary = {"total": 3, "passed": 2, "score": 0.8333, "errors": 0, "baseline_score": 0.5}
    finished = await evaluations.finish(record.id, status="succeeded", summary=summary)
    assert (finished.status, finished.summary, finished.error) == ("succeeded", summary, None)
    assert finished.finished_at is not None
    assert finished.finished_at >= finished.created_at
    assert len(finished.items) == 3
    assert await evaluations.get(record.id) == finished

    await evaluations.delete(record.id)
    with pytest.raises(NotFoundError):
        await evaluations.get(record.id)
    with pytest.raises(NotFoundError):
        await evaluations.delete(record.id)


async def test_evaluation_items_keep_any_json_and_errors(stores: Stores) -> None:
    record = await new_evaluation(stores)
    odd = EvaluationItem(
        index=7,
        inputs={"text": "nul\x00here", "n": [1, 2.5, None]},
        expected=None,
        output="plain text",
        error="boom\x00",
    )
    await stores.evaluations.add_items(record.id, [odd])
    (stored,) = (await stores.evaluations.get(record.id)).items
    assert stored.inputs == {"text": "nul\x00here", "n": [1, 2.5, None]}
    assert (stored.expected, stored.output, stored.error) == (None, "plain text", "boom\ufffd")
    failed = await stores.evaluations.finish(record.id, status="failed", summary={}, error="dataset broken")
    assert (failed.status, failed.error) == ("failed", "dataset broken")


async def test_evaluations_are_listed_newest_first_without_items_and_by_flow(stores: Stores) -> None:
    evaluations = stores.evaluations
    a = await new_evaluation(stores, flow_id="flow-a", flow_version=1, metric="exact")
    b = await new_evaluation(stores, flow_id="flow-b", metric="contains")
    c = await new_evaluation(stores, flow_id="flow-a", flow_version=2, metric="llm_judge")
    await evaluations.add_items(a.id, [item(0)])
    listed = await evaluations.list()
    assert [r.id for r in listed] == [c.id, b.id, a.id]
    assert all(r.items == [] for r in listed)
    assert [r.id for r in await evaluations.list(flow_id="flow-a")] == [c.id, a.id]
    assert [r.flow_version for r in await evaluations.list(flow_id="flow-a")] == [2, 1]
    assert [r.id for r in await evaluations.list(limit=2)] == [c.id, b.id]
    assert await evaluations.list(flow_id="flow-z") == []


async def test_evaluation_unknown_and_bad_input(stores: Stores) -> None:
    evaluations = stores.evaluations
    with pytest.raises(NotFoundError):
        await evaluations.add_items("nope", [item(0)])
    with pytest.raises(NotFoundError):
        await evaluations.finish("nope", status="failed", summary={})
    with pytest.raises(ValidationError, match="metric"):
        await new_evaluation(stores, metric="bleu")
    record = await new_evaluation(stores)
    with pytest.raises(ValidationError, match="status"):
        await evaluations.finish(record.id, status="paused", summary={})  # type: ignore[arg-type]
