"""Compiler diagnostics: stable codes, located messages, one ``CompileError`` carrying them all.

Every code is documented in ``docs/errors.md`` (a test checks it).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

import msgspec

from rivulet.lib.exceptions import AppError

__all__ = ("CompileError", "Diagnostic", "DiagnosticCode", "truncate_choices")


class DiagnosticCode(StrEnum):
    """Stable snake_case codes; never renamed once released."""

    UNKNOWN_OPERATOR = "unknown_operator"
    UNKNOWN_OPERATOR_VERSION = "unknown_operator_version"
    DUPLICATE_NODE_ID = "duplicate_node_id"
    INVALID_PARAMS = "invalid_params"
    UNKNOWN_PARAM = "unknown_param"
    MISSING_REQUIRED_PARAM = "missing_required_param"
    DUPLICATE_EDGE_ID = "duplicate_edge_id"
    UNKNOWN_NODE = "unknown_node"
    UNKNOWN_PORT = "unknown_port"
    MISSING_REQUIRED_INPUT = "missing_required_input"
    MULTIPLE_WRITERS = "multiple_writers"
    REQUIRED_INPUT_GROUP_MISSING = "required_input_group_missing"
    CONFLICTING_INPUTS = "conflicting_inputs"
    SELF_LOOP = "self_loop"
    TYPE_MISMATCH = "type_mismatch"
    UNRESOLVED_GENERIC = "unresolved_generic"
    STREAM_COLLECTED = "stream_collected"
    CYCLE = "cycle"
    DUPLICATE_VARIABLE = "duplicate_variable"
    UNKNOWN_VARIABLE = "unknown_variable"
    DUPLICATE_INPUT_NAME = "duplicate_input_name"
    DUPLICATE_OUTPUT_NAME = "duplicate_output_name"


Severity = Literal["error", "warning", "info"]


class Diagnostic(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One located problem (or note) found while compiling."""

    code: DiagnosticCode
    message: str
    path: str
    """msgspec-style JSON path into the flow document, e.g. ``$.nodes[3].params.top_k``."""
    node_id: str | None = None
    severity: Severity = "error"
    expected: str | None = None
    got: str | None = None
    choices: list[str] | None = None
    """Valid alternatives (truncated), when there is a finite set."""


def truncate_choices(choices: list[str] | tuple[str, ...], limit: int = 12) -> list[str]:
    """At most ``limit`` choices, with a trailing ``…(+N more)`` marker."""
    items = list(choices)
    if len(items) <= limit:
        return items
    return [*items[:limit], f"…(+{len(items) - limit} more)"]


class CompileError(AppError):
    """The flow does not compile; ``diagnostics`` lists every problem found (errors first)."""

    code = "compile_error"
    status_code = 422

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        errors = [d for d in diagnostics if d.severity == "error"]
        first = errors[0].message if errors else "flow does not compile"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        encoded: list[Any] = msgspec.to_builtins(diagnostics)
        super().__init__(f"{first}{more}", extra={"diagnostics": encoded})
        self.diagnostics = diagnostics
