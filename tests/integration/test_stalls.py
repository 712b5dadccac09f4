"""Event-loop stalls on the live app: CPU-heavy templates and archives never freeze ``/api/health``.

Each case runs against the real server (one event loop serving every request) while ``/api/health`` is polled;
before the fix the power template took 14 s to validate, the 3 x 10^8-step template blocked the loop for 10 s and
then *succeeded* despite ``timeout_s=1``, and a zip bomb stalled every gallery listing for seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any

import pytest

from rivulet.sdk import templating
from tests.unit.templates.test_archive_limits import zip_bomb

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    import httpx

    from tests.conftest import LiveServer

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]

POWER = "{{ 10 ** 10000000 % 7 }}{{ text }}"
LOOP_3E8 = "{% for i in range(100000) %}{% for j in range(3000) %}{% endfor %}{% endfor %}{{ text }}"
STALL_S = 1.0
"""A health check slower than this means the loop was blocked (it answers in ms; the stalls took 3-14 s)."""


def _template_flow(template: str, timeout_s: float | None = None) -> dict[str, Any]:
    policy = {} if timeout_s is None else {"policy": {"timeout_s": timeout_s}}
    return {
        "schema": "rivulet.flow/v1",
        "name": "stall",
        "nodes": [
            {"id": "in", "operator": "core.input", "params": {"name": "text", "type": "Text"}},
            {"id": "t", "operator": "core.template", "params": {"template": template}, **policy},
            {"id": "out", "operator": "core.output", "params": {"name": "text"}},
        ],
        "edges": [
            {"id": "e1", "source": "in", "source_port": "value", "target": "t", "target_port": "text"},
            {"id": "e2", "source": "t", "source_port": "text", "target": "out", "target_port": "value"},
        ],
    }


@contextlib.asynccontextmanager
async def _health_probe(client: httpx.AsyncClient) -> AsyncIterator[list[float]]:
    """Poll ``/api/health`` every 10 ms while the block runs; yields the latencies (seconds) seen so far.

    The probe shares the server's event loop, so a latency is a whole poll (request and 10 ms pause) less the
    pause: a loop blocked while the probe pauses shows too.
    """
    latencies: list[float] = []

    async def poll() -> None:
        while True:
            started = time.perf_counter()
            response = await client.get("/api/health")
            assert response.status_code == 200
            await asyncio.sleep(0.01)
            latencies.append(time.perf_counter() - started - 0.01)

    task = asyncio.create_task(poll())
    await asyncio.sleep(0.05)
    try:
        yield latencies
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _finished(client: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    for _ in range(1000):
        body: dict[str, Any] = (await client.get(f"/api/runs/{run_id}")).json()
        if body["run"]["status"] not in ("queued", "running"):
            return body
        await asyncio.sleep(0.02)
    raise AssertionError(f"run {run_id} did not finish")


async def _create(client: httpx.AsyncClient, document: dict[str, Any]) -> str:
    response = await client.post("/api/flows", json={"document": document})
    assert response.status_code == 201, response.text
    return str(response.json()["summary"]["id"])


async def test_validating_a_huge_power_is_quick_and_running_it_is_refused(live_server: LiveServer) -> None:
    async with live_server.client(timeout=60) as client, _health_probe(client) as latencies:
        started = time.perf_counter()
        report = await client.post("/api/flows/validate", json=_template_flow(POWER))
        elapsed = time.perf_counter() - started
        assert report.status_code == 200, report.text
        assert report.json()["ok"], report.json()
        assert elapsed < 3.0, f"validate took {elapsed:.1f} s"
        flow_id = await _create(client, _template_flow(POWER))
        run = (await client.post(f"/api/flows/{flow_id}/runs", json={"inputs": {"text": "x"}})).json()
        error = (await _finished(client, run["id"]))["run"]["error"]
        assert error["node_id"] == "t"
        assert "10 ** 10000000 would be too large" in error["message"]
        assert max(latencies) < STALL_S, f"health waited {max(latencies):.2f} s"


async def test_a_cpu_bound_template_fails_at_its_node_timeout_without_blocking(live_server: LiveServer) -> None:
    async with live_server.client(timeout=60) as client:
        flow_id = await _create(client, _template_flow(LOOP_3E8, timeout_s=1))
        async with _health_probe(client) as latencies:
            started = time.perf_counter()
            run = (await client.post(f"/api/flows/{flow_id}/runs", json={"inputs": {"text": "x"}})).json()
            body = await _finished(client, run["id"])
            elapsed = time.perf_counter() - started
        assert body["run"]["status"] == "failed", body["run"]
        assert body["run"]["error"]["code"] == "timeout"
        assert body["run"]["error"]["node_id"] == "t"
        assert elapsed < 4.0, f"the run took {elapsed:.1f} s to fail"
        assert len(latencies) > 20
        assert max(latencies) < STALL_S, f"health waited {max(latencies):.2f} s"


async def test_listing_a_source_of_zip_bombs_is_refused_quickly(live_server: LiveServer, tmp_path: Path) -> None:
    source = tmp_path / "bombs"
    source.mkdir()
    bomb = zip_bomb(300_000_000)  # 300 MB of zeros declared as 10 B, three times
    for index in range(3):
        (source / f"bomb-{index}.zip").write_bytes(bomb)
    async with live_server.client(timeout=60) as client:
        added = await client.post("/api/templates/sources", json={"location": str(source)})
        assert added.status_code in (200, 201), added.text
        async with _health_probe(client) as latencies:
            started = time.perf_counter()
            listing = await client.get("/api/templates")
            elapsed = time.perf_counter() - started
        assert elapsed < 0.5, f"listing took {elapsed:.1f} s"
        # the listing may end before the first health answer does (then nothing waited at all)
        assert max(latencies, default=0.0) < STALL_S, f"health waited {max(latencies, default=0.0):.2f} s"
        assert listing.status_code == 422, listing.text
        assert "archive entry 'flows/main.json' is corrupt" in listing.json()["detail"]


async def test_saving_reading_and_running_a_flow_with_a_huge_template_does_not_block(live_server: LiveServer) -> None:
    template = "{{ text ~ text }}\n" * 10_500  # 189 kB: about 3 s of CPU to compile
    async with live_server.client(timeout=60) as client, _health_probe(client) as latencies:
        flow_id = await _create(client, _template_flow(template))
        read = await client.get(f"/api/flows/{flow_id}")
        assert read.json()["validation"]["ok"], read.json()["validation"]
        run = (await client.post(f"/api/flows/{flow_id}/runs", json={"inputs": {"text": "x"}})).json()
        assert (await _finished(client, run["id"]))["run"]["status"] == "succeeded"
        assert max(latencies) < STALL_S, f"health waited {max(latencies):.2f} s"


async def test_publishing_and_calling_a_flow_with_a_huge_template_does_not_block(live_server: LiveServer) -> None:
    template = "{{ text ~ text }}\n" * 10_500  # about 3 s of CPU to compile, for publishing and for the first call
    document = _template_flow(template)
    document["nodes"][0] = {
        "id": "in",
        "operator": "trigger.http",
        "params": {"slug": "huge", "fields": [{"name": "text", "type": "Text"}]},
    }
    document["edges"][0]["source_port"] = "text"
    async with live_server.client(timeout=60) as client:
        flow_id = await _create(client, document)
        async with _health_probe(client) as latencies:
            templating.clear_caches()  # as on a fresh replica: nothing compiled yet
            published = await client.post(f"/api/flows/{flow_id}/publish", json={})
            assert published.status_code == 200, published.text
            templating.clear_caches()
            called = await client.post("/f/huge", json={"text": "x"})
            assert called.status_code == 200, called.text
            dbgpt = await client.post("/api/templates/import-dbgpt", json={"export": {"flow_data": {}}, "save": False})
            assert dbgpt.status_code < 500
        assert max(latencies) < STALL_S, f"health waited {max(latencies):.2f} s"
