"""Pass 4: each node meets its operator's input rules (one of several inputs, an input or a param, not both).

A rule member is provided by an edge into the input or by a param holding a value (``param_provided``). An
unmet ``at_least_one`` is reported at the node (``required_input_group_missing``); two providers of an
``at_most_one`` group are reported at the second one, an edge or a param (``conflicting_inputs``). Rule names
that are not ports of the node (dynamic ports for other params) are ignored: the registry checks static rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rivulet.compiler.diagnostics import DiagnosticCode
from rivulet.sdk.rules import param_provided

if TYPE_CHECKING:
    from rivulet.compiler.passes._state import CompileState
    from rivulet.sdk.rules import InputRule

__all__ = ("check_input_rules",)


def _quoted(names: tuple[str, ...] | list[str]) -> str:
    items = [repr(n) for n in names]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" or {items[-1]}"


def _wanted(rule: InputRule, inputs: tuple[str, ...]) -> str:
    parts = [f"connect {_quoted(inputs)}"]
    if rule.params:
        parts.append(f"set the param {_quoted(rule.params)}")
    return " or ".join(parts)


def _providers(
    state: CompileState, node_id: str, rule: InputRule, inputs: tuple[str, ...], edges: dict[str, int]
) -> list[tuple[str, str]]:
    """(member, path) of each provided member, inputs first."""
    found = [(name, f"$.edges[{edges[name]}]") for name in inputs if name in edges]
    params: Any = state.params[node_id]
    base = f"{state.node_path(node_id)}.params"
    found.extend((f"params.{p}", f"{base}.{p}") for p in rule.params if param_provided(getattr(params, p, None)))
    return found


def _check(state: CompileState, node_id: str, rule: InputRule, edges: dict[str, int]) -> None:
    inputs = tuple(name for name in rule.inputs if name in state.inputs[node_id])
    if not inputs:
        return
    operator_id = state.operators[node_id].spec.id
    providers = _providers(state, node_id, rule, inputs, edges)
    hint = f" ({rule.hint})" if rule.hint else ""
    why = f"; {rule.hint}" if rule.hint else ""
    members = [*inputs, *(f"params.{p}" for p in rule.params)]
    if not providers and rule.kind in ("at_least_one", "exactly_one"):
        state.add(
            DiagnosticCode.REQUIRED_INPUT_GROUP_MISSING,
            f"node {node_id!r} ({operator_id}): {_wanted(rule, inputs)} (none is provided{why})",
            state.node_path(node_id),
            node_id=node_id,
            expected=" | ".join(members),
            choices=members,
        )
    if len(providers) > 1 and rule.kind in ("at_most_one", "exactly_one"):
        names = [name for name, _ in providers]
        state.add(
            DiagnosticCode.CONFLICTING_INPUTS,
            f"node {node_id!r} ({operator_id}): {_quoted(names).replace(' or ', ' and ')} exclude each other;"
            f" provide only one of {_quoted(members)}{hint}",
            providers[1][1],
            node_id=node_id,
            expected=" | ".join(members),
            got=", ".join(names),
            choices=members,
        )


def check_input_rules(state: CompileState) -> None:
    connected: dict[str, dict[str, int]] = {}
    for index, edge in state.edges:
        connected.setdefault(edge.target, {})[edge.target_port] = index
    for _, node in state.nodes():
        operator = state.operators[node.id]
        for rule in operator.input_rules(state.params[node.id]):
            _check(state, node.id, rule, connected.get(node.id, {}))
