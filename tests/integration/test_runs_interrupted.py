"""A ``rivulet serve`` killed with SIGKILL mid-run: after a restart on the same home the run is ``interrupted``."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from rivulet.storage.embedded import EmbeddedPostgres
from rivulet.storage.postgres.flows import PostgresFlowStore
from rivulet.storage.postgres.pool import open_pool
from tests.conftest import ADMIN_PASSWORD, free_port, login_token
from tests.integration.runs_support import delay_flow

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.timeout(240),
]

RIVULET = str(Path(sys.executable).with_name("rivulet"))


def serve(home: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "RIVULET_HOME": str(home),
        "RIVULET_PORT": str(port),
        "RIVULET_FRONTEND_DIR": str(home),
        "RIVULET_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }
    env.pop("RIVULET_DATABASE_URL", None)
    return subprocess.Popen([RIVULET, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def auth(url: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {login_token(url)}"}


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "rivulet serve exited during startup"
        try:
            if httpx.get(f"{url}/api/health", timeout=2).status_code in (200, 503):
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("rivulet serve did not become healthy")


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "home"
    server = EmbeddedPostgres(tmp_path / "home")  # adopt and stop what the killed server left running
    if server.pgdata.exists():
        server.start()
        server.stop()


async def create_flow(home: Path) -> str:
    server = EmbeddedPostgres(home)
    url = await asyncio.to_thread(server.start)
    pool = await open_pool(url, min_size=1, max_size=1)
    try:
        record = await PostgresFlowStore(pool).create(delay_flow(60, name="slow"))
    finally:
        await pool.close()
    return record.summary.id


def events(url: str, run_id: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{url}/api/runs/{run_id}/events", headers=auth(url), timeout=5)
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


def test_sigkill_mid_run_leaves_an_interrupted_run(home: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    first = serve(home, port)
    try:
        wait_healthy(url, first)
        flow_id = asyncio.run(create_flow(home))
        created = httpx.post(
            f"{url}/api/flows/{flow_id}/runs", json={"inputs": {"text": "x"}}, headers=auth(url), timeout=10
        )
        assert created.status_code == 201, created.text
        run_id = created.json()["id"]
        deadline = time.monotonic() + 10
        while not any(e["type"] == "node_started" and e["node_id"] == "wait" for e in events(url, run_id)):
            assert time.monotonic() < deadline, "the delay node never started"
            time.sleep(0.05)
        time.sleep(0.2)  # let the writer persist what was published
        before = events(url, run_id)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    second = serve(home, port)
    try:
        wait_healthy(url, second)
        run = httpx.get(f"{url}/api/runs/{run_id}", headers=auth(url), timeout=5).json()["run"]
        assert run["status"] == "interrupted"
        assert run["error"]["code"] == "interrupted"
        after = events(url, run_id)
        assert after[: len(before)] == before  # every persisted event is kept
        assert after[-1]["type"] == "run_finished"
        assert after[-1]["status"] == "interrupted"
        assert [e["seq"] for e in after] == list(range(1, len(after) + 1))
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
