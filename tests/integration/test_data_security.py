"""A hostile review of the data feature over real HTTP: who may use which data source (the API, runs of flows,
evaluations), the guard's hostile corpus through the query route on SQLite, PostgreSQL (a role with a password on
the embedded server) and a DuckDB files source with nothing changed afterwards, file sources that cannot reach
other files, upload names that cannot escape the upload folder, and pathological SQL that never stalls the event
loop (``/api/health`` polled meanwhile, the threshold of tests/integration/test_stalls.py).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from rivulet.data.connectors import open_connector
from rivulet.lib.exceptions import DatasourceError
from rivulet.sdk.data import QueryLimits
from tests.conftest import alogin_token
from tests.integration.connectors_support import (
    PG_PASSWORD,
    Source,
    build_files,
    build_postgres,
    build_sqlite,
    drop_postgres,
    fingerprint,
    record,
)
from tests.integration.test_stalls import STALL_S, _health_probe

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from tests.conftest import LiveServer

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]

CORPUS = Path(__file__).parents[1] / "fixtures" / "sql" / "hostile.jsonl"
PASSWORD = "correct horse battery"
SALES_CSV = b"region,amount\nNorth,10\nSouth,7\n"


async def _client(server: LiveServer, admin: httpx.AsyncClient, name: str, role: str) -> httpx.AsyncClient:
    created = await admin.post("/api/users", json={"username": name, "password": PASSWORD, "role": role})
    assert created.status_code == 201, created.text
    token = await alogin_token(server.url, name, PASSWORD)
    return httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=120)


@pytest.fixture
async def clients(live_server: LiveServer) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    async with live_server.client(timeout=120) as admin:
        made = {"admin": admin}
        for name, role in (("ann", "editor"), ("bob", "editor"), ("vic", "viewer")):
            made[name] = await _client(live_server, admin, name, role)
        try:
            yield made
        finally:
            for name in ("ann", "bob", "vic"):
                await made[name].aclose()


def _query_flow(datasource: str, sql: str) -> dict[str, Any]:
    return {
        "schema": "rivulet.flow/v1",
        "name": f"read {datasource}",
        "nodes": [
            {"id": "q", "operator": "sql.run_query", "params": {"datasource": datasource, "sql": sql}},
            {"id": "out", "operator": "core.output", "params": {"name": "rows"}},
        ],
        "edges": [{"id": "e1", "source": "q", "source_port": "table", "target": "out", "target_port": "value"}],
    }


async def _run(client: httpx.AsyncClient, document: dict[str, Any]) -> dict[str, Any]:
    created = await client.post("/api/flows", json={"document": document})
    assert created.status_code == 201, created.text
    flow_id = created.json()["summary"]["id"]
    started = await client.post(f"/api/flows/{flow_id}/runs", json={"inputs": {}})
    assert started.status_code == 201, started.text
    for _ in range(600):
        detail: dict[str, Any] = (await client.get(f"/api/runs/{started.json()['id']}")).json()
        if detail["run"]["status"] not in ("queued", "running"):
            return detail
        await asyncio.sleep(0.05)
    raise AssertionError("the run did not finish")


async def _upload(client: httpx.AsyncClient, filename: str, data: bytes, **form: str) -> httpx.Response:
    return await client.post(
        "/api/datasources/uploads", files=[("files", (filename, data, "text/csv"))], data=form or None
    )


# --- who may use which data source -------------------------------------------------------------------------------


async def test_runs_use_the_admins_sources_and_only_their_owners_uploads(
    clients: dict[str, httpx.AsyncClient], tmp_path: Path
) -> None:
    """``ctx.service(Datasources)`` in a run is scoped to the run's flow owner: before, any editor's flow could
    read any other editor's uploaded spreadsheet by naming it in ``sql.run_query``."""
    admin, ann, bob = clients["admin"], clients["ann"], clients["bob"]
    shop = build_sqlite(tmp_path / "shop.sqlite")
    created = await admin.post("/api/datasources", json={"name": "shared-shop", "kind": "sqlite", "path": str(shop)})
    assert created.status_code == 200 or created.status_code == 201, created.text
    uploaded = await _upload(ann, "ann-sales.csv", SALES_CSV, name="ann-sales")
    assert uploaded.status_code == 201, uploaded.text

    mine = await _run(ann, _query_flow("ann-sales", "SELECT region, amount FROM ann_sales ORDER BY region"))
    assert mine["run"]["status"] == "succeeded", mine["run"]
    assert mine["run"]["outputs"]["rows"]["rows"] == [["North", 10], ["South", 7]]

    theirs = await _run(bob, _query_flow("ann-sales", "SELECT region, amount FROM ann_sales"))
    assert theirs["run"]["status"] == "failed", theirs["run"]
    message = theirs["run"]["error"]["message"]
    assert "data source 'ann-sales' not found" in message, message
    assert "North" not in json.dumps(theirs)
    # by id too (the store finds a data source by name or id)
    by_id = await _run(bob, _query_flow(uploaded.json()["id"], "SELECT region FROM ann_sales"))
    assert by_id["run"]["status"] == "failed"
    assert "not found" in by_id["run"]["error"]["message"]

    shared = await _run(bob, _query_flow("shared-shop", "SELECT count(*) AS n FROM customers"))
    assert shared["run"]["status"] == "succeeded", shared["run"]


