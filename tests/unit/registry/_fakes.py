"""Small operator classes for registry tests (valid and deliberately broken ones)."""

from __future__ import annotations

from typing import Any

import msgspec

from rivulet.sdk import NoInputs, Operator, OperatorSpec, PortSpec
from rivulet.sdk.ports import Text


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    n: int = 1


class LooseParams(msgspec.Struct, frozen=True, kw_only=True):
    n: int = 1


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    text: Text


class BadOutputs(msgspec.Struct, frozen=True, kw_only=True):
    handle: bytes


class Echo(Operator[Params, NoInputs, Outputs]):
    spec = OperatorSpec(id="acme.echo", category="acme", title="Echo")
    params_type = Params
    outputs_type = Outputs

    async def run(self, ctx: Any, params: Params, inputs: NoInputs) -> Outputs:
        return Outputs(text=str(params.n))


class EchoV2(Echo):
    spec = OperatorSpec(id="acme.echo", version=2, category="acme", title="Echo v2")


class EchoAgain(Echo):
    """Same (id, version) as ``Echo``."""


class WrongCategory(Echo):
    spec = OperatorSpec(id="acme.wrong", category="other", title="Wrong")


class NoRun(Operator[Params, NoInputs, Outputs]):
    spec = OperatorSpec(id="acme.no_run", category="acme", title="No run")
    params_type = Params
    outputs_type = Outputs


class BadPort(Echo):
    spec = OperatorSpec(id="acme.bad_port", category="acme", title="Bad port")
    outputs_type = BadOutputs


class Loose(Echo):
    spec = OperatorSpec(id="acme.loose", category="acme", title="Loose")
    params_type = LooseParams


class HalfDynamic(Echo):
    spec = OperatorSpec(id="acme.half_dynamic", category="acme", title="Half dynamic")
    dynamic_outputs = True

    @classmethod
    def output_ports(cls, params: Any) -> tuple[PortSpec, ...]:
        return ()


class Undeclared(Echo):
    spec = OperatorSpec(id="acme.undeclared", category="acme", title="Undeclared")

    @classmethod
    def input_ports(cls, params: Any) -> tuple[PortSpec, ...]:
        return ()


class NotAnOperator:
    spec = OperatorSpec(id="acme.fake", category="acme", title="Fake")


OPERATORS = (Echo, EchoV2)
