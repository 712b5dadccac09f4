"""Fake operators and a direct ``CompiledGraph`` builder for runtime tests (no compiler needed)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator  # noqa: TC003 - resolved at runtime by get_type_hints in gen()
from typing import Any, ClassVar

import msgspec

from rivulet.compiler.flow import NodePolicy
from rivulet.compiler.graph import CompiledEdge, CompiledGraph, CompiledNode
from rivulet.lib.exceptions import NotFoundError, OperatorError
from rivulet.sdk import NoInputs, NoParams, Operator, OperatorSpec, PortSpec, RunContext
from rivulet.sdk.ports import Int, Json, Stream, Text


def spec(op_id: str, **kw: Any) -> OperatorSpec:
    return OperatorSpec(id=op_id, category="test", title=op_id, **kw)


class ValueParams(msgspec.Struct, frozen=True, kw_only=True):
    value: Any = None
    name: str = ""


class ValueOut(msgspec.Struct, frozen=True, kw_only=True):
    value: Json


class ValueIn(msgspec.Struct, frozen=True, kw_only=True):
    value: Json


class Source(Operator[ValueParams, NoInputs, ValueOut]):
    spec = spec("test.source")
    params_type, outputs_type = ValueParams, ValueOut

    async def run(self, ctx: RunContext, params: ValueParams, inputs: NoInputs) -> ValueOut:
        return ValueOut(value=params.value)


class IntIn(msgspec.Struct, frozen=True, kw_only=True):
    value: Int


class IntOut(msgspec.Struct, frozen=True, kw_only=True):
    value: Int


class AddOne(Operator[NoParams, IntIn, IntOut]):
    spec = spec("test.add_one")
    inputs_type, outputs_type = IntIn, IntOut

    async def run(self, ctx: RunContext, params: NoParams, inputs: IntIn) -> IntOut:
        return IntOut(value=inputs.value + 1)


class Echo(Operator[NoParams, ValueIn, ValueOut]):
    spec = spec("test.echo")
    inputs_type, outputs_type = ValueIn, ValueOut

    async def run(self, ctx: RunContext, params: NoParams, inputs: ValueIn) -> ValueOut:
        return ValueOut(value=inputs.value)


class Output(Operator[ValueParams, ValueIn, msgspec.Struct]):
    """A sink like ``core.output``: the run output is what it receives."""

    spec = spec("test.output")
    params_type, inputs_type = ValueParams, ValueIn

    async def run(self, ctx: RunContext, params: ValueParams, inputs: ValueIn) -> msgspec.Struct:
        return self.outputs_type()


class SleepParams(msgspec.Struct, frozen=True, kw_only=True):
    seconds: float = 0.05


class Sleep(Operator[SleepParams, ValueIn, ValueOut]):
    spec = spec("test.sleep")
    params_type, inputs_type, outputs_type = SleepParams, ValueIn, ValueOut
    log: ClassVar[list[tuple[str, str, float]]] = []

    async def run(self, ctx: RunContext, params: SleepParams, inputs: ValueIn) -> ValueOut:
        Sleep.log.append((ctx.node_id, "start", time.perf_counter()))
        try:
            await asyncio.sleep(params.seconds)
        except asyncio.CancelledError:
            Sleep.log.append((ctx.node_id, "cancelled", time.perf_counter()))
            raise
        Sleep.log.append((ctx.node_id, "end", time.perf_counter()))
        return ValueOut(value=inputs.value)


class SleepSource(Operator[SleepParams, NoInputs, ValueOut]):
    spec = spec("test.sleep_source")
    params_type, outputs_type = SleepParams, ValueOut

    async def run(self, ctx: RunContext, params: SleepParams, inputs: NoInputs) -> ValueOut:
        await asyncio.sleep(params.seconds)
        return ValueOut(value=params.seconds)


class BranchParams(msgspec.Struct, frozen=True, kw_only=True):
    take: str = "a"


class BranchOut(msgspec.Struct, frozen=True, kw_only=True):
    a: Json = msgspec.UNSET
    b: Json = msgspec.UNSET


class Branch(Operator[BranchParams, ValueIn, BranchOut]):
    spec = spec("test.branch")
    params_type, inputs_type, outputs_type = BranchParams, ValueIn, BranchOut

    async def run(self, ctx: RunContext, params: BranchParams, inputs: ValueIn) -> BranchOut:
        return BranchOut(a=inputs.value) if params.take == "a" else BranchOut(b=inputs.value)


class JoinIn(msgspec.Struct, frozen=True, kw_only=True):
    a: Json | None = None
    b: Json | None = None


class Join(Operator[NoParams, JoinIn, ValueOut]):
    spec = spec("test.join")
    inputs_type, outputs_type = JoinIn, ValueOut

    async def run(self, ctx: RunContext, params: NoParams, inputs: JoinIn) -> ValueOut:
        return ValueOut(value=inputs.a if inputs.a is not None else inputs.b)


class TokensParams(msgspec.Struct, frozen=True, kw_only=True):
    tokens: list[str] = msgspec.field(default_factory=lambda: ["a", "b", "c"])
    delay: float = 0.0
    fail_after: int | None = None


class TokensOut(msgspec.Struct, frozen=True, kw_only=True):
    tokens: Stream[Text]


class Tokens(Operator[TokensParams, NoInputs, TokensOut]):
    spec = spec("test.tokens")
    params_type, outputs_type = TokensParams, TokensOut
    finished_at: ClassVar[float] = 0.0

    async def run(self, ctx: RunContext, params: TokensParams, inputs: NoInputs) -> TokensOut:
        async def gen() -> AsyncIterator[str]:
            for index, token in enumerate(params.tokens):
                if params.fail_after is not None and index == params.fail_after:
                    raise OperatorError("the model hung up", operator_id="test.tokens", node_id=ctx.node_id)
                await asyncio.sleep(params.delay)
                yield token
            Tokens.finished_at = time.perf_counter()

        return TokensOut(tokens=gen())


class StreamIn(msgspec.Struct, frozen=True, kw_only=True):
    tokens: Stream[Text]


class TextOut(msgspec.Struct, frozen=True, kw_only=True):
    text: Text


class ReadStream(Operator[NoParams, StreamIn, TextOut]):
    spec = spec("test.read_stream")
    inputs_type, outputs_type = StreamIn, TextOut
    first_item_at: ClassVar[dict[str, float]] = {}

    async def run(self, ctx: RunContext, params: NoParams, inputs: StreamIn) -> TextOut:
        parts: list[str] = []
        async for token in inputs.tokens:
            ReadStream.first_item_at.setdefault(ctx.node_id, time.perf_counter())
            parts.append(token)
        return TextOut(text="|".join(parts))


class TextIn(msgspec.Struct, frozen=True, kw_only=True):
    text: Text


class Upper(Operator[NoParams, TextIn, TextOut]):
    spec = spec("test.upper")
    inputs_type, outputs_type = TextIn, TextOut

    async def run(self, ctx: RunContext, params: NoParams, inputs: TextIn) -> TextOut:
        return TextOut(text=inputs.text.upper())


class ItemsIn(msgspec.Struct, frozen=True, kw_only=True):
    items: list[Json]


class Count(Operator[NoParams, ItemsIn, IntOut]):
    spec = spec("test.count")
    inputs_type, outputs_type = ItemsIn, IntOut

    async def run(self, ctx: RunContext, params: NoParams, inputs: ItemsIn) -> IntOut:
        return IntOut(value=len(inputs.items))


class FlakyParams(msgspec.Struct, frozen=True, kw_only=True):
    failures: int = 1
    key: str = "default"


class Flaky(Operator[FlakyParams, NoInputs, ValueOut]):
    spec = spec("test.flaky", cacheable=False)
    params_type, outputs_type = FlakyParams, ValueOut
    calls: ClassVar[dict[str, list[float]]] = {}

    async def run(self, ctx: RunContext, params: FlakyParams, inputs: NoInputs) -> ValueOut:
        calls = Flaky.calls.setdefault(params.key, [])
        calls.append(time.perf_counter())
        if len(calls) <= params.failures:
            raise OperatorError(f"attempt {len(calls)} failed", operator_id="test.flaky", node_id=ctx.node_id)
        return ValueOut(value=len(calls))


class Boom(Operator[NoParams, NoInputs, ValueOut]):
    spec = spec("test.boom")
    outputs_type = ValueOut

    async def run(self, ctx: RunContext, params: NoParams, inputs: NoInputs) -> ValueOut:
        raise ValueError("kaboom")


class ErrorIn(msgspec.Struct, frozen=True, kw_only=True):
    error: Json


class Handler(Operator[NoParams, ErrorIn, ValueOut]):
    spec = spec("test.handler")
    inputs_type, outputs_type = ErrorIn, ValueOut

    async def run(self, ctx: RunContext, params: NoParams, inputs: ErrorIn) -> ValueOut:
        return ValueOut(value=f"handled {inputs.error.code}")


class Limited(Operator[SleepParams, NoInputs, ValueOut]):
    spec = spec("test.limited", concurrency=2)
    params_type, outputs_type = SleepParams, ValueOut
    active: ClassVar[int] = 0
    peak: ClassVar[int] = 0

    async def run(self, ctx: RunContext, params: SleepParams, inputs: NoInputs) -> ValueOut:
        Limited.active += 1
        Limited.peak = max(Limited.peak, Limited.active)
        await asyncio.sleep(params.seconds)
        Limited.active -= 1
        return ValueOut(value=None)


class CpuParams(msgspec.Struct, frozen=True, kw_only=True):
    n: int = 10_000


class CpuBound(Operator[CpuParams, NoInputs, ValueOut]):
    spec = spec("test.cpu_bound", cpu_bound=True)
    params_type, outputs_type = CpuParams, ValueOut

    async def run(self, ctx: RunContext, params: CpuParams, inputs: NoInputs) -> ValueOut:
        import threading

        await ctx.progress(0.5, 1.0)
        return ValueOut(value=[sum(range(params.n)), threading.current_thread() is threading.main_thread()])


class Counted(Operator[ValueParams, ValueIn, ValueOut]):
    spec = spec("test.counted")
    params_type, inputs_type, outputs_type = ValueParams, ValueIn, ValueOut
    calls: ClassVar[list[str]] = []

    async def run(self, ctx: RunContext, params: ValueParams, inputs: ValueIn) -> ValueOut:
        Counted.calls.append(ctx.node_id)
        return ValueOut(value=[inputs.value, params.value])


class ReadInput(Operator[ValueParams, NoInputs, ValueOut]):
    spec = spec("test.read_input")
    params_type, outputs_type = ValueParams, ValueOut

    async def run(self, ctx: RunContext, params: ValueParams, inputs: NoInputs) -> ValueOut:
        await ctx.progress(1, 2)
        return ValueOut(value=ctx.run_inputs.get(params.name))


class NameParams(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: str = "v"


class JsonOut(msgspec.Struct, frozen=True, kw_only=True):
    value: Json


class ReadVariable(Operator[NameParams, NoInputs, JsonOut]):
    """A flow variable by name (``None`` when it has no value)."""

    spec = spec("test.read_variable")
    params_type, outputs_type = NameParams, JsonOut

    async def run(self, ctx: RunContext, params: NameParams, inputs: NoInputs) -> JsonOut:
        return JsonOut(value=ctx.variables.get(params.name))


class AllInputs(Operator[NameParams, NoInputs, JsonOut]):
    """Every run input, in order (reads the whole mapping)."""

    spec = spec("test.all_inputs")
    params_type, outputs_type = NameParams, JsonOut

    async def run(self, ctx: RunContext, params: NameParams, inputs: NoInputs) -> JsonOut:
        return JsonOut(value=[[name, value] for name, value in ctx.run_inputs.items()])


class ReadSecret(Operator[NameParams, NoInputs, JsonOut]):
    """Whether a secret exists and how it starts (a stand-in for a node that uses a credential)."""

    spec = spec("test.read_secret")
    params_type, outputs_type = NameParams, JsonOut

    async def run(self, ctx: RunContext, params: NameParams, inputs: NoInputs) -> JsonOut:
        try:
            return JsonOut(value=(await ctx.secret(params.name))[:2])
        except NotFoundError:
            return JsonOut(value=None)


class ReadRunId(Operator[NoParams, NoInputs, JsonOut]):
    """Depends on the run itself (never cacheable, whatever it declares)."""

    spec = spec("test.read_run_id")
    outputs_type = JsonOut

    async def run(self, ctx: RunContext, params: NoParams, inputs: NoInputs) -> JsonOut:
        return JsonOut(value=ctx.run_id)


class Clock(msgspec.Struct, frozen=True, kw_only=True):
    """A service: something outside the run (like a model registry)."""

    now: int


class ReadService(Operator[NoParams, NoInputs, JsonOut]):
    spec = spec("test.read_service")
    outputs_type = JsonOut

    async def run(self, ctx: RunContext, params: NoParams, inputs: NoInputs) -> JsonOut:
        return JsonOut(value=ctx.service(Clock).now)


NodeSpec = tuple[str, type[Operator[Any, Any, Any]]] | tuple[str, type[Operator[Any, Any, Any]], dict[str, Any]]


_PORTS: dict[type[Any], tuple[tuple[PortSpec, ...], tuple[PortSpec, ...]]] = {}


def _ports(op: type[Operator[Any, Any, Any]], params: Any) -> tuple[tuple[PortSpec, ...], tuple[PortSpec, ...]]:
    """The fakes' ports do not depend on params: compute once per class (type hints are slow)."""
    if op not in _PORTS:
        _PORTS[op] = (op.input_ports(params), op.output_ports(params))
    return _PORTS[op]


