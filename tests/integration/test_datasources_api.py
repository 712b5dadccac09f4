"""``/api/datasources`` over real HTTP: a SQLite file and the embedded PostgreSQL (a role with a real password) as
data sources, the guarded query playground, spreadsheet uploads (CSV and a generated XLSX) streamed with size
limits, questions answered by a scripted OpenAI-compatible model with a repair, roles and ownership, and a planted
password that reaches no answer, no error and no log line."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import secrets
import sqlite3
import uuid
from typing import TYPE_CHECKING, Any

import httpx
import psycopg
import pytest
import uvicorn
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from rivulet.lib.settings import Settings, load_settings
from tests.conftest import ADMIN_PASSWORD, ADMIN_USER, alogin_token, free_port
from tests.integration.openai_server import API_KEY, ScriptedOpenAI

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from tests.conftest import LiveServer

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]

FILE_LIMIT = 64 * 1024
TOTAL_LIMIT = 256 * 1024
PASSWORD = "correct horse battery"
PLANTED = f"pg-PLANTED-{secrets.token_hex(8)}"
"""The PostgreSQL role's password: it must appear in no answer, error or log record."""
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def test_settings(tmp_path: Path) -> Settings:
    """The shared settings with small upload limits (so that the 413s need only small bodies)."""
    return load_settings(
        environ={},
        home=str(tmp_path / "home"),
        frontend_dir=str(tmp_path / "no-frontend"),
        admin_user=ADMIN_USER,
        admin_password=ADMIN_PASSWORD,
        max_upload_file_bytes=FILE_LIMIT,
        max_upload_bytes=TOTAL_LIMIT,
    )


@pytest.fixture
async def admin(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with live_server.client(timeout=120) as c:
        yield c


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def assert_no_password(where: str, text: str) -> None:
    assert PLANTED not in text, f"the planted password appears in {where}: {text[:300]}"


def log_text(caplog: pytest.LogCaptureFixture) -> str:
    """Every captured record with its extras (``extra={...}`` fields are attributes of the record)."""
    return "\n".join(f"{r.getMessage()} {r.__dict__!r}" for r in caplog.records)


def build_sqlite(path: Path) -> Path:
    conn = sqlite3.connect(path)
    try:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT)")
        conn.executemany(
            "INSERT INTO customers VALUES (?, ?, ?)",
            [(1, "Ada", "London"), (2, "Alan", "Manchester"), (3, "Grace", "New York"), (4, "Edsger", "London")],
        )
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id),"
                     " total REAL NOT NULL)")  # fmt: skip
        conn.executemany("INSERT INTO orders VALUES (?, ?, ?)", [(1, 1, 10.5), (2, 1, 20.0), (3, 3, 99.0)])
        conn.commit()
    finally:
        conn.close()
    return path


@contextlib.asynccontextmanager
async def postgres_source(pg_url: str) -> AsyncIterator[dict[str, Any]]:
    """A database owned by a new role whose password is ``PLANTED``; yields the connection config (no password)."""
    suffix = uuid.uuid4().hex[:10]
    database, role = f"ds_{suffix}", f"ds_reader_{suffix}"
    async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as conn:
        await conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), PLANTED))
        await conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database), sql.Identifier(role))
        )
    server = conninfo_to_dict(pg_url)
    config = {"host": server.get("host"), "port": int(server.get("port") or 5432), "database": database, "user": role}
    async with await psycopg.AsyncConnection.connect(
        host=config["host"], port=config["port"], dbname=database, user=role, password=PLANTED, autocommit=True
    ) as conn:
        await conn.execute("CREATE TABLE products (id integer PRIMARY KEY, name text NOT NULL, price numeric(8, 2))")
        await conn.execute("INSERT INTO products VALUES (1, 'Keyboard', 49.50), (2, 'Mouse', 19.99), (3, 'Desk', 250)")
    try:
        yield config
    finally:
        async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as conn:
            await conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
            await conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


