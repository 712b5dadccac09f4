"""Shared fixtures: one embedded PostgreSQL per test session, a fresh database per test, a live server.

- ``pg_url``: the session server (database ``postgres``); use only for server-wide checks.
- ``db_url``: a new database cloned from a migrated template (isolated per test, ~50 ms).
- ``pool``: an autocommit pool on ``db_url``.
- ``live_server``: the real app served by uvicorn on 127.0.0.1 (real HTTP/WebSocket over loopback) on ``db_url``.

Auth is on for everything under ``/api`` and ``/f`` (see docs/security.md). ``live_server`` logs in as the
administrator (``ADMIN_USER``/``ADMIN_PASSWORD``, set through ``test_settings``) and exposes:

- ``live_server.token`` / ``live_server.headers``: a bearer token and ``{"Authorization": "Bearer …"}``;
- ``live_server.client()``: an ``httpx.AsyncClient`` on ``live_server.url`` sending those headers
  (``async with live_server.client() as client: await client.get("/api/flows")``);
- ``live_server.anonymous()``: the same client without credentials (for 401 tests);
- ``serve_app(db_url, settings)``: an async context manager serving one more replica on the same database;
- ``live_server.ws(path="/api/ws")``: ``websockets.connect`` with the bearer header
  (``async with live_server.ws() as ws: ...``).

Processes started outside the fixture (``rivulet serve`` subprocesses) get ``RIVULET_ADMIN_PASSWORD`` in their
environment and log in with ``login_token(url)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import psycopg
import pytest
import websockets
from litestar import Litestar
from psycopg.conninfo import make_conninfo

from rivulet.lib.settings import Settings, load_settings
from rivulet.storage.embedded import EmbeddedPostgres
from rivulet.storage.postgres.migrate import apply_migrations
from rivulet.storage.postgres.pool import open_pool

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

    from psycopg_pool import AsyncConnectionPool

TEMPLATE_DB = "rivulet_template"
ADMIN_USER = "admin"
ADMIN_PASSWORD = "test-admin-password"


@pytest.fixture(scope="session")
def pg_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = EmbeddedPostgres(tmp_path_factory.mktemp("rivulet-home"))
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


def database_url(server_url: str, name: str) -> str:
    """The URL of database ``name`` on the server of ``server_url``."""
    return make_conninfo(server_url, dbname=name)


@pytest.fixture(scope="session")
async def template_url(pg_url: str) -> str:
    async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as conn:
        await conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE_DB}")
        await conn.execute(f"CREATE DATABASE {TEMPLATE_DB}")
    url = database_url(pg_url, TEMPLATE_DB)
    pool = await open_pool(url, min_size=1, max_size=1)
    try:
        await apply_migrations(pool)
    finally:
        await pool.close()
    return url


@pytest.fixture
async def db_url(pg_url: str, template_url: str) -> AsyncIterator[str]:
    assert template_url
    name = f"test_{uuid.uuid4().hex[:12]}"
    async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as conn:
        await conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}")
    yield database_url(pg_url, name)
    async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as conn:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[AsyncConnectionPool]:
    p = await open_pool(db_url, min_size=1, max_size=4)
    try:
        yield p
    finally:
        await p.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def login_token(url: str, username: str = ADMIN_USER, password: str = ADMIN_PASSWORD) -> str:
    """Log in to the server at ``url`` (blocking) and return a bearer token."""
    body = {"username": username, "password": password, "mode": "token"}
    response = httpx.post(f"{url}/api/auth/login", json=body, timeout=10)
    response.raise_for_status()
    token: str = response.json()["token"]
    return token


async def alogin_token(url: str, username: str = ADMIN_USER, password: str = ADMIN_PASSWORD) -> str:
    """``login_token`` for async tests."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        body = {"username": username, "password": password, "mode": "token"}
        response = await client.post("/api/auth/login", json=body)
        response.raise_for_status()
        token: str = response.json()["token"]
        return token


@dataclass
class LiveServer:
    """A running app: ``url`` is ``http://127.0.0.1:PORT``, ``ws_url`` the same with ``ws://``.

    ``token``/``headers`` authenticate as the administrator; ``client()``, ``anonymous()`` and ``ws()`` build
    clients with and without them.
    """

    url: str
    ws_url: str
    app: Litestar
    settings: Settings
    token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        """``Authorization: Bearer <token>`` of the logged-in administrator."""
        return {"Authorization": f"Bearer {self.token}"}

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An authenticated ``httpx.AsyncClient`` on ``url`` (extra kwargs go to httpx)."""
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return httpx.AsyncClient(base_url=self.url, headers=headers, **kwargs)

    def anonymous(self, **kwargs: Any) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` on ``url`` without credentials."""
        return httpx.AsyncClient(base_url=self.url, **kwargs)

    def ws(self, path: str = "/api/ws", **kwargs: Any) -> Any:
        """``websockets.connect`` to ``ws_url + path`` with the bearer header (use with ``async with``)."""
        headers = {**self.headers, **kwargs.pop("additional_headers", {})}
        return websockets.connect(f"{self.ws_url}{path}", additional_headers=headers, **kwargs)


@pytest.fixture
def test_settings(tmp_path: Path) -> Settings:
    return load_settings(
        environ={},
        home=str(tmp_path / "home"),
        frontend_dir=str(tmp_path / "no-frontend"),
        admin_user=ADMIN_USER,
        admin_password=ADMIN_PASSWORD,
    )


@contextlib.asynccontextmanager
async def serve_app(database_url: str, settings: Settings) -> AsyncIterator[LiveServer]:
    """Serve a fresh app on ``database_url`` (another replica when used twice on one database), logged in."""
    import uvicorn

    from rivulet.app.asgi import create_app

    port = free_port()
    app = create_app(settings, database_url=database_url)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]  # keep pytest's handlers
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server exited during startup")
        await asyncio.sleep(0.01)
    try:
        url = f"http://127.0.0.1:{port}"
        yield LiveServer(url, f"ws://127.0.0.1:{port}", app, settings, await alogin_token(url))
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def live_server(db_url: str, test_settings: Settings) -> AsyncIterator[LiveServer]:
    async with serve_app(db_url, test_settings) as server:
        yield server
