"""Charts for tables: which chart a table calls for (by its columns' types and cardinality), as ECharts options.

``recommend_chart(table)`` looks at each column's role (``column_roles``) and picks:

========================================================  ==========================================================
Columns                                                   Chart
========================================================  ==========================================================
one row, one number                                       ``number`` (a big-number card)
a date/time column + number(s)                            ``line``, sorted by time (a few categories: one line each)
a category (≤ 12 values) + one number, parts of a whole   ``pie`` (non-negative, ≤ 8 slices, share/count-like hint)
a category (≤ 12 values) + one number                     ``bar``
a category + several numbers                              ``bar`` (grouped, one series per number)
a category (> 12 values) + number(s)                      ``bar`` of the top 20 by the first number, descending
two numbers                                               ``scatter``
anything else                                             ``table``
========================================================  ==========================================================

``kind``, ``x`` and ``y`` override the choice; a named column that is not in the table raises a
``ValidationError`` naming the parameter and the columns there are. The options hold only JSON (no functions):
they are stored with reports, sent to the editor and embedded in exported HTML. ``rivulet.data.charts`` re-exports
this module for the server; operators (``chart.*``) import it from here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Literal

from rivulet.lib.exceptions import ValidationError
from rivulet.sdk.ports import ChartSpec, Table

__all__ = (
    "CHART_KINDS",
    "ColumnRole",
    "Role",
    "column_roles",
    "json_value",
    "recommend_chart",
)

CHART_KINDS = ("auto", "line", "bar", "pie", "scatter", "number", "table")
"""What ``kind`` may name (``auto``: chosen from the columns)."""

Role = Literal["time", "measure", "category", "other"]

LOW_CARDINALITY = 12
"""Most categories a bar chart shows without cutting to the top ones."""
PIE_SLICES = 8
"""Most slices of a pie."""
TOP_N = 20
"""Categories a high-cardinality bar chart keeps (largest first)."""
SERIES_CATEGORIES = 8
"""Most categories split into one line each (long-format time series)."""
MAX_POINTS = 5000
"""Most rows a line or scatter chart draws."""

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4]|W\d{2})$")
_YEAR_NAME = re.compile(r"(^|_)(year|yr)$", re.IGNORECASE)
_ID_NAME = re.compile(r"(^id$|_id$|^id_|Id$)")
_SHARE_HINT = re.compile(
    r"\b(share|shares|percent|percentage|pct|proportion|ratio|breakdown|distribution|split|composition|count|"
    r"counts|how many|number of|part|parts|mix)\b|%",
    re.IGNORECASE,
)
_NOT_PARTS = re.compile(r"\b(avg|average|mean|median|rate|price|min|max|minimum|maximum)\b", re.IGNORECASE)
_NUMERIC_TYPES = frozenset({"integer", "number"})
_TIME_TYPES = frozenset({"date", "datetime"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnRole:
    """What a column is for a chart."""

    name: str
    index: int
    type: str
    """The normalised type (``Table.types`` or inferred from the values)."""
    role: Role
    """``time`` (dates, datetimes, ``YYYY-MM`` periods, years), ``measure`` (numbers that are not ids),
    ``category`` (texts, booleans, ids) or ``other`` (JSON, empty columns)."""
    distinct: int
    """Distinct non-null values."""
    nulls: int


def json_value(value: Any) -> Any:
    """``value`` as plain JSON: numbers (``Decimal`` as float, NaN/infinity as null), ISO dates, text."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return json_value(float(value))
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value)  # pyright: ignore[reportUnknownArgumentType] - any other object, shown as text


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return _number(float(value))
    return None


def _infer_type(values: list[Any]) -> str:
    present = [v for v in values if v is not None]
    if not present:
        return "unknown"
    if all(isinstance(v, bool) for v in present):
        return "boolean"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "integer"
    if all(isinstance(v, (int, float, Decimal)) and not isinstance(v, bool) for v in present):
        return "number"
    if all(isinstance(v, datetime) for v in present):
        return "datetime"
    if all(isinstance(v, date) for v in present):
        return "date"
    if all(isinstance(v, str) for v in present):
        return _text_type(present)
    if all(isinstance(v, (dict, list)) for v in present):
        return "json"
    return "text"


