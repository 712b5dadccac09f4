"""Helpers shared by the core operators (internal)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from jinja2.sandbox import ImmutableSandboxedEnvironment

from rivulet.sdk import OperatorError, PortType, parse_port_type, python_type_of

if TYPE_CHECKING:
    from rivulet.sdk import OperatorSpec, RunContext

__all__ = ("JINJA", "check_value", "fail", "parse_value_type")

JINJA = ImmutableSandboxedEnvironment(autoescape=False, keep_trailing_newline=True)
"""The sandbox for every Jinja2 template and expression in core operators (no ``_`` attributes, no mutation)."""


def parse_value_type(text: str) -> PortType:
    """Parse a port type param that must describe a value (no generic variable, no stream).

    Raises:
        ValueError: Unparseable, generic or a stream; the message names the text.
    """
    port_type = parse_port_type(text)
    stack = [port_type]
    while stack:
        current = stack.pop()
        if current.var or current.name == "Stream":
            raise ValueError(f"type {text!r} must be a concrete value type (no type variable, no Stream)")
        stack.extend(current.args)
    return port_type


def check_value(value: Any, port_type: PortType, what: str) -> Any:
    """Convert ``value`` to ``port_type``'s Python type (Structs are built from mappings).

    Raises:
        ValueError: The value does not fit; the message names ``what``, the type and msgspec's located reason.
    """
    try:
        return msgspec.convert(value, python_type_of(port_type), strict=False)
    except msgspec.ValidationError as exc:
        raise ValueError(f"{what} is not a valid {port_type}: {exc}") from exc


def fail(spec: OperatorSpec, ctx: RunContext, detail: str) -> OperatorError:
    """An ``OperatorError`` located at this operator and node (raise the result)."""
    return OperatorError(detail, operator_id=spec.id, node_id=ctx.node_id)
