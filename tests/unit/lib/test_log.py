from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

import pytest

from rivulet.lib.log import JsonFormatter, configure_logging

if TYPE_CHECKING:
    from collections.abc import Iterator


def test_json_lines_carry_context() -> None:
    record = logging.makeLogRecord({"name": "rivulet.x", "levelno": 20, "levelname": "INFO", "msg": "hello %s"})
    record.args = ("world",)
    record.run_id = "r1"
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "hello world"
    assert line["run_id"] == "r1"
    assert line["level"] == "info"
    assert line["ts"].endswith("Z")


@pytest.fixture(autouse=True)
def _restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_configure_logging_is_idempotent(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", "json")
    configure_logging("info", "json")
    logging.getLogger("rivulet.test").info("once", extra={"k": 1})
    lines = [ln for ln in capsys.readouterr().err.splitlines() if "once" in ln]
    assert len(lines) == 1
    assert json.loads(lines[0])["k"] == 1
