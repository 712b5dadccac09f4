"""The Text2SQL loop with a scripted model and fake data source tools: repairs, limits, extraction, the baseline."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from rivulet.data.autofix import autofix_sql
from rivulet.data.linking import schema_text
from rivulet.data.text2sql import Text2SQLTools, failure_hints, render_prompt, run_text2sql
from rivulet.lib.exceptions import DatasourceError, SQLRefusedError, ValidationError
from rivulet.sdk.data import (
    ColumnInfo,
    DatasourceInfo,
    GuardedQuery,
    SchemaContext,
    TableInfo,
    Text2SQLExample,
    Text2SQLRequest,
    Text2SQLStep,
)
from rivulet.sdk.ports import Message, Table
from tests.unit.providers.fakes import FakeModels

CUSTOMERS = TableInfo(
    name="customers",
    comment="People who bought something",
    columns=[
        ColumnInfo(name="id", type="INTEGER", primary_key=True),
        ColumnInfo(name="name", type="TEXT", nullable=False, samples=["Ada", "Bob"]),
        ColumnInfo(name="city", type="TEXT", comment="where they live"),
    ],
    row_count=3,
)
ORDERS = TableInfo(
    name="orders",
    columns=[
        ColumnInfo(name="id", type="INTEGER", primary_key=True),
        ColumnInfo(name="customer_id", type="INTEGER", references="customers.id"),
        ColumnInfo(name="total", type="REAL"),
    ],
)
INFO = DatasourceInfo(id="ds-1", name="shop", kind="sqlite", dialect="sqlite")
EXAMPLE = Text2SQLExample(question="How many customers?", sql="SELECT COUNT(*) FROM customers")
ROWS = Table(columns=["name"], rows=[["Ada"]], types=["text"])


def fence(sql: str) -> str:
    return f"Here you go:\n```sql\n{sql}\n```"


def extract(text: str) -> str:
    match = re.search(r"```(?:sql)?\s*(.*?)```", text, re.DOTALL)
    return match.group(1).strip() if match else ""


@dataclass
class FakeSource:
    """Links every table, refuses unknown columns like the guard, fails like a database on ``total_price``."""

    linked: list[tuple[str, bool, int, int]] = field(default_factory=list[tuple[str, bool, int, int]])
    guarded: list[str] = field(default_factory=list[str])
    executed: list[str] = field(default_factory=list[str])
    tables: list[TableInfo] = field(default_factory=lambda: [CUSTOMERS, ORDERS])
    examples: list[Text2SQLExample] = field(default_factory=lambda: [EXAMPLE])
    connect_fails: bool = False

    async def link(self, question: str, linking: bool, top_k: int, examples: int) -> SchemaContext:
        self.linked.append((question, linking, top_k, examples))
        tables = self.tables[:top_k] if linking else self.tables
        return SchemaContext(
            datasource="shop",
            dialect="sqlite",
            tables=tables,
            text=schema_text(tables),
            examples=self.examples[:examples],
        )

    async def guard(self, sql: str) -> GuardedQuery:
        self.guarded.append(sql)
        if not sql.lower().startswith("select"):
            raise SQLRefusedError("only SELECT queries are allowed", extra={"rule": "read_only"})
        if "nmae" in sql:
            raise SQLRefusedError(
                "unknown column customers.nmae", extra={"rule": "unknown_column", "suggestions": ["customers.name"]}
            )
        if "select from" in sql.lower():
            raise SQLRefusedError("cannot parse the SQL: expected an expression", extra={"rule": "parse"})
        return GuardedQuery(sql=f"{sql} LIMIT 1001", dialect="sqlite", tables=["customers"], limit=1000)

    async def execute(self, guarded: GuardedQuery) -> Table:
        self.executed.append(guarded.sql)
        if self.connect_fails:
            raise DatasourceError("cannot connect to shop", extra={"reason": "connect"})
        if "total_price" in guarded.sql:
            raise DatasourceError("no such column: total_price", extra={"reason": "query"})
        return ROWS

    def tools(self) -> Text2SQLTools:
        return Text2SQLTools(link=self.link, guard=self.guard, execute=self.execute, extract=extract)


async def ask(source: FakeSource, models: FakeModels, steps: list[Text2SQLStep] | None = None, **options: Any) -> Any:
    request = Text2SQLRequest(question="Who are the customers?", **options)

    async def on_step(step: Text2SQLStep) -> None:
        if steps is not None:
            steps.append(step)

    return await run_text2sql(request, datasource=INFO, models=models, tools=source.tools(), on_step=on_step)


async def test_a_database_error_is_sent_back_and_the_repaired_query_answers() -> None:
    models = FakeModels(answers=[fence("SELECT total_price FROM orders"), fence("SELECT name FROM customers")])
    source = FakeSource()
    steps: list[Text2SQLStep] = []
    result = await ask(source, models, steps)
    assert result.ok
    assert result.sql == "SELECT name FROM customers LIMIT 1001"
    assert result.table == ROWS
    assert [(a.attempt, a.stage, a.error) for a in result.attempts] == [
        (0, "execute", "no such column: total_price"),
        (1, None, None),
    ]
    assert result.linked_tables == ["customers", "orders"]
    _, repair_request = models.requests[1]
    repair = repair_request.messages[-1].content
    assert "no such column: total_price" in repair
    assert "SELECT total_price FROM orders" in repair
    assert "orders has the columns: id, customer_id, total" in repair  # the real columns of the table it named
    assert [m.role for m in repair_request.messages] == ["user"]  # a fresh prompt, not a chat continuation
    assert "CREATE TABLE orders (" in repair  # it holds the schema and the question again
    assert "Who are the customers?" in repair
    assert "Write a different, corrected query" in repair
    kinds = [(s.kind, s.attempt) for s in steps]
    assert kinds == [
        ("link", 0),
        ("prompt", 0),
        ("generate", 0),
        ("guard", 0),
        ("execute", 0),
        ("repair", 1),
        ("generate", 1),
        ("guard", 1),
        ("execute", 1),
        ("done", 1),
    ]
    assert steps[4].detail["ok"] is False
    assert steps[-1].detail == {"ok": True, "sql": result.sql, "attempts": 2, "error": None, "rows": 1}


async def test_the_prompt_holds_the_schema_examples_history_and_question() -> None:
    models = FakeModels(answers=[fence("SELECT name FROM customers")])
    source = FakeSource()
    request = Text2SQLRequest(
        question="And their cities?",
        history=[Message(role="user", content="Who are the customers?"), Message(role="assistant", content="Ada")],
        temperature=0.3,
    )
    result = await run_text2sql(request, datasource=INFO, models=models, tools=source.tools())
    _, sent = models.requests[0]
    prompt = sent.messages[0].content
    assert sent.temperature == 0.3
    assert result.prompt == prompt
    assert "SQLite" in prompt
    assert "strftime" in prompt  # dialect-specific instructions
    assert "CREATE TABLE customers (" in prompt
    assert "-- People who bought something" in prompt
    assert "name TEXT NOT NULL, -- e.g. 'Ada', 'Bob'" in prompt
    assert "customer_id INTEGER REFERENCES customers(id)" in prompt
    assert "How many customers?" in prompt
    assert "SELECT COUNT(*) FROM customers" in prompt
    assert "user: Who are the customers?" in prompt
    assert prompt.rstrip().endswith("Question: And their cities?")


async def test_a_history_ending_with_the_question_itself_does_not_repeat_it() -> None:
    models = FakeModels(answers=[fence("SELECT city FROM customers")])
    request = Text2SQLRequest(
        question="And their cities?",
        history=[
            Message(role="user", content="Who are the customers?"),
            Message(role="assistant", content="Ada"),
            Message(role="user", content="And their cities?"),  # conversation memory holds the turn being asked
        ],
    )
    await run_text2sql(request, datasource=INFO, models=models, tools=FakeSource().tools())
    prompt = models.requests[0][1].messages[0].content
    assert prompt.count("And their cities?") == 1
    assert "user: Who are the customers?" in prompt


async def test_guard_refusals_are_repaired_with_the_guard_hints() -> None:
    models = FakeModels(answers=[fence("SELECT nmae FROM customers"), fence("SELECT name FROM customers")])
    source = FakeSource()
    result = await ask(source, models)
    assert result.ok
    assert result.attempts[0].stage == "guard"
    assert source.executed == ["SELECT name FROM customers LIMIT 1001"]  # the refused query never ran
    repair = models.requests[1][1].messages[-1].content
    assert "unknown column customers.nmae" in repair
    assert "Did you mean: customers.name?" in repair
    assert "customers has the columns: id, name, city" in repair


async def test_max_repairs_is_respected_and_the_last_error_reported() -> None:
    models = FakeModels(answers=[fence("SELECT total_price FROM orders")])
    source = FakeSource()
    steps: list[Text2SQLStep] = []
    result = await ask(source, models, steps, max_repairs=2)
    assert not result.ok
    assert len(models.requests) == 7  # the first answer, then each repair tried 3 times (it repeats itself)
    assert len(result.attempts) == 3
    assert result.error == "no such column: total_price"
    assert result.sql == "SELECT total_price FROM orders LIMIT 1001"
    assert result.table is None
    assert [s.kind for s in steps].count("repair") == 2
    assert steps[-1].kind == "done"
    assert steps[-1].detail["ok"] is False

    models = FakeModels(answers=[fence("SELECT total_price FROM orders")])
    result = await ask(FakeSource(), models, max_repairs=0)
    assert not result.ok
    assert len(models.requests) == 1


async def test_an_answer_without_sql_is_an_extract_failure_then_repaired() -> None:
    models = FakeModels(
        answers=["I think you should look at the customers table.", fence("SELECT name FROM customers")]
    )
    source = FakeSource()
    result = await ask(source, models)
    assert result.ok
    assert (result.attempts[0].stage, result.attempts[0].sql) == ("extract", "")
    assert source.guarded == ["SELECT name FROM customers"]
    repair = models.requests[1][1].messages[-1].content
    assert "no SQL query was found" in repair

    def broken(text: str) -> str:
        raise ValueError("the answer holds two statements")

    models = FakeModels(answers=["whatever"])
    tools = Text2SQLTools(link=source.link, guard=source.guard, execute=source.execute, extract=broken)
    request = Text2SQLRequest(question="Who?", max_repairs=0)
    result = await run_text2sql(request, datasource=INFO, models=models, tools=tools)
    assert (result.ok, result.error, result.attempts[0].stage) == (False, "the answer holds two statements", "extract")


async def test_parse_failures_are_their_own_stage() -> None:
    models = FakeModels(answers=[fence("SELECT FROM customers"), fence("DELETE FROM customers")])
    result = await ask(FakeSource(), models, max_repairs=1)
    assert [a.stage for a in result.attempts] == ["parse", "guard"]
    assert result.error == "only SELECT queries are allowed"


async def test_the_raw_baseline_is_the_same_loop_without_linking_examples_or_repairs() -> None:
    models = FakeModels(answers=[fence("SELECT total_price FROM orders"), fence("SELECT name FROM customers")])
    source = FakeSource()
    result = await ask(source, models, linking=False, examples=0, max_repairs=0)
    assert not result.ok
    assert len(models.requests) == 1
    assert source.linked == [("Who are the customers?", False, 8, 0)]
    prompt = models.requests[0][1].messages[0].content
    assert "Examples of questions" not in prompt
    assert "CREATE TABLE orders" in prompt

    models = FakeModels(answers=[fence("SELECT name FROM customers")])
    result = await ask(FakeSource(), models, linking=False, examples=0, max_repairs=0)
    assert result.ok


async def test_execute_false_stops_after_the_guard() -> None:
    models = FakeModels(answers=[fence("SELECT name FROM customers")])
    source = FakeSource()
    result = await ask(source, models, execute=False)
    assert result.ok
    assert result.table is None
    assert source.executed == []
    assert result.sql == "SELECT name FROM customers LIMIT 1001"


async def test_an_unreachable_database_is_not_repaired() -> None:
    models = FakeModels(answers=[fence("SELECT name FROM customers")])
    result = await ask(FakeSource(connect_fails=True), models)
    assert not result.ok
    assert len(models.requests) == 1
    assert result.error == "cannot connect to shop"


async def test_a_custom_prompt_template_is_rendered_in_the_sandbox() -> None:
    models = FakeModels(answers=[fence("SELECT name FROM customers")])
    template = "{{ dialect }} | {{ tables | join(',') }} | {{ examples | length }} | {{ question }}"
    result = await ask(FakeSource(), models, prompt_template=template)
    assert result.prompt == "sqlite | customers,orders | 1 | Who are the customers?\n"

    with pytest.raises(ValidationError, match="prompt_template"):
        await ask(FakeSource(), models, prompt_template="{{ nope }}")
    with pytest.raises(ValidationError, match="prompt_template"):
        await ask(FakeSource(), models, prompt_template="{{ question.__class__ }}")
    with pytest.raises(ValidationError, match="prompt_template does not compile"):
        await ask(FakeSource(), models, prompt_template="{% if %}")


async def test_prompts_per_dialect() -> None:
    for dialect, marker in [("postgres", "ILIKE"), ("mysql", "DATE_FORMAT"), ("duckdb", "year(col)")]:
        context = SchemaContext(datasource="x", dialect=dialect, tables=[CUSTOMERS], text=schema_text([CUSTOMERS]))
        prompt = await render_prompt(Text2SQLRequest(question="q"), context)
        assert marker in prompt


def test_hints_name_the_tables_of_the_sql_or_every_linked_table() -> None:
    context = SchemaContext(datasource="x", dialect="sqlite", tables=[CUSTOMERS, ORDERS], text="")
    hints = failure_hints(None, "no such column: x", "SELECT x FROM orders", context)
    assert hints[0] == "orders has the columns: id, customer_id, total"
    assert hints[-1] == "The tables are: customers, orders"
    assert failure_hints(None, "division by zero", "SELECT 1/0", context) == []
    refusal = SQLRefusedError("no", extra={"hint": "use customers.name"})
    assert failure_hints(refusal, "refused", "SELECT 1", context) == ["use customers.name"]


async def test_a_repair_that_repeats_the_failed_sql_is_resampled_at_higher_temperatures() -> None:
    models = FakeModels(
        answers=[
            fence("SELECT total_price FROM orders"),
            fence("select total_price from orders;"),  # the same query (normalised)
            fence("SELECT total_price  FROM orders"),
            fence("SELECT total FROM orders"),
        ]
    )
    steps: list[Text2SQLStep] = []
    result = await ask(FakeSource(), models, steps, max_repairs=1)
    assert result.ok
    assert result.sql == "SELECT total FROM orders LIMIT 1001"
    sent = [(r.temperature, r.seed) for _, r in models.requests]
    assert sent == [(0.0, None), (0.0, None), (0.4, 1), (0.8, 2)]
    assert [(a.attempt, a.sql) for a in result.attempts] == [
        (0, "SELECT total_price FROM orders"),
        (1, "SELECT total FROM orders"),
    ]
    resampled = [s.detail["temperature"] for s in steps if s.kind == "generate" and s.detail.get("resample")]
    assert resampled == [0.4, 0.8]


async def test_the_repair_prompt_is_single_turn_and_holds_the_error_and_earlier_failures() -> None:
    models = FakeModels(
        answers=[fence("SELECT total_price FROM orders"), fence("SELECT price FROM orders"), fence("SELECT 1")]
    )

    class Source(FakeSource):
        async def execute(self, guarded: GuardedQuery) -> Table:
            if "price" in guarded.sql:
                raise DatasourceError(f"no such column in {guarded.sql}", extra={"reason": "query"})
            return ROWS

    result = await ask(Source(), models, max_repairs=2)
    assert result.ok
    second = models.requests[2][1]
    assert [m.role for m in second.messages] == ["user"]
    prompt = second.messages[0].content
    assert "no such column in SELECT price FROM orders LIMIT 1001" in prompt
    assert "do not write them again" in prompt
    assert "SELECT total_price FROM orders" in prompt  # the earlier failure is listed


class AliasGuard(FakeSource):
    """Refuses a column qualified with an alias whose table lacks it, or left unqualified in a join."""

    async def guard(self, sql: str) -> GuardedQuery:
        self.guarded.append(sql)
        if "o.name" in sql:
            raise SQLRefusedError(
                "column o.name: 'o' has no column name; name is in customers", extra={"rule": "unknown_column"}
            )
        if "SELECT id" in sql:
            raise SQLRefusedError("column 'id' is in several tables", extra={"rule": "ambiguous_column"})
        return GuardedQuery(sql=sql, dialect="sqlite", tables=["customers", "orders"], limit=1000)


async def test_autofix_requalifies_a_column_with_the_alias_of_its_table_without_a_model_call() -> None:
    sql = "SELECT o.name, o.total FROM customers AS c JOIN orders AS o ON c.id = o.customer_id"
    models = FakeModels(answers=[fence(sql)])
    source = AliasGuard()
    steps: list[Text2SQLStep] = []
    result = await ask(source, models, steps)
    assert result.ok
    assert len(models.requests) == 1  # no repair asked of the model
    assert result.sql == "SELECT c.name, o.total FROM customers AS c JOIN orders AS o ON c.id = o.customer_id"
    assert [(a.attempt, a.stage) for a in result.attempts] == [(0, "guard"), (1, None)]
    assert result.attempts[1].raw == "autofix: o.name -> c.name"
    repair = next(s for s in steps if s.kind == "repair")
    assert repair.detail["autofix"] is True
    assert repair.detail["change"] == "o.name -> c.name"


async def test_autofix_qualifies_an_ambiguous_column_with_the_first_table_that_has_it() -> None:
    models = FakeModels(
        answers=[fence("SELECT id, total FROM orders JOIN customers ON customers.id = orders.customer_id")]
    )
    result = await ask(AliasGuard(), models)
    assert result.ok
    assert len(models.requests) == 1
    assert result.sql.startswith("SELECT orders.id, total FROM orders JOIN customers")


async def test_no_autofix_in_the_raw_baseline() -> None:
    sql = "SELECT o.name FROM customers AS c JOIN orders AS o ON c.id = o.customer_id"
    result = await ask(AliasGuard(), FakeModels(answers=[fence(sql)]), linking=False, examples=0, max_repairs=0)
    assert not result.ok
    assert len(result.attempts) == 1


def test_autofix_joins_the_one_table_a_foreign_key_links_for_a_missing_column() -> None:
    payments = TableInfo(
        name="payments",
        columns=[
            ColumnInfo(name="id", type="INTEGER", primary_key=True),
            ColumnInfo(name="order_id", type="INTEGER", references="orders.id"),
            ColumnInfo(name="amount", type="REAL"),
        ],
    )
    orders = TableInfo(name="orders", columns=[*ORDERS.columns, ColumnInfo(name="status", type="TEXT")])
    fixed = autofix_sql(
        "SELECT SUM(amount) FROM payments WHERE status = 'returned'",
        dialect="sqlite",
        tables=[CUSTOMERS, orders, payments],
    )
    assert fixed is not None
    sql, changes = fixed
    joined = "FROM payments JOIN orders ON orders.id = payments.order_id"
    assert sql == f"SELECT SUM(amount) {joined} WHERE orders.status = 'returned'"
    assert changes == ["status -> orders.status (joined orders ON orders.id = payments.order_id)"]
    # a join condition on a wrong column, between tables no foreign key links, is left to the model
    notes = TableInfo(
        name="notes", columns=[ColumnInfo(name="id", type="INTEGER"), ColumnInfo(name="city", type="TEXT")]
    )
    wrong_join = "SELECT c.name FROM customers AS c JOIN notes AS n ON c.id = n.customer"
    assert autofix_sql(wrong_join, dialect="sqlite", tables=[CUSTOMERS, notes]) is None


def test_autofix_replaces_a_join_condition_on_a_missing_column_with_the_foreign_key() -> None:
    sql = "SELECT c.name, COUNT(*) FROM orders AS o JOIN customers AS c ON o.buyer_id = c.id GROUP BY c.name"
    fixed = autofix_sql(sql, dialect="sqlite", tables=[CUSTOMERS, ORDERS])
    assert fixed is not None
    assert "JOIN customers AS c ON o.customer_id = c.id" in fixed[0]
    assert fixed[1] == ["ON o.buyer_id = c.id -> ON o.customer_id = c.id"]


# A category -> product -> order line path: small models join the wrong end of it.
CATEGORIES = TableInfo(
    name="categories",
    columns=[ColumnInfo(name="category_id", type="INTEGER", primary_key=True), ColumnInfo(name="name", type="TEXT")],
)
PRODUCTS = TableInfo(
    name="products",
    columns=[
        ColumnInfo(name="product_id", type="INTEGER", primary_key=True),
        ColumnInfo(name="category_id", type="INTEGER", references="categories.category_id"),
        ColumnInfo(name="unit_price", type="REAL"),
    ],
)
SHOP_ORDERS = TableInfo(
    name="orders",
    columns=[
        ColumnInfo(name="order_id", type="INTEGER", primary_key=True),
        ColumnInfo(name="customer_id", type="INTEGER", references="customers.customer_id"),
    ],
)
SHOP_CUSTOMERS = TableInfo(
    name="customers",
    columns=[ColumnInfo(name="customer_id", type="INTEGER", primary_key=True), ColumnInfo(name="city", type="TEXT")],
)
ORDER_ITEMS = TableInfo(
    name="order_items",
    columns=[
        ColumnInfo(name="order_id", type="INTEGER", references="orders.order_id"),
        ColumnInfo(name="product_id", type="INTEGER", references="products.product_id"),
        ColumnInfo(name="unit_price", type="REAL"),
    ],
)
SHOP = [CATEGORIES, PRODUCTS, SHOP_ORDERS, SHOP_CUSTOMERS, ORDER_ITEMS]


def test_autofix_swaps_a_joined_table_for_the_one_with_the_key_and_the_columns_read() -> None:
    sql = (
        "SELECT T1.name, AVG(T2.unit_price) FROM categories AS T1 JOIN order_items AS T2 "
        "ON T1.category_id = T2.category_id GROUP BY T1.category_id HAVING AVG(T2.unit_price) > 100"
    )
    fixed = autofix_sql(sql, dialect="sqlite", tables=SHOP)
    assert fixed is not None
    assert "JOIN products AS T2 ON T1.category_id = T2.category_id" in fixed[0]
    assert fixed[1] == ["JOIN order_items -> JOIN products (it has category_id and a foreign key to categories)"]
    # no table has every column read through the alias: nothing is swapped
    reads_order = sql.replace("AVG(T2.unit_price) > 100", "MAX(T2.order_id) > 1")
    assert autofix_sql(reads_order, dialect="sqlite", tables=SHOP) is None


def test_autofix_fixes_a_column_then_the_join_it_made_possible() -> None:
    sql = (
        "SELECT T2.name, AVG(T1.unit_price) FROM categories AS T1 JOIN order_items AS T2 "
        "ON T1.category_id = T2.category_id GROUP BY T1.category_id"
    )
    fixed = autofix_sql(sql, dialect="sqlite", tables=SHOP)
    assert fixed is not None
    assert fixed[0] == (
        "SELECT T1.name, AVG(T2.unit_price) FROM categories AS T1 JOIN products AS T2 "
        "ON T1.category_id = T2.category_id GROUP BY T1.category_id"
    )


def test_autofix_joins_the_linked_table_when_several_tables_have_the_column() -> None:
    # customer_id is in customers and orders; only orders is linked to order_items by a foreign key
    sql = (
        "SELECT DISTINCT customer_id FROM order_items WHERE product_id IN "
        "(SELECT product_id FROM products WHERE category_id = 3)"
    )
    fixed = autofix_sql(sql, dialect="sqlite", tables=SHOP)
    assert fixed is not None
    assert fixed[0] == (
        "SELECT DISTINCT orders.customer_id FROM order_items JOIN orders ON orders.order_id = order_items.order_id "
        "WHERE product_id IN (SELECT product_id FROM products WHERE category_id = 3)"
    )  # the subquery's own columns are its scope's, not the outer query's
