"""Server memory (RSS) before and after a 100,000-node flow is sent to ``POST /api/flows``.

Starts ``rivulet serve`` (embedded PostgreSQL) twice: once with the flow limits raised out of the way (what the
server did before it had limits) and once with the defaults, sends the same flow three times to each, and prints the
server's RSS (from /proc) before, right after, and 5 s after, with the answers' statuses.

    .venv/bin/python bench/flow_size_rss.py [--nodes 100000]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import msgspec

PASSWORD = "bench-password-1"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def node(index: int, *, params: bool) -> dict[str, object]:
    bare: dict[str, object] = {"id": f"n{index}", "operator": "core.output"}
    return {**bare, "params": {"name": f"o{index}"}} if params else bare


def flow_body(nodes: int, *, params: bool = True) -> bytes:
    document = {"name": "huge", "nodes": [node(i, params=params) for i in range(nodes)], "edges": []}
    return msgspec.json.encode({"document": document})


def measure(label: str, env: dict[str, str], body: bytes) -> None:
    port = free_port()
    with tempfile.TemporaryDirectory() as home:
        server_env = {**os.environ, **env, "RIVULET_HOME": home, "RIVULET_ADMIN_PASSWORD": PASSWORD}
        server_env["RIVULET_LOG_LEVEL"] = "warning"
        command = [str(Path(sys.executable).with_name("rivulet")), "serve", "--port", str(port)]
        process = subprocess.Popen(command, env=server_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(600):
                try:
                    if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
            login = {"username": "admin", "password": PASSWORD, "mode": "token"}
            token = httpx.post(f"{url}/api/auth/login", json=login, timeout=10).json()["token"]
            headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
            idle = rss_mb(process.pid)
            statuses: list[int] = []
            peak = idle
            for _ in range(3):
                response = httpx.post(f"{url}/api/flows", content=body, headers=headers, timeout=600)
                statuses.append(response.status_code)
                peak = max(peak, rss_mb(process.pid))
            time.sleep(5)
            settled = rss_mb(process.pid)
            print(
                f"{label}: body {len(body) / 1e6:.1f} MB, statuses {statuses}, RSS idle {idle:.0f} MB,"
                f" after the calls {peak:.0f} MB, 5 s later {settled:.0f} MB"
            )
        finally:
            process.terminate()
            process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=100_000)
    args = parser.parse_args()
    body = flow_body(args.nodes)
    unlimited = {
        "RIVULET_MAX_REQUEST_BODY_BYTES": str(200 * 1024 * 1024),
        "RIVULET_MAX_FLOW_BYTES": str(200 * 1024 * 1024),
        "RIVULET_MAX_FLOW_NODES": str(10_000_000),
        "RIVULET_MAX_FLOW_EDGES": str(10_000_000),
    }
    measure("no limits (as before)", unlimited, body)
    measure("default limits", {}, body)
    small = flow_body(min(args.nodes, 2_000 * 2))  # a body under max_flow_bytes: refused by the node count
    measure("default limits, 4,000 nodes", {}, small)
    densest = flow_body(48_000, params=False)  # as many nodes as fit under the default max_flow_bytes (2 MiB)
    measure("default limits, 48,000 bare nodes", {}, densest)


if __name__ == "__main__":
    main()
