"""Rivulet's built-in operators, one category per subpackage and one operator per module.

Key contracts: each category's ``__init__`` exports ``OPERATORS: tuple[type[Operator], ...]``; this package's
``OPERATORS`` concatenates them (the registry loader reads it). Operators import only ``rivulet.sdk``.
"""

from rivulet_operators import chart, core, llm, rag, sql, trigger

__all__ = ("CATEGORIES", "OPERATORS")

CATEGORIES = (core, llm, rag, sql, chart, trigger)
"""The built-in category packages, in palette order."""

OPERATORS = (
    *core.OPERATORS,
    *llm.OPERATORS,
    *rag.OPERATORS,
    *sql.OPERATORS,
    *chart.OPERATORS,
    *trigger.OPERATORS,
)
"""Every built-in operator class."""
