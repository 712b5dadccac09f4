"""Jinja2 for operators: one sandboxed environment, and templates whose variables become input ports.

``JINJA`` is the sandbox for every template and expression operators evaluate: no ``_`` attributes, no mutation
of inputs, and an undefined name is an error rather than an empty string. ``template_variables`` lists the
variables a template reads from its context (names it sets or loops over stay local), checked to be usable as
port names; operators with one input port per variable build their ports from it.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

if TYPE_CHECKING:
    from jinja2 import Template

__all__ = ("JINJA", "MAX_VARIABLES", "compile_template", "syntax_message", "template_variables")

JINJA = ImmutableSandboxedEnvironment(autoescape=False, keep_trailing_newline=True, undefined=StrictUndefined)
"""The sandbox for every Jinja2 template and expression in operators: no ``_`` attributes, no mutation of
inputs, and an undefined name is an error rather than an empty string."""

MAX_VARIABLES = 32
"""The most variables (input ports) one template may read."""

_PORT_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def syntax_message(exc: TemplateSyntaxError, what: str) -> str:
    """``what`` has a syntax error at line N: message."""
    return f"{what} has a syntax error at line {exc.lineno}: {exc.message}"


@functools.lru_cache(maxsize=512)
def compile_template(source: str) -> tuple[Template, tuple[str, ...]]:
    """Compile ``source`` once (cached by source) with the variables it reads, sorted.

    Raises:
        ValueError: A syntax error, with its line.
    """
    try:
        ast = JINJA.parse(source)
    except TemplateSyntaxError as exc:
        raise ValueError(syntax_message(exc, "template")) from exc
    builtins: set[str] = set(JINJA.globals)  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
    names = sorted(meta.find_undeclared_variables(ast) - builtins)
    return JINJA.from_string(ast), tuple(names)


def template_variables(source: str) -> tuple[str, ...]:
    """The variables ``source`` reads from its context, sorted (its input port names).

    Raises:
        ValueError: A syntax error (with its line), an invalid port name or too many variables.
    """
    _, names = compile_template(source)
    bad = [n for n in names if not _PORT_NAME.match(n)]
    if bad:
        raise ValueError(f"template variables {bad} cannot be ports; use lower_snake_case names")
    if len(names) > MAX_VARIABLES:
        raise ValueError(f"template reads {len(names)} variables; at most {MAX_VARIABLES} are allowed")
    return names
