"""Runtime benchmarks: the executor against a plain-asyncio baseline (one task per node) in the same process.

W1 chain of 100 trivial nodes (µs/node), W2 fan-out 1→200→1 (µs/node), W3 2,000 concurrent runs of a 5-node
chain (runs/s), W4 50 parallel nodes each awaiting 50 ms (wall s). Each workload runs with events published to
the in-memory bus and to the Postgres LISTEN/NOTIFY bus (embedded PostgreSQL started here); the runtime's times
include flushing every event to the store. Targets: W1 ≤ 4x baseline, W3 ≥ 20% of baseline runs/s, W4 ≤ 0.06 s.

Usage: ``.venv/bin/python bench/runtime_bench.py [--repeat 5] [--no-postgres]``
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec

from rivulet.compiler.flow import NodePolicy
from rivulet.compiler.graph import CompiledEdge, CompiledGraph, CompiledNode
from rivulet.records.runs import RunRecord
from rivulet.runtime.executor import Executor
from rivulet.runtime.memory import MemoryEventBus
from rivulet.sdk import NoInputs, NoParams, Operator, OperatorSpec, PortSpec, RunContext
from rivulet.sdk.ports import Int, PortType
from rivulet.storage.memory import MemoryRunStore

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from psycopg_pool import AsyncConnectionPool

    from rivulet.runtime.bus import EventBus
    from rivulet.storage.base import RunStore


class Value(msgspec.Struct, frozen=True):
    value: Int


class Source(Operator[NoParams, NoInputs, Value]):
    spec = OperatorSpec(id="bench.source", category="bench", title="source")
    outputs_type = Value

    async def run(self, ctx: RunContext, params: NoParams, inputs: NoInputs) -> Value:
        return Value(0)


class AddOne(Operator[NoParams, Value, Value]):
    spec = OperatorSpec(id="bench.add_one", category="bench", title="add one")
    inputs_type = outputs_type = Value

    async def run(self, ctx: RunContext, params: NoParams, inputs: Value) -> Value:
        return Value(inputs.value + 1)


class Wait(Operator[NoParams, NoInputs, Value]):
    spec = OperatorSpec(id="bench.wait", category="bench", title="wait 50 ms")
    outputs_type = Value

    async def run(self, ctx: RunContext, params: NoParams, inputs: NoInputs) -> Value:
        await asyncio.sleep(0.05)
        return Value(1)


class Sum(Operator[NoParams, Any, Value]):
    """A join with one input per upstream node (dynamic ports)."""

    spec = OperatorSpec(id="bench.sum", category="bench", title="sum")
    outputs_type = Value
    dynamic_inputs = True

    @classmethod
    def build_inputs(cls, values: Mapping[str, Any]) -> Any:
        return values

    async def run(self, ctx: RunContext, params: NoParams, inputs: Any) -> Value:
        return Value(sum(inputs.values()))


INT = PortType("Int")


def _graph(nodes: list[tuple[str, type[Operator[Any, Any, Any]]]], edges: list[tuple[str, str, str]]) -> CompiledGraph:
    """Nodes in topological order; edges ``(source, target, target_port)`` from the ``value`` port."""
    parsed = {
        f"e{i}": CompiledEdge(id=f"e{i}", source=s, source_port="value", target=t, target_port=p, type=INT)
        for i, (s, t, p) in enumerate(edges)
    }
    incoming: dict[str, list[str]] = {n: [] for n, _ in nodes}
    outgoing: dict[str, list[str]] = {n: [] for n, _ in nodes}
    for edge in parsed.values():
        incoming[edge.target].append(edge.id)
        outgoing[edge.source].append(edge.id)
    compiled = {
        n: CompiledNode(
            id=n, label=n, spec=op.spec, operator=op, params=NoParams(), policy=NodePolicy(),
            inputs=tuple(PortSpec(name=parsed[e].target_port, type=INT) for e in incoming[n]),
            outputs=(PortSpec(name="value", type=INT),), incoming=tuple(incoming[n]), outgoing=tuple(outgoing[n]),
        )
        for n, op in nodes
    }  # fmt: skip
    return CompiledGraph(
        flow_id="bench", flow_version=1, name="bench", nodes=compiled, edges=parsed, order=tuple(n for n, _ in nodes)
    )


def chain(length: int) -> CompiledGraph:
    nodes: list[tuple[str, type[Operator[Any, Any, Any]]]] = [("n0", Source)]
    nodes += [(f"n{i}", AddOne) for i in range(1, length)]
    return _graph(nodes, [(f"n{i - 1}", f"n{i}", "value") for i in range(1, length)])


def fan_out(width: int) -> CompiledGraph:
    nodes: list[tuple[str, type[Operator[Any, Any, Any]]]] = [("src", Source)]
    nodes += [(f"m{i}", AddOne) for i in range(width)] + [("sum", Sum)]
    edges = [("src", f"m{i}", "value") for i in range(width)] + [(f"m{i}", "sum", f"in{i}") for i in range(width)]
    return _graph(nodes, edges)


def parallel_waits(width: int) -> CompiledGraph:
    return _graph([(f"w{i}", Wait) for i in range(width)], [])


# -- plain-asyncio baselines: one task per node, the same work --------------------------------------------------


async def base_chain(length: int) -> int:
    loop = asyncio.get_running_loop()
    futures = [loop.create_future() for _ in range(length)]

    async def node(i: int) -> None:
        value = 0 if i == 0 else await futures[i - 1] + 1
        futures[i].set_result(value)

    tasks = [asyncio.create_task(node(i)) for i in range(length)]
    result: int = await futures[-1]
    await asyncio.gather(*tasks)
    return result


async def base_fan_out(width: int) -> int:
    source = asyncio.get_running_loop().create_future()

    async def mid() -> int:
        return await source + 1

    async def src() -> None:
        source.set_result(0)

    tasks = [asyncio.create_task(mid()) for _ in range(width)]
    await asyncio.create_task(src())
    return sum(await asyncio.gather(*tasks))


async def base_waits(width: int) -> None:
    async def wait() -> int:
        await asyncio.sleep(0.05)
        return 1

    await asyncio.gather(*(asyncio.create_task(wait()) for _ in range(width)))


# -- measuring ------------------------------------------------------------------------------------------------


async def best(repeat: int, work: Callable[[], Awaitable[Any]]) -> float:
    times: list[float] = []
    for _ in range(repeat):
        began = time.perf_counter()
        await work()
        times.append(time.perf_counter() - began)
    return min(times)


class Runtime:
    def __init__(self, bus: EventBus, store: RunStore) -> None:
        self.bus = bus
        self.store = store
        self.executor = Executor(bus)
        self.count = 0

    async def new_ids(self, n: int) -> list[str]:
        ids: list[str] = []
        for _ in range(n):
            self.count += 1
            run_id = f"bench-{self.count}"
            await self.store.create_run(
                RunRecord(id=run_id, flow_id="bench", flow_version=1, status="running", trigger="cli",
                          created_at=datetime.now(UTC))
            )  # fmt: skip
            ids.append(run_id)
        return ids

    async def timed(self, graph: CompiledGraph, runs: int, repeat: int) -> tuple[float, float]:
        """Best (executed, executed + every event persisted) seconds over ``repeat`` rounds."""
        executed: list[float] = []
        persisted: list[float] = []
        for _ in range(repeat):
            ids = await self.new_ids(runs)
            await self.bus.flush()
            began = time.perf_counter()
            results = await asyncio.gather(*(self.executor.run(graph, run_id=run_id) for run_id in ids))
            executed.append(time.perf_counter() - began)
            await self.bus.flush()
            persisted.append(time.perf_counter() - began)
            assert all(r.status == "succeeded" for r in results), results[0]
        return min(executed), min(persisted)


Row = tuple[float, float, float, str]
"""runtime (executed), runtime (+ events persisted), baseline, unit."""


async def workloads(runtime: Runtime, repeat: int) -> dict[str, Row]:
    w1, w2, w3, w4 = chain(100), fan_out(200), chain(5), parallel_waits(50)
    await runtime.timed(w1, 1, 2)  # warm-up
    out: dict[str, Row] = {}
    run1, base1 = await runtime.timed(w1, 1, repeat), await best(repeat, lambda: base_chain(100))
    out["W1 chain 100"] = (run1[0] / 100 * 1e6, run1[1] / 100 * 1e6, base1 / 100 * 1e6, "µs/node")
    run2, base2 = await runtime.timed(w2, 1, repeat), await best(repeat, lambda: base_fan_out(200))
    out["W2 fan-out 1→200→1"] = (run2[0] / 202 * 1e6, run2[1] / 202 * 1e6, base2 / 202 * 1e6, "µs/node")
    rounds = max(1, repeat // 2)
    run3 = await runtime.timed(w3, 2000, rounds)
    base3 = await best(rounds, lambda: asyncio.gather(*(base_chain(5) for _ in range(2000))))
    out["W3 2000 runs x 5 nodes"] = (2000 / run3[0], 2000 / run3[1], 2000 / base3, "runs/s")
    run4, base4 = await runtime.timed(w4, 1, repeat), await best(repeat, lambda: base_waits(50))
    out["W4 50 x 50 ms parallel"] = (run4[0], run4[1], base4, "s wall")
    return out


def report(title: str, results: dict[str, Row]) -> None:
    print(f"\n== {title}")
    head = f"{'workload':<25}{'runtime':>10}{'+persist':>10}{'baseline':>10}"
    print(f"{head}  {'unit':<8}{'ratio':>7}{'+persist':>9}  target")
    targets = {"W1": "≤ 4.0x", "W3": "≥ 0.20x", "W4": "≤ 0.06 s"}
    for name, (value, stored, base, unit) in results.items():
        row = f"{name:<25}{value:>10.2f}{stored:>10.2f}{base:>10.2f}"
        print(f"{row}  {unit:<8}{value / base:>6.2f}x{stored / base:>8.2f}x  {targets.get(name[:2], '')}")


async def run_memory(repeat: int) -> None:
    store = MemoryRunStore()
    bus = MemoryEventBus(store)
    report("in-memory bus", await workloads(Runtime(bus, store), repeat))
    await bus.close()


async def commit_floor(pool: AsyncConnectionPool, repeat: int) -> tuple[float, float]:
    """Best and median seconds of the cheapest durable write (a committed one-row INSERT: one WAL fsync).

    Every flush pays it once, whatever its size; on a shared disk it dominates W1 with persistence.
    """
    async with pool.connection() as conn:
        await conn.execute("CREATE TABLE IF NOT EXISTS bench_floor (x int)")
        times: list[float] = []
        for _ in range(repeat):
            began = time.perf_counter()
            await conn.execute("INSERT INTO bench_floor VALUES (1)")
            times.append(time.perf_counter() - began)
    times.sort()
    return times[0], times[len(times) // 2]


async def run_postgres(repeat: int, home: str) -> None:
    from rivulet.runtime.postgres import PostgresEventBus
    from rivulet.storage.embedded import EmbeddedPostgres
    from rivulet.storage.postgres.migrate import apply_migrations
    from rivulet.storage.postgres.pool import open_pool
    from rivulet.storage.postgres.runs import PostgresRunStore

    server = EmbeddedPostgres(home)
    url = await asyncio.to_thread(server.start)
    pool = await open_pool(url, min_size=2, max_size=8)
    try:
        await apply_migrations(pool)
        store = PostgresRunStore(pool)
        bus = PostgresEventBus(store, pool)
        await bus.start()
        report("Postgres LISTEN/NOTIFY bus (embedded PostgreSQL)", await workloads(Runtime(bus, store), repeat))
        floor, typical = await commit_floor(pool, 50)
        floor_ms, typical_ms = floor * 1e3, typical * 1e3
        print(f"durability floor: one synchronous commit (fsync) {floor_ms:.2f} ms best, {typical_ms:.2f} ms median")
        await bus.close()
    finally:
        await pool.close()
        await asyncio.to_thread(server.stop)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (the best is reported)")
    parser.add_argument("--no-postgres", action="store_true", help="skip the Postgres bus")
    args = parser.parse_args()
    asyncio.run(run_memory(args.repeat))
    if not args.no_postgres:
        with tempfile.TemporaryDirectory(prefix="rivulet-bench-") as home:
            asyncio.run(run_postgres(args.repeat, home))
    print(f"\nbest of {args.repeat} per measurement")


if __name__ == "__main__":
    main()
