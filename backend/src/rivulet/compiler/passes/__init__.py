"""Compiler passes, in order. Each is a function of the shared ``CompileState``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rivulet.compiler.passes.check_input_rules import check_input_rules
from rivulet.compiler.passes.check_ports import check_ports
from rivulet.compiler.passes.check_types import check_types
from rivulet.compiler.passes.detect_cycles import detect_cycles
from rivulet.compiler.passes.order_nodes import order_nodes
from rivulet.compiler.passes.resolve_operators import resolve_operators
from rivulet.compiler.passes.resolve_variables import resolve_variables
from rivulet.compiler.passes.validate_params import validate_params

if TYPE_CHECKING:
    from collections.abc import Callable

    from rivulet.compiler.passes._state import CompileState

__all__ = ("PASSES",)

PASSES: tuple[Callable[[CompileState], None], ...] = (
    resolve_operators,
    validate_params,
    check_ports,
    check_input_rules,
    check_types,
    detect_cycles,
    resolve_variables,
    order_nodes,
)
