"""Publishing polish over real HTTP and PostgreSQL: every body error in a 422, call statistics per outcome, flow
names in the run, endpoint and schedule lists."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import msgspec
import pytest

from rivulet.compiler.flow import Edge, FlowDocument, Node
from rivulet.storage.base import CallRecord, EndpointStats
from rivulet.storage.memory import MemoryEndpointStore, MemoryFlowStore
from rivulet.storage.postgres.endpoints import PostgresEndpointStore
from rivulet.storage.postgres.flows import PostgresFlowStore
from tests.integration.publishing_support import greet_flow, schedule_flow, stream_flow
from tests.integration.test_publishing import create_and_publish

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

    from rivulet.storage.base import EndpointStore
    from tests.conftest import LiveServer


def typed_flow(slug: str = "typed", method: str = "POST") -> FlowDocument:
    """``trigger.http(name: Text, age: Int, tags: List[Text], score: Float = 0) -> core.output``."""
    fields: list[dict[str, Any]] = [
        {"name": "name", "type": "Text"},
        {"name": "age", "type": "Int"},
        {"name": "tags", "type": "List[Text]"},
        {"name": "score", "type": "Float", "required": False, "default": 0.0},
    ]
    return FlowDocument(
        name=f"typed {slug}",
        nodes=[
            Node(id="http", operator="trigger.http", params={"slug": slug, "method": method, "fields": fields}),
            Node(id="out", operator="core.output", params={"name": "name"}),
        ],
        edges=[Edge(id="e1", source="http", source_port="name", target="out", target_port="value")],
    )


async def test_a_422_lists_every_invalid_missing_and_unknown_field(live_server: LiveServer) -> None:
    async with live_server.client() as client:
        await create_and_publish(client, typed_flow())
        body = {"age": "ten", "tags": ["a", 2, "c", None], "score": "high", "colour": "red"}
        many = await client.post("/f/typed", json=body)
        one = await client.post("/f/typed", json={"name": "Ada", "age": 3, "tags": [], "score": "x"})
        valid = await client.post("/f/typed", json={"name": "Ada", "age": 3, "tags": ["x"]})
        not_object = await client.post("/f/typed", json=[1, 2])
        not_json = await client.post("/f/typed", content=b"{nope", headers={"content-type": "application/json"})
    assert many.status_code == 422, many.text
    problem = many.json()
    assert problem["code"] == "validation_error"
    assert problem["errors"] == [
        {"path": "$.name", "field": "name", "message": "Object missing required field `name`"},
        {"path": "$.age", "field": "age", "message": "Expected `int`, got `str`"},
        {"path": "$.tags[1]", "field": "tags", "message": "Expected `str`, got `int`"},
        {"path": "$.score", "field": "score", "message": "Expected `float | null`, got `str`"},
        {"path": "$.colour", "field": "colour", "message": "Object contains unknown field `colour`"},
    ]
    assert problem["detail"].startswith("invalid request body for /f/typed: 5 errors ($.name, $.age, $.tags[1],")
    assert one.status_code == 422
    assert one.json()["errors"] == [
        {"path": "$.score", "field": "score", "message": "Expected `float | null`, got `str`"}
    ]
    assert one.json()["detail"] == "invalid request body for /f/typed: Expected `float | null`, got `str` at $.score"
    assert valid.status_code == 200, valid.text
    assert not_object.status_code == 422
    assert not_object.json()["errors"] == [{"path": "$", "field": None, "message": "Expected `object`, got `array`"}]
    assert not_json.status_code == 422
    assert len(not_json.json()["errors"]) == 1


async def test_a_get_endpoint_lists_every_query_error(live_server: LiveServer) -> None:
    async with live_server.client() as client:
        await create_and_publish(client, typed_flow("typed-get", method="GET"))
        many = await client.get("/f/typed-get", params={"age": "ten", "score": "x", "extra": "1"})
    assert many.status_code == 422, many.text
    assert [(e["field"], e["message"]) for e in many.json()["errors"]] == [
        ("name", "Object missing required field `name`"),
        ("age", "Expected `int`, got `str`"),
        ("tags", "Object missing required field `tags`"),
        ("score", "Expected `float | null`, got `str`"),
        ("extra", "Object contains unknown field `extra`"),
    ]


def _by_outcome(stats: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["outcome"]: row for row in stats["by_outcome"]}


async def test_stats_are_kept_per_outcome_and_a_stream_lasts_until_its_end(live_server: LiveServer) -> None:
    delay_s, words = 0.2, 4
    async with live_server.client() as client:
        await create_and_publish(client, greet_flow())
        await create_and_publish(client, stream_flow("tokens", delay_s=delay_s))
        for name in ("Ada", "Bob"):
            assert (await client.post("/f/greet", json={"name": name})).status_code == 200
        assert (await client.post("/f/greet", json={})).status_code == 422
        assert (await client.post("/f/greet?wait=false", json={"name": "Cy"})).status_code == 202
        assert (await client.post("/f/greet", content=b"{" + b" " * 11_000_000 + b"}")).status_code == 413
        assert (await client.get("/f/greet")).status_code == 405
        async with client.stream("POST", "/f/tokens", json={"text": " ".join(["w"] * words)}) as stream:
            assert stream.status_code == 200
            text = "".join([chunk async for chunk in stream.aiter_text()])
        assert "event: result" in text
        endpoints = {e["endpoint"]["slug"]: e for e in (await client.get("/api/endpoints")).json()}
        greet_calls = (await client.get("/api/endpoints/greet/calls")).json()
        token_calls = (await client.get("/api/endpoints/tokens/calls")).json()
    greet = endpoints["greet"]["stats"]
    assert (greet["calls"], greet["errors"]) == (6, 3)
    rows = _by_outcome(greet)
    assert list(rows) == ["ok", "error", "accepted"]
    assert [rows[o]["calls"] for o in rows] == [2, 3, 1]
    assert all(rows[o]["p50_ms"] is not None and rows[o]["p95_ms"] is not None for o in rows)
    assert sorted((c["status"], c["outcome"]) for c in greet_calls) == [
        (200, "ok"),
        (200, "ok"),
        (202, "accepted"),
        (405, "error"),
        (413, "error"),
        (422, "error"),
    ]
    tokens = _by_outcome(endpoints["tokens"]["stats"])
    assert list(tokens) == ["stream"]
    assert tokens["stream"]["calls"] == 1
    # the stream's duration runs to its last event: at least the pauses before its words, not the response start
    assert tokens["stream"]["p50_ms"] >= delay_s * words * 1000
    assert [(c["outcome"], c["status"]) for c in token_calls] == [("stream", 200)]
    assert token_calls[0]["duration_ms"] >= delay_s * words * 1000


@pytest.fixture(params=["memory", "postgres"])
def endpoint_store(request: pytest.FixtureRequest, pool: AsyncConnectionPool) -> EndpointStore:
    return MemoryEndpointStore() if request.param == "memory" else PostgresEndpointStore(pool)


async def test_stores_agree_on_stats_per_outcome_and_read_old_rows_by_status(endpoint_store: EndpointStore) -> None:
    calls = [
        CallRecord(slug="a", caller="key:k", status=200, duration_ms=ms, outcome="ok") for ms in (100.0, 300.0)
    ] + [
        CallRecord(slug="a", caller="key:k", status=422, duration_ms=1.0, outcome="error"),
        CallRecord(slug="a", caller="key:k", status=200, duration_ms=1500.0, outcome="stream"),
        CallRecord(slug="a", caller="key:k", status=202, duration_ms=2.0),  # an older row: no outcome
        CallRecord(slug="b", caller="user:x", status=500, duration_ms=7.0),
    ]
    await endpoint_store.record_calls(calls)
    stats = await endpoint_store.stats()
    a, b = stats["a"], stats["b"]
    assert isinstance(a, EndpointStats)
    assert (a.calls, a.errors, b.calls, b.errors) == (5, 1, 1, 1)
    assert [(o.outcome, o.calls, o.p50_ms) for o in a.by_outcome] == [
        ("ok", 2, 200.0),
        ("error", 1, 1.0),
        ("accepted", 1, 2.0),
        ("stream", 1, 1500.0),
    ]
    assert a.by_outcome[0].p95_ms == pytest.approx(290.0)
    assert [(o.outcome, o.calls) for o in b.by_outcome] == [("error", 1)]
    assert [c.outcome for c in await endpoint_store.calls("a")] == ["accepted", "stream", "error", "ok", "ok"]


async def test_runs_endpoints_and_schedules_carry_their_flows_names(live_server: LiveServer) -> None:
    async with live_server.client() as client:
        first = await create_and_publish(client, msgspec.structs.replace(greet_flow("sum-a"), name="Summariser"))
        second = await create_and_publish(client, msgspec.structs.replace(greet_flow("sum-b"), name="Summariser"))
        ticking = await create_and_publish(client, msgspec.structs.replace(schedule_flow(3600), name="Nightly"))
        for slug in ("sum-a", "sum-b"):
            assert (await client.post(f"/f/{slug}", json={"name": "x"})).status_code == 200
        runs: list[dict[str, Any]] = []
        for _ in range(200):  # the calls' runs are written by the next group commit
            runs = (await client.get("/api/runs")).json()
            if len(runs) == 2:
                break
            await asyncio.sleep(0.05)
        endpoints = (await client.get("/api/endpoints")).json()
        schedules = (await client.get("/api/schedules")).json()
        flows = {f["id"]: f for f in (await client.get("/api/flows")).json()["items"]}
    ids = {first["flow_id"], second["flow_id"]}
    assert len(ids) == 2
    assert {(r["flow_id"], r["flow_name"]) for r in runs} == {(i, "Summariser") for i in ids}
    assert all(r["flow_updated_at"] == flows[r["flow_id"]]["updated_at"] for r in runs)
    assert {(e["endpoint"]["flow_id"], e["flow_name"]) for e in endpoints} == {(i, "Summariser") for i in ids}
    assert all(e["flow_updated_at"] == flows[e["endpoint"]["flow_id"]]["updated_at"] for e in endpoints)
    assert [(s["schedule"]["flow_id"], s["flow_name"]) for s in schedules] == [(ticking["flow_id"], "Nightly")]


async def test_flow_stores_give_summaries_by_id(pool: AsyncConnectionPool) -> None:
    for store in (MemoryFlowStore(), PostgresFlowStore(pool)):
        one = await store.create(FlowDocument(name="One"))
        two = await store.create(FlowDocument(name="Two"))
        found = await store.summaries([one.summary.id, two.summary.id, "missing"])
        assert sorted((s.id, s.name) for s in found) == sorted([(one.summary.id, "One"), (two.summary.id, "Two")])
        assert await store.summaries([]) == []
