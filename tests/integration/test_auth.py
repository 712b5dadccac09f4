"""Auth over real HTTP and WebSocket: everything under /api and /f needs credentials; login, logout, cookies."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
import websockets

from rivulet.server.auth import PUBLIC_ROUTES
from rivulet.storage.postgres.auth import PostgresAuthStore
from tests.conftest import ADMIN_PASSWORD, ADMIN_USER, alogin_token

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

    from tests.conftest import LiveServer


def test_only_the_allow_list_is_public(live_server: LiveServer) -> None:
    public: set[str] = set()
    for route in live_server.app.routes:
        for handler in getattr(route, "route_handlers", []):
            if handler.opt.get("exclude_from_auth"):
                public.add(route.path)
    assert public == PUBLIC_ROUTES


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/flows"),
        ("POST", "/api/flows"),
        ("GET", "/api/runs"),
        ("GET", "/api/operators"),
        ("GET", "/api/docs/openapi.json"),
        ("GET", "/api/auth/me"),
        ("GET", "/api/api-keys"),
        ("GET", "/f/openapi.json"),
        ("POST", "/f/anything"),
    ],
)
async def test_everything_under_api_and_f_needs_credentials(live_server: LiveServer, method: str, path: str) -> None:
    async with live_server.anonymous() as client:
        response = await client.request(method, path, json={})
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "unauthenticated"
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_health_and_the_editor_stay_public(live_server: LiveServer) -> None:
    async with live_server.anonymous() as client:
        assert (await client.get("/api/health")).status_code == 200
        assert (await client.get("/flows/123")).status_code == 200


async def test_wrong_password_and_bad_token_are_401(live_server: LiveServer) -> None:
    async with live_server.anonymous() as client:
        login = await client.post("/api/auth/login", json={"username": ADMIN_USER, "password": "nope"})
        forged = await client.get("/api/flows", headers={"Authorization": "Bearer rvt_forged"})
    assert login.status_code == 401
    assert forged.status_code == 401
    assert forged.json()["detail"] == "invalid, expired or revoked credentials"


async def test_cookie_login_me_and_logout(live_server: LiveServer) -> None:
    async with live_server.anonymous() as client:
        login = await client.post("/api/auth/login", json={"username": ADMIN_USER, "password": ADMIN_PASSWORD})
        assert login.status_code == 200
        cookie = login.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=strict" in cookie
        assert "token" not in login.json() or login.json()["token"] is None
        me = await client.get("/api/auth/me")
        assert me.json() == {
            "kind": "session",
            "user_id": me.json()["user_id"],
            "username": "admin",
            "is_admin": True,
            "role": "admin",
            "workspaces": {},
        }
        assert (await client.post("/api/auth/logout")).status_code == 200
        client.cookies.clear()
        client.cookies.set("rivulet_session", login.cookies["rivulet_session"])
        assert (await client.get("/api/auth/me")).status_code == 401


async def test_cookie_requests_from_another_origin_are_refused(live_server: LiveServer) -> None:
    async with live_server.anonymous() as client:
        await client.post("/api/auth/login", json={"username": ADMIN_USER, "password": ADMIN_PASSWORD})
        host = live_server.url.removeprefix("http://")
        evil = await client.post("/api/flows", json={}, headers={"Origin": "https://evil.example"})
        same = await client.post("/api/auth/logout", headers={"Origin": f"http://{host}"})
    assert evil.status_code == 403
    assert evil.json()["code"] == "permission_denied"
    assert same.status_code == 200


async def test_logout_revokes_a_bearer_token(live_server: LiveServer) -> None:
    async with live_server.anonymous() as client:
        login = await client.post(
            "/api/auth/login", json={"username": ADMIN_USER, "password": ADMIN_PASSWORD, "mode": "token"}
        )
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        assert (await client.get("/api/flows", headers=headers)).status_code == 200
        assert (await client.post("/api/auth/logout", headers=headers)).status_code == 200
        assert (await client.get("/api/flows", headers=headers)).status_code == 401


async def test_websocket_needs_credentials(live_server: LiveServer) -> None:
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(f"{live_server.ws_url}/api/ws"):
            pass
    async with live_server.ws() as ws:
        await ws.send('{"type": "ping", "request_id": "1"}')
        assert "pong" in await ws.recv()
    async with websockets.connect(f"{live_server.ws_url}/api/ws?token={live_server.token}") as ws:
        await ws.send('{"type": "ping", "request_id": "2"}')
        assert "pong" in await ws.recv()


async def test_api_keys_cannot_use_the_management_api(live_server: LiveServer) -> None:
    async with live_server.client() as client:
        created = await client.post("/api/api-keys", json={"name": "ci"})
        secret = created.json()["secret"]
        denied = await client.get("/api/flows", headers={"Authorization": f"Bearer {secret}"})
    assert created.status_code == 201
    assert denied.status_code == 403


async def test_users_admin_only(live_server: LiveServer) -> None:
    async with live_server.client() as client:
        created = await client.post("/api/users", json={"username": "ann", "password": "long-enough-pw"})
        assert created.status_code == 201
        login = await client.post(
            "/api/auth/login", json={"username": "ann", "password": "long-enough-pw", "mode": "token"}
        )
        ann = {"Authorization": f"Bearer {login.json()['token']}"}
        assert (await client.get("/api/users", headers=ann)).status_code == 403
        assert (await client.get("/api/flows", headers=ann)).status_code == 200
        users = await client.get("/api/users")
    assert [u["username"] for u in users.json()] == ["admin", "ann"]


async def test_first_start_creates_one_admin_with_a_one_time_password(pool: AsyncConnectionPool) -> None:
    store = PostgresAuthStore(pool)
    async with pool.connection() as conn:
        await conn.execute("DELETE FROM users")
    generated = await store.ensure_admin("root", None)
    assert generated is not None
    assert len(generated) >= 12
    assert await store.ensure_admin("root", None) is None
    assert await store.check_password("root", generated) is not None
    assert await store.check_password("root", "wrong") is None


async def test_failed_logins_are_throttled_per_username(live_server: LiveServer) -> None:
    async with live_server.client() as admin:
        created = await admin.post("/api/users", json={"username": "mallory-target", "password": "right-password"})
        assert created.status_code == 201, created.text
    async with live_server.anonymous() as anon:
        wrong = [
            await anon.post("/api/auth/login", json={"username": "mallory-target", "password": f"guess-{i}"})
            for i in range(5)
        ]
        blocked = await anon.post(
            "/api/auth/login", json={"username": "mallory-target", "password": "right-password", "mode": "token"}
        )
        other = await anon.post(
            "/api/auth/login", json={"username": ADMIN_USER, "password": ADMIN_PASSWORD, "mode": "token"}
        )
    assert [r.status_code for r in wrong] == [401] * 5
    assert blocked.status_code == 429  # even the right password: the password is not even checked
    assert int(blocked.headers["retry-after"]) > 0
    assert other.status_code == 200  # another account from the same address is not locked out


async def test_changing_the_password_revokes_the_other_sessions(live_server: LiveServer) -> None:
    async with live_server.client() as admin:
        created = await admin.post("/api/users", json={"username": "carol", "password": "first-password"})
        assert created.status_code == 201, created.text
    kept = await alogin_token(live_server.url, "carol", "first-password")
    other = await alogin_token(live_server.url, "carol", "first-password")
    async with live_server.anonymous() as anon:
        headers = {"Authorization": f"Bearer {kept}"}
        wrong = await anon.post(
            "/api/auth/password",
            json={"current_password": "nope", "new_password": "second-password"},
            headers=headers,
        )
        changed = await anon.post(
            "/api/auth/password",
            json={"current_password": "first-password", "new_password": "second-password"},
            headers=headers,
        )
        still = await anon.get("/api/auth/me", headers=headers)
        for _ in range(100):  # every replica's credential cache is cleared by a NOTIFY
            revoked = await anon.get("/api/auth/me", headers={"Authorization": f"Bearer {other}"})
            if revoked.status_code == 401:
                break
            await asyncio.sleep(0.05)
        old = await anon.post("/api/auth/login", json={"username": "carol", "password": "first-password"})
        new = await anon.post("/api/auth/login", json={"username": "carol", "password": "second-password"})
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "current_password"
    assert changed.status_code == 200, changed.text
    assert changed.json() == {"revoked_sessions": 1}
    assert still.status_code == 200
    assert revoked.status_code == 401
    assert old.status_code == 401
    assert new.status_code == 200
