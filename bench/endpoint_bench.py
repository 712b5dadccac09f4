"""Endpoint benchmark: a published 5-node flow vs a bare Litestar JSON echo route, same server, same load.

One app (uvicorn, one process, the real middleware stack) serves both on 127.0.0.1 over an embedded PostgreSQL:

- ``POST /f/bench`` — ``trigger.http(text) → core.template x3 → core.output``: auth (an API key), body
  validation, the run (recorded at its end with ``history: summary``, group-committed), the audit log;
- ``POST /bench/echo`` — a bare Litestar handler returning its JSON body (public: no auth, no database);
- ``POST /bench/echo-auth`` — the same echo behind the auth middleware (a login token; isolates the run cost).

Each is driven by ``wrk`` (Debian package) for ``--seconds`` at ``--connections`` connections, in ``--rounds``
interleaved rounds; the script prints requests/s, p50 and p99 latency per round, the flow's requests/s as a share
of the bare route's (per round, median and best), the server's CPU time per request (this process's CPU time
over the round divided by the requests wrk completed: where the gap comes from, less sensitive to how busy the
machine is than requests/s), and how many runs were recorded in how many group commits.
Target: ≥ 70 %.

The server runs on the event loop ``rivulet serve`` runs on (uvicorn's ``loop="auto"``: uvloop, which
``uvicorn[standard]`` installs); ``--loop asyncio`` measures on the pure-Python loop instead.

Usage: ``.venv/bin/python bench/endpoint_bench.py [--seconds 10] [--connections 64] [--threads 2] [--loop auto]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec
import psycopg
import uvicorn
from litestar import post
from litestar.params import JSONBody

from rivulet.app.asgi import create_app
from rivulet.compiler.flow import Edge, FlowDocument, Node, encode_flow
from rivulet.lib.settings import load_settings
from rivulet.server.auth import PUBLIC
from rivulet.storage.embedded import EmbeddedPostgres

PASSWORD = "bench-password"


@post("/bench/echo", opt=PUBLIC, status_code=200)
async def echo(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
    return data


@post("/bench/echo-auth", status_code=200)
async def echo_auth(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
    return data


def bench_flow() -> FlowDocument:
    """Five nodes: trigger → three templates → output."""
    nodes = [Node(id="http", operator="trigger.http", params={"slug": "bench", "fields": [{"name": "text"}]})]
    edges: list[Edge] = []
    previous, port = "http", "text"
    for index in range(3):
        node_id = f"t{index}"
        nodes.append(Node(id=node_id, operator="core.template", params={"template": "{{ text }}."}))
        edges.append(Edge(id=f"e{index}", source=previous, source_port=port, target=node_id, target_port="text"))
        previous, port = node_id, "text"
    nodes.append(Node(id="out", operator="core.output", params={"name": "text"}))
    edges.append(Edge(id="e3", source=previous, source_port=port, target="out", target_port="value"))
    return FlowDocument(name="bench", nodes=nodes, edges=edges)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def prepare(url: str) -> tuple[str, str]:
    """Log in, create and publish the flow, create an API key; returns the key and a login token."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        login = await client.post("/api/auth/login", json={"username": "admin", "password": PASSWORD, "mode": "token"})
        client.headers["Authorization"] = f"Bearer {login.json()['token']}"
        document = msgspec.json.decode(encode_flow(bench_flow()))
        flow_id = (await client.post("/api/flows", json={"document": document})).json()["summary"]["id"]
        published = await client.post(f"/api/flows/{flow_id}/publish", json={})
        assert published.status_code == 200, published.text
        key = (await client.post("/api/api-keys", json={"name": "bench"})).json()["secret"]
        check = await client.post("/f/bench", json={"text": "hi"}, headers={"Authorization": f"Bearer {key}"})
        assert check.json() == "hi...", check.text
        return str(key), str(client.headers["Authorization"]).removeprefix("Bearer ")


_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


