"""Auth under pressure, over real HTTP and WebSocket: parallel wrong logins, sockets outliving their credential,
and what a scoped API key may see of the published endpoints."""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

import msgspec
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from rivulet.compiler.flow import encode_flow
from rivulet.domain.runs.websocket import REVOKED_CLOSE_CODE
from tests.conftest import alogin_token, serve_app
from tests.integration.publishing_support import greet_flow

if TYPE_CHECKING:
    import httpx

    from rivulet.lib.settings import Settings
    from tests.conftest import LiveServer

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]


async def test_parallel_wrong_logins_cannot_outrun_the_throttle(live_server: LiveServer) -> None:
    async with live_server.client() as admin:
        created = await admin.post("/api/users", json={"username": "victim", "password": "right-password"})
        assert created.status_code == 201, created.text
    async with live_server.anonymous(timeout=60) as anon:
        attempts = [
            anon.post("/api/auth/login", json={"username": "victim", "password": f"guess-{i}", "mode": "token"})
            for i in range(60)
        ]
        responses = await asyncio.gather(*attempts)
    statuses = [r.status_code for r in responses]
    assert statuses.count(401) <= 5, statuses
    assert statuses.count(429) == 60 - statuses.count(401), statuses
    assert all(int(r.headers["retry-after"]) > 0 for r in responses if r.status_code == 429)


async def _closed_within(ws: Any, seconds: float) -> tuple[int | None, float]:
    """Wait for the server to close ``ws``; the close code and how long it took."""
    started = time.monotonic()
    deadline = started + seconds
    try:
        while True:  # anything still queued is read; the socket must end
            await asyncio.wait_for(ws.recv(), max(deadline - time.monotonic(), 0.01))
    except ConnectionClosed:
        return ws.close_code, time.monotonic() - started
    except TimeoutError:
        pytest.fail(f"the socket is still open after {seconds} s")


async def _ping(ws: Any) -> dict[str, Any]:
    await ws.send(json.dumps({"type": "ping", "request_id": "p"}))
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 5))
    return message


async def test_logout_closes_the_open_websockets_of_that_token_on_every_replica(
    live_server: LiveServer, db_url: str, test_settings: Settings
) -> None:
    token = await alogin_token(live_server.url)
    bystander = await alogin_token(live_server.url)
    async with serve_app(db_url, test_settings) as other:
        here = websockets.connect(
            f"{live_server.ws_url}/api/ws", additional_headers={"Authorization": f"Bearer {token}"}
        )
        there = websockets.connect(f"{other.ws_url}/api/ws?token={token}")
        kept = websockets.connect(f"{other.ws_url}/api/ws?token={bystander}")
        async with here as ws_here, there as ws_there, kept as ws_kept:
            assert (await _ping(ws_here))["type"] == "pong"
            assert (await _ping(ws_there))["type"] == "pong"
            async with live_server.anonymous() as anon:
                out = await anon.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"})
                assert out.status_code == 200
            code_here, after_here = await _closed_within(ws_here, 5)
            code_there, after_there = await _closed_within(ws_there, 5)  # the other replica, through NOTIFY
            assert (code_here, code_there) == (REVOKED_CLOSE_CODE, REVOKED_CLOSE_CODE)
            assert after_here < 5
            assert after_there < 5
            assert (await _ping(ws_kept))["type"] == "pong"  # another credential's socket stays open
        refused = websockets.connect(f"{other.ws_url}/api/ws?token={token}")
        with pytest.raises(websockets.InvalidStatus):
            async with refused:
                pass


async def test_a_password_change_closes_the_other_sessions_sockets(live_server: LiveServer) -> None:
    async with live_server.client() as admin:
        created = await admin.post("/api/users", json={"username": "dora", "password": "first-password"})
        assert created.status_code == 201, created.text
    kept = await alogin_token(live_server.url, "dora", "first-password")
    stale = await alogin_token(live_server.url, "dora", "first-password")
    async with (
        websockets.connect(f"{live_server.ws_url}/api/ws?token={stale}") as ws_stale,
        websockets.connect(f"{live_server.ws_url}/api/ws?token={kept}") as ws_kept,
    ):
        async with live_server.anonymous() as anon:
            changed = await anon.post(
                "/api/auth/password",
                json={"current_password": "first-password", "new_password": "second-password"},
                headers={"Authorization": f"Bearer {kept}"},
            )
            assert changed.status_code == 200, changed.text
        code, _ = await _closed_within(ws_stale, 5)
        assert code == REVOKED_CLOSE_CODE
        assert (await _ping(ws_kept))["type"] == "pong"


async def test_a_revoked_credential_is_found_by_the_periodic_recheck_without_a_notice(
    live_server: LiveServer,
) -> None:
    services = live_server.app.state["services"]
    services.authenticator.recheck_s = 0.2
    token = await alogin_token(live_server.url)
    async with websockets.connect(f"{live_server.ws_url}/api/ws?token={token}") as ws:
        assert (await _ping(ws))["type"] == "pong"
        await services.auth.revoke_token(token)  # straight in the database: no change notice is sent
        code, after = await _closed_within(ws, 5)
    assert code == REVOKED_CLOSE_CODE
    assert after < 5


async def _publish(client: httpx.AsyncClient, slug: str) -> None:
    document = msgspec.json.decode(encode_flow(greet_flow(slug)))
    created = await client.post("/api/flows", json={"document": document})
    assert created.status_code == 201, created.text
    published = await client.post(f"/api/flows/{created.json()['summary']['id']}/publish", json={})
    assert published.status_code == 200, published.text


async def test_a_scoped_api_key_sees_only_its_endpoints_in_the_openapi_document(live_server: LiveServer) -> None:
    async with live_server.client() as admin, live_server.anonymous() as anon:
        for slug in ("alpha", "beta", "gamma"):
            await _publish(admin, slug)
        created = await admin.post("/api/api-keys", json={"name": "scoped", "endpoints": ["beta"]})
        assert created.status_code == 201, created.text
        scoped = created.json()["secret"]
        unscoped = (await admin.post("/api/api-keys", json={"name": "all"})).json()["secret"]
        as_scoped = await anon.get("/f/openapi.json", headers={"Authorization": f"Bearer {scoped}"})
        as_unscoped = await anon.get("/f/openapi.json", headers={"X-API-Key": unscoped})
        as_admin = await admin.get("/f/openapi.json")
    assert as_scoped.status_code == 200, as_scoped.text
    assert sorted(as_scoped.json()["paths"]) == ["/f/beta"]
    assert "alpha" not in as_scoped.text
    assert "gamma" not in as_scoped.text
    assert sorted(as_unscoped.json()["paths"]) == ["/f/alpha", "/f/beta", "/f/gamma"]
    assert sorted(as_admin.json()["paths"]) == ["/f/alpha", "/f/beta", "/f/gamma"]
