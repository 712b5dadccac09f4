"""The operator contract.

An operator module (``rivulet_operators/<category>/<verb_noun>.py``) defines ``Params``, ``Inputs`` and
``Outputs`` Structs and one ``Operator`` subclass::

    class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
        template: Annotated[str, Meta(description="Jinja2 template", extra_json_schema=ui_hint("prompt"))]

    class Inputs(msgspec.Struct, frozen=True, kw_only=True):
        value: Json

    class Outputs(msgspec.Struct, frozen=True, kw_only=True):
        text: Text

    class RenderTemplate(Operator[Params, Inputs, Outputs]):
        spec = OperatorSpec(id="core.template", category="core", title="Template")
        params_type, inputs_type, outputs_type = Params, Inputs, Outputs

        async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> Outputs: ...

Ports come from the ``Inputs``/``Outputs`` fields (a field with a default is an optional input). A port's
description comes from ``Annotated[T, Meta(description=...)]``. An output left ``msgspec.UNSET`` is not
produced, and nodes that need it are skipped (how branches work). A ``Stream[T]`` output holds an async iterator
that the runtime consumes and fans out. A ``TypeVar`` annotation makes a generic port (``T → T``).

Dynamic ports (the convention): an operator whose ports depend on its params (templates with variables,
branches, joins with N inputs, a constant of a chosen type) sets ``dynamic_inputs``/``dynamic_outputs`` to
``True`` and overrides the matching classmethods, consistently:

- ``input_ports(params)`` / ``output_ports(params)`` return the ports for validated ``params``; the compiler
  and the editor (``POST /api/operators/{id}/ports``) call them, so they must be pure and cheap.
- ``build_inputs(values)`` receives ``{port name: value}`` for the dynamic inputs that have a value (an
  unconnected optional input is absent) and returns the ``Inputs`` instance ``run`` gets, typically a Struct
  holding the mapping (``Inputs(values=dict(values))``).
- ``output_values(outputs)`` turns what ``run`` returned into ``{port name: value}``; a port missing from the
  mapping is not produced (downstream is skipped).

The runtime only ever goes through these four methods, so static and dynamic operators look the same to it.

Deferred outputs: a value only known once the node's streams have ended (the whole message after its tokens)
is returned from ``output_values`` as ``Deferred(awaitable)``. The runtime delivers it after every stream of
the node is drained; when the awaitable raises, the node fails.

Input rules (``rivulet.sdk.rules``): "one of these inputs", "this input or that param", "not both" are declared
in ``OperatorSpec.input_rules`` and checked by the compiler, so a flow that could only fail at run time for a
missing input does not compile. An operator with dynamic inputs may derive them in ``input_rules(params)``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic, TypeVar

import msgspec
from msgspec import Meta

from rivulet.sdk.ports import PortType, port_type_of
from rivulet.sdk.rules import InputRule

if TYPE_CHECKING:
    from collections.abc import Awaitable, Mapping

    from rivulet.sdk.context import RunContext

__all__ = ("Deferred", "NoInputs", "NoOutputs", "NoParams", "Operator", "OperatorSpec", "PortSpec")


class OperatorSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Identity, palette metadata and runtime hints of an operator."""

    id: Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")]
    """``<category>.<verb_noun>``; the module name is the tail."""
    version: Annotated[int, Meta(ge=1)] = 1
    category: str
    title: str
    description: str = ""
    icon: str = "box"
    """An icon name from the editor's icon set."""
    tags: tuple[str, ...] = ()
    cacheable: bool = True
    """False for operators with side effects or non-determinism (HTTP calls, clocks, LLM sampling)."""
    cpu_bound: bool = False
    """Run ``run`` in a worker thread instead of on the event loop."""
    concurrency: Annotated[int, Meta(ge=1)] | None = None
    """At most this many nodes of this operator run at once in a process."""
    timeout_s: Annotated[float, Meta(gt=0)] | None = None
    """Default per-attempt timeout (a node's policy overrides it)."""
    input_rules: tuple[InputRule, ...] = ()
    """Rules over groups of optional inputs (one of several, input or param, exclusive); see ``rivulet.sdk.rules``."""