async def drive(url: str, path: str, key: str | None, args: argparse.Namespace, workdir: Path) -> dict[str, float]:
    headers = "" if key is None else f'wrk.headers["Authorization"] = "Bearer {key}"\n'
    script = workdir / f"{path.strip('/').replace('/', '_')}.lua"
    script.write_text(
        'wrk.method = "POST"\nwrk.body = \'{"text": "hi"}\'\nwrk.headers["Content-Type"] = "application/json"\n'
        + headers
    )
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s", "--latency"]
    process = await asyncio.create_subprocess_exec(
        *command, "-s", str(script), f"{url}{path}", stdout=asyncio.subprocess.PIPE
    )
    cpu_before = time.process_time()  # the server runs in this process: its CPU time per request
    output = (await process.communicate())[0].decode()
    cpu_s = time.process_time() - cpu_before
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    latency = {f"p{m[1]}_ms": float(m[2]) * _UNIT[m[3]] for m in _LATENCY.finditer(output)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    cpu_us = cpu_s / max(requests, 1) * 1e6
    return {"rps": rps, **latency, "non_2xx": float(errors.group(1)) if errors else 0.0, "cpu_us": cpu_us}


async def main(args: argparse.Namespace) -> int:
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="rivulet-bench-") as tmp:
        pg = EmbeddedPostgres(Path(tmp) / "home")
        server_url = pg.start()
        try:
            async with await psycopg.AsyncConnection.connect(server_url, autocommit=True) as conn:
                await conn.execute("CREATE DATABASE bench")
            settings = load_settings(
                environ={}, home=str(Path(tmp) / "home"), admin_password=PASSWORD, db_pool_max=args.pool
            )
            app = create_app(settings, database_url=psycopg.conninfo.make_conninfo(server_url, dbname="bench"))
            app.register(echo)
            app.register(echo_auth)
            port = free_port()
            config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
            server = uvicorn.Server(config)
            task = asyncio.create_task(server.serve())
            while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
                await asyncio.sleep(0.05)
            url = f"http://127.0.0.1:{port}"
            try:
                key, token = await prepare(url)
                routes = {
                    "bare echo (no auth)": ("/bench/echo", None),
                    "echo behind auth": ("/bench/echo-auth", token),
                    "published 5-node flow": ("/f/bench", key),
                }
                # interleaved rounds, so load from elsewhere on the machine hits every route alike
                rounds = [
                    {name: await drive(url, path, secret, args, Path(tmp)) for name, (path, secret) in routes.items()}
                    for _ in range(args.rounds)
                ]
                recorder = app.state.services.runs.recorder
                grouping = f"{recorder.recorded} runs recorded in {recorder.groups} group commits"
            finally:
                server.should_exit = True
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        finally:
            pg.stop()
    loop = type(asyncio.get_running_loop()).__module__
    load = f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s, POST {{'text': 'hi'}}"
    print(f"{load}, one uvicorn process on {loop}")
    ratios: list[float] = []
    for number, results in enumerate(rounds, 1):
        print(f"round {number}")
        print(f"  {'route':<24}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>10}{'cpu us/req':>12}")
        for name, r in results.items():
            line = f"{r['rps']:>10.0f}{r.get('p50_ms', 0):>10.2f}{r.get('p99_ms', 0):>10.2f}{r['non_2xx']:>10.0f}"
            line += f"{r['cpu_us']:>12.1f}"
            print(f"  {name:<24}{line}")
        flow, bare = results["published 5-node flow"]["rps"], results["bare echo (no auth)"]["rps"]
        authed = results["echo behind auth"]["rps"]
        ratios.append(flow / bare)
        print(f"  flow / bare echo = {flow / bare:.1%}; flow / echo behind auth = {flow / authed:.1%}")
    ratios.sort()
    print(f"flow / bare echo over {len(ratios)} rounds: median {ratios[len(ratios) // 2]:.1%}, best {ratios[-1]:.1%}")
    print("target >= 70%")
    print(grouping)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the three routes")
    parser.add_argument("--pool", type=int, default=20, help="database pool size of the server")
    parser.add_argument(
        "--loop", default="auto", help="uvicorn's event loop: auto (what `rivulet serve` uses), asyncio, uvloop"
    )
    arguments = parser.parse_args()
    # the event loop `rivulet serve` runs on (uvicorn's choice: uvloop when installed, as it is by default)
    factory = uvicorn.Config("bench:app", loop=arguments.loop).get_loop_factory()
    with asyncio.Runner(loop_factory=factory) as runner:
        sys.exit(runner.run(main(arguments)))
