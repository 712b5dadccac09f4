"""The ``rivulet`` command line: ``serve``, ``migrate``, ``run``, ``models``, ``kb``, ``ds``, ``template`` and more.

Each command group lives in its own module (``models``, ``kb``, ``ds``, ``templates``, ``run``); ``common`` holds the
style.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rivulet import __version__
from rivulet.cli.common import add_home_arg, database, note, out, settings_for
from rivulet.cli.ds import add_ds_parser
from rivulet.cli.eval import add_eval_parser
from rivulet.cli.kb import add_kb_parser
from rivulet.cli.models import add_models_parser
from rivulet.cli.templates import add_template_parser
from rivulet.lib.exceptions import AppError
from rivulet.lib.log import get_logger

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ("main",)

_log = get_logger("rivulet.cli")
_REPO_SCHEMAS = Path(__file__).resolve().parents[4] / "schemas"


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _serve(args: argparse.Namespace) -> int:
    import signal

    import uvicorn

    from rivulet.app.asgi import create_app

    settings = settings_for(args)
    # uvicorn re-raises SIGTERM after its graceful shutdown; turn it into SystemExit so that the embedded
    # database below is stopped by the context manager instead of the process dying under it.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    with database(settings) as url:
        app = create_app(settings, database_url=url)
        config = uvicorn.Config(
            app, host=settings.host, port=settings.port, log_config=None, access_log=False, lifespan="on"
        )
        server = uvicorn.Server(config)
        _log.info("serving", extra={"url": f"http://{settings.host}:{settings.port}"})
        server.run()
        return 0 if server.started else 1


def _migrate(args: argparse.Namespace) -> int:
    from rivulet.storage.postgres.migrate import apply_migrations
    from rivulet.storage.postgres.pool import open_pool

    settings = settings_for(args)

    async def run(url: str) -> list[int]:
        pool = await open_pool(url, min_size=1, max_size=1)
        try:
            return await apply_migrations(pool)
        finally:
            await pool.close()

    with database(settings) as url:
        applied = asyncio.run(run(url))
    out(f"applied: {', '.join(f'{v:04d}' for v in applied)}" if applied else "database is up to date")
    return 0


def _export_schemas(args: argparse.Namespace) -> int:
    from rivulet.app.schemas import export_schemas

    for path in export_schemas(Path(args.out)):
        out(f"written: {path}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from rivulet.cli.run import run_flow_file

    settings_for(args)
    return run_flow_file(args.flow, args.input, as_json=args.json, deadline_s=args.deadline)


def _version(_: argparse.Namespace) -> int:
    out(f"rivulet {__version__}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rivulet", description="Rivulet: AI-native data app builder")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="start the API and editor (embedded Postgres unless RIVULET_DATABASE_URL)")
    serve.add_argument("--host", help="bind address (env RIVULET_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (env RIVULET_PORT, default 8000)")
    add_home_arg(serve)
    serve.set_defaults(handler=_serve)
    migrate = sub.add_parser("migrate", help="apply database migrations and exit")
    add_home_arg(migrate)
    migrate.set_defaults(handler=_migrate)
    export = sub.add_parser("export-schemas", help="write JSON Schemas and openapi.json")
    export.add_argument("--out", default=str(_REPO_SCHEMAS), help="target directory (default: the repo's schemas/)")
    export.set_defaults(handler=_export_schemas)
    run = sub.add_parser("run", help="run a flow file headless (in-memory) and print its outputs")
    run.add_argument("flow", help="a rivulet.flow/v1 JSON file")
    run.add_argument(
        "--input", "-i", action="append", default=[], metavar="NAME=VALUE", help="a run input (JSON or text)"
    )
    run.add_argument("--json", action="store_true", help="print events as JSON lines instead of the progress display")
    run.add_argument("--deadline", type=float, default=None, metavar="SECONDS", help="fail the run after this long")
    run.set_defaults(handler=_run)
    add_models_parser(sub)
    add_kb_parser(sub)
    add_ds_parser(sub)
    add_eval_parser(sub)
    sub.add_parser("version", help="print the version").set_defaults(handler=_version)
    add_template_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rivulet`` script."""
    args = _parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except AppError as exc:
        note(f"rivulet: error: {exc.detail}")
        return 2
    except KeyboardInterrupt:
        # Ctrl-C ends `serve` after its graceful shutdown: that is a normal exit, not a failure
        return 0 if args.command == "serve" else 130


if __name__ == "__main__":
    sys.exit(main())
