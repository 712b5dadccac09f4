"""A fake ``RunContext`` and a helper that drives an operator the way the runtime does."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pytest

from rivulet.lib.exceptions import MissingDependencyError, NotFoundError


@dataclass
class FakeContext:
    """Implements the ``RunContext`` protocol with plain attributes and records progress."""

    run_id: str = "run-1"
    node_id: str = "node-1"
    variables: dict[str, Any] = field(default_factory=dict[str, Any])
    run_inputs: dict[str, Any] = field(default_factory=dict[str, Any])
    secrets: dict[str, str] = field(default_factory=dict[str, str])
    services: dict[type, Any] = field(default_factory=dict[type, Any])
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    progress_calls: list[tuple[float, float | None]] = field(default_factory=list[tuple[float, float | None]])
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("tests.operators"))
    volatile: bool = False
    """``nondeterministic()`` was called."""

    async def progress(self, value: float, maximum: float | None = None) -> None:
        self.progress_calls.append((value, maximum))

    async def secret(self, name: str) -> str:
        if name not in self.secrets:
            raise NotFoundError(f"secret {name!r} not found")
        return self.secrets[name]

    def service(self, kind: type[Any]) -> Any:
        if kind not in self.services:
            raise MissingDependencyError(kind.__name__, extra="test")
        return self.services[kind]

    def nondeterministic(self) -> None:
        self.volatile = True


@pytest.fixture
def ctx() -> FakeContext:
    return FakeContext()


def params_of(operator: Any, raw: dict[str, Any]) -> Any:
    """Validate params as the compiler does (msgspec.convert into ``params_type``)."""
    return msgspec.convert(raw, operator.params_type)


async def run_operator(
    operator: Any, params: dict[str, Any], inputs: dict[str, Any] | None = None, ctx: FakeContext | None = None
) -> dict[str, Any]:
    """Validate params, build inputs, run, and return the produced port values (the runtime's contract)."""
    validated = params_of(operator, params)
    built = operator.build_inputs(inputs or {})
    outputs = await operator().run(ctx or FakeContext(), validated, built)
    return operator.output_values(outputs)
