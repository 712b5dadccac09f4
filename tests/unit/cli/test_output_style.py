"""One output style for every ``rivulet`` command (docs/cli.md): results on stdout, notes and errors on stderr."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from rivulet.cli.common import failed, parse_assignments, print_json, print_table
from rivulet.cli.main import main
from rivulet.lib.exceptions import ValidationError

if TYPE_CHECKING:
    from pathlib import Path


def test_tables_align_under_upper_case_headers(capsys: pytest.CaptureFixture[str]) -> None:
    print_table(("name", "kind", "note"), [("default", "chat", ""), ("e5", "embedding", "built in")], empty="none")
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "NAME     KIND       NOTE",
        "default  chat",
        "e5       embedding  built in",
    ]
    assert captured.err == ""


def test_an_empty_table_is_a_note_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    print_table(("name",), [], empty="no models")
    assert capsys.readouterr() == ("", "no models\n")


def test_json_is_one_indented_document_with_sorted_keys(capsys: pytest.CaptureFixture[str]) -> None:
    print_json({"b": 1, "a": [1, 2]})
    out = capsys.readouterr().out
    assert out == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": 1\n}\n'
    assert json.loads(out) == {"a": [1, 2], "b": 1}


def test_a_failed_run_says_so_on_stderr_with_exit_code_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert failed("model test", "default: timeout") == 1
    assert capsys.readouterr() == ("", "rivulet: model test failed: default: timeout\n")


def test_assignments_are_json_when_they_parse_and_name_the_option() -> None:
    assert parse_assignments(["n=3", "s=hi there", "e="], "--var") == {"n": 3, "s": "hi there", "e": ""}
    with pytest.raises(ValidationError, match=r"--var 'oops': expected name=value"):
        parse_assignments(["oops"], "--var")


def test_refused_commands_print_one_error_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(tmp_path / "nope.json")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"rivulet: error: {tmp_path / 'nope.json'}: no such flow file\n"


def test_version_is_the_result_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["version"]) == 0
    assert capsys.readouterr().out.startswith("rivulet ")


def test_a_malformed_option_is_refused_before_any_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RIVULET_DATABASE_URL", "postgresql://127.0.0.1:1/none")  # never reached
    assert main(["template", "--home", str(tmp_path), "import", "--var", "oops", "ticket-router"]) == 2
    assert capsys.readouterr().err == "rivulet: error: --var 'oops': expected name=value (the value is JSON or text)\n"


def test_an_invalid_model_config_is_refused_before_any_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RIVULET_DATABASE_URL", "postgresql://127.0.0.1:1/none")  # never reached
    assert main(["models", "add", "bad", "--provider", "openai_compatible", "--home", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rivulet: error: model 'bad' (openai_compatible): ")
    assert "missing required field `base_url`" in err
