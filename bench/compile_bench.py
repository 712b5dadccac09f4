"""Compile time of large flows built from the real core operators.

Prints the median of several runs for: a 1,000-node / 2,000-edge layered DAG and a 10,000-node chain, and the
ratio against a baseline that only decodes the same document (msgspec) — compile work beyond parsing.
Target (issue 3): the 1,000/2,000 flow compiles in under 100 ms.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from rivulet.compiler import compile_flow
from rivulet.compiler.flow import decode_flow, encode_flow
from rivulet.registry import default_registry


def layered(nodes: int, edges: int) -> dict[str, Any]:
    """Merge nodes in layers of 10; each node takes in_1/in_2 from the previous layer (2 edges per node)."""
    width = 10
    ns: list[dict[str, Any]] = []
    es: list[dict[str, Any]] = []
    for i in range(nodes):
        if i < width:
            ns.append({"id": f"n{i}", "operator": "core.constant", "params": {"value": {"k": i}}})
            continue
        ns.append({"id": f"n{i}", "operator": "core.merge"})
        layer_start = (i // width - 1) * width
        for port, offset in (("in_1", 0), ("in_2", 1)):
            src = layer_start + (i + offset) % width
            es.append({"id": f"e{len(es)}", "source": f"n{src}", "source_port": "value",
                       "target": f"n{i}", "target_port": port})  # fmt: skip
    assert len(es) <= edges
    return {"name": "layered", "nodes": ns, "edges": es}


def chain(length: int) -> dict[str, Any]:
    ns = [{"id": "n0", "operator": "core.constant", "params": {"value": 1}}]
    ns += [{"id": f"n{i}", "operator": "core.delay", "params": {"seconds": 0}} for i in range(1, length)]
    es = [{"id": f"e{i}", "source": f"n{i - 1}", "source_port": "value", "target": f"n{i}", "target_port": "value"}
          for i in range(1, length)]  # fmt: skip
    return {"name": "chain", "nodes": ns, "edges": es}


def measure(raw: dict[str, Any], repeat: int) -> tuple[float, float]:
    registry = default_registry()
    doc = decode_flow(raw)
    payload = encode_flow(doc)
    compile_times: list[float] = []
    decode_times: list[float] = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        decoded = decode_flow(payload)
        t1 = time.perf_counter()
        compile_flow(decoded, registry)
        t2 = time.perf_counter()
        decode_times.append(t1 - t0)
        compile_times.append(t2 - t1)
    return statistics.median(compile_times), statistics.median(decode_times)


def main() -> None:
    default_registry()  # load operators outside the timings
    cases = [("layered 1,000 nodes / 1,980 edges", layered(1000, 2000), 15), ("chain 10,000 nodes", chain(10_000), 5)]
    for label, raw, repeat in cases:
        compile_s, decode_s = measure(raw, repeat)
        print(
            f"{label:36s} compile {compile_s * 1000:8.1f} ms   decode baseline {decode_s * 1000:7.1f} ms"
            f"   ratio {compile_s / decode_s:5.1f}x"
        )


if __name__ == "__main__":
    main()
