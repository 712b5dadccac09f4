"""The executor's modules import one way: each imports only those below it (``TYPE_CHECKING`` imports count)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import rivulet.runtime

CHAIN = ("options", "_node_state", "_reuse", "_run_state", "_nodes", "executor")
"""Bottom to top."""


def _runtime_imports(module: str) -> set[str]:
    source = (Path(rivulet.runtime.__file__).parent / f"{module}.py").read_text()
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found.update(name.removeprefix("rivulet.runtime.") for name in names if name.startswith("rivulet.runtime."))
    return found


@pytest.mark.parametrize("module", CHAIN)
def test_a_module_of_the_executor_imports_none_above_it(module: str) -> None:
    above = set(CHAIN[CHAIN.index(module) + 1 :])
    assert not {name.split(".")[0] for name in _runtime_imports(module)} & above