async def test_evaluations_cannot_run_sql_on_another_users_upload(clients: dict[str, httpx.AsyncClient]) -> None:
    """``sql_execution`` runs the dataset's gold SQL on the named data source and stores verdicts and database
    errors: another user's upload must answer like a missing one (before: 202, and the SQL ran)."""
    ann, bob = clients["ann"], clients["bob"]
    assert (await _upload(ann, "ann-pay.csv", SALES_CSV, name="ann-pay")).status_code == 201
    flow = {
        "schema": "rivulet.flow/v1",
        "name": "echo sql",
        "nodes": [
            {"id": "in", "operator": "core.input", "params": {"name": "question", "type": "Text"}},
            {"id": "out", "operator": "core.output", "params": {"name": "sql"}},
        ],
        "edges": [{"id": "e1", "source": "in", "source_port": "value", "target": "out", "target_port": "value"}],
    }
    created = await bob.post("/api/flows", json={"document": flow})
    assert created.status_code == 201, created.text
    flow_id = created.json()["summary"]["id"]
    line = {"inputs": {"question": "SELECT 1"}, "sql": "SELECT CAST(region AS integer) FROM ann_pay"}
    body = {"flow_id": flow_id, "dataset": json.dumps(line), "metric": "sql_execution"}
    named = await bob.post("/api/evaluations", json={**body, "datasource": "ann-pay"})
    assert named.status_code == 404, named.text
    assert "data source 'ann-pay' not found" in named.json()["detail"]
    in_line = await bob.post("/api/evaluations", json={**body, "dataset": json.dumps({**line, "db": "ann-pay"})})
    assert in_line.status_code == 404, in_line.text
    assert (await bob.get("/api/evaluations")).json()["items"] == []
    # the owner may
    ann_flow = await ann.post("/api/flows", json={"document": flow})
    own = await ann.post(
        "/api/evaluations", json={**body, "flow_id": ann_flow.json()["summary"]["id"], "datasource": "ann-pay"}
    )
    assert own.status_code == 202, own.text
    # and another editor cannot read it by id, compare with it or delete it
    evaluation = own.json()["id"]
    assert (await bob.get(f"/api/evaluations/{evaluation}")).status_code == 404
    assert (await bob.get("/api/evaluations/compare", params={"a": evaluation, "b": evaluation})).status_code == 404
    assert (await bob.delete(f"/api/evaluations/{evaluation}")).status_code == 404
    assert (await ann.get(f"/api/evaluations/{evaluation}")).status_code == 200


