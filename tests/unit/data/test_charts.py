"""recommend_chart: each rule, explicit kind/x/y with located errors, and any table gives a JSON-only ChartSpec."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rivulet.data.charts import column_roles, recommend_chart
from rivulet.lib.exceptions import ValidationError
from rivulet.sdk.ports import ChartSpec, Table


def table(columns: list[str], rows: list[list[Any]], types: list[str] | None = None) -> Table:
    return Table(columns=columns, rows=rows, types=types or [])


def encoded(chart: ChartSpec) -> dict[str, Any]:
    """The chart as the browser gets it (also proves it is plain JSON: the stdlib rejects anything else)."""
    plain = msgspec.json.decode(msgspec.json.encode(chart))
    json.dumps(plain, allow_nan=False)
    return plain


# -- roles -------------------------------------------------------------------------------------------------------


def test_roles_come_from_declared_types_or_the_values() -> None:
    t = table(
        ["day", "month", "customer_id", "city", "revenue", "active", "meta", "year", "empty"],
        [
            ["2024-01-02", "2024-01", 7, "Lyon", Decimal("10.5"), True, {"a": 1}, 2023, None],
            ["2024-01-03", "2024-02", 8, "Nice", Decimal("3"), False, {"b": 2}, 2024, None],
        ],
        ["text", "text", "integer", "text", "number", "boolean", "json", "integer", "unknown"],
    )
    roles = {r.name: (r.type, r.role) for r in column_roles(t)}
    assert roles == {
        "day": ("date", "time"),  # SQLite keeps dates as ISO text
        "month": ("date", "time"),  # a YYYY-MM period
        "customer_id": ("integer", "category"),  # ids are not measures
        "city": ("text", "category"),
        "revenue": ("number", "measure"),
        "active": ("boolean", "category"),
        "meta": ("json", "other"),
        "year": ("integer", "time"),
        "empty": ("unknown", "other"),
    }


def test_roles_without_types_are_inferred_from_python_values() -> None:
    t = table(
        ["when", "at", "n", "x", "label"],
        [
            [date(2024, 1, 1), datetime(2024, 1, 1, 8), 1, 1.5, "a"],
            [date(2024, 1, 2), datetime(2024, 1, 2, 9), 2, 2, "b"],
        ],
    )
    assert [(r.type, r.role, r.distinct) for r in column_roles(t)] == [
        ("date", "time", 2),
        ("datetime", "time", 2),
        ("integer", "measure", 2),
        ("number", "measure", 2),
        ("text", "category", 2),
    ]


# -- the rules ---------------------------------------------------------------------------------------------------


def test_a_date_column_with_numbers_is_a_line_sorted_by_time() -> None:
    t = table(["month", "revenue"], [["2024-03", 30], ["2024-01", 10], ["2024-02", 20]])
    chart = recommend_chart(t)
    assert chart.kind == "line"
    option = encoded(chart)["option"]
    assert option["xAxis"]["data"] == ["2024-01", "2024-02", "2024-03"]
    assert option["series"] == [{"name": "revenue", "type": "line", "showSymbol": True, "data": [10, 20, 30]}]
    assert option["xAxis"]["name"] == "month"
    assert option["yAxis"]["name"] == "revenue"
    assert option["tooltip"] == {"trigger": "axis"}
    assert chart.title == "revenue by month"


def test_a_long_time_series_by_category_is_one_line_per_category() -> None:
    t = table(
        ["day", "region", "sales"],
        [
            [date(2024, 1, d), region, d * (2 if region == "north" else 1)]
            for d in (2, 1, 3)
            for region in ("north", "south")
        ],
    )
    chart = recommend_chart(t)
    option = encoded(chart)["option"]
    assert chart.kind == "line"
    assert option["xAxis"]["data"] == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert {s["name"]: s["data"] for s in option["series"]} == {"north": [2, 4, 6], "south": [1, 2, 3]}
    assert "legend" in option


def test_several_numbers_over_time_are_several_lines_with_a_legend() -> None:
    t = table(["at", "orders", "revenue"], [["2024-01-02T10:00:00", 3, 9.5], ["2024-01-01T10:00:00", 1, 2.5]])
    option = encoded(recommend_chart(t))["option"]
    assert [s["name"] for s in option["series"]] == ["orders", "revenue"]
    assert option["series"][1]["data"] == [2.5, 9.5]
    assert option["legend"]["bottom"] == 0


def test_a_small_category_with_a_number_is_a_bar_in_table_order() -> None:
    t = table(["category", "avg_price"], [["tea", 4.5], ["coffee", 3.0], ["cocoa", 5.25]])
    chart = recommend_chart(t, question="What is the share of each category?")  # an average is no part of a whole
    option = encoded(chart)["option"]
    assert chart.kind == "bar"
    assert option["xAxis"]["data"] == ["tea", "coffee", "cocoa"]
    assert option["series"] == [{"name": "avg_price", "type": "bar", "data": [4.5, 3.0, 5.25]}]
    assert "legend" not in option


def test_parts_of_a_whole_with_a_share_like_question_are_a_pie() -> None:
    t = table(["status", "orders"], [["paid", 60], ["refunded", 5], ["pending", 35]])
    assert recommend_chart(t).kind == "bar"  # no hint that these are parts of a whole
    chart = recommend_chart(t, question="What share of orders is in each status?")
    option = encoded(chart)["option"]
    assert chart.kind == "pie"
    assert option["series"][0]["data"] == [
        {"name": "paid", "value": 60},
        {"name": "refunded", "value": 5},
        {"name": "pending", "value": 35},
    ]
    assert option["tooltip"] == {"trigger": "item", "formatter": "{b}: {c} ({d}%)"}
    assert recommend_chart(table(["status", "order_count"], t.rows)).kind == "pie"  # the column says "count"


def test_no_pie_for_negative_values_or_too_many_slices() -> None:
    negative = table(["team", "count"], [["a", 3], ["b", -1]])
    assert recommend_chart(negative).kind == "bar"
    many = table(["team", "count"], [[f"t{i}", i + 1] for i in range(9)])
    assert recommend_chart(many).kind == "bar"


def test_a_category_with_several_numbers_is_a_grouped_bar() -> None:
    t = table(["city", "orders", "returns"], [["Lyon", 10, 1], ["Nice", 7, 2]])
    chart = recommend_chart(t)
    option = encoded(chart)["option"]
    assert chart.kind == "bar"
    assert [(s["name"], s["data"]) for s in option["series"]] == [("orders", [10, 7]), ("returns", [1, 2])]
    assert "legend" in option


def test_a_high_cardinality_category_is_the_top_20_descending_and_says_so() -> None:
    t = table(["product", "sold"], [[f"p{i:02}", i] for i in range(40)])
    chart = recommend_chart(t)
    option = encoded(chart)["option"]
    assert chart.kind == "bar"
    assert option["xAxis"]["data"] == [f"p{i:02}" for i in range(39, 19, -1)]
    assert option["series"][0]["data"] == list(range(39, 19, -1))
    assert option["title"]["subtext"] == "top 20 of 40 values of product, by sold"


def test_repeated_categories_are_summed() -> None:
    t = table(["city", "amount"], [["Lyon", 1], ["Nice", 2], ["Lyon", 3]])
    option = encoded(recommend_chart(t))["option"]
    assert option["xAxis"]["data"] == ["Lyon", "Nice"]
    assert option["series"][0]["data"] == [4, 2]
    assert option["title"]["subtext"] == "sum per category"


def test_two_numbers_are_a_scatter() -> None:
    t = table(["height", "weight"], [[170, 65.5], [180, 80], [None, 3]])
    chart = recommend_chart(t)
    option = encoded(chart)["option"]
    assert chart.kind == "scatter"
    assert option["series"][0]["data"] == [[170, 65.5], [180, 80]]
    assert (option["xAxis"]["name"], option["yAxis"]["name"]) == ("height", "weight")


def test_a_single_number_is_a_number_card() -> None:
    chart = recommend_chart(table(["total_revenue"], [[Decimal("1234567.5")]]))
    option = encoded(chart)["option"]
    assert chart.kind == "number"
    assert chart.title == "total_revenue"
    assert option["graphic"][0]["style"]["text"] == "1,234,567.50"
    card = encoded(recommend_chart(table(["metric", "value"], [["orders", 1204]])))["option"]
    assert card["title"]["text"] == "orders"
    assert card["graphic"][0]["style"]["text"] == "1,204"
    assert encoded(recommend_chart(table(["n"], [[3.14159]])))["option"]["graphic"][0]["style"]["text"] == "3.14"


def test_nothing_chartable_is_a_table() -> None:
    texts = recommend_chart(table(["name", "email"], [["Ada", "ada@example.com"]]))
    assert texts.kind == "table"
    assert encoded(texts)["option"]["dataset"] == {
        "dimensions": ["name", "email"],
        "source": [["Ada", "ada@example.com"]],
    }
    assert recommend_chart(table(["n"], [])).kind == "table"
    assert recommend_chart(table([], [])).kind == "table"
    assert recommend_chart(table(["n"], [[1], [2], [3]])).kind == "table"  # numbers with nothing to plot against


# -- explicit choices --------------------------------------------------------------------------------------------


def test_explicit_kind_x_and_y_are_honoured() -> None:
    t = table(["city", "month", "orders", "returns"], [["Lyon", "2024-01", 10, 1], ["Nice", "2024-02", 7, 2]])
    bar = recommend_chart(t, kind="bar", x="month", y=["returns"], title="Returns")
    option = encoded(bar)["option"]
    assert (bar.kind, bar.title) == ("bar", "Returns")
    assert option["xAxis"]["data"] == ["2024-01", "2024-02"]
    assert [s["name"] for s in option["series"]] == ["returns"]
    assert recommend_chart(t, kind="pie", x="city", y=["orders"]).kind == "pie"
    assert recommend_chart(t, kind="scatter", x="orders", y=["returns"]).kind == "scatter"
    assert recommend_chart(t, kind="line", y=["orders"]).option["xAxis"]["name"] == "month"
    assert recommend_chart(t, kind="table").kind == "table"
    assert recommend_chart(t, x="city").kind == "bar"  # auto along a named column
    assert recommend_chart(t, x="CITY").option["xAxis"]["name"] == "city"  # names match case-insensitively


def test_a_named_column_that_does_not_exist_is_a_located_error() -> None:
    t = table(["city", "orders"], [["Lyon", 10]])
    with pytest.raises(ValidationError) as raised:
        recommend_chart(t, x="town")
    assert raised.value.detail == "chart x: no column 'town' in the table (columns: city, orders)"
    assert raised.value.extra == {"param": "x", "column": "town", "columns": ["city", "orders"]}
    with pytest.raises(ValidationError, match=r"chart y: no column 'sales'"):
        recommend_chart(t, y=["orders", "sales"])
    with pytest.raises(ValidationError, match=r"chart y: column 'city' holds no numbers"):
        recommend_chart(t, y=["city"])
    with pytest.raises(ValidationError, match=r"chart kind 'donut' is unknown"):
        recommend_chart(t, kind="donut")
    with pytest.raises(ValidationError, match=r"a scatter chart of this table is not possible"):
        recommend_chart(t, kind="scatter")


# -- any table ---------------------------------------------------------------------------------------------------

_cells = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-1000, max_value=1000),
    st.text(max_size=12),
    st.dates(),
    st.datetimes(),
    st.sampled_from(["2024-01", "2024-01-05", "2024-01-05T10:00:00Z", "north", "south"]),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
_types = st.sampled_from(["integer", "number", "text", "boolean", "date", "datetime", "json", "unknown", ""])


@st.composite
def tables(draw: st.DrawFn) -> Table:
    width = draw(st.integers(min_value=0, max_value=5))
    columns = draw(st.lists(st.text(min_size=1, max_size=8), min_size=width, max_size=width))
    height = draw(st.integers(min_value=0, max_value=30))
    # columns tend to hold one kind of value: draw each column from one strategy, sometimes mixed
    kinds = [draw(st.sampled_from(range(10))) for _ in range(width)]
    strategies = [_cells if draw(st.booleans()) else _one_kind(k) for k in kinds]
    rows = [[draw(strategies[c]) for c in range(width)] for _ in range(height)]
    types = draw(st.one_of(st.just([]), st.lists(_types, min_size=width, max_size=width)))
    return Table(columns=columns, rows=rows, types=types)


def _one_kind(k: int) -> st.SearchStrategy[Any]:
    return [
        st.integers(min_value=-5, max_value=50),
        st.floats(min_value=-1e6, max_value=1e6),
        st.sampled_from(["a", "b", "c", "d"]),
        st.text(max_size=6),
        st.dates(),
        st.sampled_from(["2024-01", "2024-02", "2023-12"]),
        st.booleans(),
        st.integers(min_value=1990, max_value=2030),
        st.none(),
        st.decimals(allow_nan=False, allow_infinity=False, places=1, min_value=0, max_value=99),
    ][k]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.sampled_from(["", "share of orders", "trend"]))
def test_any_table_gives_a_json_chart_spec_and_never_raises(t: Table, question: str) -> None:
    chart = recommend_chart(t, question=question)
    assert chart.kind in {"line", "bar", "pie", "scatter", "number", "table"}
    plain = encoded(chart)
    assert isinstance(plain["option"], dict)
    assert "series" in plain["option"]
    assert isinstance(plain["option"]["title"]["text"], str)
