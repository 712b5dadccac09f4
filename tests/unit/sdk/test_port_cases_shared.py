"""The port-type cases in ``tests/fixtures/port-compat-cases.json``, against the backend's real rules.

The editor's ``frontend/src/canvas/port-types.test.ts`` reads the same file, so both sides agree case by case.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from rivulet.compiler.passes.check_types import _erase, substitute, unify
from rivulet.sdk.ports import PortType, check_compatible, parse_port_type

CASES: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "fixtures" / "port-compat-cases.json").read_text(encoding="utf-8")
)


def _id(case: dict[str, Any]) -> str:
    return f"{case['source']}->{case['target']}"


@pytest.mark.parametrize("case", CASES["compatible"], ids=_id)
def test_compatibility_verdicts(case: dict[str, Any]) -> None:
    verdict = check_compatible(parse_port_type(case["source"]), parse_port_type(case["target"]))
    assert (verdict.ok, verdict.coercion) == (case["ok"], case["coercion"])
    assert verdict.reason == case.get("reason", "")


@pytest.mark.parametrize("case", CASES["parse"], ids=lambda case: repr(case["text"]))
def test_parsing(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(ValueError, match=re.escape(case["error"])):
            parse_port_type(case["text"])
        return
    parsed = parse_port_type(case["text"])
    assert str(parsed) == case["formatted"]
    assert parsed.var == case.get("variable", False)


@pytest.mark.parametrize("case", CASES["inference"], ids=lambda case: str(case["connections"]))
def test_generic_inference(case: dict[str, Any]) -> None:
    bindings: dict[str, PortType] = {}
    for pattern, concrete in case["connections"]:
        unify(parse_port_type(pattern), parse_port_type(concrete), bindings)
    resolved = {text: str(_erase(substitute(parse_port_type(text), bindings))) for text in case["resolved"]}
    assert resolved == case["resolved"]


def test_every_verdict_kind_is_covered() -> None:
    kinds = {(case["ok"], case["coercion"]) for case in CASES["compatible"]}
    assert kinds == {(True, None), (True, "collect"), (False, None)}
