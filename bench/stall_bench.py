"""Event-loop stall benchmark: ``/api/health`` latency at rest and while CPU-heavy requests run.

One app (uvicorn, one process, ``rivulet serve``'s event loop) serves on 127.0.0.1 over an embedded PostgreSQL. A
separate process (its own interpreter, so it never shares the server's GIL) polls ``GET /api/health`` every 10 ms
for ``--seconds`` per case and reports p50/p99/max, while this process keeps one of these running, back to back:

- ``at rest``: nothing;
- ``validate 10**10000000``: ``POST /api/flows/validate`` of a flow whose template is ``{{ 10 ** 10000000 % 7 }}``
  (Jinja used to fold it at compile time: 14.5 s per request);
- ``3e8-step loop, timeout_s=1``: runs of a flow whose template loops 3 x 10^8 times, with ``timeout_s=1`` (used to
  block the loop ~10 s and then succeed); each run must fail with ``timeout`` after about 1 s;
- ``zip-bomb source listing``: ``GET /api/templates`` with a template source holding three 1 MB archives whose
  entry declares 10 B and inflates to 1.1 GB (used to inflate fully on every listing); each listing must be refused.

Target: health p99 < 50 ms in every case.

Usage: ``.venv/bin/python bench/stall_bench.py [--seconds 10] [--loop auto] [--bomb-mb 1100]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import socket
import struct
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx
import psycopg
import uvicorn

from rivulet.app.asgi import create_app
from rivulet.lib.settings import load_settings
from rivulet.storage.embedded import EmbeddedPostgres

PASSWORD = "bench-password"
POWER = "{{ 10 ** 10000000 % 7 }}{{ text }}"
LOOP_3E8 = "{% for i in range(100000) %}{% for j in range(3000) %}{% endfor %}{% endfor %}{{ text }}"

PROBE = """
import json, sys, time, httpx
url, seconds = sys.argv[1], float(sys.argv[2])
latencies = []
with httpx.Client(base_url=url, timeout=60) as client:
    client.get("/api/health")
    print("ready", flush=True)
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        started = time.perf_counter()
        status = client.get("/api/health").status_code
        latencies.append((time.perf_counter() - started) * 1000)
        assert status == 200, status
        time.sleep(0.01)
print(json.dumps(latencies))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def template_flow(template: str, timeout_s: float | None = None) -> dict[str, Any]:
    """``core.input(text) -> core.template(template) -> core.output``."""
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


def zip_bomb(inflated: int, declared: int = 10) -> bytes:
    """A zip whose ``flows/main.json`` declares ``declared`` bytes but inflates to ``inflated`` zero bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.json", b'{"name": "bomb"}')
        info = zipfile.ZipInfo("flows/main.json")
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as entry:
            chunk = b"\0" * 1_000_000
            for _ in range(inflated // len(chunk)):
                entry.write(chunk)
    data = bytearray(buffer.getvalue())
    for signature, name_at, size_at in ((b"PK\x03\x04", 30, 22), (b"PK\x01\x02", 46, 24)):
        at = data.find(signature)
        while at >= 0:
            length = struct.unpack_from("<H", data, at + (26 if signature == b"PK\x03\x04" else 28))[0]
            if data[at + name_at : at + name_at + length] == b"flows/main.json":
                struct.pack_into("<I", data, at + size_at, declared)
            at = data.find(signature, at + 4)
    return bytes(data)


async def start_probe(url: str, seconds: float) -> asyncio.subprocess.Process:
    """The polling process, once it has connected (so that no stall hides in its start-up)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", PROBE, url, str(seconds), stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    assert (await process.stdout.readline()).strip() == b"ready"
    return process


async def probe_results(process: asyncio.subprocess.Process) -> list[float]:
    output = (await process.communicate())[0]
    return sorted(json.loads(output))


async def keep_running(client: httpx.AsyncClient, case: str, ids: dict[str, str], stop: asyncio.Event) -> list[str]:
    """Run the case's request back to back until ``stop``; one line per request (status, time, what happened)."""
    done: list[str] = []
    while not stop.is_set():
        started = time.perf_counter()
        try:
            what = await _one(client, case, ids, len(done))
        except httpx.HTTPError as exc:
            what = f"{type(exc).__name__}"
        done.append(f"{(time.perf_counter() - started) * 1000:8.0f} ms  {what}")
    return done


