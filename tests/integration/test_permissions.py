"""Roles, permissions and ownership over real HTTP (docs/security.md, "Roles and permissions").

``test_every_route_declares_a_permission`` and ``test_routes_by_role`` enumerate every route of the real app:
a route without a declared permission, or one whose guard disagrees with ``ROLE_PERMISSIONS``, fails them.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import msgspec
import pytest
import websockets
from litestar.routes import ASGIRoute, HTTPRoute, WebSocketRoute

from rivulet.app.asgi import create_app
from rivulet.lib.settings import load_settings
from rivulet.security.permissions import ROLE_PERMISSIONS, Permission
from rivulet.server.permissions import declared_permission, permission_rows
from tests.conftest import LiveServer, alogin_token
from tests.integration.publishing_support import greet_flow

if TYPE_CHECKING:
    from litestar import Litestar

pytestmark = pytest.mark.postgres

PASSWORD = "correct horse battery"
_PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")


def _flow(name: str, text: str = "hello") -> dict[str, Any]:
    return {
        "schema": "rivulet.flow/v1",
        "name": name,
        "nodes": [
            {"id": "t", "operator": "core.template", "params": {"template": text}},
            {"id": "out", "operator": "core.output", "params": {"name": "answer"}},
        ],
        "edges": [{"id": "e1", "source": "t", "source_port": "text", "target": "out", "target_port": "value"}],
    }


def _http_routes(app: Litestar) -> list[tuple[str, str, Permission | None]]:
    """(method, path, declared permission) of every HTTP route handler."""
    found: list[tuple[str, str, Permission | None]] = []
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                found.extend(
                    (method, route.path, declared_permission(handler)) for method in sorted(handler.http_methods)
                )
        elif isinstance(route, WebSocketRoute):
            found.append(("WEBSOCKET", route.path, declared_permission(route.route_handler)))
        elif isinstance(route, ASGIRoute):
            found.append(("ASGI", route.path, declared_permission(route.route_handler)))
    return found


def test_every_route_declares_a_permission(tmp_path: Any) -> None:
    settings = load_settings(environ={}, home=str(tmp_path), frontend_dir=str(tmp_path / "dist"))
    app = create_app(settings, database_url=None)
    routes = _http_routes(app)
    assert len(routes) > 40
    missing = [f"{method} {path}" for method, path, permission in routes if permission is None]
    assert missing == [], f"routes without a declared permission: {missing}"


@dataclass
class Users:
    server: LiveServer
    tokens: dict[str, str]
    ids: dict[str, str]

    def client(self, who: str) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who in self.tokens else {}
        return httpx.AsyncClient(base_url=self.server.url, headers=headers, timeout=30)


@pytest.fixture
async def users(live_server: LiveServer) -> Users:
    tokens = {"admin": live_server.token}
    ids: dict[str, str] = {}
    async with live_server.client() as admin:
        ids["admin"] = (await admin.get("/api/auth/me")).json()["user_id"]
        for name, role in (("ann", "editor"), ("bob", "editor"), ("vic", "viewer")):
            created = await admin.post("/api/users", json={"username": name, "password": PASSWORD, "role": role})
            assert created.status_code == 201, created.text
            assert created.json()["role"] == role
            ids[name] = created.json()["id"]
            tokens[name] = await alogin_token(live_server.url, name, PASSWORD)
    return Users(live_server, tokens, ids)


def _fill(path: str) -> str:
    return _PARAM.sub(lambda m: "1" if m.group(2) == "int" else "x", path)


async def test_routes_by_role(users: Users) -> None:
    """Every route and role: refused by the guard exactly when the role lacks the route's permission."""
    async with users.client("admin") as admin:
        key = await admin.post("/api/api-keys", json={"name": "any", "endpoints": []})
    assert key.status_code == 201, key.text
    users.tokens["api_key"] = key.json()["secret"]
    roles = {"admin": "admin", "ann": "editor", "vic": "viewer"}
    checked = 0
    for method, path, permission in _http_routes(users.server.app):
        if method in {"WEBSOCKET", "ASGI", "HEAD", "OPTIONS", "TRACE"} or permission is None:
            continue
        if path.startswith("/f/") and path != "/f/openapi.json":
            continue  # calls of published endpoints: test_api_keys_belong_to_their_owner
        if path == "/api/auth/logout":
            continue  # would revoke the tokens the loop uses (tests/integration/test_auth.py covers it)
        url = _fill(path)
        for who in ("anonymous", "admin", "ann", "vic", "api_key"):
            async with users.client(who) as client:
                answer = await client.request(method, url, json={} if method in {"POST", "PUT", "PATCH"} else None)
            body: dict[str, Any] = {}
            if answer.headers.get("content-type", "").endswith("json"):
                parsed = answer.json()
                body = parsed if isinstance(parsed, dict) else {}
            refused_by_guard = answer.status_code == 403 and "required_permission" in body
            if permission is Permission.PUBLIC:
                allowed = True
            elif who == "anonymous":
                assert answer.status_code == 401, (method, path, who, answer.status_code)
                continue
            elif who == "api_key":
                # the middleware refuses keys outside /f before any guard
                allowed = False if not path.startswith("/f/") else permission is Permission.ENDPOINT_CALL
                if not path.startswith("/f/"):
                    assert answer.status_code == 403, (method, path, who, answer.status_code)
                    continue
            else:
                allowed = permission in ROLE_PERMISSIONS[roles[who]]  # type: ignore[index]
            assert answer.status_code < 500, (method, path, who, answer.status_code, answer.text)
            assert refused_by_guard is not allowed, (method, path, who, permission, answer.status_code, body)
            checked += 1
    assert checked > 150