async def user_client(server: LiveServer, admin: httpx.AsyncClient, name: str, role: str) -> httpx.AsyncClient:
    created = await admin.post("/api/users", json={"username": name, "password": PASSWORD, "role": role})
    assert created.status_code == 201, created.text
    token = await alogin_token(server.url, name, PASSWORD)
    return httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=120)


def xlsx_bytes() -> bytes:
    """A workbook with two sheets: ``regions`` (name, manager) and ``targets`` (region, target)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "regions"
    sheet.append(["region", "manager"])
    for row in (["North", "Nia"], ["South", "Sam"], ["East", "Eve"]):
        sheet.append(row)
    targets = book.create_sheet("targets")
    targets.append(["region", "target"])
    for row in (["North", 100], ["South", 80], ["East", 120]):
        targets.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


SALES_CSV = b"region,product,amount\nNorth,Keyboard,10\nNorth,Mouse,5\nSouth,Keyboard,7\nEast,Desk,3\n"


async def upload(client: httpx.AsyncClient, files: dict[str, tuple[bytes, str]], **form: str) -> httpx.Response:
    parts = [("files", (name, data, media)) for name, (data, media) in files.items()]
    return await client.post("/api/datasources/uploads", files=parts, data=form or None)


async def database_text(db_url: str) -> str:
    """Every row of every table of the app's database, as JSON text."""
    parts: list[str] = []
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        cur = await conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        for (table,) in await cur.fetchall():
            rows = await conn.execute(sql.SQL("SELECT row_to_json(t)::text FROM {} t").format(sql.Identifier(table)))
            parts.extend(str(row[0]) for row in await rows.fetchall())
    return "\n".join(parts)


