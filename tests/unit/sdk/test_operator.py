from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

import msgspec
from msgspec import Meta

from rivulet.sdk import NoParams, Operator, OperatorSpec
from rivulet.sdk.ports import Text
from rivulet.sdk.ui import ModelRef, SecretRef, ui_hint

T = TypeVar("T")


class Inputs(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    value: Annotated[T, Meta(description="Anything.")]
    note: Annotated[Text, Meta(description="A note.")] = ""


class Outputs(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    value: T
    extra: Text | msgspec.UnsetType = msgspec.UNSET


class Passthrough(Operator[NoParams, Inputs[Any], Outputs[Any]]):
    spec = OperatorSpec(id="test.passthrough", category="test", title="Pass")
    inputs_type = Inputs
    outputs_type = Outputs


def test_ports_carry_descriptions_required_flags_and_generic_types() -> None:
    value, note = Passthrough.input_ports(None)
    assert (value.name, str(value.type), value.type.var, value.required, value.description) == (
        "value", "T", True, True, "Anything.",
    )  # fmt: skip
    assert (note.name, str(note.type), note.required, note.description) == ("note", "Text", False, "A note.")


def test_unset_outputs_are_not_produced() -> None:
    assert Passthrough.output_values(Outputs(value=1)) == {"value": 1}
    assert Passthrough.output_values(Outputs(value=1, extra="x")) == {"value": 1, "extra": "x"}


def test_build_inputs_uses_defaults_for_missing_optional_ports() -> None:
    assert Passthrough.build_inputs({"value": 3}) == Inputs(value=3, note="")


class UiParams(msgspec.Struct, frozen=True, kw_only=True):
    key: Annotated[SecretRef, Meta(description="Secret name.")]
    model: ModelRef = "default"
    code: Annotated[str, Meta(extra_json_schema=ui_hint("code", language="sql"))] = ""


def test_ui_hints_reach_the_json_schema_and_compose_with_constraints() -> None:
    props = msgspec.json.schema(UiParams)["$defs"]["UiParams"]["properties"]
    assert props["key"] == {"description": "Secret name.", "minLength": 1, "type": "string", "ui": {"widget": "secret"}}
    assert props["model"]["ui"] == {"widget": "model"}
    assert props["code"]["ui"] == {"widget": "code", "language": "sql"}