async def test_viewers_cannot_query_ask_or_upload(clients: dict[str, httpx.AsyncClient], tmp_path: Path) -> None:
    admin, vic = clients["admin"], clients["vic"]
    shop = build_sqlite(tmp_path / "shop.sqlite")
    assert (await admin.post("/api/datasources", json={"name": "s", "kind": "sqlite", "path": str(shop)})).is_success
    assert (await vic.get("/api/datasources/s")).status_code == 200
    assert (await vic.post("/api/datasources/s/query", json={"sql": "SELECT 1"})).status_code == 403
    assert (await vic.post("/api/datasources/s/ask", json={"question": "how many?"})).status_code == 403
    assert (await _upload(vic, "v.csv", SALES_CSV)).status_code == 403
    assert (await vic.post("/api/datasources/s/test")).status_code == 403
    # reading the schema yes; making the server introspect the database and re-embed it again and again, no
    assert (await vic.get("/api/datasources/s/schema")).status_code == 200
    assert (await vic.get("/api/datasources/s/schema", params={"refresh": "true"})).status_code == 403
    assert (await clients["ann"].get("/api/datasources/s/schema", params={"refresh": "true"})).status_code == 200


async def test_editors_cannot_point_a_source_at_server_files(
    clients: dict[str, httpx.AsyncClient], tmp_path: Path
) -> None:
    """Only administrators create connections: an editor naming a server path (sqlite, duckdb, file kinds) or a
    server database is refused, and cannot extend someone else's source or a server source by upload."""
    admin, ann, bob = clients["admin"], clients["ann"], clients["bob"]
    specs: list[dict[str, Any]] = [
        {"name": "etc", "kind": "sqlite", "path": "/etc/passwd"},
        {"name": "etc2", "kind": "duckdb", "path": "/etc/passwd"},
        {"name": "etc3", "kind": "file", "files": [{"path": "/etc/passwd", "format": "csv"}]},
        {"name": "pg", "kind": "postgres", "host": "127.0.0.1", "database": "postgres", "user": "postgres"},
    ]
    for spec in specs:
        assert (await ann.post("/api/datasources", json=spec)).status_code == 403, spec
    shop = build_sqlite(tmp_path / "shop.sqlite")
    assert (await admin.post("/api/datasources", json={"name": "adm", "kind": "sqlite", "path": str(shop)})).is_success
    assert (await ann.patch("/api/datasources/adm", json={"path": "/etc/passwd"})).status_code == 403
    assert (await _upload(ann, "x.csv", SALES_CSV, name="adm")).status_code == 403
    assert (await _upload(bob, "b.csv", SALES_CSV, name="bobs")).status_code == 201
    assert (await _upload(ann, "x.csv", SALES_CSV, name="bobs")).status_code == 403
    assert (await admin.get("/api/datasources/bobs")).json()["config"]["files"][0]["table"] == "b"


# --- uploads: names and contents ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filename",
    [
        "../../escape.csv",
        "/tmp/absolute-escape.csv",
        "..\\..\\win-escape.csv",
        "a\u202eb.csv",
        "\uff46\uff55\uff4c\uff4c.csv",
    ],
)
async def test_upload_names_cannot_escape_the_upload_folder(
    live_server: LiveServer, filename: str, tmp_path: Path
) -> None:
    async with live_server.client(timeout=60) as admin:
        answer = await _upload(admin, filename, SALES_CSV)
        assert answer.status_code in (201, 422), answer.text
        assert not Path("/tmp/absolute-escape.csv").exists()
        if answer.status_code == 201:
            for entry in (await admin.get(f"/api/datasources/{answer.json()['name']}")).json()["config"]["files"]:
                path = Path(entry["path"])
                assert ".." not in path.parts
                assert path.parent.parent.name == "datasources", path
                assert path.resolve() == path, path
            rows = await admin.post(
                f"/api/datasources/{answer.json()['name']}/query",
                json={"sql": f"SELECT count(*) AS n FROM {answer.json()['config']['files'][0]['table']}"},
            )
            assert rows.json()["table"]["rows"] == [[2]], rows.text


async def test_a_nul_in_an_upload_name_is_refused_or_dropped(live_server: LiveServer) -> None:
    async with live_server.client(timeout=60) as admin:
        answer = await _upload(admin, "a\x00b.csv", SALES_CSV)
        assert answer.status_code in (201, 400, 422), answer.text
        if answer.status_code == 201:
            assert "\x00" not in json.dumps(answer.json()["config"])