def _text_type(texts: list[Any]) -> str:
    """``date``/``datetime`` when every text is an ISO date/datetime (or a ``YYYY-MM`` period), else ``text``."""
    if all(isinstance(t, str) and _DATE.match(t) for t in texts):
        return "date"
    if all(isinstance(t, str) and (_DATE.match(t) or _DATETIME.match(t)) for t in texts):
        return "datetime"
    if all(isinstance(t, str) and _PERIOD.match(t) for t in texts):
        return "date"
    return "text"


def _is_year(name: str, values: list[Any]) -> bool:
    numbers = [v for v in values if v is not None]
    return (
        bool(numbers)
        and bool(_YEAR_NAME.search(name))
        and all(isinstance(v, int) and not isinstance(v, bool) and 1000 <= v <= 3000 for v in numbers)
    )


def _hashable(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, Decimal, date, time)) or value is None else repr(value)


def column_roles(table: Table) -> list[ColumnRole]:
    """Each column's type (declared, or inferred from the values), role, distinct count and nulls."""
    roles: list[ColumnRole] = []
    for index, name in enumerate(table.columns):
        values = [row[index] if index < len(row) else None for row in table.rows]
        declared = table.types[index] if index < len(table.types) else "unknown"
        inferred = _infer_type(values)
        kind = declared if declared not in ("unknown", "", "text") else inferred
        if declared == "text" and inferred in ("date", "datetime"):
            kind = inferred  # SQLite and CSV keep dates as ISO texts
        if kind in _NUMERIC_TYPES and inferred not in ("integer", "number", "unknown"):
            kind = inferred  # declared numeric, but the values are not numbers
        distinct = len({_hashable(v) for v in values if v is not None})
        nulls = sum(1 for v in values if v is None)
        role: Role
        if kind in _TIME_TYPES or (kind == "integer" and _is_year(name, values)):
            role = "time"
        elif kind in _NUMERIC_TYPES:
            role = "category" if _ID_NAME.search(name) else "measure"
        elif kind in ("text", "boolean"):
            role = "category"
        else:
            role = "other"
        if distinct == 0:
            role = "other"
        roles.append(ColumnRole(name=name, index=index, type=kind, role=role, distinct=distinct, nulls=nulls))
    return roles


# -- building options --------------------------------------------------------------------------------------------


def _label(value: Any) -> str:
    value = json_value(value)
    if value is None:
        return "(none)"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _title(text: str, subtext: str = "") -> dict[str, Any]:
    title: dict[str, Any] = {"text": text, "left": "center"}
    if subtext:
        title["subtext"] = subtext
    return title


def _grid(*, legend: bool, rotated: bool = False) -> dict[str, Any]:
    return {
        "left": 16,
        "right": 32,
        "top": 72,
        "bottom": 36 + (32 if legend else 0) + (36 if rotated else 0),
        "containLabel": True,
    }


def _x_name(name: str, *, rotated: bool = False) -> dict[str, Any]:
    """An x axis name centred below the labels (at the axis' end it is cut off by the chart's edge)."""
    return {"name": name, "nameLocation": "middle", "nameGap": 58 if rotated else 28}


def _column(table: Table, role: ColumnRole) -> list[Any]:
    return [row[role.index] if role.index < len(row) else None for row in table.rows]


def _spec(kind: str, title: str, option: dict[str, Any]) -> ChartSpec:
    return ChartSpec(title=title, option=option, kind=kind)


def _default_title(measures: list[ColumnRole], by: ColumnRole | None) -> str:
    names = ", ".join(m.name for m in measures)
    return f"{names} by {by.name}" if by is not None else names


def _aggregate(
    table: Table, key: ColumnRole, measures: list[ColumnRole]
) -> tuple[list[Any], list[list[float | None]], bool]:
    """Rows grouped by ``key`` (first appearance order), measures summed; whether any key repeated."""
    order: list[Any] = []
    sums: dict[Any, list[float | None]] = {}
    repeated = False
    for row in table.rows:
        raw = row[key.index] if key.index < len(row) else None
        k = _hashable(json_value(raw))
        values = [_number(row[m.index]) if m.index < len(row) else None for m in measures]
        if k in sums:
            repeated = True
            current = sums[k]
            for i, v in enumerate(values):
                if v is not None:
                    current[i] = v if current[i] is None else (current[i] or 0.0) + v
        else:
            order.append(k)
            sums[k] = values
    return order, [sums[k] for k in order], repeated