def build_graph(
    nodes: list[NodeSpec],
    edges: list[str],
    *,
    policies: dict[str, NodePolicy] | None = None,
    output_nodes: tuple[str, ...] = (),
    disabled: frozenset[str] = frozenset(),
) -> CompiledGraph:
    """``edges`` as ``"src.port -> dst.port"``; ports typed from the operators; order = Kahn's algorithm."""
    policies = policies or {}
    parsed: dict[str, CompiledEdge] = {}
    ops: dict[str, tuple[type[Operator[Any, Any, Any]], Any]] = {}
    for entry in nodes:
        node_id, op = entry[0], entry[1]
        params = msgspec.convert(entry[2] if len(entry) == 3 else {}, op.params_type)  # type: ignore[misc]
        ops[node_id] = (op, params)
    for index, text in enumerate(edges):
        left, right = (part.strip() for part in text.split("->"))
        source, source_port = left.split(".")
        target, target_port = right.split(".")
        op, params = ops[source]
        port = next(p for p in _ports(op, params)[1] if p.name == source_port) if source_port != "error" else None
        target_op, target_params = ops[target]
        target_type = next(p.type for p in _ports(target_op, target_params)[0] if p.name == target_port)
        ptype = port.type if port is not None else target_type
        coercion = "collect" if ptype.name == "Stream" and target_type.name != "Stream" else None
        parsed[f"e{index}"] = CompiledEdge(
            id=f"e{index}", source=source, source_port=source_port, target=target, target_port=target_port,
            type=ptype, coercion=coercion,
        )  # fmt: skip
    incoming: dict[str, list[str]] = {node_id: [] for node_id in ops}
    outgoing: dict[str, list[str]] = {node_id: [] for node_id in ops}
    for edge in parsed.values():
        incoming[edge.target].append(edge.id)
        outgoing[edge.source].append(edge.id)
    compiled: dict[str, CompiledNode] = {}
    for node_id, (op, params) in ops.items():
        compiled[node_id] = CompiledNode(
            id=node_id, label=node_id, spec=op.spec, operator=op, params=params,
            inputs=_ports(op, params)[0], outputs=_ports(op, params)[1],
            policy=policies.get(node_id, NodePolicy()), disabled=node_id in disabled,
            incoming=tuple(incoming[node_id]), outgoing=tuple(outgoing[node_id]),
        )  # fmt: skip
    return CompiledGraph(
        flow_id="flow", flow_version=1, name="test", nodes=compiled, edges=parsed,
        order=topo_order(compiled, parsed), output_nodes=output_nodes,
    )  # fmt: skip