async def _create_flow(client: httpx.AsyncClient, name: str, **extra: Any) -> str:
    answer = await client.post("/api/flows", json={"document": _flow(name), **extra})
    assert answer.status_code == 201, answer.text
    flow_id: str = answer.json()["summary"]["id"]
    return flow_id


async def test_flows_belong_to_their_owner(users: Users) -> None:
    async with users.client("ann") as ann, users.client("bob") as bob, users.client("admin") as admin:
        flow_id = await _create_flow(ann, "ann's flow")
        summary = (await ann.get(f"/api/flows/{flow_id}")).json()["summary"]
        assert summary["owner_id"] == users.ids["ann"]
        # another editor: the flow does not exist for them (404, not 403: its existence is not revealed)
        assert (await bob.get(f"/api/flows/{flow_id}")).status_code == 404
        update = {"document": _flow("taken over", "pwned")}
        assert (await bob.put(f"/api/flows/{flow_id}", json=update)).status_code == 404
        assert (await bob.delete(f"/api/flows/{flow_id}")).status_code == 404
        assert (await bob.post(f"/api/flows/{flow_id}/runs", json={"inputs": {}})).status_code == 404
        assert (await bob.post(f"/api/flows/{flow_id}/publish", json={})).status_code == 404
        assert (await bob.delete(f"/api/flows/{flow_id}/publish")).status_code == 404
        assert (await bob.post(f"/api/flows/{flow_id}/duplicate")).status_code == 404
        listed = (await bob.get("/api/flows")).json()["items"]
        assert flow_id not in {f["id"] for f in listed}
        # the owner and the administrator
        assert flow_id in {f["id"] for f in (await ann.get("/api/flows")).json()["items"]}
        assert flow_id in {f["id"] for f in (await admin.get("/api/flows")).json()["items"]}
        assert (await admin.put(f"/api/flows/{flow_id}", json=update)).status_code == 200
        # runs follow their flow
        run = await ann.post(f"/api/flows/{flow_id}/runs", json={"inputs": {}})
        assert run.status_code == 201, run.text
        run_id = run.json()["id"]
        assert (await bob.get(f"/api/runs/{run_id}")).status_code == 404
        assert (await bob.get(f"/api/runs/{run_id}/events")).status_code == 404
        assert (await bob.post(f"/api/runs/{run_id}/cancel")).status_code == 404
        assert run_id not in {r["id"] for r in (await bob.get("/api/runs")).json()}
        assert run_id in {r["id"] for r in (await ann.get("/api/runs")).json()}
        assert (await ann.get(f"/api/runs/{run_id}")).status_code == 200


async def test_workspace_members_read_or_write_shared_flows(users: Users) -> None:
    async with users.client("ann") as ann, users.client("bob") as bob, users.client("admin") as admin:
        flow_id = await _create_flow(ann, "team flow")
        workspace = (await admin.post("/api/workspaces", json={"name": "team"})).json()
        ws = workspace["id"]
        # only an editor member may share into a workspace
        assert (await ann.put(f"/api/flows/{flow_id}/sharing", json={"workspace_id": ws})).status_code == 403
        await admin.put(f"/api/workspaces/{ws}/members/{users.ids['ann']}", json={"role": "editor"})
        await admin.put(f"/api/workspaces/{ws}/members/{users.ids['bob']}", json={"role": "viewer"})
        # membership changes take effect at once (the principal cache is dropped on every replica)
        shared = await ann.put(f"/api/flows/{flow_id}/sharing", json={"workspace_id": ws})
        assert shared.status_code == 200, shared.text
        assert shared.json()["workspace_id"] == ws
        # a viewer member reads, but does not write or run
        assert (await bob.get(f"/api/flows/{flow_id}")).status_code == 200
        assert flow_id in {f["id"] for f in (await bob.get("/api/flows")).json()["items"]}
        update = {"document": _flow("edited")}
        assert (await bob.put(f"/api/flows/{flow_id}", json=update)).status_code == 403
        assert (await bob.post(f"/api/flows/{flow_id}/runs", json={"inputs": {}})).status_code == 403
        # as an editor member, they write it
        await admin.put(f"/api/workspaces/{ws}/members/{users.ids['bob']}", json={"role": "editor"})
        assert (await bob.put(f"/api/flows/{flow_id}", json=update)).status_code == 200
        # removed from the workspace: gone again
        await admin.delete(f"/api/workspaces/{ws}/members/{users.ids['bob']}")
        assert (await bob.get(f"/api/flows/{flow_id}")).status_code == 404


