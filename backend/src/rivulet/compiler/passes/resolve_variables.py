"""Pass 7: flow variables are unique, and run input names / output names do not collide."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rivulet.compiler.diagnostics import DiagnosticCode

if TYPE_CHECKING:
    from rivulet.compiler.passes._state import CompileState

__all__ = ("INPUT_OPERATORS", "OUTPUT_OPERATORS", "resolve_variables")

INPUT_OPERATORS = frozenset({"core.input"})
OUTPUT_OPERATORS = frozenset({"core.output"})


def _unique_names(state: CompileState, operators: frozenset[str], code: DiagnosticCode, kind: str) -> None:
    seen: dict[str, str] = {}
    for index, node in state.nodes():
        if node.operator not in operators or node.id not in state.params:
            continue
        name = getattr(state.params[node.id], "name", None)
        if not isinstance(name, str):
            continue
        if name in seen:
            state.add(
                code,
                f"node {node.id!r}: {kind} name {name!r} is already used by node {seen[name]!r}",
                f"$.nodes[{index}].params.name",
                node_id=node.id,
                got=name,
            )
        else:
            seen[name] = node.id


def resolve_variables(state: CompileState) -> None:
    seen: dict[str, int] = {}
    for index, variable in enumerate(state.document.variables):
        if variable.name in seen:
            state.add(
                DiagnosticCode.DUPLICATE_VARIABLE,
                f"variable {variable.name!r} is declared twice (first at $.variables[{seen[variable.name]}])",
                f"$.variables[{index}].name",
                got=variable.name,
            )
        seen.setdefault(variable.name, index)
    _unique_names(state, INPUT_OPERATORS, DiagnosticCode.DUPLICATE_INPUT_NAME, "run input")
    _unique_names(state, OUTPUT_OPERATORS, DiagnosticCode.DUPLICATE_OUTPUT_NAME, "run output")
