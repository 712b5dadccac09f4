"""``/api/evaluations``: start an evaluation of a flow on a JSON-lines dataset (a background job of real runs), list
it by flow, read it with its items, compare two, delete — with permissions per role and located dataset errors."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import httpx
import msgspec
import pytest

from rivulet.compiler.flow import encode_flow
from rivulet.lib.settings import load_settings
from rivulet.storage.postgres.data import PostgresEvaluationStore
from tests.conftest import ADMIN_PASSWORD, ADMIN_USER, alogin_token
from tests.integration.runs_support import create_flow, delay_flow

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from psycopg_pool import AsyncConnectionPool

    from rivulet.lib.settings import Settings
    from tests.conftest import LiveServer

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]

PASSWORD = "a-long-enough-password-1"
DATASET = (
    '{"text": "hello", "expected": "hello"}\n{"text": "good bye", "expected": "bye"}\n{"text": "x", "expected": "y"}\n'
)


@pytest.fixture
def test_settings(tmp_path: Path) -> Settings:
    return load_settings(
        environ={},
        home=str(tmp_path / "home"),
        frontend_dir=str(tmp_path / "no-frontend"),
        admin_user=ADMIN_USER,
        admin_password=ADMIN_PASSWORD,
        sample_datasource=False,
    )


@pytest.fixture
async def users(live_server: LiveServer) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """Clients of the administrator, an editor (ann) and a viewer (vic)."""
    clients: dict[str, httpx.AsyncClient] = {"admin": live_server.client(timeout=30)}
    for name, role in (("ann", "editor"), ("vic", "viewer")):
        created = await clients["admin"].post("/api/users", json={"username": name, "password": PASSWORD, "role": role})
        assert created.status_code == 201, created.text
        token = await alogin_token(live_server.url, name, PASSWORD)
        clients[name] = httpx.AsyncClient(
            base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
    try:
        yield clients
    finally:
        for client in clients.values():
            await client.aclose()


async def _finished(client: httpx.AsyncClient, evaluation_id: str) -> dict[str, Any]:
    for _ in range(200):
        response = await client.get(f"/api/evaluations/{evaluation_id}")
        assert response.status_code == 200, response.text
        record: dict[str, Any] = response.json()
        if record["status"] != "running":
            return record
        await asyncio.sleep(0.05)
    raise AssertionError("the evaluation did not finish")


async def test_start_list_get_compare_delete(live_server: LiveServer, users: dict[str, httpx.AsyncClient]) -> None:
    admin = users["admin"]
    flow_id = await create_flow(live_server, delay_flow(0, name="echo"))
    started = await admin.post(
        "/api/evaluations", json={"flow_id": flow_id, "dataset": DATASET, "metric": "exact", "name": "before"}
    )
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "running"
    exact = await _finished(admin, started.json()["id"])
    assert exact["status"] == "succeeded"
    assert (exact["flow_id"], exact["flow_version"], exact["metric"]) == (flow_id, 1, "exact")
    assert exact["summary"]["total"] == 3
    assert exact["summary"]["passed"] == 1
    assert [item["output"] for item in exact["items"]] == ["hello", "good bye", "x"]
    run_id = exact["items"][0]["details"]["run_id"]
    run = await admin.get(f"/api/runs/{run_id}")  # each item is a real, recorded run
    assert run.status_code == 200, run.text

    second = await admin.post(
        "/api/evaluations",
        json={"flow_id": flow_id, "dataset": DATASET, "metric": "contains", "name": "after"},
    )
    assert second.status_code == 202, second.text
    contains = await _finished(admin, second.json()["id"])
    assert contains["summary"]["passed"] == 2

    listed = await admin.get("/api/evaluations", params={"flow_id": flow_id})
    assert listed.status_code == 200
    assert [r["id"] for r in listed.json()["items"]] == [contains["id"], exact["id"]]
    assert all(r["items"] == [] for r in listed.json()["items"])

    compared = await admin.get("/api/evaluations/compare", params={"a": exact["id"], "b": contains["id"]})
    assert compared.status_code == 200, compared.text
    comparison = compared.json()
    assert [row["status"] for row in comparison["rows"]] == ["same", "fixed", "same"]
    assert comparison["summary"]["fixed"] == 1
    assert comparison["summary"]["same_dataset"] is True
    assert comparison["summary"]["score_delta"] == pytest.approx(1 / 3, abs=1e-3)
    assert comparison["a"]["items"] == []

    assert (await admin.delete(f"/api/evaluations/{exact['id']}")).status_code == 204
    assert (await admin.get(f"/api/evaluations/{exact['id']}")).status_code == 404
    assert (
        await admin.get("/api/evaluations/compare", params={"a": exact["id"], "b": contains["id"]})
    ).status_code == 404


async def test_roles_and_flow_access(live_server: LiveServer, users: dict[str, httpx.AsyncClient]) -> None:
    admin, ann, vic = users["admin"], users["ann"], users["vic"]
    flow_id = await create_flow(live_server, delay_flow(0, name="admins-flow"))  # nobody's: administrators only
    body = {"flow_id": flow_id, "dataset": DATASET}
    started = await admin.post("/api/evaluations", json=body)
    assert started.status_code == 202
    evaluation = await _finished(admin, started.json()["id"])

    # a viewer may not start one at all (data:query); an editor may not run a flow it cannot reach
    assert (await vic.post("/api/evaluations", json=body)).status_code == 403
    assert (await ann.post("/api/evaluations", json=body)).status_code == 404
    # nor see the evaluations of that flow (404 like a missing one; left out of lists)
    assert (await ann.get(f"/api/evaluations/{evaluation['id']}")).status_code == 404
    assert (await vic.get("/api/evaluations")).json()["items"] == []
    assert (await ann.delete(f"/api/evaluations/{evaluation['id']}")).status_code == 404

    # the editor's own flow: it evaluates it, the viewer reads nothing of it
    document = msgspec.json.decode(encode_flow(delay_flow(0, name="anns-flow")))
    created = await ann.post("/api/flows", json={"document": document})
    assert created.status_code == 201, created.text
    own = created.json()["summary"]["id"]
    mine = await ann.post("/api/evaluations", json={"flow_id": own, "dataset": DATASET, "metric": "contains"})
    assert mine.status_code == 202, mine.text
    finished = await _finished(ann, mine.json()["id"])
    assert finished["owner_id"] is not None
    assert [r["id"] for r in (await ann.get("/api/evaluations")).json()["items"]] == [finished["id"]]
    assert (await ann.delete(f"/api/evaluations/{finished['id']}")).status_code == 204


async def test_dataset_errors_are_located(live_server: LiveServer, users: dict[str, httpx.AsyncClient]) -> None:
    admin = users["admin"]
    flow_id = await create_flow(live_server, delay_flow(0, name="echo"))
    cases = [
        ('{"text": "a", "expected": "a"}\n{"text": "b", "expected": }\n', "line 2", "not JSON"),
        ('{"text": "a"}\n', "line 1.expected", "missing"),
        ("\n\n", "$", "empty"),
    ]
    for dataset, path, words in cases:
        response = await admin.post(
            "/api/evaluations", json={"flow_id": flow_id, "dataset": dataset, "dataset_name": "qa.jsonl"}
        )
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["code"] == "validation_error"
        assert body["errors"][0]["path"] == path
        assert words in body["errors"][0]["message"]
    unknown_metric = await admin.post(
        "/api/evaluations", json={"flow_id": flow_id, "dataset": DATASET, "metric": "bleu"}
    )
    assert unknown_metric.status_code in (400, 422)
    no_judge = await admin.post(
        "/api/evaluations", json={"flow_id": flow_id, "dataset": DATASET, "metric": "llm_judge"}
    )
    assert no_judge.status_code == 422
    assert "judge model" in no_judge.json()["detail"]
    missing = await admin.post("/api/evaluations", json={"flow_id": "nope", "dataset": DATASET})
    assert missing.status_code == 404


async def test_an_evaluation_without_a_flow_is_its_owners_alone(
    live_server: LiveServer, users: dict[str, httpx.AsyncClient], pool: AsyncConnectionPool
) -> None:
    """``rivulet eval text2sql`` records have no flow to share them through: an ownerless (CLI) one is the
    administrators', one owned by a user is that user's; anyone else gets 404 and does not see it in lists."""
    store = PostgresEvaluationStore(pool)
    me = (await users["ann"].get("/api/auth/me")).json()
    cli = await store.create(kind="text2sql", dataset="shop.jsonl", dataset_hash="0" * 64, metric="sql_execution")
    anns = await store.create(
        kind="text2sql", dataset="shop.jsonl", dataset_hash="1" * 64, metric="sql_execution", owner_id=me["user_id"]
    )
    for name, expected in (("admin", 200), ("ann", 404), ("vic", 404)):
        response = await users[name].get(f"/api/evaluations/{cli.id}")
        assert response.status_code == expected, (name, response.text)
        listed = {item["id"] for item in (await users[name].get("/api/evaluations")).json()["items"]}
        assert (cli.id in listed) == (name == "admin")
    assert (await users["ann"].get(f"/api/evaluations/{anns.id}")).status_code == 200
    assert anns.id in {item["id"] for item in (await users["ann"].get("/api/evaluations")).json()["items"]}
    assert (await users["vic"].get(f"/api/evaluations/{anns.id}")).status_code == 404
    assert (await users["vic"].get(f"/api/evaluations/compare?a={cli.id}&b={anns.id}")).status_code == 404
