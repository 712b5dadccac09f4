"""Helpers shared by the core operators (internal)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import msgspec
from jinja2 import TemplateSyntaxError, Undefined

from rivulet.sdk import OperatorError, PortType, parse_port_type, python_type_of
from rivulet.sdk.templating import JINJA, syntax_message

if TYPE_CHECKING:
    from collections.abc import Callable

    from rivulet.sdk import OperatorSpec, RunContext

__all__ = ("check_value", "compile_expression", "evaluate", "fail", "parse_value_type")


@functools.lru_cache(maxsize=512)
def compile_expression(source: str) -> Callable[..., Any]:
    """Compile a Jinja2 expression once (cached by source).

    Raises:
        ValueError: A syntax error, with its line.
    """
    try:
        return JINJA.compile_expression(source, undefined_to_none=False)
    except TemplateSyntaxError as exc:
        raise ValueError(syntax_message(exc, f"expression {source!r}")) from exc


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


def evaluate(source: str, **variables: Any) -> Any:
    """Evaluate a Jinja2 expression; an undefined result raises ``UndefinedError`` naming what was missing.

    Raises:
        jinja2.TemplateError: Evaluation failed (undefined name or attribute, sandbox violation, type error).
    """
    result = compile_expression(source)(**variables)
    if isinstance(result, Undefined):
        str(result)  # StrictUndefined raises UndefinedError with the precise message
    return result


def fail(spec: OperatorSpec, ctx: RunContext, detail: str) -> OperatorError:
    """An ``OperatorError`` located at this operator and node (raise the result)."""
    return OperatorError(detail, operator_id=spec.id, node_id=ctx.node_id)