async def test_a_csv_cannot_make_duckdb_read_another_file(clients: dict[str, httpx.AsyncClient]) -> None:
    """A CSV whose cells are file paths stays data; the file source refuses every way to other files, and with
    the guard bypassed DuckDB itself refuses (external access off, configuration locked)."""
    ann = clients["ann"]
    trick = b"path,sql\n/etc/passwd,SELECT * FROM read_csv('/etc/passwd')\n"
    uploaded = await _upload(ann, "trick.csv", trick, name="trick")
    assert uploaded.status_code == 201, uploaded.text
    rows = await ann.post("/api/datasources/trick/query", json={"sql": "SELECT path FROM trick"})
    assert rows.json()["table"]["rows"] == [["/etc/passwd"]], rows.text
    for sql in (
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_csv((SELECT path FROM trick))",
        "SELECT * FROM '/etc/passwd'",
        "FROM '/etc/passwd'",
        "COPY trick TO '/tmp/rivulet-sec.csv'",
        "ATTACH '/tmp/rivulet-sec.db'",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM glob('/etc/*')",
    ):
        answer = await ann.post("/api/datasources/trick/query", json={"sql": sql})
        assert answer.status_code == 422, (sql, answer.text)
        assert answer.json()["code"] == "sql_refused", (sql, answer.text)
        assert "root:" not in answer.text
    owner_view = (await clients["admin"].get("/api/datasources/trick")).json()
    connector = open_connector(record("file", owner_view["config"], name="trick"), None)
    try:
        for sql in (
            "SELECT * FROM read_csv('/etc/passwd')",
            "SELECT * FROM '/etc/passwd'",
            "SELECT * FROM read_csv((SELECT path FROM trick))",
            "COPY trick TO '/tmp/rivulet-sec.csv'",
            "ATTACH '/tmp/rivulet-sec.db' AS x",
            "INSTALL httpfs",
            "SET enable_external_access = true",
        ):
            try:
                table = await connector.execute(sql, None, QueryLimits(max_rows=10, timeout_s=5))
            except DatasourceError:
                continue
            assert "root:" not in json.dumps(table.rows, default=str), sql
        assert not Path("/tmp/rivulet-sec.csv").exists()
        assert not Path("/tmp/rivulet-sec.db").exists()
    finally:
        await connector.close()


# --- the hostile corpus through the API --------------------------------------------------------------------------


def _corpus() -> list[dict[str, str]]:
    return [json.loads(line) for line in CORPUS.read_text().splitlines() if line.strip()]


async def test_the_hostile_corpus_is_refused_by_the_query_route(
    live_server: LiveServer, pg_url: str, tmp_path: Path
) -> None:
    """Every corpus line, in its own dialect, sent to a SQLite, a PostgreSQL and a DuckDB files source: a 422
    ``sql_refused`` each time, and every table, file and the table lists unchanged afterwards."""
    config, database, role = await build_postgres(pg_url)
    sources = {
        "sqlite": Source(
            kind="sqlite",
            record=(rec := record("sqlite", {"path": str(build_sqlite(tmp_path / "shop.sqlite"))})),
            password=None,
            connector=open_connector(rec, None),
        ),
        "postgres": Source(
            kind="postgres",
            record=(rec := record("postgres", config)),
            password=PG_PASSWORD,
            connector=open_connector(rec, PG_PASSWORD),
        ),
        "file": Source(
            kind="file",
            record=(rec := record("file", {"files": build_files(tmp_path / "files")})),
            password=None,
            connector=open_connector(rec, None),
        ),
    }
    before = {kind: await fingerprint(source) for kind, source in sources.items()}
    corpus = _corpus()
    assert len(corpus) >= 60
    accepted: list[str] = []
    try:
        async with live_server.client(timeout=120) as admin:
            for kind, source in sources.items():
                spec: dict[str, Any] = {"name": f"hostile-{kind}", "kind": kind}
                if kind == "postgres":
                    spec |= {**config, "password": PG_PASSWORD}
                elif kind == "sqlite":
                    spec["path"] = source.record.config["path"]
                else:
                    spec["files"] = source.record.config["files"]
                created = await admin.post("/api/datasources", json=spec)
                assert created.is_success, created.text
                for entry in corpus:
                    body = {"sql": entry["sql"], "dialect": entry["dialect"], "timeout_s": 2}
                    answer = await admin.post(f"/api/datasources/hostile-{kind}/query", json=body)
                    if answer.status_code != 422 or answer.json().get("code") != "sql_refused":
                        accepted.append(f"{kind} <- {entry['dialect']}: {entry['sql']!r}: {answer.status_code}")
                    assert PG_PASSWORD not in answer.text
        after = {kind: await fingerprint(source) for kind, source in sources.items()}
    finally:
        for source in sources.values():
            await source.connector.close()
        await drop_postgres(pg_url, database, role)
    assert accepted == [], "\n".join(accepted)
    assert after == before
    named = [Path(p) for p in ("/tmp/rivulet_hostile.db", "/tmp/rivulet_hostile.csv", "/tmp/rivulet_hostile.txt")]
    assert not [p for p in named if p.exists()]