def _line(
    table: Table, time_col: ColumnRole, measures: list[ColumnRole], series_by: ColumnRole | None, title: str
) -> ChartSpec:
    title = title or _default_title(measures, time_col)
    if series_by is not None and len(measures) == 1:
        measure = measures[0]
        times: set[str] = set()
        groups: dict[str, dict[str, float | None]] = {}
        for row in table.rows[:MAX_POINTS]:
            t = _label(row[time_col.index])
            g = _label(row[series_by.index])
            v = _number(row[measure.index])
            times.add(t)
            cell = groups.setdefault(g, {})
            previous = cell.get(t)
            cell[t] = v if previous is None else (previous + v if v is not None else previous)
        axis = sorted(times)
        series = [
            {"name": g, "type": "line", "showSymbol": len(axis) <= 60, "data": [cell.get(t) for t in axis]}
            for g, cell in groups.items()
        ]
        option = {
            "title": _title(title, f"{measure.name} per {series_by.name}"),
            "tooltip": {"trigger": "axis"},
            "legend": {"bottom": 0, "type": "scroll"},
            "grid": _grid(legend=True),
            "xAxis": {**_x_name(time_col.name), "type": "category", "boundaryGap": False, "data": axis},
            "yAxis": {"type": "value", "name": measure.name},
            "series": series,
        }
        return _spec("line", title, option)
    order, values, repeated = _aggregate(table, time_col, measures)
    pairs = sorted(zip(order, values, strict=True), key=lambda pair: _label(pair[0]))[-MAX_POINTS:]
    axis = [_label(k) for k, _ in pairs]
    series = [
        {
            "name": m.name,
            "type": "line",
            "showSymbol": len(axis) <= 60,
            "data": [vals[i] for _, vals in pairs],
        }
        for i, m in enumerate(measures)
    ]
    legend = len(measures) > 1
    option: dict[str, Any] = {
        "title": _title(title, "sum per time value" if repeated else ""),
        "tooltip": {"trigger": "axis"},
        "grid": _grid(legend=legend),
        "xAxis": {**_x_name(time_col.name), "type": "category", "boundaryGap": False, "data": axis},
        "yAxis": {"type": "value", "name": measures[0].name if len(measures) == 1 else ""},
        "series": series,
    }
    if legend:
        option["legend"] = {"bottom": 0, "type": "scroll"}
    return _spec("line", title, option)


def _bar(table: Table, category: ColumnRole, measures: list[ColumnRole], title: str) -> ChartSpec:
    order, values, repeated = _aggregate(table, category, measures)
    pairs = list(zip(order, values, strict=True))
    subtitle = "sum per category" if repeated else ""
    title = title or _default_title(measures, category)
    if len(pairs) > LOW_CARDINALITY:
        pairs.sort(key=lambda pair: pair[1][0] if pair[1][0] is not None else -math.inf, reverse=True)
        subtitle = f"top {TOP_N} of {len(pairs)} values of {category.name}, by {measures[0].name}"
        pairs = pairs[:TOP_N]
    labels = [_label(k) for k, _ in pairs]
    rotated = len(labels) > 6 or any(len(label) > 10 for label in labels)
    legend = len(measures) > 1
    option: dict[str, Any] = {
        "title": _title(title, subtitle),
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "grid": _grid(legend=legend, rotated=rotated),
        "xAxis": {
            "type": "category",
            **_x_name(category.name, rotated=rotated),
            "data": labels,
            "axisLabel": {"interval": 0, "rotate": 30 if rotated else 0},
        },
        "yAxis": {"type": "value", "name": measures[0].name if len(measures) == 1 else ""},
        "series": [
            {"name": m.name, "type": "bar", "data": [vals[i] for _, vals in pairs]} for i, m in enumerate(measures)
        ],
    }
    if legend:
        option["legend"] = {"bottom": 0, "type": "scroll"}
    return _spec("bar", title, option)


def _pie(table: Table, category: ColumnRole, measure: ColumnRole, title: str) -> ChartSpec:
    order, values, repeated = _aggregate(table, category, [measure])
    title = title or f"{measure.name} by {category.name}"
    data = [{"name": _label(k), "value": v[0]} for k, v in zip(order, values, strict=True) if v[0] is not None]
    option = {
        "title": _title(title, "sum per category" if repeated else ""),
        "tooltip": {"trigger": "item", "formatter": "{b}: {c} ({d}%)"},
        "legend": {"bottom": 0, "type": "scroll"},
        "series": [
            {
                "name": measure.name,
                "type": "pie",
                "radius": ["35%", "65%"],
                "center": ["50%", "52%"],
                "label": {"formatter": "{b}: {d}%"},
                "data": data,
            }
        ],
    }
    return _spec("pie", title, option)


