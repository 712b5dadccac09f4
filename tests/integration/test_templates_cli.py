"""``rivulet template ...`` against a real database: import creates a runnable flow; refusals write nothing."""

from __future__ import annotations

import json
import shutil
from typing import TYPE_CHECKING

import pytest

from rivulet.cli.main import main
from rivulet.storage.postgres.flows import PostgresFlowStore
from rivulet.templates.package import load_package, package_archive
from rivulet.templates.sources import BUILTIN_TEMPLATES

if TYPE_CHECKING:
    from pathlib import Path

    from psycopg_pool import AsyncConnectionPool

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path: Path) -> None:
    monkeypatch.setenv("RIVULET_DATABASE_URL", db_url)
    monkeypatch.setenv("RIVULET_HOME", str(tmp_path / "home"))


@pytest.mark.usefixtures("cli_env")
async def test_cli_import_runs_nothing_and_the_flow_runs(
    pool: AsyncConnectionPool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    code = await asyncio.to_thread(main, ["template", "import", str(BUILTIN_TEMPLATES / "ticket-router"), "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    flow_id = report["flows"][0]["flow_id"]
    record = await PostgresFlowStore(pool).get(flow_id)
    assert record.document.metadata.template == "ticket-router@1.0.0"
    flow_file = tmp_path / "flow.json"
    from rivulet.compiler.flow import encode_flow

    flow_file.write_bytes(encode_flow(record.document))
    code = await asyncio.to_thread(main, ["run", str(flow_file), "-i", 'ticket={"priority": 9, "text": "fire"}'])
    assert code == 0
    assert json.loads(capsys.readouterr().out) == {"answer": "URGENT (p9): fire"}


@pytest.mark.usefixtures("cli_env")
async def test_cli_refuses_wrong_sha256_and_writes_nothing(
    pool: AsyncConnectionPool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    archive = tmp_path / "router.tar.gz"
    archive.write_bytes(package_archive(load_package(BUILTIN_TEMPLATES / "ticket-router")))
    code = await asyncio.to_thread(main, ["template", "import", str(archive), "--sha256", "a" * 64])
    assert code == 2
    assert "sha256 mismatch" in capsys.readouterr().err
    broken = tmp_path / "broken"
    shutil.copytree(BUILTIN_TEMPLATES / "ticket-router", broken)
    manifest = json.loads((broken / "manifest.json").read_text())
    manifest["operators"].append({"id": "core.branch", "versions": ">=7"})
    (broken / "manifest.json").write_text(json.dumps(manifest))
    code = await asyncio.to_thread(main, ["template", "import", str(broken)])
    assert code == 2
    assert "operator 'core.branch' is installed in version(s) 1, the template needs >=7" in capsys.readouterr().err
    assert await PostgresFlowStore(pool).list() == []


@pytest.mark.usefixtures("cli_env")
async def test_cli_list_export_and_dbgpt(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    from tests.unit.templates.test_dbgpt import CHAT_DATA

    assert await asyncio.to_thread(main, ["template", "search", "reshape"]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split() == ["NAME", "VERSION", "TITLE", "TAGS"]
    assert [row.split()[0] for row in rows] == ["json-reshape"]
    flow = BUILTIN_TEMPLATES / "json-reshape" / "flows" / "main.json"
    out = tmp_path / "pkg.zip"
    assert (
        await asyncio.to_thread(main, ["template", "export", str(flow), "--name", "reshape-copy", "--out", str(out)])
        == 0
    )
    assert load_package(out).manifest.ref == "reshape-copy@1.0.0"
    assert await asyncio.to_thread(main, ["template", "import-dbgpt", str(CHAT_DATA)]) == 0
    printed = capsys.readouterr().out
    assert "unmapped  dbgpt_app.operators.code.CodeMapOperator" in printed
