from __future__ import annotations

import msgspec
import pytest

from rivulet.lib.exceptions import OperatorError
from rivulet.sdk.ports import Message
from rivulet_operators.core.constant import Constant
from rivulet_operators.core.input import FlowInput
from rivulet_operators.core.output import FlowOutput
from tests.unit.operators.conftest import FakeContext, params_of, run_operator


async def test_input_reads_and_converts_the_run_input() -> None:
    ctx = FakeContext(run_inputs={"msg": {"role": "user", "content": "hi"}})
    out = await run_operator(FlowInput, {"name": "msg", "type": "Message"}, ctx=ctx)
    assert out == {"value": Message(role="user", content="hi")}


async def test_input_output_port_is_typed_by_params() -> None:
    (port,) = FlowInput.output_ports(params_of(FlowInput, {"name": "n", "type": "List[Int]", "description": "d"}))
    assert (port.name, str(port.type), port.description) == ("value", "List[Int]", "d")


async def test_missing_required_input_fails_naming_it() -> None:
    with pytest.raises(OperatorError, match=r"run input 'question' \(Text\) is required") as info:
        await run_operator(FlowInput, {"name": "question"})
    assert info.value.operator_id == "core.input"
    assert info.value.node_id == "node-1"


async def test_optional_input_falls_back_to_default() -> None:
    out = await run_operator(FlowInput, {"name": "k", "type": "Int", "required": False, "default": 5})
    assert out == {"value": 5}


async def test_input_of_wrong_type_fails_with_location() -> None:
    ctx = FakeContext(run_inputs={"k": [1, "x"]})
    with pytest.raises(OperatorError, match=r"run input 'k' is not a valid List\[Int\].*\$\[1\]"):
        await run_operator(FlowInput, {"name": "k", "type": "List[Int]"}, ctx=ctx)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"name": "k", "type": "Int", "required": False, "default": "x"}, "default is not a valid Int"),
        ({"name": "k", "type": "T"}, "must be a concrete value type"),
        ({"name": "k", "type": "Stream[Text]"}, "must be a concrete value type"),
        ({"name": "k", "type": "Strng"}, "unknown port type 'Strng'"),
        ({"name": "bad name"}, "Expected `str` matching regex"),
    ],
)
def test_input_params_are_validated_at_compile_time(params: dict[str, object], message: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=message):
        params_of(FlowInput, params)


async def test_output_passes_the_value_through() -> None:
    assert await run_operator(FlowOutput, {"name": "answer"}, {"value": [1, 2]}) == {"value": [1, 2]}
    (inp,) = FlowOutput.input_ports(None)
    (out,) = FlowOutput.output_ports(None)
    assert inp.type.var
    assert out.type == inp.type


async def test_constant_emits_a_typed_value() -> None:
    out = await run_operator(Constant, {"value": {"role": "system", "content": "be brief"}, "type": "Message"})
    assert out == {"value": Message(role="system", content="be brief")}


def test_constant_value_must_fit_its_type() -> None:
    with pytest.raises(msgspec.ValidationError, match=r"value is not a valid List\[Int\]"):
        params_of(Constant, {"value": ["a"], "type": "List[Int]"})
