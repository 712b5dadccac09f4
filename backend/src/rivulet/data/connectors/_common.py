"""What the connectors share: type names, result caps, samples, errors without credentials (see ``base.py``)."""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

import msgspec

from rivulet.lib.exceptions import DatasourceError
from rivulet.sdk.ports import Table

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from rivulet.sdk.data import QueryLimits

__all__ = (
    "EXACT_COUNT_ROWS",
    "SAMPLE_SCAN_ROWS",
    "RowCollector",
    "datasource_error",
    "jsonable",
    "looks_secret",
    "normalise_type",
    "redact",
    "sample_values",
)

EXACT_COUNT_ROWS = 200_000
"""Tables the planner estimates below this many rows are counted exactly; larger ones keep the estimate."""
SAMPLE_SCAN_ROWS = 200
"""Introspection reads at most this many rows of a table to pick sample values from."""
SAMPLE_MAX_CHARS = 60
"""Longer texts are never samples (they are prose, not values worth showing a model)."""
FETCH_BATCH = 500


# --- types -----------------------------------------------------------------------------------------------------

_TYPE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("json", re.compile(r"json|\[\]$|^array|^struct|^map|^list|^union|^_")),
    ("datetime", re.compile(r"timestamp|datetime")),
    ("date", re.compile(r"^date$")),
    ("boolean", re.compile(r"^bool")),
    ("integer", re.compile(r"int|serial|^oid$|^bit$|^year$")),
    ("number", re.compile(r"numeric|decimal|real|double|float|money|^number$|^dec$|^fixed")),
    ("text", re.compile(r"char|text|clob|string|uuid|enum|^set\b|^name$|^time|interval|inet|cidr|citext|xml")),
)


def normalise_type(db_type: str) -> str:
    """A database's type name as one of ``integer number text boolean date datetime json unknown``.

    Works for PostgreSQL (``character varying(40)``, ``timestamp with time zone``, ``integer[]``), MySQL
    (``int(11) unsigned``, ``tinyint(1)``, ``datetime``), SQLite's affinity names and DuckDB's (``BIGINT``,
    ``DECIMAL(10,2)``, ``VARCHAR``, ``STRUCT(...)``). Binary and unknown types are ``unknown``.
    """
    name = db_type.strip().lower()
    if not name:
        return "unknown"
    if name.startswith(("bytea", "blob", "binary", "varbinary", "longblob", "mediumblob", "tinyblob", "bit(")):
        return "unknown"
    if name.startswith("tinyint(1)") or name == "bit":
        return "boolean"
    for result, pattern in _TYPE_RULES:
        if pattern.search(name):
            return result
    return "unknown"


def value_type(values: Iterable[Any]) -> str:
    """The normalised type of a column from its values (SQLite results carry no declared types)."""
    for value in values:
        if value is None:
            continue
        if isinstance(value, bool):
            return "boolean"
        if isinstance(value, int):
            return "integer"
        if isinstance(value, float | Decimal):
            return "number"
        if isinstance(value, dt.datetime):
            return "datetime"
        if isinstance(value, dt.date):
            return "date"
        if isinstance(value, str):
            return "text"
        if isinstance(value, dict | list):
            return "json"
        return "unknown"
    return "unknown"


# --- values and caps -------------------------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """A database value as something a ``Table`` can carry to JSON (Decimal → float, bytes → a marker)."""
    if value is None or isinstance(value, bool | int | str | dt.date | dt.datetime | dt.time):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else float(value)
    if isinstance(value, memoryview):
        return f"<{value.nbytes} bytes>"
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    if isinstance(value, uuid.UUID | dt.timedelta):
        return str(value)
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, dict):
        items = cast("dict[Any, Any]", value).items()
        return {str(k): jsonable(v) for k, v in items}
    return str(value)