def _scatter(table: Table, x: ColumnRole, y: ColumnRole, title: str) -> ChartSpec:
    title = title or f"{y.name} against {x.name}"
    points = [
        [xv, yv]
        for xv, yv in ((_number(r[x.index]), _number(r[y.index])) for r in table.rows[:MAX_POINTS])
        if xv is not None and yv is not None
    ]
    option = {
        "title": _title(title),
        "tooltip": {"trigger": "item"},
        "grid": _grid(legend=False),
        "xAxis": {**_x_name(x.name), "type": "value", "scale": True},
        "yAxis": {"type": "value", "name": y.name, "scale": True},
        "series": [{"name": f"{y.name} / {x.name}", "type": "scatter", "symbolSize": 8, "data": points}],
    }
    return _spec("scatter", title, option)


def _format_number(value: float | None) -> str:
    if value is None:
        return "-"
    if value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.4g}" if abs(value) >= 1e15 or abs(value) < 1e-3 else f"{value:,.2f}"


def _number_card(table: Table, measure: ColumnRole, label: ColumnRole | None, title: str) -> ChartSpec:
    row = table.rows[0] if table.rows else []
    value = _number(row[measure.index]) if measure.index < len(row) else None
    caption = _label(row[label.index]) if label is not None and label.index < len(row) else measure.name
    title = title or caption
    option = {
        "title": _title(title, measure.name if caption != measure.name else ""),
        "tooltip": {"show": False},
        "graphic": [
            {
                "type": "text",
                "left": "center",
                "top": "middle",
                "style": {"text": _format_number(value), "fontSize": 48, "fontWeight": "bold", "fill": "#1f2937"},
            }
        ],
        "series": [],
    }
    return _spec("number", title, option)


def _table(table: Table, title: str, reason: str) -> ChartSpec:
    option: dict[str, Any] = {
        "title": _title(title or "Table", reason),
        "dataset": {
            "dimensions": list(table.columns),
            "source": [[json_value(v) for v in row] for row in table.rows[:50]],
        },
        "series": [],
    }
    return _spec("table", title or "Table", option)


# -- choosing ----------------------------------------------------------------------------------------------------


def _named(roles: list[ColumnRole], name: str, param: str) -> ColumnRole:
    for role in roles:
        if role.name == name:
            return role
    lowered = name.lower()
    for role in roles:
        if role.name.lower() == lowered:
            return role
    columns = [r.name for r in roles]
    raise ValidationError(
        f"chart {param}: no column {name!r} in the table (columns: {', '.join(columns) or 'none'})",
        extra={"param": param, "column": name, "columns": columns},
    )


def _share_like(hint: str, measure: ColumnRole) -> bool:
    text = f"{hint} {measure.name}".replace("_", " ")
    return bool(_SHARE_HINT.search(text)) and not _NOT_PARTS.search(text)


def _parts_of_whole(table: Table, category: ColumnRole, measure: ColumnRole, hint: str) -> bool:
    values = [_number(v) for v in _column(table, measure)]
    return (
        2 <= category.distinct <= PIE_SLICES
        and all(v is not None and v >= 0 for v in values)
        and any(v for v in values)
        and _share_like(hint, measure)
    )