async def test_admin_sources_schema_query_and_roles(
    live_server: LiveServer,
    admin: httpx.AsyncClient,
    pg_url: str,
    db_url: str,
    tmp_path: Path,
    logs: pytest.LogCaptureFixture,
) -> None:
    answers: list[httpx.Response] = []

    async def call(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
        answer = await client.request(method, url, **kwargs)
        answers.append(answer)
        return answer

    lite = build_sqlite(tmp_path / "lite.sqlite")
    async with postgres_source(pg_url) as pg:
        created = await call(
            admin, "POST", "/api/datasources", json={"name": "lite", "kind": "sqlite", "path": str(lite)}
        )
        assert created.status_code == 201, created.text
        view = created.json()
        assert (view["kind"], view["dialect"], view["has_password"], view["owner_id"]) == (
            "sqlite",
            "sqlite",
            False,
            None,
        )
        assert view["config"]["path"] == str(lite)
        assert view["table_count"] is None
        spec = {"name": "pg", "kind": "postgres", "description": "products", **pg, "password": PLANTED}
        created = await call(admin, "POST", "/api/datasources", json=spec)
        assert created.status_code == 201, created.text
        view = created.json()
        assert view["has_password"] is True
        assert view["password_secret"]
        assert view["config"]["user"] == pg["user"]
        taken = await call(admin, "POST", "/api/datasources", json=spec)
        assert taken.status_code == 409, taken.text
        reserved = await call(admin, "POST", "/api/datasources", json={**spec, "name": "uploads"})
        assert reserved.status_code == 422, reserved.text
        assert reserved.json()["errors"][0]["path"] == "$.name"

        tested = await call(admin, "POST", "/api/datasources/pg/test")
        assert tested.status_code == 200, tested.text
        assert (tested.json()["ok"], tested.json()["tables"]) == (True, 1)
        assert "PostgreSQL" in tested.json()["server"]

        schema = await call(admin, "GET", "/api/datasources/pg/schema", params={"refresh": "true"})
        assert schema.status_code == 200, schema.text
        [products] = schema.json()["tables"]
        assert products["name"] == "products"
        assert [c["name"] for c in products["columns"]] == ["id", "name", "price"]
        assert schema.json()["refreshed_at"]
        cached = await call(admin, "GET", "/api/datasources/pg/schema")
        assert cached.json()["refreshed_at"] == schema.json()["refreshed_at"]
        assert (await call(admin, "GET", "/api/datasources/pg")).json()["table_count"] == 1

        query = {"sql": "SELECT name, price FROM products WHERE price < :most ORDER BY price", "params": {"most": 100}}
        answer = await call(admin, "POST", "/api/datasources/pg/query", json=query)
        assert answer.status_code == 200, answer.text
        table = answer.json()["table"]
        assert table["columns"] == ["name", "price"]
        assert [row[0] for row in table["rows"]] == ["Mouse", "Keyboard"]
        assert table["truncated"] is False
        chart = answer.json()["chart"]  # the server's recommendation: a category and a number make a bar chart
        assert chart["kind"] == "bar", chart
        assert chart["option"]["series"][0]["data"] == [row[1] for row in table["rows"]]
        ids = await call(admin, "POST", "/api/datasources/pg/query", json={"sql": "SELECT name FROM products"})
        assert ids.json()["chart"] is None  # only a table fits one text column
        empty = await call(
            admin, "POST", "/api/datasources/pg/query", json={"sql": "SELECT name, price FROM products WHERE price < 0"}
        )
        assert (empty.json()["table"]["rows"], empty.json()["chart"]) == ([], None)
        capped = await call(
            admin, "POST", "/api/datasources/pg/query", json={"sql": "SELECT id FROM products", "max_rows": 2}
        )
        assert (len(capped.json()["table"]["rows"]), capped.json()["table"]["truncated"]) == (2, True)

        for bad_sql in ("DELETE FROM products", "SELECT 1; DROP TABLE products", "SELECT secret FROM products"):
            refused = await call(admin, "POST", "/api/datasources/pg/query", json={"sql": bad_sql})
            assert refused.status_code == 422, (bad_sql, refused.text)
            problem = refused.json()
            assert problem["code"] == "sql_refused"
            assert problem["rule"], problem
            assert problem["reason"], problem
        still = await call(
            admin, "POST", "/api/datasources/pg/query", json={"sql": "SELECT count(*) AS n FROM products"}
        )
        assert still.json()["table"]["rows"] == [[3]]
        assert still.json()["chart"]["kind"] == "number"

        by_city = "SELECT city, count(*) AS n FROM customers GROUP BY city ORDER BY n DESC, city"
        lite_rows = await call(admin, "POST", "/api/datasources/lite/query", json={"sql": by_city})
        assert lite_rows.status_code == 200, lite_rows.text
        assert lite_rows.json()["table"]["rows"][0] == ["London", 2]

        # a wrong password: the test says why, without the password (old or new)
        wrong = f"{PLANTED}-wrong"
        patched = await call(admin, "PATCH", "/api/datasources/pg", json={"password": wrong, "description": "shop"})
        assert patched.status_code == 200, patched.text
        assert patched.json()["description"] == "shop"
        failed = await call(admin, "POST", "/api/datasources/pg/test")
        assert failed.status_code == 200, failed.text
        if not failed.json()["ok"]:  # the embedded server may trust local connections
            assert failed.json()["error"]
            assert wrong not in failed.text
        restored = await call(admin, "PATCH", "/api/datasources/pg", json={"password": PLANTED})
        assert restored.status_code == 200, restored.text
        stored = await database_text(db_url)
        assert '"datasource.pg.password"' in stored  # the secret's name is kept with the data source ...
        assert_no_password("the app's database", stored)  # ... and its value only encrypted
        example = {"question": "Cheapest product?", "sql": "SELECT name FROM products ORDER BY price LIMIT 1"}
        taught = await call(admin, "PATCH", "/api/datasources/pg", json={"examples": [example]})
        assert taught.status_code == 200, taught.text
        assert (taught.json()["examples"], taught.json()["example_pairs"]) == (1, [example])  # admins edit them

        ann = await user_client(live_server, admin, "ann", "editor")
        vic = await user_client(live_server, admin, "vic", "viewer")
        async with ann, vic:
            for who in (ann, vic):
                listed = await call(who, "GET", "/api/datasources")
                assert listed.status_code == 200
                mine = {item["name"]: item for item in listed.json()["items"]}
                assert {"lite", "pg"} <= set(mine)
                assert (mine["pg"]["has_password"], mine["pg"]["password_secret"]) == (None, None)
                assert (mine["pg"]["examples"], mine["pg"]["example_pairs"]) == (1, None)  # a count, not the SQL
                assert mine["lite"]["config"]["path"] == "lite.sqlite"  # the file name only, not the server's path
                assert (await call(who, "GET", "/api/datasources/pg/schema")).status_code == 200
            # viewers read; they neither query nor ask
            refused = await call(vic, "POST", "/api/datasources/pg/query", json={"sql": "SELECT 1"})
            assert (refused.status_code, refused.json()["required_permission"]) == (403, "data:query")
            refused = await call(vic, "POST", "/api/datasources/pg/ask", json={"question": "how many products?"})
            assert (refused.status_code, refused.json()["required_permission"]) == (403, "data:query")
            # editors query; connections are the administrators'
            ok = await call(ann, "POST", "/api/datasources/pg/query", json={"sql": "SELECT name FROM products"})
            assert ok.status_code == 200, ok.text
            assert (await call(ann, "POST", "/api/datasources", json={**spec, "name": "mine"})).status_code == 403
            assert (await call(ann, "PATCH", "/api/datasources/pg", json={"description": "x"})).status_code == 403
            denied = await call(ann, "DELETE", "/api/datasources/pg")
            assert (denied.status_code, denied.json()["code"]) == (403, "permission_denied")
            assert (await call(ann, "POST", "/api/datasources/pg/test")).status_code == 403
            assert (await call(vic, "DELETE", "/api/datasources/pg")).status_code == 403

        assert (await call(admin, "DELETE", "/api/datasources/lite")).status_code == 204
        assert (await call(admin, "GET", "/api/datasources/lite")).status_code == 404
        assert (await call(admin, "POST", "/api/datasources/lite/query", json={"sql": "SELECT 1"})).status_code == 404
        assert lite.exists()  # a server file is the admin's: deleting the data source leaves it
        assert (await call(admin, "DELETE", "/api/datasources/pg")).status_code == 204

    for answer in answers:
        assert_no_password(f"{answer.request.method} {answer.request.url}", answer.text)
    assert_no_password("the server log", log_text(logs))


async def test_uploads_are_owned_queried_and_limited(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    ann = await user_client(live_server, admin, "ann", "editor")
    bob = await user_client(live_server, admin, "bob", "editor")
    vic = await user_client(live_server, admin, "vic", "viewer")
    async with ann, bob, vic:
        created = await upload(ann, {"sales.csv": (SALES_CSV, "text/csv")}, name="q3")
        assert created.status_code == 201, created.text
        view = created.json()
        assert (view["name"], view["kind"], view["dialect"], view["table_count"]) == ("q3", "file", "duckdb", 1)
        assert view["owner_id"] is not None
        assert [f["path"] for f in view["config"]["files"]] == ["sales.csv"]

        totals = await ann.post(
            "/api/datasources/q3/query",
            json={"sql": "SELECT region, SUM(amount) AS total FROM sales GROUP BY region ORDER BY total DESC"},
        )
        assert totals.status_code == 200, totals.text
        assert totals.json()["table"]["rows"][0] == ["North", 15]

        # a workbook added to the same data source: a table per sheet
        extended = await upload(ann, {"regions.xlsx": (xlsx_bytes(), XLSX)}, name="q3")
        assert extended.status_code == 201, extended.text
        assert extended.json()["table_count"] == 3
        schema = (await ann.get("/api/datasources/q3/schema")).json()
        tables = {t["name"] for t in schema["tables"]}
        assert {"sales", "regions", "targets"} <= tables, tables
        joined = await ann.post(
            "/api/datasources/q3/query",
            json={
                "sql": "SELECT r.manager, t.target FROM regions AS r JOIN targets AS t ON t.region = r.region "
                "ORDER BY t.target DESC"
            },
        )
        assert joined.status_code == 200, joined.text
        assert joined.json()["table"]["rows"][0] == ["Eve", 120]
        # SQL cannot read other files through DuckDB
        sneaky = await ann.post("/api/datasources/q3/query", json={"sql": "SELECT * FROM read_csv('/etc/passwd')"})
        assert sneaky.status_code in {422, 502}, sneaky.text

        # the upload is ann's: bob neither sees nor touches it, the admin does
        assert "q3" not in {d["name"] for d in (await bob.get("/api/datasources")).json()["items"]}
        assert (await bob.get("/api/datasources/q3")).status_code == 404
        assert (await bob.post("/api/datasources/q3/query", json={"sql": "SELECT 1"})).status_code == 404
        assert (await bob.delete("/api/datasources/q3")).status_code == 404
        assert (await bob.post("/api/datasources/q3/test")).status_code == 404
        taken = await upload(bob, {"more.csv": (b"a\n1\n", "text/csv")}, name="q3")
        assert taken.status_code in {403, 404}, taken.text
        assert "q3" in {d["name"] for d in (await admin.get("/api/datasources")).json()["items"]}
        owned = await ann.post("/api/datasources/q3/test")
        assert owned.status_code == 200, owned.text
        assert owned.json()["ok"] is True

        # viewers do not upload; other types, oversize files and bad forms are refused, and nothing is kept
        refused = await upload(vic, {"x.csv": (b"a\n1\n", "text/csv")})
        assert (refused.status_code, refused.json()["required_permission"]) == (403, "data:query")
        pdf = await upload(ann, {"report.pdf": (b"%PDF-1.4", "application/pdf")})
        assert pdf.status_code == 422, pdf.text
        assert pdf.json()["errors"][0]["path"] == "files[0]"
        assert "report.pdf" in pdf.json()["detail"]
        big = await upload(ann, {"big.csv": (b"a\n" + b"1\n" * FILE_LIMIT, "text/csv")})
        assert big.status_code == 413, big.text
        assert big.json()["code"] == "upload_too_large"
        assert "'big.csv'" in big.json()["detail"]
        assert big.json()["errors"][0]["setting"] == "max_upload_file_bytes"
        not_multipart = await ann.post("/api/datasources/uploads", json={"files": []})
        assert not_multipart.status_code == 415
        none = await ann.post("/api/datasources/uploads", data={"name": "empty"}, files={"x": ("", b"")})
        assert none.status_code == 422, none.text
        broken = await upload(
            ann, {"fine.csv": (b"a,b\n1,2\n", "text/csv"), "broken.parquet": (b"not parquet", "")}, name="mixed"
        )
        assert broken.status_code == 422, broken.text
        assert (broken.json()["errors"][0]["path"], broken.json()["errors"][0]["file"]) == (
            "files[1]",
            "broken.parquet",
        )
        names = {d["name"] for d in (await ann.get("/api/datasources")).json()["items"]}
        assert names & {"report", "big", "x", "empty", "mixed"} == set()

        # a default name from the file; the owner deletes their upload
        unnamed = await upload(ann, {"Team Budget.csv": (b"team,budget\nA,1\nB,2\n", "text/csv")})
        assert unnamed.status_code == 201, unnamed.text
        name = unnamed.json()["name"]
        assert (await ann.delete(f"/api/datasources/{name}")).status_code == 204
        assert (await ann.delete("/api/datasources/q3")).status_code == 204
        assert (await admin.get("/api/datasources/q3")).status_code == 404


class ScriptedSQL(ScriptedOpenAI):
    """Answers chat completions with the next of ``answers`` (an SQL answer the way models write it)."""

    def __init__(self, answers: list[str]) -> None:
        super().__init__()
        self.answers = answers

    def _events(self, payload: dict[str, Any]) -> Any:
        def choice(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        text = self.answers.pop(0) if self.answers else "SELECT 1"
        yield choice({"role": "assistant"})
        yield choice({"content": text})
        yield choice({}, "stop")
        yield {"choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 5}}


@contextlib.asynccontextmanager
async def serve_scripted(answers: list[str]) -> AsyncIterator[ScriptedSQL]:
    app = ScriptedSQL(answers)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    app.url = f"http://127.0.0.1:{port}/v1"
    try:
        yield app
    finally:
        server.should_exit = True
        await task


async def test_ask_answers_with_sql_rows_and_a_chart(
    live_server: LiveServer, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    lite = build_sqlite(tmp_path / "ask.sqlite")
    created = await admin.post("/api/datasources", json={"name": "crm", "kind": "sqlite", "path": str(lite)})
    assert created.status_code == 201, created.text
    answers = [
        "Here you go:\n```sql\nSELECT town, COUNT(*) AS customers FROM customers GROUP BY town\n```",  # no such column
        "```sql\nSELECT city, COUNT(*) AS customers FROM customers GROUP BY city ORDER BY customers DESC, city\n```",
        "```sql\nSELECT COUNT(*) AS customers FROM customers WHERE city = 'London'\n```",  # the follow-up
    ]
    async with serve_scripted(answers) as upstream:
        assert (await admin.put("/api/secrets/scripted-key", json={"value": API_KEY})).status_code == 200
        model = {
            "name": "sql-writer",
            "provider": "openai_compatible",
            "params": {"base_url": upstream.url, "model": "m", "api_key_secret": "scripted-key"},
            "allow_private_network": True,
            "timeout_s": 30,
        }
        configured = await admin.post("/api/models", json=model)
        assert configured.status_code == 201, configured.text
        asked = await admin.post(
            "/api/datasources/crm/ask",
            json={"question": "How many customers live in each city?", "model": "sql-writer", "max_repairs": 2},
        )
        assert asked.status_code == 200, asked.text
        answer = asked.json()
        result = answer["result"]
        assert result["ok"] is True, result
        first, repaired = result["attempts"]
        assert (first["stage"] in {"guard", "execute"}, repaired["stage"]) == (True, None), result["attempts"]
        assert first["error"]
        assert result["table"]["columns"] == ["city", "customers"]
        assert result["table"]["rows"][0] == ["London", 2]
        assert "customers" in result["prompt"]
        assert answer["chart"] is not None
        assert answer["chart"]["option"]
        chats = [r for r in upstream.requests if r["path"] == "/v1/chat/completions"]
        assert len(chats) == 2
        assert "town" in json.dumps(chats[1]["messages"])  # the repair names the failed SQL or its error

        # a follow-up carries the earlier turns (question and SQL): the model sees what "there" refers to
        city_sql = result["sql"]
        old = [{"question": f"old question {i}", "sql": f"SELECT {i}"} for i in range(12)]
        earlier = [*old, {"question": "How many customers live in each city?", "sql": city_sql}]
        follow = await admin.post(
            "/api/datasources/crm/ask",
            json={"question": "And how many in London alone?", "model": "sql-writer", "history": earlier},
        )
        assert follow.status_code == 200, follow.text
        assert follow.json()["result"]["table"]["rows"] == [[2]], follow.text
        prompt = json.dumps(upstream.requests[-1]["messages"])  # what the model got
        assert "How many customers live in each city?" in prompt
        assert "And how many in London alone?" in prompt
        assert city_sql in follow.json()["result"]["prompt"]
        assert "old question 3" in prompt  # the last ten turns reach the prompt...
        assert "old question 2" not in prompt  # ...the older ones do not
        assert follow.json()["result"]["prompt"].count("old question") == 9
        too_many = await admin.post(
            "/api/datasources/crm/ask",
            json={"question": "hi", "model": "sql-writer", "history": [{"question": "q"}] * 101},
        )
        assert too_many.status_code in {400, 422}, too_many.text

        missing = await admin.post("/api/datasources/crm/ask", json={"question": "hi", "model": "no-such-model"})
        assert missing.status_code == 404, missing.text
        nowhere = await admin.post("/api/datasources/nowhere/ask", json={"question": "hi", "model": "sql-writer"})
        assert nowhere.status_code == 404