async def _one(client: httpx.AsyncClient, case: str, ids: dict[str, str], number: int) -> str:
    if case == "validate":
        # a new exponent each time: compiled templates are cached by source
        response = await client.post("/api/flows/validate", json=template_flow(POWER.replace("7", str(7 + number))))
        return f"{response.status_code} ok={response.json().get('ok')}"
    if case == "loop":
        run = (await client.post(f"/api/flows/{ids['loop']}/runs", json={"inputs": {"text": str(number)}})).json()
        while True:
            body = (await client.get(f"/api/runs/{run['id']}")).json()["run"]
            if body["status"] not in ("queued", "running"):
                return f"{body['status']} {(body.get('error') or {}).get('code')}"
            await asyncio.sleep(0.05)
    response = await client.get("/api/templates")
    return f"{response.status_code} {response.json().get('detail', '')[-70:]}"


async def measure(url: str, client: httpx.AsyncClient, case: str | None, ids: dict[str, str], seconds: float) -> None:
    stop = asyncio.Event()
    process = await start_probe(url, seconds)
    driver = asyncio.create_task(keep_running(client, case, ids, stop)) if case else None
    latencies = await probe_results(process)
    stop.set()
    requests = await driver if driver else []
    p50 = latencies[len(latencies) // 2]
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    name = {None: "at rest", "validate": "validate 10**10000000", "loop": "3e8-step loop, timeout_s=1"}.get(
        case, "zip-bomb source listing"
    )
    verdict = "ok" if p99 < 50 else "OVER"
    print(f"{name:<30}{len(latencies):>8}{p50:>10.1f}{p99:>10.1f}{latencies[-1]:>10.1f}  {verdict}")
    counts: dict[str, int] = {}
    for line in requests:
        key = line.split("ms", 1)[1].strip()
        counts[key] = counts.get(key, 0) + 1
    if requests:
        times = sorted(float(line.split("ms")[0]) for line in requests)
        summary = ", ".join(f"{n} x {k}" for k, n in counts.items())
        print(f"{'':<30}{len(requests)} requests, median {times[len(times) // 2]:.0f} ms: {summary}")


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="rivulet-stall-") as tmp:
        bombs = Path(tmp) / "bombs"
        bombs.mkdir()
        started = time.perf_counter()
        bomb = zip_bomb(args.bomb_mb * 1_000_000)
        for index in range(3):
            (bombs / f"bomb-{index}.zip").write_bytes(bomb)
        print(
            f"3 zip bombs of {len(bomb) / 1e6:.1f} MB inflating to {args.bomb_mb} MB each (built in "
            f"{time.perf_counter() - started:.1f} s)"
        )
        pg = EmbeddedPostgres(Path(tmp) / "home")
        server_url = pg.start()
        try:
            async with await psycopg.AsyncConnection.connect(server_url, autocommit=True) as conn:
                await conn.execute("CREATE DATABASE bench")
            settings = load_settings(environ={}, home=str(Path(tmp) / "home"), admin_password=PASSWORD)
            app = create_app(settings, database_url=psycopg.conninfo.make_conninfo(server_url, dbname="bench"))
            port = free_port()
            config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
            server = uvicorn.Server(config)
            task = asyncio.create_task(server.serve())
            while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
                await asyncio.sleep(0.05)
            url = f"http://127.0.0.1:{port}"
            try:
                async with httpx.AsyncClient(base_url=url, timeout=120) as client:
                    login = await client.post(
                        "/api/auth/login", json={"username": "admin", "password": PASSWORD, "mode": "token"}
                    )
                    client.headers["Authorization"] = f"Bearer {login.json()['token']}"
                    created = await client.post("/api/flows", json={"document": template_flow(LOOP_3E8, 1)})
                    ids = {"loop": created.json()["summary"]["id"]}
                    added = await client.post("/api/templates/sources", json={"location": str(bombs)})
                    assert added.status_code < 300, added.text
                    loop = type(asyncio.get_running_loop()).__module__
                    print(
                        f"/api/health polled every 10 ms for {args.seconds} s per case by a separate process;"
                        f" server: one uvicorn process on {loop}"
                    )
                    print(f"{'case':<30}{'probes':>8}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}  target p99 < 50 ms")
                    for case in (None, "validate", "loop", "listing"):
                        await measure(url, client, case, ids, args.seconds)
            finally:
                server.should_exit = True
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        finally:
            pg.stop()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="health polling per case")
    parser.add_argument("--bomb-mb", type=int, default=1100, help="what each zip bomb inflates to")
    parser.add_argument(
        "--loop", default="auto", help="uvicorn's event loop: auto (what `rivulet serve` uses), asyncio, uvloop"
    )
    arguments = parser.parse_args()
    # the event loop `rivulet serve` runs on (uvicorn's choice: uvloop when installed, as it is by default)
    factory = uvicorn.Config("bench:app", loop=arguments.loop).get_loop_factory()
    with asyncio.Runner(loop_factory=factory) as runner:
        sys.exit(runner.run(main(arguments)))
