"""Published endpoints over real HTTP: publish, call with and without keys, 422s, SSE, limits, unpublish."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import msgspec

from rivulet.compiler.flow import encode_flow
from tests.conftest import ADMIN_PASSWORD, ADMIN_USER, serve_app
from tests.integration.publishing_support import greet_flow, slow_flow, stream_flow

if TYPE_CHECKING:
    import httpx

    from rivulet.compiler.flow import FlowDocument
    from tests.conftest import LiveServer


async def create_and_publish(client: httpx.AsyncClient, document: FlowDocument, **publish: Any) -> dict[str, Any]:
    created = await client.post("/api/flows", json={"document": msgspec.json.decode(encode_flow(document))})
    assert created.status_code == 201, created.text
    flow_id = created.json()["summary"]["id"]
    published = await client.post(f"/api/flows/{flow_id}/publish", json=publish)
    assert published.status_code == 200, published.text
    result: dict[str, Any] = published.json()
    return result


async def new_key(client: httpx.AsyncClient, **body: Any) -> str:
    created = await client.post("/api/api-keys", json={"name": "test", **body})
    assert created.status_code == 201, created.text
    secret: str = created.json()["secret"]
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def test_publish_and_call_with_and_without_a_key(live_server: LiveServer) -> None:
    async with live_server.client() as admin, live_server.anonymous() as anon:
        result = await create_and_publish(admin, greet_flow())
        assert result["endpoint"]["path"] == "/f/greet"
        key = await new_key(admin, endpoints=["greet"])
        without = await anon.post("/f/greet", json={"name": "Ada"})
        forged = await anon.post("/f/greet", json={"name": "Ada"}, headers=bearer("rvk_forged"))
        called = await anon.post("/f/greet", json={"name": "Ada"}, headers=bearer(key))
        via_header = await anon.post("/f/greet", json={"name": "Bob"}, headers={"X-API-Key": key})
    assert without.status_code == 401
    assert forged.status_code == 401
    assert called.status_code == 200, called.text
    assert called.json() == "Hello, Ada!"
    assert called.headers["x-rivulet-run-id"]
    assert via_header.json() == "Hello, Bob!"


async def test_bad_body_is_a_422_naming_the_field(live_server: LiveServer) -> None:
    async with live_server.client() as client:
        await create_and_publish(client, greet_flow())
        missing = await client.post("/f/greet", json={})
        wrong = await client.post("/f/greet", json={"name": "x", "excited": "very"})
        unknown = await client.post("/f/greet", json={"name": "x", "colour": "red"})
        not_json = await client.post("/f/greet", content=b"{nope", headers={"content-type": "application/json"})
    assert missing.status_code == 422
    assert missing.json()["errors"] == [
        {"path": "$.name", "field": "name", "message": "Object missing required field `name`"}
    ]
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "excited"
    assert "Expected `bool | null`, got `str`" in wrong.json()["errors"][0]["message"]
    assert unknown.json()["errors"][0]["field"] == "colour"
    assert not_json.status_code == 422


async def test_every_method_reaches_the_gateway_and_a_huge_body_is_a_413(live_server: LiveServer) -> None:
    async with live_server.client() as client:
        await create_and_publish(client, greet_flow())
        others = {m: await client.request(m, "/f/greet", json={"name": "x"}) for m in ("PUT", "PATCH", "DELETE", "GET")}
        huge = await client.post("/f/greet", content=b"{" + b" " * 11_000_000 + b"}")
    assert {m: r.status_code for m, r in others.items()} == dict.fromkeys(others, 405)
    assert all(r.json()["code"] == "http_405" for r in others.values())
    assert huge.status_code == 413
    assert huge.json()["code"] == "http_413"


async def test_a_get_endpoint_takes_its_fields_from_the_query(live_server: LiveServer) -> None:
    async with live_server.client() as client:
        await create_and_publish(client, greet_flow("hello", method="GET"))
        called = await client.get("/f/hello", params={"name": "Ada", "excited": "true", "wait": "true"})
        missing = await client.get("/f/hello")
        bad_wait = await client.get("/f/hello", params={"name": "Ada", "wait": "maybe"})
        posted = await client.post("/f/hello", json={"name": "Ada"})
    assert called.status_code == 200, called.text
    assert called.json() == "Hello, Ada!"
    assert called.headers["content-type"] == "application/json"
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "name"
    assert bad_wait.status_code == 422
    assert bad_wait.json()["errors"] == [{"path": "$.wait", "field": "wait", "message": "expected true or false"}]
    assert posted.status_code == 405


async def test_key_scope_revocation_and_method(live_server: LiveServer) -> None:
    async with live_server.client() as admin, live_server.anonymous() as anon:
        await create_and_publish(admin, greet_flow())
        other = await new_key(admin, endpoints=["something-else"])
        scoped_out = await anon.post("/f/greet", json={"name": "x"}, headers=bearer(other))
        key = await new_key(admin)
        wrong_method = await anon.get("/f/greet", headers=bearer(key))
        keys = (await admin.get("/api/api-keys")).json()
        key_id = next(k["id"] for k in keys if k["endpoints"] == [])
        assert all("secret" not in k and "key_hash" not in k for k in keys)
        assert (await admin.delete(f"/api/api-keys/{key_id}")).status_code == 200
        revoked = await anon.post("/f/greet", json={"name": "x"}, headers=bearer(key))
    assert scoped_out.status_code == 403
    assert wrong_method.status_code == 405
    assert revoked.status_code == 401


async def test_sse_streams_tokens_before_the_run_completes(live_server: LiveServer) -> None:
    async with live_server.client(timeout=30) as client:
        await create_and_publish(client, stream_flow(delay_s=0.3))
        events: list[tuple[str, Any]] = []
        status_at_first_token = None
        async with client.stream("POST", "/f/tokens", json={"text": "one two three four"}) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            run_id = response.headers["x-rivulet-run-id"]
            event = ""
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:"):
                    events.append((event, json.loads(line.split(":", 1)[1])))
                    if event == "token" and status_at_first_token is None:
                        run = await client.get(f"/api/runs/{run_id}")
                        status_at_first_token = run.json()["run"]["status"]
    assert status_at_first_token == "running"
    tokens = [data["data"] for kind, data in events if kind == "token"]
    assert tokens == ["one ", "two ", "three ", "four"]
    assert events[-1] == ("result", {"run_id": run_id, "status": "succeeded", "output": "one two three four"})


async def test_rate_limit_is_a_429_with_retry_after(live_server: LiveServer) -> None:
    async with live_server.client() as admin, live_server.anonymous() as anon:
        await create_and_publish(admin, greet_flow())
        key = await new_key(admin, rate_limit_per_minute=2)
        statuses = [(await anon.post("/f/greet", json={"name": "x"}, headers=bearer(key))) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert int(statuses[2].headers["retry-after"]) >= 1
    assert statuses[2].json()["code"] == "rate_limited"


async def test_concurrency_limit_and_wait_false(live_server: LiveServer) -> None:
    async with live_server.client() as client:
        await create_and_publish(client, slow_flow(seconds=1.5), concurrency_limit=1)
        first = await client.post("/f/slow?wait=false", json={"text": "a"})
        second = await client.post("/f/slow?wait=false", json={"text": "b"})
        assert first.status_code == 202, first.text
        assert second.status_code == 429
        assert second.headers["retry-after"] == "1"
        status_url = first.json()["status_url"]
        for _ in range(200):
            run = (await client.get(status_url)).json()["run"]
            if run["status"] != "running":
                break
            await asyncio.sleep(0.05)
    assert run["status"] == "succeeded"
    assert run["outputs"] == {"text": "a"}


async def test_unpublish_is_404_and_republish_serves_the_new_version(live_server: LiveServer) -> None:
    async with live_server.client() as client:
        result = await create_and_publish(client, greet_flow())
        flow_id = result["flow_id"]
        assert (await client.post("/f/greet", json={"name": "x"})).json() == "Hello, x!"
        document = msgspec.json.decode(encode_flow(greet_flow(greeting="Bonjour")))
        flow = (await client.get(f"/api/flows/{flow_id}")).json()
        saved = await client.put(
            f"/api/flows/{flow_id}", json={"document": document, "base_version": flow["summary"]["version"]}
        )
        assert saved.status_code == 200, saved.text
        assert (await client.post(f"/api/flows/{flow_id}/publish", json={})).json()["version"] == 2
        assert (await client.post("/f/greet", json={"name": "x"})).json() == "Bonjour, x!"
        assert (await client.delete(f"/api/flows/{flow_id}/publish")).json() == {"unpublished": ["greet"]}
        gone = await client.post("/f/greet", json={"name": "x"})
    assert gone.status_code == 404


async def test_publish_without_trigger_or_with_a_taken_slug(live_server: LiveServer) -> None:
    async with live_server.client() as client:
        await create_and_publish(client, greet_flow())
        document = msgspec.json.decode(encode_flow(greet_flow()))
        other = (await client.post("/api/flows", json={"document": document})).json()["summary"]["id"]
        taken = await client.post(f"/api/flows/{other}/publish", json={})
        document["nodes"] = [n for n in document["nodes"] if n["id"] == "out"]
        document["edges"] = []
    assert taken.status_code == 409


async def test_openapi_audit_and_stats(live_server: LiveServer) -> None:
    async with live_server.client() as admin, live_server.anonymous() as anon:
        await create_and_publish(admin, greet_flow())
        key = await new_key(admin, endpoints=["greet"])
        await anon.post("/f/greet", json={"name": "x"}, headers=bearer(key))
        await anon.post("/f/greet", json={}, headers=bearer(key))
        spec = (await admin.get("/f/openapi.json")).json()
        calls = (await admin.get("/api/endpoints/greet/calls")).json()
        endpoints = (await admin.get("/api/endpoints")).json()
    operation = spec["paths"]["/f/greet"]["post"]
    body_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body_schema = spec["components"]["schemas"][body_ref.rsplit("/", 1)[1]]
    assert body_schema["required"] == ["name"]
    assert set(body_schema["properties"]) == {"name", "excited"}
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {"type": "string"}
    assert [(c["status"], c["caller"]) for c in calls] == [(422, "key:test"), (200, "key:test")]
    assert calls[1]["run_id"]
    assert endpoints[0]["stats"]["calls"] == 2
    assert endpoints[0]["stats"]["errors"] == 1


async def test_publish_reaches_every_replica_without_restart(live_server: LiveServer, db_url: str) -> None:
    async with serve_app(db_url, live_server.settings) as replica, live_server.client() as a, replica.client() as b:
        assert (await b.post("/f/greet", json={"name": "x"})).status_code == 404  # cached as absent on b
        result = await create_and_publish(a, greet_flow())
        answers: list[object] = []
        for _ in range(300):  # the change notice travels through Postgres (milliseconds, longer on a loaded machine)
            answers.append((await b.post("/f/greet", json={"name": "x"})).json())
            if answers[-1] == "Hello, x!":
                break
            await asyncio.sleep(0.01)
        assert answers[-1] == "Hello, x!"
        await a.delete(f"/api/flows/{result['flow_id']}/publish")
        statuses: list[int] = []
        for _ in range(300):  # the change notice travels through Postgres; it normally lands in milliseconds
            statuses.append((await b.post("/f/greet", json={"name": "x"})).status_code)
            if statuses[-1] == 404:
                break
            await asyncio.sleep(0.01)
    assert statuses[-1] == 404


async def _stored(live_server: LiveServer, run_id: str) -> tuple[str, int, int]:
    """(status, node rows, events) of a run once the recorder has written it to Postgres."""
    pool = live_server.app.state["services"].pool
    for _ in range(200):
        async with pool.connection() as conn:
            row = await (await conn.execute("SELECT status FROM runs WHERE id = %s", (run_id,))).fetchone()
            if row is not None:
                nodes = await (
                    await conn.execute("SELECT count(*) FROM node_runs WHERE run_id = %s", (run_id,))
                ).fetchone()
                events = await (
                    await conn.execute("SELECT count(*) FROM run_events WHERE run_id = %s", (run_id,))
                ).fetchone()
                assert nodes is not None
                assert events is not None
                return str(row[0]), int(nodes[0]), int(events[0])
        await asyncio.sleep(0.025)
    raise AssertionError(f"run {run_id} was never recorded")


async def test_every_call_is_a_recorded_run_in_summary_or_in_full(live_server: LiveServer) -> None:
    async with live_server.client() as admin, live_server.anonymous() as anon:
        await create_and_publish(admin, greet_flow("brief"))
        await create_and_publish(admin, greet_flow("traced", history="full"))
        key = await new_key(admin)
        calls = {
            slug: await anon.post(f"/f/{slug}", json={"name": "Ada"}, headers=bearer(key))
            for slug in ("brief", "traced")
        }
        polled = {
            slug: await anon.get(f"/f/{slug}/runs/{call.headers['x-rivulet-run-id']}", headers=bearer(key))
            for slug, call in calls.items()
        }
    for slug, call in calls.items():
        assert call.status_code == 200, call.text
        assert call.json() == "Hello, Ada!"
        assert polled[slug].status_code == 200, polled[slug].text  # readable at once, written or not yet
        assert polled[slug].json()["run"]["status"] == "succeeded"
        assert polled[slug].json()["run"]["outputs"] == {"greeting": "Hello, Ada!"}
    assert polled["brief"].json()["nodes"] == []
    assert {n["node_id"] for n in polled["traced"].json()["nodes"]} == {"http", "tpl", "out"}
    assert await _stored(live_server, calls["brief"].headers["x-rivulet-run-id"]) == ("succeeded", 0, 2)
    status, nodes, events = await _stored(live_server, calls["traced"].headers["x-rivulet-run-id"])
    assert (status, nodes) == ("succeeded", 3)
    assert events > 2


async def test_a_streamed_output_answers_json_with_the_whole_text(live_server: LiveServer) -> None:
    async with live_server.client() as admin, live_server.anonymous() as anon:
        await create_and_publish(admin, stream_flow("joined", delay_s=0.01, response="json"))
        key = await new_key(admin)
        called = await anon.post("/f/joined", json={"text": "one two three"}, headers=bearer(key))
    assert called.status_code == 200, called.text
    assert called.json() == "one two three"


async def test_endpoint_calls_by_cookie_keep_the_origin_check(live_server: LiveServer) -> None:
    # header credentials are served by the fast path; a session cookie goes through AuthMiddleware's origin check
    async with live_server.client() as admin:
        await create_and_publish(admin, greet_flow(slug="cookie-greet"))
    async with live_server.anonymous() as browser:
        login = await browser.post("/api/auth/login", json={"username": ADMIN_USER, "password": ADMIN_PASSWORD})
        assert login.status_code == 200, login.text
        host = live_server.url.removeprefix("http://")
        evil = await browser.post("/f/cookie-greet", json={"name": "Ada"}, headers={"Origin": "https://evil.example"})
        same = await browser.post("/f/cookie-greet", json={"name": "Ada"}, headers={"Origin": f"http://{host}"})
    assert evil.status_code == 403
    assert evil.json()["code"] == "permission_denied"
    assert same.status_code == 200, same.text
    assert same.json() == "Hello, Ada!"


async def test_refusals_on_the_fast_path_are_problem_json(live_server: LiveServer) -> None:
    async with live_server.client() as admin, live_server.anonymous() as anon:
        await create_and_publish(admin, greet_flow(slug="problem-greet"))
        key = await new_key(admin, endpoints=["problem-greet"])
        missing = await anon.post("/f/problem-greet", json={}, headers=bearer(key))
        nowhere = await anon.post("/f/no-such-endpoint", json={}, headers=bearer(key))
        openapi = await anon.get("/f/openapi.json", headers=bearer(key))
    assert missing.status_code == 422
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["code"] == "validation_error"
    assert missing.json()["errors"][0]["field"] == "name"
    assert nowhere.status_code == 404
    assert nowhere.headers["content-type"].startswith("application/problem+json")
    assert nowhere.json()["slug"] == "no-such-endpoint"
    assert openapi.status_code == 200  # not an endpoint: the ordinary route serves the document
    assert "/f/problem-greet" in openapi.json()["paths"]