async def test_viewers_read_only(users: Users) -> None:
    async with users.client("vic") as vic:
        refused = await vic.post("/api/flows", json={"document": _flow("nope")})
        assert refused.status_code == 403
        assert refused.json()["required_permission"] == "flows:write"
        assert (await vic.get("/api/flows")).status_code == 200
        assert (await vic.get("/api/operators")).status_code == 200
        me = (await vic.get("/api/auth/me")).json()
        assert me["role"] == "viewer"
        assert me["is_admin"] is False


async def test_admin_managed_resources(users: Users) -> None:
    """Secrets, models, template sources, users and workspaces: administrators only."""
    async with users.client("ann") as ann, users.client("admin") as admin:
        assert (await ann.put("/api/secrets/openai", json={"value": "sk-ann"})).status_code == 403
        assert (await admin.put("/api/secrets/openai", json={"value": "sk-admin"})).status_code == 200
        assert (await ann.delete("/api/secrets/openai")).status_code == 403
        names = (await ann.get("/api/secrets")).json()["items"]
        assert [s["name"] for s in names] == ["openai"]  # names only, for variables
        model = {
            "name": "leak",
            "kind": "llm",
            "provider": "openai_compatible",
            "model": "m",
            "base_url": "http://127.0.0.1:9/v1",
            "api_key_secret": "openai",
            "allow_private_network": True,
        }
        assert (await ann.post("/api/models", json=model)).status_code == 403
        replace = {k: v for k, v in model.items() if k != "name"}
        assert (await ann.put("/api/models/leak", json=replace)).status_code == 403
        assert (await ann.post("/api/models/default/default")).status_code == 403
        assert (await ann.post("/api/models/default/test")).status_code == 403
        assert (await ann.get("/api/models/calls")).status_code == 403
        assert (await ann.get("/api/models")).status_code == 200
        assert (await ann.post("/api/templates/sources", json={"location": "/etc"})).status_code == 403
        assert (await ann.get("/api/users")).status_code == 403
        assert (await ann.post("/api/users", json={"username": "eve", "password": PASSWORD})).status_code == 403
        assert (await ann.patch(f"/api/users/{users.ids['ann']}", json={"role": "admin"})).status_code == 403
        assert (await ann.post("/api/workspaces", json={"name": "mine"})).status_code == 403
        # the last administrator stays
        demote = await admin.patch(f"/api/users/{users.ids['admin']}", json={"role": "editor"})
        assert demote.status_code == 409


async def test_role_change_takes_effect_at_once(users: Users) -> None:
    async with users.client("vic") as vic, users.client("admin") as admin:
        assert (await vic.post("/api/flows", json={"document": _flow("later")})).status_code == 403
        changed = await admin.patch(f"/api/users/{users.ids['vic']}", json={"role": "editor"})
        assert changed.json()["role"] == "editor"
        assert (await vic.post("/api/flows", json={"document": _flow("later")})).status_code == 201


async def test_api_keys_belong_to_their_owner(users: Users) -> None:
    async with users.client("ann") as ann, users.client("bob") as bob, users.client("admin") as admin:
        trigger = msgspec.to_builtins(greet_flow("ann-echo"))
        created = await ann.post("/api/flows", json={"document": trigger})
        assert created.status_code == 201, created.text
        flow_id = created.json()["summary"]["id"]
        published = await ann.post(f"/api/flows/{flow_id}/publish", json={})
        assert published.status_code == 200, published.text
        # a non-admin's key names endpoints, each one of theirs
        unscoped = await ann.post("/api/api-keys", json={"name": "all", "endpoints": []})
        assert unscoped.status_code == 422
        foreign = await bob.post("/api/api-keys", json={"name": "b", "endpoints": ["ann-echo"]})
        assert foreign.status_code == 422
        assert foreign.json()["errors"][0]["path"] == "$.endpoints[0]"
        key = await ann.post("/api/api-keys", json={"name": "mine", "endpoints": ["ann-echo"]})
        assert key.status_code == 201, key.text
        key_id = key.json()["key"]["id"]
        assert [k["id"] for k in (await ann.get("/api/api-keys")).json()] == [key_id]
        assert (await bob.get("/api/api-keys")).json() == []
        assert key_id in {k["id"] for k in (await admin.get("/api/api-keys")).json()}
        assert (await bob.delete(f"/api/api-keys/{key_id}")).status_code == 404
        # endpoints: bob neither sees nor calls ann's endpoint; ann and her key do
        assert "ann-echo" not in {e["slug"] for e in (await bob.get("/api/endpoints")).json()}
        assert (await bob.post("/f/ann-echo", json={"name": "x"})).status_code == 404
        assert (await bob.get("/api/endpoints/ann-echo/calls")).status_code == 404
        assert (await ann.post("/f/ann-echo", json={"name": "x"})).status_code == 200
        async with httpx.AsyncClient(base_url=users.server.url, headers={"X-API-Key": key.json()["secret"]}) as k:
            assert (await k.post("/f/ann-echo", json={"name": "y"})).status_code == 200
        assert (await ann.delete(f"/api/api-keys/{key_id}")).status_code == 200


