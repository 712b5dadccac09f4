"""docs/operators.md lists every built-in operator (generated table), and its example operator is valid."""

from __future__ import annotations

import importlib
import re
from typing import TYPE_CHECKING

from rivulet.registry import load_registry
from rivulet.registry.docs import DOC_PATH, operator_table, replace_table
from rivulet.registry.loader import validate_operator

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def test_operator_table_is_up_to_date() -> None:
    text = DOC_PATH.read_text()
    expected = replace_table(text, operator_table(load_registry(entry_point_group=None)))
    assert text == expected, "docs/operators.md drifted; run `.venv/bin/python -m rivulet.registry.docs`"


def test_every_builtin_operator_is_in_the_table() -> None:
    text = DOC_PATH.read_text()
    for operator_id in load_registry(entry_point_group=None).ids():
        assert f"| `{operator_id}` v" in text


async def test_the_contract_example_is_a_valid_operator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = re.search(r"## The contract.*?```python\n(.*?)```", DOC_PATH.read_text(), re.DOTALL)
    assert source is not None
    (tmp_path / "count_words.py").write_text(source.group(1))
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("count_words")
    assert validate_operator(module.CountWords, builtin=True) == []
    outputs = await module.CountWords().run(
        None, module.Params(min_length=3), module.Inputs(text="a bee sees three trees")
    )
    assert outputs.count == 4  # bee, sees, three, trees
