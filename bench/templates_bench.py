"""Cost of validating a template import, and of converting a DB-GPT flow.

Prints medians for: loading + validating each core built-in package from its archive (sha256, unpack, manifest,
variables, compile) against a baseline that only compiles the same (already substituted) flow, so the ratio is the
overhead of the package machinery; and converting the 9-node DB-GPT chat-data fixture.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rivulet.compiler import compile_flow
from rivulet.registry import default_registry
from rivulet.templates.dbgpt import convert_dbgpt_flow
from rivulet.templates.importer import prepare_flows
from rivulet.templates.package import load_package, package_archive, read_package_bytes, sha256_hex
from rivulet.templates.sources import BUILTIN_TEMPLATES

if TYPE_CHECKING:
    from collections.abc import Callable

    from rivulet.registry.registry import OperatorRegistry

VARIABLES: dict[str, dict[str, Any]] = {"http-fetch-extract": {"api_url": "https://example.com/x"}}
DBGPT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "dbgpt" / "chat_data_flow.json"


def median_ms(fn: Callable[[], object], runs: int = 50) -> float:
    times: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def bench_package(name: str, registry: OperatorRegistry) -> None:
    archive = package_archive(load_package(BUILTIN_TEMPLATES / name))
    digest = sha256_hex(archive)
    variables = VARIABLES.get(name, {})
    (flow,) = prepare_flows(read_package_bytes(archive), registry, variables).values()
    full = median_ms(lambda: prepare_flows(read_package_bytes(archive, expected_sha256=digest), registry, variables))
    base = median_ms(lambda: compile_flow(flow, registry))
    print(f"{name:<20} import validation {full:7.2f} ms   compile only {base:6.2f} ms   ratio {full / base:5.1f}x")


def main() -> None:
    registry = default_registry()
    for name in ("json-reshape", "ticket-router", "http-fetch-extract"):
        bench_package(name, registry)
    raw = DBGPT.read_bytes()
    print(f"dbgpt chat-data (9 nodes) convert {median_ms(lambda: convert_dbgpt_flow(raw, registry)):.2f} ms")


if __name__ == "__main__":
    main()
