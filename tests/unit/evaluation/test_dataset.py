"""Datasets: JSON lines read into items; every error names its line and field."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import pytest

from rivulet.evaluation.dataset import read_dataset
from rivulet.lib.exceptions import ValidationError

if TYPE_CHECKING:
    from pathlib import Path


def test_flow_lines_with_and_without_an_inputs_object(tmp_path: Path) -> None:
    data = b'{"inputs": {"q": "2+2"}, "expected": "4"}\n\n{"q": "3+3", "expected": 6, "id": 7}\n'
    path = tmp_path / "math.jsonl"
    path.write_bytes(data)
    dataset = read_dataset(path)
    assert dataset.name == "math.jsonl"
    assert dataset.sha256 == hashlib.sha256(data).hexdigest()
    first, second = dataset.items
    assert (first.index, first.line, first.inputs, first.expected) == (0, 1, {"q": "2+2"}, "4")
    assert (second.index, second.line, second.inputs, second.expected, second.id) == (1, 3, {"q": "3+3"}, 6, "7")


def test_a_text2sql_line_is_also_a_flow_line_with_gold_sql() -> None:
    line = b'{"question": "How many?", "sql": "SELECT 1", "db": "shop"}'
    flow = read_dataset(line).items[0]
    assert (flow.inputs, flow.expected, flow.db) == ({"question": "How many?"}, "SELECT 1", "shop")
    text2sql = read_dataset(line, kind="text2sql").items[0]
    assert (text2sql.inputs, text2sql.expected, text2sql.db) == ({"question": "How many?"}, "SELECT 1", "shop")


@pytest.mark.parametrize(
    ("data", "kind", "line", "field", "words"),
    [
        (b'{"q": 1, "expected": 1}\n{"q": 2, "expected": }\n', "flow", 2, None, "not JSON"),
        (b'{"q": 1, "expected": 1}\n[1, 2]\n', "flow", 2, None, "must be a JSON object"),
        (b'{"q": 1}\n', "flow", 1, "expected", "missing"),
        (b'{"expected": 1}\n', "flow", 1, "inputs", "no inputs"),
        (b'{"inputs": [1], "expected": 1}\n', "flow", 1, "inputs", "must be an object"),
        (b'{"sql": "SELECT 1", "db": "shop"}\n', "text2sql", 1, "question", "missing"),
        (b'{"question": "q", "sql": "", "db": "shop"}\n', "text2sql", 1, "sql", "non-empty text"),
        (b'{"question": "q", "sql": "SELECT 1", "db": 3}\n', "text2sql", 1, "db", "non-empty text"),
        (b'{"q": 1, "expected": 1, "id": [1]}\n', "flow", 1, "id", "text or a number"),
    ],
)
def test_errors_name_the_line_and_the_field(data: bytes, kind: str, line: int, field: str | None, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        read_dataset(data, name="d.jsonl", kind=kind)  # pyright: ignore[reportArgumentType]
    error = caught.value
    assert error.detail.startswith(f"d.jsonl line {line}")
    assert words in error.detail
    assert error.extra["line"] == line
    assert error.extra["field"] == field
    assert error.extra["errors"][0]["path"] == f"line {line}" + (f".{field}" if field else "")


def test_empty_missing_and_binary_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no items"):
        read_dataset(b"\n  \n")
    with pytest.raises(ValidationError, match="no such dataset file"):
        read_dataset(tmp_path / "nope.jsonl")
    with pytest.raises(ValidationError, match="line 2: not UTF-8"):
        read_dataset(b'{"q": 1, "expected": 1}\n\xff\xfe\n')


def test_the_shipped_dataset_reads_as_text2sql() -> None:
    from rivulet.data.samples import dataset_path

    dataset = read_dataset(dataset_path(), kind="text2sql")
    assert len(dataset.items) >= 45
    assert {item.db for item in dataset.items} == {"shop"}
