"""What every ``rivulet`` command shares: settings for ``--home``, the database to use, and one output style.

The output style (docs/cli.md): stdout carries the result only — a table, one JSON document (``--json``), or one
``verb: what (details)`` line per thing changed; progress and notes go to stderr; a refused command prints
``rivulet: error: ...`` on stderr and exits 2, a command whose work ran and failed (a run, a model test) prints
``rivulet: <what> failed: ...`` on stderr and exits 1.
"""

from __future__ import annotations

import contextlib
import sys
from typing import TYPE_CHECKING, Any, NamedTuple

import msgspec

from rivulet.lib.exceptions import ValidationError
from rivulet.lib.log import configure_logging
from rivulet.lib.settings import load_settings

if TYPE_CHECKING:
    import argparse
    from collections.abc import AsyncGenerator, Sequence

    from psycopg_pool import AsyncConnectionPool

    from rivulet.knowledge.service import KnowledgeService
    from rivulet.lib.settings import Settings
    from rivulet.providers.service import ModelService
    from rivulet.storage.postgres.secrets import PostgresSecretStore

__all__ = (
    "KnowledgeStack",
    "add_home_arg",
    "add_json_arg",
    "database",
    "failed",
    "knowledge_stack",
    "note",
    "out",
    "parse_assignments",
    "print_json",
    "print_table",
    "settings_for",
)

_pretty = msgspec.json.Encoder(order="deterministic")


def out(line: str = "") -> None:
    """One line of the command's result on stdout."""
    sys.stdout.write(line + "\n")


def note(line: str) -> None:
    """One line for the person at the terminal (progress, "nothing found"), on stderr."""
    sys.stderr.write(line + "\n")


def failed(what: str, message: str) -> int:
    """Report that ``what`` ran and failed (``rivulet: <what> failed: <message>`` on stderr); returns exit code 1."""
    note(f"rivulet: {what} failed: {message}")
    return 1


def print_json(value: Any) -> None:
    """The result as one JSON document: indented, keys in a stable order."""
    out(msgspec.json.format(_pretty.encode(value), indent=2).decode())


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, empty: str) -> None:
    """Rows under upper-case headers, columns aligned; with no rows, only ``empty`` as a note on stderr."""
    if not rows:
        note(empty)
        return
    cells = [[h.upper() for h in headers], *([str(c) for c in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers) - 1)]
    for row in cells:
        out("  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]]).rstrip())


def parse_assignments(pairs: Sequence[str], option: str) -> dict[str, Any]:
    """``["k=v", ...]`` → mapping; a value that parses as JSON is used as such (``n=3`` is an int, else text).

    Raises:
        ValidationError: A pair without ``=`` or without a name (``option`` names the flag in the message).
    """
    values: dict[str, Any] = {}
    for index, pair in enumerate(pairs):
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise ValidationError(
                f"{option} {pair!r}: expected name=value (the value is JSON or text)",
                extra={"errors": [{"path": f"$[{index}]", "message": "expected name=value", "got": pair}]},
            )
        try:
            values[name] = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            values[name] = raw
    return values


class _Database:
    """The database URL for a command: the configured one, or a started embedded server."""

    def __init__(self, settings: Settings) -> None:
        from rivulet.storage.embedded import EmbeddedPostgres

        self._embedded = None if settings.database_url else EmbeddedPostgres(settings.home)
        self._url = settings.database_url

    def __enter__(self) -> str:
        if self._embedded is not None:
            self._url = self._embedded.start()
        assert self._url is not None
        return self._url

    def __exit__(self, *_: object) -> None:
        if self._embedded is not None:
            self._embedded.stop()


def database(settings: Settings) -> _Database:
    """A context manager yielding the database URL (the configured one or a started embedded server)."""
    return _Database(settings)


def settings_for(args: argparse.Namespace) -> Settings:
    """Settings for a command's ``--home`` (and ``serve``'s ``--host``/``--port``), with logging configured."""
    settings = load_settings(
        host=getattr(args, "host", None), port=getattr(args, "port", None), home=getattr(args, "home", None)
    )
    configure_logging(settings.log_level, settings.log_format)
    return settings


def add_home_arg(parser: argparse.ArgumentParser) -> None:
    """The ``--home`` option every command that reads settings takes."""
    parser.add_argument("--home", help="data directory (env RIVULET_HOME)")


def add_json_arg(parser: argparse.ArgumentParser) -> None:
    """The ``--json`` option of every command that shows or changes something."""
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


class KnowledgeStack(NamedTuple):
    """What the ``kb`` and ``ds`` commands build on: the pool, secrets, models and the knowledge service."""

    pool: AsyncConnectionPool
    secrets: PostgresSecretStore
    models: ModelService
    knowledge: KnowledgeService


@contextlib.asynccontextmanager
async def knowledge_stack(settings: Settings, url: str) -> AsyncGenerator[KnowledgeStack]:
    """Open the database at ``url`` (migrated), the secret store, the model service and the knowledge service.

    Everything is closed on exit, models before the pool.
    """
    from rivulet.app.wiring import network_policy
    from rivulet.knowledge.service import KnowledgeService
    from rivulet.lib.secrets import SecretBox, load_secret_key
    from rivulet.providers.config import model_dirs
    from rivulet.providers.service import ModelService
    from rivulet.storage.postgres.knowledge import PostgresKnowledgeStore
    from rivulet.storage.postgres.migrate import apply_migrations
    from rivulet.storage.postgres.model_configs import PostgresModelStore
    from rivulet.storage.postgres.pool import open_pool
    from rivulet.storage.postgres.secrets import PostgresSecretStore

    pool = await open_pool(url, min_size=1, max_size=4)
    try:
        await apply_migrations(pool)
        secrets = PostgresSecretStore(pool, SecretBox(load_secret_key(settings.secret_key, settings.home)))
        policy = network_policy(settings)
        dirs = model_dirs(settings.model_dirs, settings.home)
        models = ModelService(PostgresModelStore(pool), secrets=secrets.reveal, policy=policy, model_dirs=dirs)
        try:
            yield KnowledgeStack(pool, secrets, models, KnowledgeService(PostgresKnowledgeStore(pool), models, policy))
        finally:
            await models.close()
    finally:
        await pool.close()
