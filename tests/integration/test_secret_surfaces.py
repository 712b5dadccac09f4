"""A planted secret reaches no surface: replies, the model-call log, run events (HTTP and WebSocket), the stored
run, every database table, exports and the server's own log — even when the upstream echoes the credentials.

The server is a real ``rivulet serve`` process (its log is the real log, formatted as configured); the upstream is
a loopback OpenAI-compatible server whose errors repeat the request's ``Authorization`` header in plain text,
base64 and URL-encoded.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import os
import secrets
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus

import httpx
import msgspec
import psycopg
import pytest
import websockets
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from rivulet.compiler.flow import Edge, FlowDocument, Node, encode_flow
from tests.conftest import ADMIN_PASSWORD, ADMIN_USER, alogin_token, free_port
from tests.integration.openai_server import ECHO_MODEL, serve_openai

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]

RIVULET = str(Path(sys.executable).with_name("rivulet"))
TERMINAL = {"succeeded", "failed", "cancelled", "interrupted"}


def secret_forms(secret: str) -> dict[str, str]:
    """The secret and the encodings a careless upstream or client may put it in."""
    bearer = f"Bearer {secret}"
    b64_bearer = base64.b64encode(bearer.encode()).decode()
    return {
        "plain": secret,
        "url-encoded": quote(secret, safe=""),
        "url-encoded (plus)": quote_plus(secret),
        "base64": base64.b64encode(secret.encode()).decode().rstrip("="),
        "base64url": base64.urlsafe_b64encode(secret.encode()).decode().rstrip("="),
        "base64 of the header": b64_bearer[12:-4],  # the part that depends on the secret only
        "header url-encoded": quote(bearer, safe="")[12:],
    }


def assert_clean(where: str, text: str, secret: str) -> None:
    for name, form in secret_forms(secret).items():
        assert form not in text, (
            f"the secret ({name}) appears in {where}: ...{text[max(0, text.find(form) - 80) :][:200]}"
        )


@contextlib.asynccontextmanager
async def rivulet_serve(home: Path, db_url: str) -> AsyncIterator[tuple[str, Path]]:
    """``rivulet serve`` on ``db_url``; yields its URL and log file, stops it (SIGTERM) on exit."""
    port = free_port()
    home.mkdir(parents=True, exist_ok=True)
    log = home / "server.log"
    env = {
        **os.environ,
        "RIVULET_HOME": str(home),
        "RIVULET_FRONTEND_DIR": str(home / "none"),
        "RIVULET_DATABASE_URL": db_url,
        "RIVULET_ADMIN_USER": ADMIN_USER,
        "RIVULET_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "RIVULET_LOG_LEVEL": "debug",
    }
    with log.open("ab") as out:
        proc = subprocess.Popen([RIVULET, "serve", "--port", str(port)], env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=2) as client:
            for _ in range(600):
                if proc.poll() is not None:
                    pytest.fail(f"rivulet serve exited with {proc.returncode}:\n{log.read_text()}")
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/api/health")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            else:
                pytest.fail(f"rivulet serve did not become healthy:\n{log.read_text()}")
        yield url, log
    finally:
        proc.terminate()
        try:
            await asyncio.to_thread(proc.wait, 30)
        except subprocess.TimeoutExpired:
            proc.kill()


def echo_flow() -> FlowDocument:
    """``core.input(text) → llm.chat(model=echo) → core.output(answer)``."""
    return FlowDocument(
        name="echo",
        nodes=[
            Node(id="in", operator="core.input", params={"name": "text", "type": "Text"}),
            Node(id="chat", operator="llm.chat", params={"model": "echo", "max_tokens": 8}),
            Node(id="out", operator="core.output", params={"name": "answer"}),
        ],
        edges=[
            Edge(id="e1", source="in", source_port="value", target="chat", target_port="prompt"),
            Edge(id="e2", source="chat", source_port="message", target="out", target_port="value"),
        ],
    )


async def _wait_run(client: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    for _ in range(300):
        detail: dict[str, Any] = (await client.get(f"/api/runs/{run_id}")).json()
        if detail["run"]["status"] in TERMINAL:
            return detail
        await asyncio.sleep(0.1)
    pytest.fail(f"run {run_id} did not finish")


async def _ws_frames(ws: Any, run_id: str) -> list[str]:
    frames: list[str] = []
    while True:
        raw = await asyncio.wait_for(ws.recv(), 30)
        frames.append(raw)
        message = json.loads(raw)
        if message.get("run_id") == run_id and message.get("type") == "run_finished":
            return frames


async def _database_text(db_url: str) -> str:
    """Every row of every table in the database, as JSON text."""
    parts: list[str] = []
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        cur = await conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        for (table,) in await cur.fetchall():
            query = sql.SQL("SELECT row_to_json(t)::text FROM {} t").format(sql.Identifier(table))
            rows = await conn.execute(query)
            parts.extend(str(row[0]) for row in await rows.fetchall())
    return "\n".join(parts)


async def test_a_planted_secret_reaches_no_surface(tmp_path: Path, db_url: str) -> None:
    secret = f"sk-PLANTED-{secrets.token_hex(12)}/+="
    surfaces: dict[str, str] = {}
    async with serve_openai() as upstream, rivulet_serve(tmp_path / "home", db_url) as (url, log):
        token = await alogin_token(url)
        async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as api:
            assert (await api.put("/api/secrets/upstream-key", json={"value": secret})).status_code == 200
            model = {
                "name": "echo",
                "provider": "openai_compatible",
                "params": {"base_url": upstream.url, "model": ECHO_MODEL, "api_key_secret": "upstream-key"},
                "allow_private_network": True,
                "timeout_s": 30,
            }
            created = await api.post("/api/models", json=model)
            assert created.status_code == 201, created.text

            probe = await api.post("/api/models/echo/test")
            health = await api.get("/api/models/echo/health")
            surfaces["POST /api/models/echo/test"] = probe.text
            surfaces["GET /api/models/echo/health"] = health.text
            # the upstream really got the secret and really echoed it: the reply carries the redacted echo
            assert upstream.headers[-1]["authorization"] == f"Bearer {secret}"
            assert probe.json()["ok"] is False
            assert "upstream rejected the request" in probe.json()["error"]
            assert "[REDACTED]" in probe.json()["error"]

            document = msgspec.json.decode(encode_flow(echo_flow()))
            flow = await api.post("/api/flows", json={"document": document})
            assert flow.status_code == 201, flow.text
            flow_id = flow.json()["summary"]["id"]
            started = await api.post(f"/api/flows/{flow_id}/runs", json={"inputs": {"text": "hi"}})
            assert started.status_code == 201, started.text
            http_run = started.json()["id"]
            detail = await _wait_run(api, http_run)
            assert detail["run"]["status"] == "failed", detail
            surfaces["GET /api/runs/{id}"] = json.dumps(detail)
            surfaces["GET /api/runs/{id}/events"] = (await api.get(f"/api/runs/{http_run}/events")).text
            surfaces["GET /api/runs"] = (await api.get("/api/runs")).text

            # the WebSocket, authenticated with ?token= (its URL is what uvicorn logs)
            ws_url = url.replace("http://", "ws://") + f"/api/ws?token={token}"
            async with websockets.connect(ws_url) as ws:
                await ws.send(json.dumps({"type": "subscribe", "run_id": http_run, "after_seq": 0}))
                replayed = await _ws_frames(ws, http_run)
                await ws.send(json.dumps({"type": "run_start", "flow_id": flow_id, "inputs": {"text": "again"}}))
                accepted = json.loads(await asyncio.wait_for(ws.recv(), 30))
                assert accepted["type"] == "run_accepted", accepted
                live = await _ws_frames(ws, accepted["run_id"])
            surfaces["WebSocket replay"] = "\n".join(replayed)
            surfaces["WebSocket live run"] = "\n".join(live)
            failed = [json.loads(f) for f in live if json.loads(f).get("type") == "node_failed"]
            assert failed
            assert "[REDACTED]" in failed[0]["error"]["message"]

            calls = await api.get("/api/models/calls")
            surfaces["GET /api/models/calls"] = calls.text
            assert len(calls.json()["items"]) >= 4
            assert all(c["status"] == "error" for c in calls.json()["items"])
            surfaces["GET /api/flows/{id}"] = (await api.get(f"/api/flows/{flow_id}")).text
            exported = await api.post("/api/templates/export", json={"flow_id": flow_id, "name": "echo"})
            assert exported.status_code == 200, exported.text
            archive = base64.b64decode(exported.json()["archive_base64"])
            with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
                members = [tar.extractfile(m) for m in tar.getmembers() if m.isfile()]
                surfaces["template export"] = "\n".join(m.read().decode() for m in members if m is not None)
            # a chat app on the same flow: the answer's error event and the stored transcript
            app = await api.post("/api/apps", json={"flow_id": flow_id, "slug": "echo-app", "title": "Echo"})
            assert app.status_code == 201, app.text
            conversation = (await api.post("/api/chat/echo-app/conversations", json={})).json()["id"]
            messages = f"/api/chat/echo-app/conversations/{conversation}/messages"
            answer = await api.post(messages, json={"content": "hi"})
            assert "event: error" in answer.text
            assert "[REDACTED]" in answer.text
            surfaces["POST /api/chat/{slug}/conversations/{id}/messages (SSE)"] = answer.text
            surfaces["GET /api/chat/{slug}/conversations/{id}/messages"] = (await api.get(messages)).text
            surfaces["GET /api/models"] = (await api.get("/api/models")).text
            surfaces["GET /api/secrets"] = (await api.get("/api/secrets")).text
        surfaces["every database table"] = await _database_text(db_url)
    surfaces["the server log"] = log.read_text()

    for where, text in surfaces.items():
        assert_clean(where, text, secret)
    # the log did record the failures and the WebSocket connection, redacted
    assert "model call failed" in surfaces["the server log"]
    assert "upstream rejected the request" in surfaces["the server log"]
    assert "WebSocket /api/ws?token=[REDACTED]" in surfaces["the server log"]
    assert token not in surfaces["the server log"]


# --- data sources -------------------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _password_checked_role(db_url: str, password: str) -> AsyncIterator[dict[str, Any]]:
    """A role with ``password`` owning a new database on the embedded server, whose password is really checked.

    The embedded cluster trusts local connections; two ``pg_hba.conf`` lines for this role alone (reloaded, and
    removed again afterwards) make the server ask for its password, so a wrong password really fails.
    """
    role, database = f"ds_sec_{secrets.token_hex(5)}", f"ds_sec_{secrets.token_hex(5)}"
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        await conn.execute("SET password_encryption = 'scram-sha-256'")
        await conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), password))
        await conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database), sql.Identifier(role))
        )
        hba = Path(str((await (await conn.execute("SHOW hba_file")).fetchone() or [""])[0]))
        original = hba.read_text()
        hba.write_text(f"local all {role} scram-sha-256\nhost all {role} all scram-sha-256\n{original}")
        await conn.execute("SELECT pg_reload_conf()")
    info = conninfo_to_dict(db_url)
    config = {"host": info.get("host"), "port": int(info.get("port") or 5432), "database": database, "user": role}
    try:
        async with await psycopg.AsyncConnection.connect(
            host=config["host"], port=config["port"], dbname=database, user=role, password=password, autocommit=True
        ) as conn:
            await conn.execute("CREATE TABLE products (id integer PRIMARY KEY, name text NOT NULL, price numeric)")
            await conn.execute("INSERT INTO products VALUES (1, 'Keyboard', 49.5), (2, 'Mouse', 19.99)")
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            await psycopg.AsyncConnection.connect(
                host=config["host"], port=config["port"], dbname=database, user=role, password="wrong"
            )
        yield config
    finally:
        hba.write_text(original)
        async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
            await conn.execute("SELECT pg_reload_conf()")
            await conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
            await conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def _sql_flow(datasource: str, query: str) -> dict[str, Any]:
    return {
        "schema": "rivulet.flow/v1",
        "name": f"read {datasource}",
        "nodes": [
            {"id": "q", "operator": "sql.run_query", "params": {"datasource": datasource, "sql": query}},
            {"id": "out", "operator": "core.output", "params": {"name": "rows"}},
        ],
        "edges": [{"id": "e1", "source": "q", "source_port": "table", "target": "out", "target_port": "value"}],
    }


_ECHO_SQL_FLOW = {
    "schema": "rivulet.flow/v1",
    "name": "echo sql",
    "nodes": [
        {"id": "in", "operator": "core.input", "params": {"name": "question", "type": "Text"}},
        {"id": "out", "operator": "core.output", "params": {"name": "sql"}},
    ],
    "edges": [{"id": "e1", "source": "in", "source_port": "value", "target": "out", "target_port": "value"}],
}


async def _evaluation(api: httpx.AsyncClient, flow_id: str, datasource: str) -> str:
    line = {"inputs": {"question": "SELECT name FROM products"}, "sql": "SELECT name FROM products"}
    body = {"flow_id": flow_id, "dataset": json.dumps(line), "metric": "sql_execution", "datasource": datasource}
    started = await api.post("/api/evaluations", json=body)
    assert started.status_code == 202, started.text
    for _ in range(300):
        record = await api.get(f"/api/evaluations/{started.json()['id']}")
        if record.json()["status"] not in ("running", "queued"):
            return record.text
        await asyncio.sleep(0.1)
    pytest.fail("the evaluation did not finish")


async def test_a_data_source_password_reaches_no_surface(tmp_path: Path, db_url: str) -> None:
    """A PostgreSQL data source's password (a real role whose password the server checks) and a wrong one: no
    answer of the data sources API (list, get, test, schema, query, ask), no connection error, no run event of the
    sql operators, no evaluation record, no report export, no database row and no server log line carries them."""
    password = f"pg-PLANTED-{secrets.token_hex(10)}/+='\" x"
    wrong = f"pg-WRONG-{secrets.token_hex(10)}"
    surfaces: dict[str, str] = {}
    async with (
        _password_checked_role(db_url, password) as config,
        rivulet_serve(tmp_path / "home", db_url) as (url, log),
    ):
        token = await alogin_token(url)
        async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as api:
            for name, secret in (("pg-right", password), ("pg-wrong", wrong)):
                created = await api.post(
                    "/api/datasources", json={"name": name, "kind": "postgres", **config, "password": secret}
                )
                surfaces[f"POST /api/datasources ({name})"] = created.text
                assert created.status_code in (200, 201), created.text
                tested = await api.post(f"/api/datasources/{name}/test")
                surfaces[f"POST /api/datasources/{name}/test"] = tested.text
                schema = await api.get(f"/api/datasources/{name}/schema", params={"refresh": "true"})
                surfaces[f"GET /api/datasources/{name}/schema"] = schema.text
                query = await api.post(f"/api/datasources/{name}/query", json={"sql": "SELECT name FROM products"})
                surfaces[f"POST /api/datasources/{name}/query"] = query.text
                ask = await api.post(f"/api/datasources/{name}/ask", json={"question": "Which products?"})
                surfaces[f"POST /api/datasources/{name}/ask"] = ask.text
                surfaces[f"GET /api/datasources/{name}"] = (await api.get(f"/api/datasources/{name}")).text
                flow = await api.post("/api/flows", json={"document": _sql_flow(name, "SELECT name FROM products")})
                assert flow.status_code == 201, flow.text
                run = await api.post(f"/api/flows/{flow.json()['summary']['id']}/runs", json={"inputs": {}})
                detail = await _wait_run(api, run.json()["id"])
                surfaces[f"GET /api/runs/{{id}} ({name})"] = json.dumps(detail)
                surfaces[f"GET /api/runs/{{id}}/events ({name})"] = (
                    await api.get(f"/api/runs/{run.json()['id']}/events")
                ).text
                echo = await api.post("/api/flows", json={"document": _ECHO_SQL_FLOW})
                surfaces[f"evaluation ({name})"] = await _evaluation(api, echo.json()["summary"]["id"], name)
            # what the right password gave, and what the wrong one did not
            assert json.loads(surfaces["POST /api/datasources/pg-right/test"])["ok"] is True
            assert "Keyboard" in surfaces["POST /api/datasources/pg-right/query"]
            failed = json.loads(surfaces["POST /api/datasources/pg-wrong/test"])
            assert failed["ok"] is False
            assert "password authentication failed" in failed["error"], failed
            assert json.loads(surfaces["POST /api/datasources/pg-wrong/query"])["code"] == "datasource_error"
            assert "password authentication failed" in surfaces["GET /api/runs/{id}/events (pg-wrong)"]
            assert "password authentication failed" in surfaces["evaluation (pg-wrong)"]
            assert json.loads(surfaces["evaluation (pg-right)"])["status"] == "succeeded"

            rows = json.loads(surfaces["POST /api/datasources/pg-right/query"])["table"]
            report = await api.post(
                "/api/reports",
                json={
                    "title": "Products",
                    "datasource": "pg-right",
                    "charts": [
                        {
                            "title": "names",
                            "chart": {"title": "names", "kind": "table"},
                            "table": rows,
                            "sql": "SELECT name FROM products",
                        }
                    ],
                },
            )
            assert report.status_code in (200, 201), report.text
            exported = await api.get(f"/api/reports/{report.json()['id']}/export.html")
            assert exported.status_code == 200
            surfaces["GET /api/reports/{id}/export.html"] = exported.text
            surfaces["GET /api/reports"] = (await api.get("/api/reports")).text
            surfaces["GET /api/datasources"] = (await api.get("/api/datasources")).text
            surfaces["GET /api/secrets"] = (await api.get("/api/secrets")).text
            surfaces["GET /api/runs"] = (await api.get("/api/runs")).text
        surfaces["every database table"] = await _database_text(db_url)
    surfaces["the server log"] = log.read_text()

    for secret in (password, wrong):
        for where, text in surfaces.items():
            assert_clean(where, text, secret)
