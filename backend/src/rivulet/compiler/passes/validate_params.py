"""Pass 2: params convert into the operator's ``Params`` Struct; the node's concrete ports are computed."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import msgspec

from rivulet.compiler.diagnostics import DiagnosticCode
from rivulet.lib.exceptions import AppError

if TYPE_CHECKING:
    from rivulet.compiler.passes._state import CompileState

__all__ = ("validate_params",)

_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<field>[^`]+)`")
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]+)`")


def _locate(message: str, base: str) -> tuple[str, str]:
    match = _AT.search(message)
    if match is None:
        return base, message
    return base + match["path"], message[: match.start()]


def _report(state: CompileState, node_id: str, exc: msgspec.ValidationError) -> None:
    base = f"{state.node_path(node_id)}.params"
    path, text = _locate(str(exc), base)
    operator = state.operators[node_id]
    fields = list(operator.params_type.__struct_fields__)
    if (m := _UNKNOWN.match(text)) is not None:
        state.add(
            DiagnosticCode.UNKNOWN_PARAM,
            f"node {node_id!r}: unknown param {m['field']!r} for {operator.spec.id}",
            f"{path}.{m['field']}",
            node_id=node_id,
            got=m["field"],
            choices=fields,
        )
    elif (m := _MISSING.match(text)) is not None:
        state.add(
            DiagnosticCode.MISSING_REQUIRED_PARAM,
            f"node {node_id!r}: required param {m['field']!r} of {operator.spec.id} is missing",
            f"{path}.{m['field']}",
            node_id=node_id,
            expected=m["field"],
        )
    else:
        state.add(DiagnosticCode.INVALID_PARAMS, f"node {node_id!r}: {text}", path, node_id=node_id, got=None)


def _ports(state: CompileState, node_id: str, params: Any) -> bool:
    operator = state.operators[node_id]
    try:
        state.inputs[node_id] = {p.name: p for p in operator.input_ports(params)}
        state.outputs[node_id] = {p.name: p for p in operator.output_ports(params)}
    except (AppError, ValueError, TypeError) as exc:
        detail = exc.detail if isinstance(exc, AppError) else str(exc)
        state.add(
            DiagnosticCode.INVALID_PARAMS,
            f"node {node_id!r}: {detail}",
            f"{state.node_path(node_id)}.params",
            node_id=node_id,
        )
        return False
    return True


def validate_params(state: CompileState) -> None:
    for _, node in state.nodes():
        operator = state.operators[node.id]
        try:
            params = msgspec.convert(node.params, operator.params_type)
        except msgspec.ValidationError as exc:
            _report(state, node.id, exc)
            state.broken.add(node.id)
            continue
        if _ports(state, node.id, params):
            state.params[node.id] = params
        else:
            state.broken.add(node.id)
