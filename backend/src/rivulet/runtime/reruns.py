"""Inputs of a run that come from the flow rather than the request: variables and partial re-run selections."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rivulet.lib.exceptions import ValidationError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from rivulet.compiler.graph import CompiledGraph
    from rivulet.runtime.plan import ExecutionPlan

__all__ = ("resolve_variables", "select_rerun")


def resolve_variables(graph: CompiledGraph, given: Mapping[str, Any]) -> dict[str, Any]:
    """Flow variables for a run: given values over defaults; secrets are never resolved here.

    Raises:
        ValidationError: An unknown variable, a secret passed as a value, or a required one without a value;
            each problem is located at ``$.variables.<name>``.
    """
    declared = {variable.name: variable for variable in graph.variables}
    errors: list[dict[str, Any]] = []
    for name in given:
        variable = declared.get(name)
        if variable is None:
            errors.append({"path": f"$.variables.{name}", "message": f"unknown variable; declared: {sorted(declared)}"})
        elif variable.type == "secret":
            errors.append({"path": f"$.variables.{name}", "message": "secrets come from the secret store"})
    values: dict[str, Any] = {}
    for name, variable in declared.items():
        if variable.type == "secret":
            continue
        if name in given:
            values[name] = given[name]
        elif variable.default is not None or not variable.required:
            values[name] = variable.default
        else:
            errors.append({"path": f"$.variables.{name}", "message": "required variable has no value"})
    if errors:
        raise ValidationError(
            f"invalid run variables: {errors[0]['path']}: {errors[0]['message']}", extra={"errors": errors}
        )
    return values


def select_rerun(plan: ExecutionPlan, from_node: str | None, only_nodes: Sequence[str] | None) -> set[str]:
    """The nodes a partial re-run executes: ``from_node`` and everything downstream, or exactly ``only_nodes``.

    Raises:
        ValidationError: Both or an unknown node id (located at ``$.from_node`` / ``$.only_nodes[i]``).
    """
    if from_node is not None and only_nodes is not None:
        raise ValidationError(
            "give either from_node or only_nodes, not both",
            extra={"errors": [{"path": "$.only_nodes", "message": "conflicts with from_node"}]},
        )
    known = plan.by_id
    if from_node is not None:
        if from_node not in known:
            raise ValidationError(
                f"from_node {from_node!r} is not a node of this flow version",
                extra={"errors": [{"path": "$.from_node", "message": "unknown node", "got": from_node}]},
            )
        return plan.descendants({from_node})
    selected = list(only_nodes or ())
    errors = [
        {"path": f"$.only_nodes[{index}]", "message": "unknown node", "got": node_id}
        for index, node_id in enumerate(selected)
        if node_id not in known
    ]
    if errors:
        raise ValidationError(f"only_nodes names unknown nodes: {[e['got'] for e in errors]}", extra={"errors": errors})
    return set(selected)