def topo_order(nodes: dict[str, CompiledNode], edges: dict[str, CompiledEdge]) -> tuple[str, ...]:
    indegree = {node_id: len(node.incoming) for node_id, node in nodes.items()}
    ready = [node_id for node_id, degree in indegree.items() if degree == 0]
    order: list[str] = []
    while ready:
        node_id = ready.pop(0)
        order.append(node_id)
        for edge_id in nodes[node_id].outgoing:
            target = edges[edge_id].target
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
    return tuple(order)


def chain(length: int, op: type[Operator[Any, Any, Any]] = AddOne) -> CompiledGraph:
    """``src(0) -> op -> op -> ...`` with ``length`` nodes in all."""
    nodes: list[NodeSpec] = [("n0", Source, {"value": 0})]
    nodes += [(f"n{i}", op) for i in range(1, length)]
    edges = [f"n{i - 1}.value -> n{i}.value" for i in range(1, length)]
    return build_graph(nodes, edges)


class WhichTask(Operator[NoParams, ValueIn, ValueOut]):
    """Records the task it runs in (``log``: node id → task), passes its input on."""

    spec = spec("test.which_task")
    inputs_type, outputs_type = ValueIn, ValueOut
    log: ClassVar[dict[str, asyncio.Task[Any] | None]] = {}

    async def run(self, ctx: RunContext, params: NoParams, inputs: ValueIn) -> ValueOut:
        WhichTask.log[ctx.node_id] = asyncio.current_task()
        return ValueOut(value=inputs.value)
