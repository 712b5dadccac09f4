"""Golden fixtures per compiler pass: ``tests/fixtures/compiler/<pass>/<case>.json`` holds a flow and what the
compiler must say about it (every diagnostic, and the node order when it compiles).

Regenerate after an intended change with ``RIVULET_UPDATE_GOLDEN=1 pytest tests/unit/compiler`` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from rivulet.compiler import analyze_flow
from rivulet.compiler.flow import decode_flow
from rivulet.compiler.passes import PASSES
from rivulet.registry import default_registry

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "compiler"
CASES = sorted(FIXTURES.glob("*/*.json"))


def outcome(flow: dict[str, Any]) -> dict[str, Any]:
    state = analyze_flow(decode_flow(flow), default_registry())
    fields = ("code", "severity", "node_id", "path", "expected", "got")
    diagnostics = [
        {
            k: v
            for k, v in zip(fields, (str(d.code), d.severity, d.node_id, d.path, d.expected, d.got), strict=True)
            if v is not None
        }
        for d in state.diagnostics
    ]
    has_errors = any(d.severity == "error" for d in state.diagnostics)
    return {"diagnostics": diagnostics, "order": None if has_errors else state.order}


def test_every_pass_has_fixtures() -> None:
    assert {p.parent.name for p in CASES} == {p.__name__ for p in PASSES}


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_golden(path: Path) -> None:
    case = json.loads(path.read_text())
    actual = outcome(case["flow"])
    if os.environ.get("RIVULET_UPDATE_GOLDEN") == "1":
        path.write_text(json.dumps({**case, "expected": actual}, indent=2, ensure_ascii=False) + "\n")
        return
    assert case["expected"] is not None, f"{path.name} has no expected outcome; run with RIVULET_UPDATE_GOLDEN=1"
    assert actual == case["expected"]
