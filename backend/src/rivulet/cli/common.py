"""What every ``rivulet`` command shares: settings for ``--home``, the database to use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rivulet.lib.log import configure_logging
from rivulet.lib.settings import load_settings

if TYPE_CHECKING:
    import argparse

    from rivulet.lib.settings import Settings

__all__ = ("add_home_arg", "database", "settings_for")


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