class Deferred:
    """An output value that becomes available after the node's ``Stream`` outputs end."""

    __slots__ = ("awaitable",)

    def __init__(self, awaitable: Awaitable[Any]) -> None:
        self.awaitable = awaitable

    async def resolve(self) -> Any:
        return await self.awaitable


class PortSpec(msgspec.Struct, frozen=True, kw_only=True):
    """One input or output port."""

    name: str
    type: PortType
    required: bool = True
    description: str = ""


class NoParams(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Params of an operator without parameters."""


class NoInputs(msgspec.Struct, frozen=True, kw_only=True):
    """Inputs of a source operator."""


class NoOutputs(msgspec.Struct, frozen=True, kw_only=True):
    """Outputs of a sink operator."""


P = TypeVar("P", bound=msgspec.Struct)
I = TypeVar("I", bound=msgspec.Struct)  # noqa: E741 - conventional name next to P and O
O = TypeVar("O", bound=msgspec.Struct)  # noqa: E741


@functools.cache
def _ports(struct: type[msgspec.Struct]) -> tuple[PortSpec, ...]:
    """Ports of a Struct's fields (cached: Structs are immutable class definitions)."""
    info = msgspec.inspect.type_info(struct)
    if not isinstance(info, msgspec.inspect.StructType):
        raise TypeError(f"{struct!r} is not a Struct")
    hints = _hints(struct)
    ports: list[PortSpec] = []
    for field in info.fields:
        annotation = hints[field.name]
        ports.append(
            PortSpec(
                name=field.encode_name,
                type=port_type_of(annotation),
                required=field.required,
                description=_description(annotation),
            )
        )
    return tuple(ports)


def _description(annotation: Any) -> str:
    metadata: tuple[Any, ...] = getattr(annotation, "__metadata__", ())
    for meta in reversed(metadata):
        if isinstance(meta, Meta) and meta.description:
            return meta.description
    return ""


def _hints(struct: type[msgspec.Struct]) -> dict[str, Any]:
    import typing

    return typing.get_type_hints(struct, include_extras=True)


class Operator(Generic[P, I, O]):
    """Base class of every operator. Subclasses set ``spec`` and the three Struct types and implement ``run``."""

    spec: ClassVar[OperatorSpec]
    params_type: ClassVar[type[msgspec.Struct]] = NoParams
    inputs_type: ClassVar[type[msgspec.Struct]] = NoInputs
    outputs_type: ClassVar[type[msgspec.Struct]] = NoOutputs
    dynamic_inputs: ClassVar[bool] = False
    """The input ports depend on the params (``input_ports``/``build_inputs`` are overridden)."""
    dynamic_outputs: ClassVar[bool] = False
    """The output ports depend on the params (``output_ports``/``output_values`` are overridden)."""

    @classmethod
    def input_ports(cls, params: Any) -> tuple[PortSpec, ...]:
        """Input ports for these params (default: the ``Inputs`` fields)."""
        return _ports(cls.inputs_type)

    @classmethod
    def output_ports(cls, params: Any) -> tuple[PortSpec, ...]:
        """Output ports for these params (default: the ``Outputs`` fields)."""
        return _ports(cls.outputs_type)

    @classmethod
    def input_rules(cls, params: Any) -> tuple[InputRule, ...]:
        """Input rules for these params (default: ``spec.input_rules``; dynamic inputs may derive them)."""
        return cls.spec.input_rules

    @classmethod
    def build_inputs(cls, values: Mapping[str, Any]) -> Any:
        """Build the ``Inputs`` value from port values (already type-checked by the compiler)."""
        return cls.inputs_type(**values)

    @classmethod
    def output_values(cls, outputs: Any) -> dict[str, Any]:
        """Port values produced by ``run``; ``UNSET`` fields are left out (not produced)."""
        return {
            name: value for name in outputs.__struct_fields__ if (value := getattr(outputs, name)) is not msgspec.UNSET
        }

    async def run(self, ctx: RunContext, params: P, inputs: I) -> O:
        """Execute one node. Raise ``OperatorError`` (or any exception) to fail the attempt."""
        raise NotImplementedError
