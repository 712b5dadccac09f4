"""Evaluation datasets: JSON lines, one item a line, read with located errors (line number and field).

A flow dataset line holds the run's inputs and what the output should be::

    {"inputs": {"question": "What is 2 + 2?"}, "expected": "4"}
    {"question": "What is 2 + 2?", "expected": "4"}          # without "inputs": every other key is an input

A Text2SQL line holds a question, the gold SQL and the database (a data source name, or an SQLite or DuckDB file)::

    {"question": "How many customers are there?", "sql": "SELECT count(*) FROM customers", "db": "shop"}

In a flow dataset, ``sql`` stands for ``expected`` (the gold SQL of the ``sql_execution`` metric) and ``db`` names
its database; ``id`` and ``meta`` are kept with the item but are not inputs. Blank lines are skipped.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Final, Literal, cast

import msgspec

from rivulet.lib.exceptions import ValidationError

__all__ = ("MAX_ITEMS", "Dataset", "DatasetItem", "read_dataset")

MAX_ITEMS: Final = 10_000
_RESERVED: Final = frozenset({"expected", "sql", "db", "id", "meta"})


class DatasetItem(msgspec.Struct, frozen=True, kw_only=True):
    """One line of a dataset."""

    index: int
    """0-based position among the items."""
    line: int
    """1-based line number in the file."""
    inputs: dict[str, Any]
    expected: Any = None
    db: str | None = None
    id: str | None = None


class Dataset(msgspec.Struct, frozen=True, kw_only=True):
    """A dataset read from a file or an upload."""

    name: str
    sha256: str
    items: list[DatasetItem]


def _fail(name: str, line: int, field: str | None, message: str, got: Any = None) -> ValidationError:
    where = f"{name} line {line}" + (f", field {field!r}" if field else "")
    error: dict[str, Any] = {"path": f"line {line}" + (f".{field}" if field else ""), "message": message}
    if got is not None:
        error["got"] = got if isinstance(got, (str, int, float, bool)) else str(got)[:200]
    return ValidationError(f"{where}: {message}", extra={"errors": [error], "line": line, "field": field})


def _text(value: dict[str, Any], key: str, *, name: str, line: int, required: bool) -> str | None:
    found = value.get(key)
    if found is None:
        if required:
            raise _fail(name, line, key, "missing (a non-empty text is required)")
        return None
    if not isinstance(found, str) or not found.strip():
        raise _fail(name, line, key, "must be a non-empty text", got=found)
    return found


def _item(value: dict[str, Any], *, kind: Literal["flow", "text2sql"], name: str, line: int, index: int) -> DatasetItem:
    ident = value.get("id")
    if ident is not None and not isinstance(ident, (str, int)):
        raise _fail(name, line, "id", "must be a text or a number", got=ident)
    ident_text = None if ident is None else str(ident)
    if kind == "text2sql":
        question = _text(value, "question", name=name, line=line, required=True)
        sql = _text(value, "sql", name=name, line=line, required=True)
        db = _text(value, "db", name=name, line=line, required=False)
        return DatasetItem(index=index, line=line, inputs={"question": question}, expected=sql, db=db, id=ident_text)
    db = _text(value, "db", name=name, line=line, required=False)
    if "inputs" in value:
        inputs = value["inputs"]
        if not isinstance(inputs, dict):
            raise _fail(name, line, "inputs", "must be an object of input names to values", got=inputs)
        inputs_dict: dict[str, Any] = {str(k): v for k, v in cast("dict[Any, Any]", inputs).items()}
    else:
        inputs_dict = {k: v for k, v in value.items() if k not in _RESERVED}
    if not inputs_dict:
        raise _fail(name, line, "inputs", 'no inputs (give an "inputs" object or input fields)')
    if "expected" in value:
        expected = value["expected"]
    elif "sql" in value:
        expected = _text(value, "sql", name=name, line=line, required=True)
    else:
        raise _fail(name, line, "expected", 'missing (give "expected", or "sql" for the sql_execution metric)')
    return DatasetItem(index=index, line=line, inputs=inputs_dict, expected=expected, db=db, id=ident_text)


def read_dataset(
    source: Path | bytes, *, name: str | None = None, kind: Literal["flow", "text2sql"] = "flow"
) -> Dataset:
    """Read a JSON-lines dataset.

    Args:
        source: A file, or its bytes (an upload).
        name: The dataset's name (default: the file's name).
        kind: ``flow`` (inputs and expected) or ``text2sql`` (question, sql, db).

    Raises:
        ValidationError: The file is missing, not UTF-8, empty, too long, or a line is not a JSON object with the
            fields its kind needs; the message and ``extra`` locate it (``line``, ``field``).
    """
    if isinstance(source, Path):
        label = name or source.name
        if not source.is_file():
            raise ValidationError(
                f"{source}: no such dataset file", extra={"errors": [{"path": "$", "message": "not found"}]}
            )
        data = source.read_bytes()
    else:
        label = name or "dataset.jsonl"
        data = source
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _fail(label, line, None, "not UTF-8 text") from exc
    items: list[DatasetItem] = []
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except ValueError as exc:
            message = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            column = f" at column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
            raise _fail(label, number, None, f"not JSON ({message}{column})") from exc
        if not isinstance(value, dict):
            raise _fail(label, number, None, "must be a JSON object", got=raw[:200])
        if len(items) >= MAX_ITEMS:
            raise _fail(label, number, None, f"too many items (at most {MAX_ITEMS:,})")
        items.append(_item(value, kind=kind, name=label, line=number, index=len(items)))  # pyright: ignore[reportUnknownArgumentType]
    if not items:
        raise ValidationError(
            f"{label}: the dataset has no items", extra={"errors": [{"path": "$", "message": "empty"}]}
        )
    return Dataset(name=label, sha256=hashlib.sha256(data).hexdigest(), items=items)
