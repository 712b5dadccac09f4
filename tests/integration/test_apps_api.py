"""Chat apps over real HTTP and PostgreSQL: ``/api/apps`` (management, share links, feedback) and ``/api/chat``.

The model is a scripted OpenAI-compatible server on loopback (``tests/integration/openai_server.py``): each chat
request it gets is recorded, so a test sees what the flow's memory sent on the second turn. The flow is the
built-in ``chat-assistant`` template (message + session → conversation memory → llm.chat → answer).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from rivulet.compiler.flow import Edge, FlowDocument, Node, encode_flow
from tests.conftest import alogin_token
from tests.integration.openai_server import API_KEY, ECHO_MODEL, ScriptedOpenAI, serve_openai

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import httpx

    from tests.conftest import LiveServer

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]

VISITOR = "visitor-0123456789abcdef"
OTHER_VISITOR = "visitor-fedcba9876543210"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dbgpt"


@pytest.fixture
async def upstream() -> AsyncIterator[ScriptedOpenAI]:
    async with serve_openai() as server:
        yield server


@pytest.fixture
async def admin(live_server: LiveServer, upstream: ScriptedOpenAI) -> AsyncIterator[httpx.AsyncClient]:
    async with live_server.client(timeout=60) as client:
        assert (await client.put("/api/secrets/openai-key", json={"value": API_KEY})).status_code == 200
        for name, model in (("remote", "gpt-test"), ("echo", ECHO_MODEL)):
            body = {
                "name": name,
                "provider": "openai_compatible",
                "params": {"base_url": upstream.url, "model": model, "api_key_secret": "openai-key"},
                "allow_private_network": True,
            }
            assert (await client.post("/api/models", json=body)).status_code == 201
        yield client


async def _assistant_flow(client: httpx.AsyncClient, model: str = "remote") -> str:
    report = await client.post("/api/templates/import", json={"name": "chat-assistant", "variables": {"model": model}})
    assert report.status_code == 201, report.text
    flow_id: str = report.json()["flows"][0]["flow_id"]
    return flow_id


async def _app(client: httpx.AsyncClient, flow_id: str, slug: str, **extra: Any) -> dict[str, Any]:
    created = await client.post("/api/apps", json={"flow_id": flow_id, "slug": slug, "title": slug.title(), **extra})
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


async def _sse(client: httpx.AsyncClient, url: str, **kwargs: Any) -> tuple[int, list[tuple[str, Any]]]:
    """POST ``url`` and read its Server-Sent Events to the end: ``(status, [(event, data), ...])``."""
    events: list[tuple[str, Any]] = []
    async with client.stream("POST", url, **kwargs) as response:
        if response.status_code != 200:
            await response.aread()
            return response.status_code, [("body", response.json())]
        assert response.headers["content-type"].startswith("text/event-stream")
        event = "message"
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                events.append((event, json.loads(line[5:].strip())))
    return 200, events


def _final(events: list[tuple[str, Any]]) -> dict[str, Any]:
    name, data = events[-1]
    assert name in ("done", "error"), events
    message: dict[str, Any] = data["message"]
    return message


async def test_a_multi_turn_chat_streams_remembers_regenerates_and_takes_feedback(
    admin: httpx.AsyncClient, upstream: ScriptedOpenAI
) -> None:
    upstream.replies = ["Nice to meet you, Ada.", "You told me your name is Ada.", "Your name is Ada!"]
    flow_id = await _assistant_flow(admin)
    app = await _app(admin, flow_id, "assistant", suggested_questions=["Who am I?"])
    assert (app["message_input"], app["session_input"], app["url"]) == ("message", "session_id", "/apps/assistant")
    assert app["inputs_ok"] is True
    assert app["flow_name"] == "Chat assistant"
    assert [a["id"] for a in (await admin.get("/api/apps", params={"flow_id": flow_id})).json()] == [app["id"]]

    info = (await admin.get("/api/chat/assistant")).json()
    assert (info["title"], info["suggested_questions"]) == ("Assistant", ["Who am I?"])
    conversation = (await admin.post("/api/chat/assistant/conversations", json={})).json()
    cid = conversation["id"]
    base = f"/api/chat/assistant/conversations/{cid}"

    status, events = await _sse(admin, f"{base}/messages", json={"content": "Hi, I am Ada"})
    assert status == 200, events
    assert events[0][0] == "start"
    start = events[0][1]
    assert start["user_message"]["content"] == "Hi, I am Ada"
    assert start["assistant_message"]["status"] == "running"
    tokens = [data["data"] for name, data in events if name == "token"]
    assert len(tokens) >= 2
    first = _final(events)
    assert first["status"] == "complete"
    assert first["content"] == "".join(tokens) == "Nice to meet you, Ada."
    assert first["run_id"] == start["run_id"]
    assert first["extras"]["duration_ms"] >= 0

    # turn 2 sees turn 1 (the flow's memory, per conversation)
    status, events = await _sse(admin, f"{base}/messages", json={"content": "What is my name?"})
    assert _final(events)["content"] == "You told me your name is Ada."
    sent = [m["content"] for m in upstream.requests[-1]["messages"] if m["role"] != "system"]
    assert sent == ["Hi, I am Ada", "Nice to meet you, Ada.", "What is my name?"]
    run = (await admin.get(f"/api/runs/{_final(events)['run_id']}")).json()["run"]
    assert run["trigger"] == "app"
    assert run["inputs"]["session_id"] == f"app:{app['id']}:{cid}"

    # regenerate: the last answer goes (from the memory too) and the last question is answered again
    status, events = await _sse(admin, f"{base}/regenerate")
    assert status == 200, events
    regenerated = _final(events)
    assert regenerated["content"] == "Your name is Ada!"
    sent = [m["content"] for m in upstream.requests[-1]["messages"] if m["role"] != "system"]
    assert sent == ["Hi, I am Ada", "Nice to meet you, Ada.", "What is my name?"]
    messages = (await admin.get(f"{base}/messages")).json()
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", "Hi, I am Ada"),
        ("assistant", "Nice to meet you, Ada."),
        ("user", "What is my name?"),
        ("assistant", "Your name is Ada!"),
    ]
    listed = (await admin.get("/api/chat/assistant/conversations")).json()
    assert [(c["id"], c["title"]) for c in listed] == [(cid, "Hi, I am Ada")]
    renamed = await admin.patch(base, json={"title": "About Ada"})
    assert renamed.json()["title"] == "About Ada"

    # feedback, stored with the answer and its run
    rated = await admin.put(
        f"/api/chat/assistant/messages/{regenerated['id']}/feedback", json={"rating": "up", "comment": "right"}
    )
    assert rated.status_code == 200, rated.text
    assert rated.json()["feedback"] == "up"
    question = messages[2]["id"]
    assert (
        await admin.put(f"/api/chat/assistant/messages/{question}/feedback", json={"rating": "up"})
    ).status_code == 404
    feedback = (await admin.get(f"/api/apps/{app['id']}/feedback")).json()
    assert [(f["question"], f["feedback"], f["comment"], f["run_id"]) for f in feedback] == [
        ("What is my name?", "up", "right", regenerated["run_id"])
    ]
    runs = {r["id"]: r for r in (await admin.get("/api/runs", params={"flow_id": flow_id})).json()}
    assert runs[regenerated["run_id"]]["feedback"] == "up"
    assert runs[first["run_id"]]["feedback"] is None
    assert (await admin.delete(base)).status_code == 204
    assert (await admin.get(f"{base}/messages")).status_code == 404


async def test_share_links_are_scoped_limited_and_revocable(live_server: LiveServer, admin: httpx.AsyncClient) -> None:
    flow_id = await _assistant_flow(admin)
    app = await _app(admin, flow_id, "helpdesk")
    other = await _app(admin, flow_id, "other-app")
    created = await admin.post(f"/api/apps/{app['id']}/tokens", json={"name": "website", "rate_limit_per_minute": 2})
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    token = created.json()["token"]
    assert secret.startswith("rva_")
    assert created.json()["share_url"] == f"/apps/helpdesk#t={secret}"
    assert token["rate_limit_per_minute"] == 2
    assert secret not in json.dumps((await admin.get(f"/api/apps/{app['id']}/tokens")).json())
    mine = (await admin.post("/api/chat/helpdesk/conversations", json={})).json()

    link = {"Authorization": f"Bearer {secret}", "X-Rivulet-Visitor": VISITOR}
    async with live_server.anonymous(headers=link, timeout=60) as visitor:
        assert (await visitor.get("/api/chat/helpdesk")).status_code == 200
        assert (await visitor.get("/api/chat/helpdesk")).json()["flow_name"] is None
        # the visitor's conversations are theirs: the signed-in user's do not exist for them
        assert (await visitor.get("/api/chat/helpdesk/conversations")).json() == []
        assert (await visitor.get(f"/api/chat/helpdesk/conversations/{mine['id']}/messages")).status_code == 404
        conversation = (await visitor.post("/api/chat/helpdesk/conversations", json={"title": "from the web"})).json()
        url = f"/api/chat/helpdesk/conversations/{conversation['id']}/messages"
        status, events = await _sse(visitor, url, json={"content": "Hello?"})
        assert status == 200, events
        assert _final(events)["status"] == "complete"
        # another visitor of the same link, and the signed-in user, do not see it
        other_visitor = {**link, "X-Rivulet-Visitor": OTHER_VISITOR}
        assert (await visitor.get("/api/chat/helpdesk/conversations", headers=other_visitor)).json() == []
        assert (await visitor.get(url, headers=other_visitor)).status_code == 404
        assert (await admin.get(url)).status_code == 404
        # the link's limit: 2 messages a minute
        status, _body = await _sse(visitor, url, json={"content": "Again"})
        assert status == 200
        async with visitor.stream("POST", url, json={"content": "Too many"}) as refused:
            await refused.aread()
            assert refused.status_code == 429
            assert int(refused.headers["retry-after"]) >= 1
        # only this app's chat routes
        assert (await visitor.get("/api/chat/other-app")).status_code == 404
        assert (await visitor.post("/api/chat/other-app/conversations", json={})).status_code == 404
        assert (await visitor.get("/api/flows")).status_code == 403
        assert (await visitor.get(f"/api/apps/{other['id']}")).status_code == 403
        assert (await visitor.get("/f/openapi.json")).status_code == 403
        assert (await visitor.get("/api/chat/helpdesk", headers={"X-Rivulet-Visitor": "short"})).status_code == 400
        no_visitor = {"Authorization": f"Bearer {secret}"}
        async with live_server.anonymous(headers=no_visitor) as bare:
            refused_bare = await bare.get("/api/chat/helpdesk")
            assert refused_bare.status_code == 400
            assert "X-Rivulet-Visitor" in refused_bare.json()["detail"]

        # revoked: 401 on every chat route at once (the auth notice drops the cached principal)
        revoked = await admin.delete(f"/api/apps/{app['id']}/tokens/{token['id']}")
        assert revoked.status_code == 200
        assert revoked.json()["revoked_at"] is not None
        for answer in (
            await visitor.get("/api/chat/helpdesk"),
            await visitor.get("/api/chat/helpdesk/conversations"),
            await visitor.post(url, json={"content": "still there?"}),
        ):
            assert answer.status_code == 401, answer.text
            assert secret not in answer.text


async def test_stop_cancels_the_answer(admin: httpx.AsyncClient) -> None:
    document = FlowDocument(
        name="slow",
        nodes=[
            Node(id="in", operator="core.input", params={"name": "question"}),
            Node(id="wait", operator="core.delay", params={"seconds": 60}),
            Node(id="out", operator="core.output", params={"name": "answer"}),
        ],
        edges=[
            Edge(id="e1", source="in", source_port="value", target="wait", target_port="value"),
            Edge(id="e2", source="wait", source_port="value", target="out", target_port="value"),
        ],
    )
    created = await admin.post("/api/flows", json={"document": json.loads(encode_flow(document))})
    assert created.status_code == 201, created.text
    app = await _app(admin, created.json()["summary"]["id"], "slow")
    assert (app["message_input"], app["session_input"]) == ("question", None)
    cid = (await admin.post("/api/chat/slow/conversations", json={})).json()["id"]
    base = f"/api/chat/slow/conversations/{cid}"
    reply = asyncio.create_task(_sse(admin, f"{base}/messages", json={"content": "Take your time"}))
    for _ in range(1000):
        messages = (await admin.get(f"{base}/messages")).json()
        if len(messages) == 2 and messages[1]["run_id"]:
            break
        await asyncio.sleep(0.02)
    assert (await admin.post(f"{base}/messages", json={"content": "and this?"})).status_code == 409
    assert (await admin.post(f"{base}/stop")).json() == {"stopped": True}
    status, events = await reply
    assert status == 200
    final = _final(events)
    assert events[-1][0] == "error"
    assert final["status"] == "cancelled"
    assert final["extras"]["error"]["code"]
    assert (await admin.post(f"{base}/stop")).json() == {"stopped": False}
    run = (await admin.get(f"/api/runs/{final['run_id']}")).json()["run"]
    assert run["status"] == "cancelled"


async def test_apps_follow_their_flow_and_a_disabled_app_is_gone_but_for_its_editors(
    live_server: LiveServer, admin: httpx.AsyncClient
) -> None:
    flow_id = await _assistant_flow(admin)
    refused = await admin.post(
        "/api/apps", json={"flow_id": flow_id, "slug": "bad", "title": "Bad", "message_input": "nope"}
    )
    assert refused.status_code == 422
    assert "message (Text)" in refused.json()["detail"]
    broken = FlowDocument(name="broken", nodes=[Node(id="chat", operator="llm.chat", params={})])
    broken_id = (await admin.post("/api/flows", json={"document": json.loads(encode_flow(broken))})).json()["summary"][
        "id"
    ]
    not_compiling = await admin.post("/api/apps", json={"flow_id": broken_id, "slug": "broken", "title": "Broken"})
    assert not_compiling.status_code == 422
    assert not_compiling.json()["code"] == "compile_error"
    assert not_compiling.json()["diagnostics"][0]["node_id"] == "chat"
    app = await _app(admin, flow_id, "team-bot")
    assert (
        await admin.post("/api/apps", json={"flow_id": flow_id, "slug": "team-bot", "title": "x"})
    ).status_code == 409

    # another editor: the app of a flow they cannot reach does not exist for them; chatting is open to everyone
    created = await admin.post(
        "/api/users", json={"username": "eve", "password": "correct horse battery", "role": "editor"}
    )
    assert created.status_code == 201
    token = await alogin_token(live_server.url, "eve", "correct horse battery")
    async with live_server.anonymous(headers={"Authorization": f"Bearer {token}"}) as eve:
        assert (await eve.get(f"/api/apps/{app['id']}")).status_code == 404
        assert (await eve.patch(f"/api/apps/{app['id']}", json={"title": "mine"})).status_code == 404
        assert (await eve.post(f"/api/apps/{app['id']}/tokens", json={"name": "x"})).status_code == 404
        assert (await eve.get("/api/apps")).json() == []
        assert (await eve.get("/api/chat/team-bot")).status_code == 200
        eves = (await eve.post("/api/chat/team-bot/conversations", json={})).json()
        assert (await admin.get(f"/api/chat/team-bot/conversations/{eves['id']}/messages")).status_code == 404

        disabled = await admin.patch(f"/api/apps/{app['id']}", json={"enabled": False})
        assert disabled.json()["enabled"] is False
        assert (await eve.get("/api/chat/team-bot")).status_code == 404
        assert (await admin.get("/api/chat/team-bot")).status_code == 200  # who may edit the flow tries it first
        assert (await eve.get(f"/api/chat/team-bot/conversations/{eves['id']}/messages")).status_code == 404
        await admin.patch(f"/api/apps/{app['id']}", json={"enabled": True})
        assert (await eve.get("/api/chat/team-bot")).status_code == 200
    assert (await admin.delete(f"/api/apps/{app['id']}")).status_code == 204
    assert (await admin.get("/api/chat/team-bot")).status_code == 404
    assert (await admin.get(f"/api/apps/{app['id']}")).status_code == 404


async def test_a_failing_model_is_an_error_event_without_the_secret(admin: httpx.AsyncClient) -> None:
    flow_id = await _assistant_flow(admin, model="echo")  # the upstream echoes the request's credentials
    await _app(admin, flow_id, "leaky")
    cid = (await admin.post("/api/chat/leaky/conversations", json={})).json()["id"]
    base = f"/api/chat/leaky/conversations/{cid}"
    status, events = await _sse(admin, f"{base}/messages", json={"content": "Hi"})
    assert status == 200
    assert events[-1][0] == "error"
    final = _final(events)
    assert final["status"] == "failed"
    assert final["extras"]["error"]["code"]
    assert final["extras"]["error"]["node_id"] == "chat"
    stored = (await admin.get(f"{base}/messages")).text
    for surface in (json.dumps(events), stored):
        assert API_KEY not in surface


async def test_a_dbgpt_chat_export_becomes_an_app_that_answers(
    admin: httpx.AsyncClient, upstream: ScriptedOpenAI
) -> None:
    upstream.replies = ["Paris is the capital of France."]
    assert (await admin.post("/api/models/remote/default")).status_code == 200
    export = json.loads((FIXTURES / "awel_flow_simple_streaming_chat.json").read_text())
    imported = await admin.post("/api/templates/import-dbgpt", json={"export": export})
    assert imported.status_code == 201, imported.text
    app = await _app(admin, imported.json()["flow_id"], "dbgpt-chat")
    assert app["inputs_ok"], app
    cid = (await admin.post("/api/chat/dbgpt-chat/conversations", json={})).json()["id"]
    status, events = await _sse(
        admin, f"/api/chat/dbgpt-chat/conversations/{cid}/messages", json={"content": "What is the capital of France?"}
    )
    assert status == 200, events
    final = _final(events)
    assert final["status"] == "complete", final
    assert final["content"] == "Paris is the capital of France."
    assert "".join(d["data"] for n, d in events if n == "token") == final["content"]
    assert upstream.requests[-1]["messages"][-1]["content"].endswith("What is the capital of France?")


async def test_the_chat_assistant_template_streams_from_the_local_default_model(live_server: LiveServer) -> None:
    """What the playground and app e2e tests rely on: the template as an app, answered by the embedded model."""
    async with live_server.client(timeout=300) as client:
        flow_id = await _assistant_flow(client, model="default")
        await _app(client, flow_id, "local")
        cid = (await client.post("/api/chat/local/conversations", json={})).json()["id"]
        status, events = await _sse(
            client, f"/api/chat/local/conversations/{cid}/messages", json={"content": "Say hello in three words."}
        )
        assert status == 200, events
        final = _final(events)
        assert final["status"] == "complete", final
        tokens = [data["data"] for name, data in events if name == "token"]
        assert len(tokens) >= 2
        assert final["content"] == "".join(tokens)
        assert final["content"].strip()
