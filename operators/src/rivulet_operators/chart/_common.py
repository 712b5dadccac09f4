"""Helpers shared by the chart operators (internal): a compact description of a table for prompts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rivulet.sdk.charts import column_roles, json_value

if TYPE_CHECKING:
    from rivulet.sdk.ports import Table

__all__ = ("describe_table", "table_rows")

MAX_CELL = 80
"""Characters of one cell shown to a model."""


def _short(value: Any) -> str:
    text = "NULL" if value is None else str(json_value(value))
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def table_rows(table: Table, limit: int) -> str:
    """The first ``limit`` rows as a pipe-separated text table (header first)."""
    lines = [" | ".join(table.columns)]
    lines.extend(" | ".join(_short(v) for v in row) for row in table.rows[:limit])
    return "\n".join(lines)


def _number_stats(values: list[Any]) -> str:
    numbers = [
        float(v) for v in (json_value(x) for x in values) if isinstance(v, (int, float)) and not isinstance(v, bool)
    ]
    if not numbers:
        return ""
    total = sum(numbers)
    return f"min {min(numbers):g}, max {max(numbers):g}, mean {total / len(numbers):g}, sum {total:g}"


def describe_table(table: Table, *, rows: int = 10) -> str:
    """Columns (type, role, distinct values, number stats), the row count and the first ``rows`` rows."""
    lines = [f"{len(table.rows)} rows{' (truncated: the query had more)' if table.truncated else ''}; columns:"]
    for role in column_roles(table):
        values = [row[role.index] if role.index < len(row) else None for row in table.rows]
        stats = _number_stats(values) if role.role == "measure" else ""
        detail = f"{role.type}, {role.role}, {role.distinct} distinct"
        if role.nulls:
            detail += f", {role.nulls} null"
        if stats:
            detail += f"; {stats}"
        lines.append(f"- {role.name}: {detail}")
    if table.rows:
        shown = min(rows, len(table.rows))
        lines.append(f"First {shown} rows:" if shown < len(table.rows) else "Rows:")
        lines.append(table_rows(table, rows))
    return "\n".join(lines)
