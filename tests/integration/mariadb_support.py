"""A private MariaDB server for the tests: Debian's ``mariadbd`` on a temporary datadir, socket and free port.

``make mariadb`` (a dependency of ``make test``) installs ``mariadb-server`` when ``mariadbd`` is missing. The
``mariadb`` session fixture initialises a datadir (``mariadb-install-db``), starts ``mariadbd --user=root``
listening on a Unix socket in it and on ``127.0.0.1:<free port>``, creates the database ``shop`` and the
account ``rivulet`` with a password (all privileges on ``shop``, nothing global: no ``FILE``), and stops the
server at the end of the session. A missing binary fails the test (run ``make mariadb``); it never skips.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pymysql
import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

__all__ = ("MariaDB", "mariadb_fixture")

DATABASE = "shop"
USER = "rivulet"
PASSWORD = "maria-Secret-pw-9c1f"
_SEARCH = ("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin")


def _binary(name: str) -> str:
    found = shutil.which(name) or next((f"{d}/{name}" for d in _SEARCH if Path(d, name).is_file()), None)
    if found is None:
        pytest.fail(f"{name} is not installed: run `make mariadb` (installs Debian's mariadb-server)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class MariaDB:
    """A running server: connect as ``user``/``password`` over TCP, or as root (no password) on ``socket``."""

    host: str
    port: int
    socket: str
    database: str
    user: str
    password: str
    datadir: Path

    def root(self, database: str | None = None) -> pymysql.Connection[Any]:
        """A blocking root connection on the socket (autocommit)."""
        return pymysql.connect(unix_socket=self.socket, user="root", database=database, autocommit=True)

    def admin(self, statements: Sequence[str], database: str | None = None) -> list[tuple[Any, ...]]:
        """Run ``statements`` as root; the rows of the last one."""
        conn = self.root(database)
        try:
            rows: list[tuple[Any, ...]] = []
            with conn.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
                    rows = list(cursor.fetchall())
            return rows
        finally:
            conn.close()

    def config(self) -> dict[str, Any]:
        """A ``mysql`` data source's connection settings (the password goes separately)."""
        return {"host": self.host, "port": self.port, "database": self.database, "user": self.user}


def _wait_ready(server: subprocess.Popen[bytes], sock: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"mariadbd exited with {server.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as probe:
            probe.connect(sock)
            pymysql.connect(unix_socket=sock, user="root", connect_timeout=5).close()
            return
        time.sleep(0.2)
    pytest.fail(f"mariadbd did not accept connections within 60 s:\n{log.read_text(errors='replace')[-3000:]}")


_shared: list[MariaDB] = []
_users = [0]
_stoppers: list[Iterator[MariaDB]] = []


@pytest.fixture(scope="session", name="mariadb")
def mariadb_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDB]:
    """The test session's MariaDB (one server however many modules import this fixture)."""
    if not _shared:
        server = _start(tmp_path_factory)
        _shared.append(next(server))
        _stoppers.append(server)
    _users[0] += 1
    try:
        yield _shared[0]
    finally:
        _users[0] -= 1
        if _users[0] == 0:
            _shared.clear()
            for stopper in _stoppers:
                next(stopper, None)
            _stoppers.clear()


def _start(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDB]:
    server_bin = _binary("mariadbd")
    install_bin = _binary("mariadb-install-db")
    base = tmp_path_factory.mktemp("mariadb")
    datadir = base / "data"
    sock = str(base / "mysqld.sock")
    log = base / "error.log"
    init = subprocess.run(
        [
            install_bin,
            "--no-defaults",
            "--user=root",
            f"--datadir={datadir}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--skip-name-resolve",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
    )
    if init.returncode != 0:
        pytest.fail(f"mariadb-install-db failed ({init.returncode}):\n{init.stdout[-2000:]}\n{init.stderr[-2000:]}")
    port = _free_port()
    server = subprocess.Popen(
        [
            server_bin,
            "--no-defaults",
            "--user=root",
            f"--datadir={datadir}",
            f"--socket={sock}",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            f"--pid-file={base / 'mysqld.pid'}",
            f"--log-error={log}",
            "--skip-log-bin",
            "--skip-name-resolve",
            "--innodb-buffer-pool-size=32M",
            "--innodb-log-file-size=16M",
            f"--tmpdir={base}",
            "--max-connections=200",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TZ": "UTC"},
    )
    try:
        _wait_ready(server, sock, log)
        db = MariaDB(
            host="127.0.0.1", port=port, socket=sock, database=DATABASE, user=USER, password=PASSWORD, datadir=datadir
        )
        db.admin(
            [
                f"CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4",
                f"CREATE USER '{USER}'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}'",
                f"CREATE USER '{USER}'@'localhost' IDENTIFIED BY '{PASSWORD}'",
                f"GRANT ALL PRIVILEGES ON {DATABASE}.* TO '{USER}'@'127.0.0.1'",
                f"GRANT ALL PRIVILEGES ON {DATABASE}.* TO '{USER}'@'localhost'",
            ]
        )
        yield db
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