def recommend_chart(
    table: Table,
    *,
    kind: str = "auto",
    title: str = "",
    x: str | None = None,
    y: list[str] | None = None,
    question: str = "",
) -> ChartSpec:
    """The chart ``table`` calls for (see the module's table), or the one ``kind``/``x``/``y`` ask for.

    Args:
        table: The data.
        kind: ``auto`` or one of ``CHART_KINDS``.
        title: The chart's title (default: made from the column names).
        x: The column along the x axis (the category, time or first number).
        y: The columns of numbers to draw.
        question: What the chart answers; a share/percent/count-like question makes a small breakdown a pie.

    Raises:
        ValidationError: ``kind`` is unknown, or ``x``/``y`` name a column the table lacks or that holds no numbers.
    """
    if kind not in CHART_KINDS:
        raise ValidationError(
            f"chart kind {kind!r} is unknown (one of {', '.join(CHART_KINDS)})",
            extra={"param": "kind", "kinds": list(CHART_KINDS)},
        )
    roles = column_roles(table)
    x_role = _named(roles, x, "x") if x else None
    y_roles = [_named(roles, name, "y") for name in (y or [])]
    for role in y_roles:
        if role.role != "measure" and not (role.type in _NUMERIC_TYPES and role.distinct):
            raise ValidationError(
                f"chart y: column {role.name!r} holds no numbers (type {role.type})",
                extra={"param": "y", "column": role.name, "type": role.type},
            )
    if kind == "table":
        return _table(table, title, "")
    if not table.rows or not table.columns:
        return _table(table, title, "no rows")
    columns = _Columns(
        table=table,
        x=x_role,
        measures=y_roles or [r for r in roles if r.role == "measure" and r is not x_role],
        times=[r for r in roles if r.role == "time"],
        categories=[r for r in roles if r.role == "category"],
        title=title,
        hint=f"{question} {title}",
    )
    if kind == "auto":
        return _auto(columns)
    return _explicit(columns, kind)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Columns:
    """A table with its columns sorted by role, and what the chart was asked for."""

    table: Table
    x: ColumnRole | None
    measures: list[ColumnRole]
    times: list[ColumnRole]
    categories: list[ColumnRole]
    title: str
    hint: str


def _auto(c: _Columns) -> ChartSpec:
    table, measures, title = c.table, c.measures, c.title
    if not measures:
        return _table(table, title, "no column of numbers to chart")
    if c.x is not None:
        return _auto_along(c, c.x)
    if len(table.rows) == 1 and len(measures) == 1 and not c.times:
        return _number_card(table, measures[0], c.categories[0] if len(c.categories) == 1 else None, title)
    if c.times:
        series_by = next((k for k in c.categories if 2 <= k.distinct <= SERIES_CATEGORIES), None)
        return _line(table, c.times[0], measures, series_by if len(measures) == 1 else None, title)
    if c.categories:
        return _auto_along(c, _category_of(c.categories))
    if len(measures) >= 2:
        return _scatter(table, measures[0], measures[1], title)
    if len(table.rows) == 1:
        return _number_card(table, measures[0], None, title)
    return _table(table, title, "one column of numbers and nothing to plot it against")


def _auto_along(c: _Columns, x: ColumnRole) -> ChartSpec:
    """The chart with ``x`` along the x axis: line (time), scatter (a number), pie or bar (a category)."""
    if x.role == "time":
        return _line(c.table, x, c.measures, None, c.title)
    if x.role == "measure":
        return _scatter(c.table, x, c.measures[0], c.title)
    if len(c.measures) == 1 and _parts_of_whole(c.table, x, c.measures[0], c.hint):
        return _pie(c.table, x, c.measures[0], c.title)
    return _bar(c.table, x, c.measures, c.title)


def _category_of(categories: list[ColumnRole]) -> ColumnRole:
    """The category to chart by: the first text column (before booleans and ids), else the first one."""
    texts = [c for c in categories if c.type == "text"]
    return texts[0] if texts else categories[0]


def _unsatisfiable(kind: str, why: str) -> ValidationError:
    return ValidationError(
        f"a {kind} chart of this table is not possible: {why}", extra={"param": "kind", "kind": kind}
    )


def _explicit(c: _Columns, kind: str) -> ChartSpec:
    table, measures, title = c.table, c.measures, c.title
    if not measures:
        raise _unsatisfiable(kind, "no column holds numbers")
    if kind == "number":
        label = c.x or (c.categories[0] if len(c.categories) == 1 else None)
        return _number_card(table, measures[0], label, title)
    if kind == "scatter":
        if c.x is not None and c.x.type in _NUMERIC_TYPES:
            return _scatter(table, c.x, measures[0], title)
        if c.x is None and len(measures) >= 2:
            return _scatter(table, measures[0], measures[1], title)
        raise _unsatisfiable(kind, "it needs two columns of numbers")
    axis = c.x
    if axis is None and kind == "line" and c.times:
        axis = c.times[0]
    if axis is None:
        axis = _category_of(c.categories) if c.categories else (c.times[0] if c.times else None)
    if axis is None:
        raise _unsatisfiable(kind, "no column to put along the x axis (name one with x)")
    if kind == "line":
        return _line(table, axis, measures, None, title)
    if kind == "pie":
        return _pie(table, axis, measures[0], title)
    return _bar(table, axis, measures, title)