# --- the event loop ----------------------------------------------------------------------------------------------


async def test_pathological_sql_never_stalls_the_event_loop(live_server: LiveServer, tmp_path: Path) -> None:
    """Deep nesting, long operator chains and a huge IN list (each just under the 100,000-character cap) to the
    query route and to a flow's sql.transpile: ``/api/health`` never waits longer than ``STALL_S``."""
    shop = build_sqlite(tmp_path / "shop.sqlite")
    with sqlite3.connect(shop) as conn:  # a result of 100,000 rows: fetched, capped and encoded off the loop
        conn.execute("CREATE TABLE big (id INTEGER PRIMARY KEY, label TEXT, value REAL)")
        conn.executemany("INSERT INTO big VALUES (?, ?, ?)", ((i, f"label {i % 977}", i / 7) for i in range(100_000)))
    depth = 30_000
    queries = {
        "nested parentheses": "SELECT " + "(" * depth + "1" + ")" * depth,
        "a long OR chain": "SELECT id FROM customers WHERE " + " OR ".join(["id = 1"] * 9_000),
        "a long || chain": "SELECT " + " || ".join(["name"] * 12_000) + " FROM customers",
        "a huge IN list": "SELECT id FROM customers WHERE id IN (" + ", ".join(map(str, range(14_000))) + ")",
        "nested subqueries": "SELECT * FROM " + "(SELECT * FROM " * 4_000 + "customers" + ") AS t" * 4_000,
        "100,000 rows": "SELECT id, label, value FROM big",
    }
    async with live_server.client(timeout=120) as admin:
        created = await admin.post("/api/datasources", json={"name": "slow", "kind": "sqlite", "path": str(shop)})
        assert created.is_success, created.text
        assert (await admin.get("/api/datasources/slow/schema")).status_code == 200
        async with _health_probe(admin) as latencies:
            for what, sql in queries.items():
                assert len(sql) < 100_000, what
                started = time.perf_counter()
                body = {"sql": sql, "timeout_s": 5, "max_rows": 100_000}
                answer = await admin.post("/api/datasources/slow/query", json=body)
                assert answer.status_code in (200, 422, 502), (what, answer.text[:300])
                assert time.perf_counter() - started < 60, what
                if what == "100,000 rows":
                    assert len(answer.json()["table"]["rows"]) == 100_000, answer.text[:300]
            transpiled = await _run(
                admin,
                {
                    "schema": "rivulet.flow/v1",
                    "name": "transpile",
                    "nodes": [
                        {
                            "id": "c",
                            "operator": "core.constant",
                            "params": {
                                "value": {"sql": queries["a long || chain"], "dialect": "postgres"},
                                "type": "SQLQuery",
                            },
                        },
                        {"id": "t", "operator": "sql.transpile", "params": {"source": "postgres", "target": "mysql"}},
                        {"id": "out", "operator": "core.output", "params": {"name": "sql"}},
                    ],
                    "edges": [
                        {"id": "e1", "source": "c", "source_port": "value", "target": "t", "target_port": "query"},
                        {"id": "e2", "source": "t", "source_port": "sql", "target": "out", "target_port": "value"},
                    ],
                },
            )
            assert transpiled["run"]["status"] in ("succeeded", "failed"), transpiled["run"]
        assert len(latencies) > 20
        assert max(latencies) < STALL_S, f"health waited {max(latencies):.2f} s"


