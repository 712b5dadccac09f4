"""core.branch, core.join, core.delay: control flow."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from rivulet.lib.exceptions import OperatorError
from rivulet_operators.core.branch import Branch
from rivulet_operators.core.delay import Delay
from rivulet_operators.core.join import Join
from tests.unit.operators.conftest import FakeContext, params_of, run_operator

CONDITIONS = {
    "conditions": [
        {"port": "urgent", "expression": "value.priority > 3"},
        {"port": "refund", "expression": "'refund' in value.text | lower"},
    ]
}


def test_branch_ports_are_the_conditions_plus_default() -> None:
    ports = Branch.output_ports(params_of(Branch, CONDITIONS))
    assert [(p.name, str(p.type), p.required) for p in ports] == [
        ("urgent", "T", False), ("refund", "T", False), ("default", "T", False),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("value", "taken"),
    [
        ({"priority": 5, "text": "Refund please"}, "urgent"),
        ({"priority": 1, "text": "I want a REFUND"}, "refund"),
        ({"priority": 1, "text": "hello"}, "default"),
    ],
)
async def test_only_the_first_true_port_is_produced(value: dict[str, object], taken: str) -> None:
    assert await run_operator(Branch, CONDITIONS, {"value": value}) == {taken: value}


async def test_failing_condition_names_it() -> None:
    with pytest.raises(OperatorError, match=r"conditions\[0\] \(urgent\) failed: .*'priority'"):
        await run_operator(Branch, CONDITIONS, {"value": {"text": "x"}})


@pytest.mark.parametrize(
    ("conditions", "message"),
    [
        ([{"port": "default", "expression": "true"}], "reserved or used twice"),
        ([{"port": "a", "expression": "x"}, {"port": "a", "expression": "y"}], "reserved or used twice"),
        ([{"port": "a", "expression": "value >"}], "syntax error at line 1"),
        ([{"port": "Bad", "expression": "x"}], "matching regex"),
        ([], "length >= 1"),
    ],
)
def test_branch_params_are_checked(conditions: list[dict[str, str]], message: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=message):
        params_of(Branch, {"conditions": conditions})


def test_join_ports_follow_mode_and_count() -> None:
    all_params = params_of(Join, {"mode": "all", "count": 3})
    assert [(p.name, str(p.type), p.required) for p in Join.input_ports(all_params)] == [
        ("in_1", "T", True), ("in_2", "T", True), ("in_3", "T", True),
    ]  # fmt: skip
    assert [str(p.type) for p in Join.output_ports(all_params)] == ["List[T]"]
    any_params = params_of(Join, {"mode": "any"})
    assert all(not p.required for p in Join.input_ports(any_params))
    assert [str(p.type) for p in Join.output_ports(any_params)] == ["T"]


async def test_join_all_lists_values_in_port_order() -> None:
    out = await run_operator(Join, {"mode": "all", "count": 3}, {"in_3": "c", "in_1": "a", "in_2": "b"})
    assert out == {"value": ["a", "b", "c"]}


async def test_join_any_takes_the_first_present_value() -> None:
    assert await run_operator(Join, {"mode": "any", "count": 3}, {"in_3": "c", "in_2": "b"}) == {"value": "b"}


async def test_join_any_without_values_produces_nothing() -> None:
    assert await run_operator(Join, {"mode": "any"}, {}) == {}


async def test_delay_waits_and_passes_through() -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await run_operator(Delay, {"seconds": 0.05}, {"value": {"a": 1}}) == {"value": {"a": 1}}
    assert loop.time() - started >= 0.04


async def test_delay_stops_when_the_run_is_cancelled() -> None:
    ctx = FakeContext()
    task = asyncio.create_task(run_operator(Delay, {"seconds": 600}, {"value": 1}, ctx=ctx))
    await asyncio.sleep(0.01)
    ctx.cancelled.set()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=2)
    assert task.cancelled() or task.done()


def test_delay_is_not_cacheable_and_generic() -> None:
    assert not Delay.spec.cacheable
    (inp,) = Delay.input_ports(None)
    assert inp.type.var
