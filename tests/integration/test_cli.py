"""The ``rivulet`` command as a user runs it: real processes, real embedded PostgreSQL, real signals."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import free_port

RIVULET = str(Path(sys.executable).with_name("rivulet"))


def _postgres_running(pgdata: Path) -> bool:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().split()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _start(home: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RIVULET_HOME": str(home), "RIVULET_FRONTEND_DIR": str(home / "none")}
    env.pop("RIVULET_DATABASE_URL", None)
    env.pop("RIVULET_ADMIN_PASSWORD", None)
    home.mkdir(parents=True, exist_ok=True)
    with (home / "server.log").open("ab") as log:
        return subprocess.Popen([RIVULET, "serve", "--port", str(port)], env=env, stdout=log, stderr=log)


def _wait_healthy(proc: subprocess.Popen[bytes], home: Path, port: int, deadline_s: float = 60) -> dict[str, str]:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            pytest.fail(f"server exited early with {proc.returncode}:\n{(home / 'server.log').read_text()}")
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2)
            if response.status_code == 200:
                return response.json()
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    pytest.fail("server did not become healthy")


def _sql(pgdata: Path, query: str) -> list[tuple[object, ...]]:
    with psycopg.connect(f"postgresql://postgres@/postgres?host={pgdata}", autocommit=True) as conn:
        cur = conn.execute(query.encode())
        return cur.fetchall() if cur.description else []


def test_serve_sigterm_stops_postgres_and_restart_keeps_data(tmp_path: Path) -> None:
    home, port = tmp_path / "home", free_port()
    pgdata = home / "pgdata"
    proc = _start(home, port)
    try:
        health = _wait_healthy(proc, home, port)
        assert health["status"] == "ok"
        assert health["pgvector"]
        _sql(pgdata, "INSERT INTO flows (id, name, version) VALUES ('keep-me', 'kept', 1)")
        password = re.findall(r"one-time password: (\S+)", (home / "server.log").read_text())
        assert len(password) == 1, "the first start prints the administrator's one-time password once"
        body = {"username": "admin", "password": password[0], "mode": "token"}
        assert httpx.post(f"http://127.0.0.1:{port}/api/auth/login", json=body, timeout=10).status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert proc.returncode in (0, 128 + signal.SIGTERM)
    assert not _postgres_running(pgdata), "embedded PostgreSQL outlived the server"

    proc = _start(home, port)
    try:
        _wait_healthy(proc, home, port)
        assert _sql(pgdata, "SELECT name FROM flows WHERE id = 'keep-me'") == [("kept",)]
        assert (home / "server.log").read_text().count("one-time password:") == 1, "no second admin on restart"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert not _postgres_running(pgdata)


def test_sigkill_leaves_postgres_that_the_next_start_adopts(tmp_path: Path) -> None:
    home, port = tmp_path / "home", free_port()
    proc = _start(home, port)
    _wait_healthy(proc, home, port)
    proc.kill()
    proc.wait(timeout=10)
    proc = _start(home, port)
    try:
        _wait_healthy(proc, home, port)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert not _postgres_running(home / "pgdata"), "a restarted server must stop the adopted PostgreSQL"


def test_migrate_then_up_to_date(tmp_path: Path) -> None:
    env = {**os.environ, "RIVULET_HOME": str(tmp_path)}
    first = subprocess.run([RIVULET, "migrate"], env=env, capture_output=True, text=True, check=True)
    assert first.stdout.startswith("applied: 0001")
    second = subprocess.run([RIVULET, "migrate"], env=env, capture_output=True, text=True, check=True)
    assert second.stdout.strip() == "database is up to date"
    assert not _postgres_running(tmp_path / "pgdata")


def test_external_database_without_pgvector_is_a_clear_error(tmp_path: Path) -> None:
    env = {**os.environ, "RIVULET_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    result = subprocess.run([RIVULET, "migrate"], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "cannot connect to PostgreSQL at host=127.0.0.1 port=1" in result.stderr
    assert "Traceback" not in result.stderr


def test_version() -> None:
    result = subprocess.run([RIVULET, "version"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("rivulet ")