def _xlsx_bomb(rows: int) -> bytes:
    """A real workbook whose one sheet holds ``rows`` identical rows: a few kB zipped, hundreds of times that open."""
    import io
    import zipfile

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["a"])
    plain = io.BytesIO()
    book.save(plain)
    row = '<row><c t="inlineStr"><is><t>boom</t></is></c></row>'
    sheet_xml = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        f'2006/main"><sheetData>{row * rows}</sheetData></worksheet>'
    )
    bomb = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain.getvalue())) as source, zipfile.ZipFile(bomb, "w") as target:
        for item in source.infolist():
            data = sheet_xml.encode() if item.filename == "xl/worksheets/sheet1.xml" else source.read(item)
            target.writestr(item.filename, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return bomb.getvalue()


async def test_a_zip_bomb_workbook_is_refused_quickly(live_server: LiveServer) -> None:
    """The knowledge loaders' zip-bomb limits apply to spreadsheets too (before: openpyxl read every row into
    memory; 400,000 rows of 20 MB took seconds and the whole sheet's rows)."""
    bomb = _xlsx_bomb(400_000)
    assert len(bomb) < 200_000
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    async with live_server.client(timeout=60) as admin, _health_probe(admin) as latencies:
        started = time.perf_counter()
        answer = await admin.post("/api/datasources/uploads", files=[("files", ("bomb.xlsx", bomb, xlsx))])
        elapsed = time.perf_counter() - started
    assert answer.status_code == 422, answer.text
    assert "suspected zip bomb" in answer.json()["detail"], answer.text
    assert "xl/worksheets/sheet1.xml expands" in answer.json()["detail"]
    assert elapsed < 5, f"refusing took {elapsed:.1f} s"
    assert max(latencies) < STALL_S, f"health waited {max(latencies):.2f} s"
    async with live_server.client(timeout=60) as admin:
        names = [d["name"] for d in (await admin.get("/api/datasources")).json()["items"]]
    assert "bomb" not in names


async def test_report_charts_lose_their_script_sinks(clients: dict[str, httpx.AsyncClient]) -> None:
    """A report's chart options are anyone's JSON (an editor's, or a run's): ECharts puts tooltip formatter text
    into innerHTML and opens title links (``javascript:``) on a click — in the app, the public shared page and
    the exported HTML (whose CSP allows inline script). They are stored and exported without them."""
    ann = clients["ann"]
    option = {
        "title": {"text": "Sales", "link": "javascript:alert(document.cookie)", "sublink": "javascript:alert(2)"},
        "tooltip": {"formatter": '<img src=x onerror="alert(3)">{b}', "extraCssText": "x"},
        "toolbox": {"feature": {"dataView": {"show": True}}},
        "xAxis": {"type": "category", "data": ["a"]},
        "yAxis": {"type": "value"},
        "series": [{"type": "bar", "data": [1], "tooltip": {"formatter": "<svg onload=alert(4)>"}}],
    }
    chart = {"title": "Sales", "chart": {"title": "Sales", "kind": "bar", "option": option}}
    created = await ann.post("/api/reports", json={"title": "R", "charts": [chart]})
    assert created.status_code in (200, 201), created.text
    stored = (await ann.get(f"/api/reports/{created.json()['id']}")).json()["charts"][0]["chart"]["option"]
    assert stored["title"] == {"text": "Sales"}
    assert stored["tooltip"] == {"formatter": 'img src=x onerror="alert(3)"{b}'}
    assert "toolbox" not in stored
    exported = (await ann.get(f"/api/reports/{created.json()['id']}/export.html")).text
    start = exported.index('id="report-charts"')
    script = exported[start : exported.index("</script>", start)]  # the charts' JSON (not the ECharts library)
    assert '"Sales"' in script
    for sink in ("javascript:", "onerror=\\u0022", "\\u003cimg", "\\u003csvg", "extraCssText", "dataView"):
        assert sink not in script, sink