async def test_websocket_follows_ownership(users: Users) -> None:
    async with users.client("ann") as ann:
        flow_id = await _create_flow(ann, "ws flow")
        run_id = (await ann.post(f"/api/flows/{flow_id}/runs", json={"inputs": {}})).json()["id"]

    def socket(who: str) -> Any:
        headers = {"Authorization": f"Bearer {users.tokens[who]}"}
        return websockets.connect(f"{users.server.ws_url}/api/ws", additional_headers=headers)

    async def ask(ws: Any, message: dict[str, Any]) -> dict[str, Any]:
        await ws.send(json.dumps(message))
        answer: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 10))
        return answer

    async with socket("bob") as bob:
        refused = await ask(bob, {"type": "subscribe", "run_id": run_id, "after_seq": 0})
        assert (refused["type"], refused["code"]) == ("error", "not_found")
        refused = await ask(bob, {"type": "run_start", "flow_id": flow_id, "inputs": {}})
        assert (refused["type"], refused["code"]) == ("error", "not_found")
        refused = await ask(bob, {"type": "cancel", "run_id": run_id})
        assert (refused["type"], refused["code"]) == ("error", "not_found")
    async with socket("vic") as vic:
        refused = await ask(vic, {"type": "run_start", "flow_id": flow_id, "inputs": {}})
        assert (refused["type"], refused["code"]) == ("error", "permission_denied")
    async with socket("ann") as own:
        assert (await ask(own, {"type": "subscribe", "run_id": run_id, "after_seq": 0}))["type"] == "subscribed"


async def test_uploaded_datasources_belong_to_their_owner(users: Users) -> None:
    """A spreadsheet upload is its owner's (and the administrators'); connections are the administrators'."""
    async with users.client("ann") as ann, users.client("bob") as bob, users.client("admin") as admin:
        uploaded = await ann.post(
            "/api/datasources/uploads", files=[("files", ("sales.csv", b"region,amount\nNorth,3\n", "text/csv"))]
        )
        assert uploaded.status_code == 201, uploaded.text
        name = uploaded.json()["name"]
        assert uploaded.json()["owner_id"] == users.ids["ann"]
        # another editor: it does not exist for them
        assert name not in {d["name"] for d in (await bob.get("/api/datasources")).json()["items"]}
        assert (await bob.get(f"/api/datasources/{name}")).status_code == 404
        assert (await bob.post(f"/api/datasources/{name}/query", json={"sql": "SELECT 1"})).status_code == 404
        assert (await bob.delete(f"/api/datasources/{name}")).status_code == 404
        # the owner and the administrator
        assert (await ann.post(f"/api/datasources/{name}/test")).json()["ok"] is True
        assert name in {d["name"] for d in (await admin.get("/api/datasources")).json()["items"]}
        # connections: administrators only, even for the owner of an upload
        spec = {"name": "lite", "kind": "sqlite", "path": "/nonexistent.sqlite"}
        assert (await ann.post("/api/datasources", json=spec)).status_code == 403
        assert (await ann.patch(f"/api/datasources/{name}", json={"description": "x"})).status_code == 403
        assert (await ann.delete(f"/api/datasources/{name}")).status_code == 204


def test_security_doc_lists_every_route(tmp_path: Any) -> None:
    settings = load_settings(environ={}, home=str(tmp_path), frontend_dir=str(tmp_path / "dist"))
    rows = permission_rows(create_app(settings, database_url=None))
    doc = (Path(__file__).parents[2] / "docs" / "security.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z]+ /[^`]*)` \| `([a-z_:]+)` \|$", doc, flags=re.MULTILINE))
    actual = {(f"{method} {path}", permission.value if permission else "NONE") for method, path, permission in rows}
    assert actual == documented
