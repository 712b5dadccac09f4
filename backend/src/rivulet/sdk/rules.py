"""Input rules: what an operator needs from a *group* of optional inputs, checked by the compiler.

A required port is one input that must be connected. Some operators instead need one input out of several
(``llm.chat``: ``messages`` or ``prompt``), accept a value from an input or from a param (``core.http_request``:
the ``url`` input or the ``url`` param), or refuse two inputs together. They declare it in their spec::

    SPEC = OperatorSpec(id="llm.chat", ..., input_rules=(requires_one_of("messages", "prompt"),))
    SPEC = OperatorSpec(id="core.http_request", ..., input_rules=(requires_one_of("url", params=("url",)),))
    SPEC = OperatorSpec(id="sql.run_query", ..., input_rules=(mutually_exclusive("sql", params=("sql",)),))

A member of a group is *provided* when its input has an edge, or when its param holds a value
(``param_provided``: not ``None``, not a blank string, not an empty list/object; a bool only when true). The
compiler reports an unmet rule with a stable code (``required_input_group_missing``, ``conflicting_inputs``),
the node and a path; the operator catalog exports the rules so the editor can show them on the node. An operator
whose ports depend on its params returns its rules from ``Operator.input_rules(params)`` instead (``core.merge``:
one of ``in_1 .. in_n``).
"""

from __future__ import annotations

from collections.abc import Sized
from typing import Any, Literal

import msgspec

__all__ = (
    "InputRule",
    "InputRuleKind",
    "exactly_one_of",
    "mutually_exclusive",
    "param_provided",
    "requires_one_of",
)

InputRuleKind = Literal["at_least_one", "at_most_one", "exactly_one"]


class InputRule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A rule over a group of optional inputs (and params standing in for them)."""

    kind: InputRuleKind
    """``at_least_one`` (one of them is needed), ``at_most_one`` (they exclude each other), ``exactly_one``."""
    inputs: tuple[str, ...]
    """Optional input port names in the group."""
    params: tuple[str, ...] = ()
    """Params that provide the same value as an input (set to a value, they count as provided)."""
    hint: str = ""
    """Appended to the diagnostic, e.g. why the group matters."""

    def __post_init__(self) -> None:
        members = [*self.inputs, *(f"params.{p}" for p in self.params)]
        if not self.inputs:
            raise ValueError("an input rule names at least one input")
        if len(members) < 2:
            raise ValueError(f"an input rule needs two members or more, got {members}")
        if len(set(self.inputs)) != len(self.inputs) or len(set(self.params)) != len(self.params):
            raise ValueError(f"an input rule names a member twice: {members}")

    @property
    def members(self) -> tuple[str, ...]:
        """The inputs, then the params as ``params.<name>``."""
        return (*self.inputs, *(f"params.{p}" for p in self.params))


def requires_one_of(*inputs: str, params: tuple[str, ...] = (), hint: str = "") -> InputRule:
    """At least one of these inputs is connected (or one of ``params`` is set)."""
    return InputRule(kind="at_least_one", inputs=inputs, params=params, hint=hint)


def mutually_exclusive(*inputs: str, params: tuple[str, ...] = (), hint: str = "") -> InputRule:
    """At most one of these inputs is connected (or one of ``params`` is set)."""
    return InputRule(kind="at_most_one", inputs=inputs, params=params, hint=hint)


def exactly_one_of(*inputs: str, params: tuple[str, ...] = (), hint: str = "") -> InputRule:
    """Exactly one of these inputs is connected (or one of ``params`` is set)."""
    return InputRule(kind="exactly_one", inputs=inputs, params=params, hint=hint)


def param_provided(value: Any) -> bool:
    """Whether a param value provides something: not ``None``/unset/blank/empty; a bool when true."""
    if value is None or value is msgspec.UNSET:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, Sized):
        return len(value) > 0
    return True
