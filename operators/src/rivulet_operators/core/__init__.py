"""Core operators: flow inputs and outputs, constants, templates, control flow and data shaping."""

from rivulet_operators.core import constant

__all__ = ("OPERATORS",)

OPERATORS = (constant.Constant,)