class RowCollector:
    """Keeps rows until ``max_rows`` or ``max_bytes`` (JSON size) is reached and records that more existed."""

    def __init__(self, limits: QueryLimits) -> None:
        self.max_rows = limits.max_rows
        self.max_bytes = limits.max_bytes
        self.rows: list[list[Any]] = []
        self.size = 2
        self.truncated = False

    @property
    def want(self) -> int:
        """How many more rows to fetch (one past the cap, to see truncation)."""
        return max(1, min(FETCH_BATCH, self.max_rows + 1 - len(self.rows)))

    def add(self, row: Sequence[Any]) -> bool:
        """Keep ``row``; ``False`` when the caps are reached (stop reading; ``truncated`` is set).

        Raises:
            DatasourceError: The first row alone is larger than ``max_bytes`` (reason ``byte_cap``).
        """
        if len(self.rows) >= self.max_rows:
            self.truncated = True
            return False
        converted = [jsonable(value) for value in row]
        size = len(msgspec.json.encode(converted)) + 1
        if self.size + size > self.max_bytes:
            self.truncated = True
            if not self.rows:
                raise DatasourceError(
                    f"the first row alone is {size} bytes, more than the byte cap of {self.max_bytes}",
                    extra={"reason": "byte_cap", "max_bytes": self.max_bytes},
                )
            return False
        self.size += size
        self.rows.append(converted)
        return True

    def add_many(self, rows: Iterable[Sequence[Any]]) -> bool:
        """``add`` each row; ``False`` as soon as one does not fit."""
        return all(self.add(row) for row in rows)

    def table(self, columns: list[str], types: list[str]) -> Table:
        if not types or len(types) != len(columns):
            types = [value_type(row[i] for row in self.rows) for i in range(len(columns))]
        types = [value_type(row[i] for row in self.rows) if t == "unknown" else t for i, t in enumerate(types)]
        return Table(columns=columns, rows=self.rows, types=types, truncated=self.truncated)


# --- introspection helpers -------------------------------------------------------------------------------------

_SECRET = re.compile(
    r"pass(word|wd|phrase)?|pwd|secret|token|hash|salt|api_?key|private|credential|otp|\bssn\b|session|cookie|"
    r"signature|card_?number|cvv|\biban\b",
    re.IGNORECASE,
)


def looks_secret(column: str) -> bool:
    """Whether a column's name suggests values that must never be shown (passwords, tokens, hashes)."""
    return bool(_SECRET.search(column))


def sample_values(column: str, db_type: str, values: Iterable[Any], count: int) -> list[Any]:
    """Up to ``count`` distinct short values of a column (none for secret-looking, binary or JSON columns)."""
    if count <= 0 or looks_secret(column) or (db_type and normalise_type(db_type) in {"json", "unknown"}):
        return []
    seen: list[Any] = []
    keys: set[str] = set()
    for raw in values:
        value = jsonable(raw)
        if value is None or isinstance(value, list | dict):
            continue
        if isinstance(value, str) and (len(value) > SAMPLE_MAX_CHARS or not value.strip() or "\n" in value):
            continue
        if isinstance(value, str) and value.startswith("<") and value.endswith(" bytes>"):
            continue
        key = repr(value)
        if key in keys:
            continue
        keys.add(key)
        seen.append(value.isoformat() if isinstance(value, dt.date | dt.time) else value)
        if len(seen) >= count:
            break
    return seen


# --- errors ----------------------------------------------------------------------------------------------------

_DSN_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]*@", re.IGNORECASE)
_KV_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)('[^']*'|\"[^\"]*\"|\S+)", re.IGNORECASE)


def redact(text: str, password: str | None) -> str:
    """``text`` without the password, DSN credentials (``scheme://user:***@``) or ``password=...`` pairs."""
    if password:
        text = text.replace(password, "***")
    text = _DSN_PASSWORD.sub(r"\g<head>***@", text)
    return _KV_PASSWORD.sub(r"\g<head>***", text)


def datasource_error(
    name: str, exc: BaseException, *, reason: str, password: str | None = None, action: str = "query"
) -> DatasourceError:
    """A ``DatasourceError`` naming the data source and what failed, with credentials removed."""
    message = " ".join(str(exc).split()) or type(exc).__name__
    message = redact(message, password)
    if len(message) > 2000:
        message = message[:2000] + "…"
    return DatasourceError(f"data source {name!r}: {action} failed: {message}", extra={"reason": reason})


def timeout_error(name: str, timeout_s: float) -> DatasourceError:
    return DatasourceError(
        f"data source {name!r}: the query ran longer than {timeout_s:g} s and was cancelled",
        extra={"reason": "timeout", "timeout_s": timeout_s},
    )


def quote_ident(name: str, quote: str = '"') -> str:
    """``name`` as a quoted identifier (``"a""b"``; MySQL passes a backtick)."""
    return quote + name.replace(quote, quote * 2) + quote
