"""Liveness and readiness: the database and its pgvector extension."""

from __future__ import annotations

from typing import Literal

import msgspec
from litestar import Controller, Response, get
from litestar.openapi import ResponseSpec
from psycopg_pool import AsyncConnectionPool

from rivulet import __version__
from rivulet.lib.exceptions import StorageError
from rivulet.server.auth import PUBLIC
from rivulet.server.deps import Injected
from rivulet.storage.postgres.pool import check_database

__all__ = ("Health", "HealthController")


class Health(msgspec.Struct, frozen=True, kw_only=True):
    """Service status. ``status`` is ``ok`` only when the database answers and pgvector is installed."""

    status: Literal["ok", "degraded"]
    database: str
    """``ok`` or the error text."""
    pgvector: str | None
    """Installed pgvector version."""
    postgres: str | None = None
    """PostgreSQL server version."""
    version: str = __version__
    """Rivulet version."""


class HealthController(Controller):
    path = "/api/health"
    tags = ["system"]

    @get(
        "/",
        opt=PUBLIC,
        summary="Service health",
        description="Database and pgvector status; 503 when degraded.",
        responses={503: ResponseSpec(Health, description="The database is unreachable or pgvector is missing")},
    )
    async def health(self, pool: Injected[AsyncConnectionPool]) -> Response[Health]:
        try:
            info = await check_database(pool)
        except StorageError as exc:
            return Response(Health(status="degraded", database=exc.detail, pgvector=None), status_code=503)
        status: Literal["ok", "degraded"] = "ok" if info.pgvector else "degraded"
        body = Health(status=status, database="ok", pgvector=info.pgvector, postgres=info.server_version)
        return Response(body, status_code=200 if status == "ok" else 503)
