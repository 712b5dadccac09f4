"""Shared fixtures: one embedded PostgreSQL per test session, a fresh database per test, a live server.

- ``pg_url``: the session server (database ``postgres``); use only for server-wide checks.
- ``db_url``: a new database cloned from a migrated template (isolated per test, ~50 ms).
- ``pool``: an autocommit pool on ``db_url``.
- ``live_server``: the real app served by uvicorn on 127.0.0.1 (real HTTP/WebSocket over loopback) on ``db_url``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import psycopg
import pytest
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


@dataclass
class LiveServer:
    """A running app: ``url`` is ``http://127.0.0.1:PORT``, ``ws_url`` the same with ``ws://``."""

    url: str
    ws_url: str
    app: Litestar
    settings: Settings


@pytest.fixture
def test_settings(tmp_path: Path) -> Settings:
    return load_settings(environ={}, home=str(tmp_path / "home"), frontend_dir=str(tmp_path / "no-frontend"))


@pytest.fixture
async def live_server(db_url: str, test_settings: Settings) -> AsyncIterator[LiveServer]:
    import uvicorn

    from rivulet.server.asgi import create_app

    port = free_port()
    app = create_app(test_settings, database_url=db_url)
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
        yield LiveServer(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", app, test_settings)
    finally:
        server.should_exit = True
        await task
