"""The metrics: exact, contains, json_match, Spider's execution accuracy (order rule, permutations, values), judge."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from rivulet.evaluation.metrics import (
    contains,
    exact,
    has_top_level_order_by,
    json_match,
    llm_judge,
    normalise_value,
    results_match,
    sql_execution,
    sql_of,
)
from rivulet.lib.exceptions import DatasourceError
from rivulet.sdk.models import ChatResult
from rivulet.sdk.ports import SQLQuery, Table

if TYPE_CHECKING:
    from rivulet.sdk.models import ChatRequest


def test_exact_normalises_text_and_numbers() -> None:
    assert exact("4", " 4\n").passed
    assert not exact("4", "four").passed
    assert exact({"a": 1, "b": [1.0, "x"]}, {"b": [1, "x"], "a": 1.0}).passed
    assert not exact({"a": 1}, {"a": 1, "b": 2}).passed
    assert exact('{"a": 1}', {"a": 1}).passed  # a text expectation compares with the output's JSON text
    assert not exact(True, 1).passed


def test_contains_ignores_case_and_spacing_and_scores_a_share() -> None:
    assert contains("Paris", "The capital is   paris.").passed
    partial = contains(["Paris", "France", "Lyon"], "Paris is in France")
    assert not partial.passed
    assert partial.score == pytest.approx(2 / 3)
    assert partial.details == {"missing": ["Lyon"]}


def test_json_match_allows_extra_keys_and_reads_json_in_text() -> None:
    output = 'Here you go:\n```json\n{"name": "Ada", "age": 36.0, "tags": ["a", "b"], "extra": true}\n```'
    assert json_match({"name": "Ada", "age": 36, "tags": ["a", "b"]}, output).passed
    half = json_match({"name": "Ada", "age": 37}, {"name": "Ada", "age": 36})
    assert not half.passed
    assert half.score == 0.5
    assert half.details["mismatches"] == ["$.age"]
    assert json_match({"a": {"b": 1}}, {"a": {}}).details["mismatches"] == ["$.a.b"]
    broken = json_match({"a": 1}, "no json here")
    assert not broken.passed
    assert broken.details["reason"] == "the output is not JSON"


def test_values_are_normalised() -> None:
    assert normalise_value(Decimal("142000.00")) == 142000
    assert normalise_value(0.1 + 0.2) == normalise_value(Decimal("0.3"))
    assert normalise_value(133.2047499999999) == normalise_value(Decimal("133.20475"))
    assert normalise_value(True) == 1
    assert normalise_value(date(2024, 1, 5)) == "2024-01-05"
    assert normalise_value(datetime(2024, 1, 5, 14, 22)) == "2024-01-05 14:22:00"
    assert normalise_value(None) is None


def test_results_compare_as_multisets_unless_ordered() -> None:
    gold = [("a", 1), ("b", 2), ("b", 2)]
    assert results_match(gold, [("b", 2), ("a", 1), ("b", 2)], ordered=False)
    assert not results_match(gold, [("b", 2), ("a", 1), ("b", 2)], ordered=True)
    assert not results_match(gold, [("a", 1), ("b", 2)], ordered=False)  # a multiset, not a set
    assert not results_match(gold, [("a", 1), ("b", 2), ("c", 2)], ordered=False)
    assert results_match([], [], ordered=True)
    assert not results_match([(1,)], [(1, 2)], ordered=False)


def test_columns_may_come_in_another_order() -> None:
    gold = [("Books", 6), ("Electronics", 8)]
    assert results_match(gold, [(8, "Electronics"), (6, "Books")], ordered=False)
    assert results_match(gold, [(6, "Books"), (8, "Electronics")], ordered=True)
    assert not results_match(gold, [(6, "Electronics"), (8, "Books")], ordered=False)
    # same column values, but rows pair them differently: not a permutation of columns
    assert not results_match([(1, 2), (2, 1)], [(1, 1), (2, 2)], ordered=False)


def test_float_decimal_and_int_are_equal_in_results() -> None:
    assert results_match([(Decimal("70810.67"),)], [(70810.67000000003,)], ordered=False)
    assert results_match([(3,)], [(3.0,)], ordered=False)
    assert results_match([(None, 1)], [(None, 1.0)], ordered=False)


@pytest.mark.parametrize(
    ("sql", "ordered"),
    [
        ("SELECT name FROM products ORDER BY unit_price DESC LIMIT 5", True),
        ("SELECT name FROM products", False),
        ("SELECT name FROM (SELECT name, unit_price FROM products ORDER BY unit_price) AS t", False),
        ("SELECT name, rank() OVER (ORDER BY unit_price) FROM products", False),
        ("SELECT a FROM t WHERE x IN (SELECT x FROM u ORDER BY x LIMIT 3)", False),
        ("SELECT a FROM t UNION SELECT a FROM u ORDER BY a", True),
        ("WITH c AS (SELECT * FROM t ORDER BY a) SELECT * FROM c", False),
        ("WITH c AS (SELECT * FROM t) SELECT * FROM c ORDER BY 1", True),
        ("SELECT 'order by' AS x FROM t", False),
    ],
)
def test_only_a_top_level_order_by_makes_order_matter(sql: str, ordered: bool) -> None:
    assert has_top_level_order_by(sql, "sqlite") is ordered


def test_order_by_of_unparsable_sql_is_found_at_depth_zero() -> None:
    assert has_top_level_order_by("SELECT ??? FROM t ORDER BY x", "sqlite")
    assert not has_top_level_order_by("SELECT ??? FROM (SELECT x FROM t ORDER BY x)", "sqlite")


def test_sql_of_reads_texts_queries_and_objects() -> None:
    assert sql_of(" SELECT 1 ") == "SELECT 1"
    assert sql_of(SQLQuery(sql="SELECT 2", dialect="sqlite")) == "SELECT 2"
    assert sql_of({"query": {"sql": "SELECT 3"}, "table": None}) == "SELECT 3"
    assert sql_of({"answer": 3}) is None


async def test_sql_execution_runs_both_queries_on_the_database() -> None:
    con = sqlite3.connect(":memory:")
    con.executescript(
        "CREATE TABLE p (name TEXT, price REAL); INSERT INTO p VALUES ('a', 3.5), ('b', 1.25), ('c', 9.99);"
    )

    async def run(sql: str) -> Table:
        try:
            cursor = con.execute(sql)
        except sqlite3.Error as exc:
            raise DatasourceError(str(exc), extra={"reason": "query"}) from exc
        return Table(columns=[c[0] for c in cursor.description], rows=[list(r) for r in cursor.fetchall()])

    gold = "SELECT name FROM p ORDER BY price DESC"
    assert (await sql_execution(gold, "SELECT name FROM p ORDER BY price DESC", run)).passed
    wrong_order = await sql_execution(gold, "SELECT name FROM p ORDER BY price", run)
    assert not wrong_order.passed
    assert wrong_order.details["ordered"] is True
    assert (await sql_execution("SELECT name FROM p", "SELECT name FROM p ORDER BY price", run)).passed
    failing = await sql_execution(gold, "SELECT nope FROM p", run)
    assert not failing.passed
    assert "the SQL failed" in failing.details["reason"]
    assert failing.error is None  # a wrong prediction is a result, not an error
    broken_gold = await sql_execution("SELECT nope FROM p", "SELECT name FROM p", run)
    assert broken_gold.error is not None
    assert broken_gold.error.startswith("the gold SQL failed")
    assert not (await sql_execution(gold, None, run)).passed


class _Judge:
    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.requests: list[ChatRequest] = []

    async def chat(self, model: str, request: ChatRequest, *, origin: Any = None) -> ChatResult:
        self.requests.append(request)
        return ChatResult(text=self.answer, model=model)


async def test_llm_judge_asks_for_a_strict_schema_and_reads_the_verdict() -> None:
    judge = _Judge('{"score": 0.8, "reason": "same meaning"}')
    score = await llm_judge(judge, "judge", inputs={"q": "capital?"}, expected="Paris", output="It is Paris.")  # pyright: ignore[reportArgumentType]
    assert score.passed
    assert score.score == 0.8
    assert score.details["reason"] == "same meaning"
    request = judge.requests[0]
    assert request.json_schema is not None
    assert request.json_schema["required"] == ["score", "reason"]
    assert request.temperature == 0.0
    assert "Paris" in request.messages[-1].content


async def test_llm_judge_clamps_and_reports_a_bad_answer() -> None:
    high = await llm_judge(_Judge('{"score": 7, "reason": "x"}'), "j", inputs={}, expected=1, output=1)  # pyright: ignore[reportArgumentType]
    assert high.score == 1.0
    bad = await llm_judge(_Judge("I think it is fine"), "j", inputs={}, expected=1, output=1)  # pyright: ignore[reportArgumentType]
    assert not bad.passed
    assert bad.error is not None
