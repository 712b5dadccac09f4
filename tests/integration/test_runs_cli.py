"""``rivulet run FLOW.json``: headless runs with the progress display or JSON lines."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from rivulet.cli.run import parse_inputs, run_flow_file
from rivulet.compiler.flow import encode_flow
from rivulet.lib.exceptions import ValidationError
from tests.integration.runs_support import compile_document, delay_flow

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.timeout(60)


def test_inputs_are_json_when_they_parse_else_text() -> None:
    assert parse_inputs(["n=3", "text=hello world", 'obj={"a": [1]}', "empty="]) == {
        "n": 3, "text": "hello world", "obj": {"a": [1]}, "empty": "",
    }  # fmt: skip
    with pytest.raises(ValidationError, match="name=value"):
        parse_inputs(["oops"])


def test_json_lines_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flow = tmp_path / "flow.json"
    flow.write_bytes(encode_flow(delay_flow(0.01)))
    code = run_flow_file(str(flow), ["text=hey"], as_json=True, compile_graph=compile_document)
    assert code == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["seq"] for e in lines] == list(range(1, len(lines) + 1))
    assert lines[-1]["type"] == "run_finished"
    assert lines[-1]["outputs"] == {"answer": "hey"}


def test_progress_display_prints_outputs_and_fails_with_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flow = tmp_path / "flow.json"
    flow.write_bytes(encode_flow(delay_flow(0.01)))
    assert run_flow_file(str(flow), ["text=hey"], compile_graph=compile_document) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"answer": "hey"}
    assert "wait" in captured.err
    assert run_flow_file(str(flow), [], compile_graph=compile_document) == 1  # the required input is missing
    assert "required" in capsys.readouterr().err


def test_missing_file_is_a_validation_error(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no such flow file"):
        run_flow_file(str(tmp_path / "nope.json"), [])
