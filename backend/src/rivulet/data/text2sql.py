"""Text2SQL: a question becomes one guarded, read-only SQL query, repaired from its errors.

The pipeline (``run_text2sql``)::

    link     the schema context: relevant tables as CREATE TABLE text, few-shot examples (``rivulet.data.linking``)
    prompt   ``prompts/text2sql.j2`` (or the request's own template): dialect rules, schema, examples, history
    generate ModelRegistry.chat at the request's temperature; the SQL is taken out of the answer (``extract_sql``)
    guard    one read-only query over known tables and columns, a row limit added (``rivulet.data.guard``)
    execute  on the data source's read-only connection under the request's limits
    autofix  a guard refusal (unknown/ambiguous column, unknown table) fixed on the AST without the model
             (``rivulet.data.autofix``), guarded and executed again; only when ``max_repairs > 0``
    repair   any failure above (no SQL found, unparsable, refused, the database's error) goes to the model in a fresh
             single-turn ``prompts/repair.j2`` (schema, question, the SQL, the exact error, hints, earlier failures)
             up to ``max_repairs`` times; an answer repeating a failed SQL is resampled at 0.4 then 0.8
    done     a ``Text2SQLResult`` (``ok=False`` with the last error when every attempt failed)

Every stage is reported through ``on_step`` as a ``Text2SQLStep`` as it happens (``sql.generate`` streams them).
The raw-prompt baseline of the evaluation is the same code with ``linking=False, examples=0, max_repairs=0``.

The data source side (linking, guard, execution) comes in as ``Text2SQLTools`` so that the loop is tested with
fakes and runs for real in ``DataService``.
"""

from __future__ import annotations

import asyncio
import functools
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any, Final, Literal

from jinja2 import TemplateError

from rivulet.data.autofix import AUTOFIX_RULES, autofix_sql
from rivulet.lib.exceptions import AppError, DatasourceError, SQLRefusedError, ValidationError
from rivulet.sdk.data import (
    DatasourceInfo,
    GuardedQuery,
    SchemaContext,
    StepCallback,
    Text2SQLAttempt,
    Text2SQLRequest,
    Text2SQLResult,
    Text2SQLStep,
)
from rivulet.sdk.models import CallOrigin, ChatRequest, ModelRegistry
from rivulet.sdk.ports import Message, Table
from rivulet.sdk.templating import JINJA, run_sandboxed

if TYPE_CHECKING:
    from jinja2 import Template

    from rivulet.sdk.data import (
        TableInfo,
    )

__all__ = (
    "DIALECT_NAMES",
    "Text2SQLTools",
    "failure_hints",
    "render_prompt",
    "render_repair",
    "run_text2sql",
)

DIALECT_NAMES: Final[dict[str, str]] = {
    "postgres": "PostgreSQL",
    "mysql": "MySQL",
    "sqlite": "SQLite",
    "duckdb": "DuckDB",
}
"""How prompts name each sqlglot dialect."""

Stage = Literal["extract", "parse", "guard", "execute"]

_PARSE_RULES: Final = frozenset({"parse", "parse_error", "syntax", "unparsable", "empty"})
"""Guard rules that mean the text is not SQL at all (stage ``parse`` rather than ``guard``)."""
_UNKNOWN: Final = re.compile(
    r"unknown|no such (?:column|table)|does not exist|not found|doesn't exist|not exist|binder error|"
    r"referenced column|ambiguous",
    re.IGNORECASE,
)
_MAX_HINT_COLUMNS: Final = 60
_RESAMPLE_TEMPERATURES: Final = (0.4, 0.8)
"""A repair that repeats an earlier failed SQL is sampled again at these temperatures (one seed each)."""
_MAX_AUTOFIX: Final = 2
"""Deterministic fixes in a row before the model is asked."""
_NO_REPAIR_REASONS: Final = frozenset({"connect"})
"""Database failures a different query cannot fix (the source is unreachable): no repair is attempted."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Text2SQLTools:
    """What the loop needs from a data source.

    Attributes:
        link: The schema context for a question (``question, linking, top_k_tables, examples``).
        guard: Check SQL written in the source's dialect; raises ``SQLRefusedError`` (``extra["rule"]``).
        execute: Run a guarded query under the request's limits; raises ``DatasourceError``.
        extract: The SQL out of a model's answer (code fences, prose); raises or returns ``""`` when none.
    """

    link: Callable[[str, bool, int, int], Awaitable[SchemaContext]]
    guard: Callable[[str], Awaitable[GuardedQuery]]
    execute: Callable[[GuardedQuery], Awaitable[Table]]
    extract: Callable[[str], str]


@functools.cache
def _builtin(name: str) -> Template:
    source = resources.files("rivulet.data").joinpath("prompts", name).read_text(encoding="utf-8")
    return JINJA.from_string(source)


def _compile_custom(source: str) -> Template:
    try:
        return JINJA.from_string(source)
    except TemplateError as exc:
        raise ValidationError(
            f"prompt_template does not compile: {exc}",
            extra={"errors": [{"message": str(exc), "key": "prompt_template"}]},
        ) from exc


def _prompt_values(request: Text2SQLRequest, context: SchemaContext) -> dict[str, Any]:
    return {
        "question": request.question,
        "dialect": context.dialect,
        "dialect_name": DIALECT_NAMES.get(context.dialect, context.dialect),
        "schema": context.text,
        "tables": [table.name for table in context.tables],
        "examples": [{"question": e.question, "sql": e.sql} for e in context.examples],
        "history": _history(request),
    }


def _history(request: Text2SQLRequest) -> list[dict[str, str]]:
    """Earlier turns; a last user turn that is the question itself (conversation memory includes it) is dropped."""
    turns = [{"role": m.role, "content": m.content} for m in request.history if m.content.strip()]
    if turns and turns[-1]["role"] == "user" and turns[-1]["content"].strip() == request.question.strip():
        turns.pop()
    return turns


async def render_prompt(request: Text2SQLRequest, context: SchemaContext) -> str:
    """The first prompt: ``prompts/text2sql.j2`` or ``request.prompt_template`` (sandboxed jinja2).

    Variables: ``question``, ``dialect`` (sqlglot name), ``dialect_name``, ``schema`` (CREATE TABLE text),
    ``tables`` (linked table names), ``examples`` (``question``/``sql``), ``history`` (``role``/``content``).

    Raises:
        ValidationError: The request's template does not compile or render (located at ``prompt_template``).
    """
    template = _builtin("text2sql.j2") if request.prompt_template is None else _compile_custom(request.prompt_template)
    try:
        text = await run_sandboxed(functools.partial(template.render, _prompt_values(request, context)))
    except TemplateError as exc:
        raise ValidationError(
            f"prompt_template does not render: {exc}",
            extra={"errors": [{"message": str(exc), "key": "prompt_template"}]},
        ) from exc
    return text.strip() + "\n"


async def render_repair(
    *,
    question: str,
    dialect: str,
    sql: str,
    error: str,
    stage: Stage,
    hints: list[str],
    schema: str = "",
    failed: list[str] | None = None,
) -> str:
    """The repair prompt (``prompts/repair.j2``), a fresh single-turn prompt.

    It holds the schema, the question, the failed SQL with the exact error and hints, and the earlier failed
    queries, and asks for a different, corrected query (a chat continuation lets a small model repeat itself).
    """
    values = {
        "schema": schema,
        "failed": [f for f in (failed or []) if f.strip() and f.strip() != sql.strip()],
        "question": question,
        "dialect": dialect,
        "dialect_name": DIALECT_NAMES.get(dialect, dialect),
        "sql": sql,
        "error": error,
        "stage": stage,
        "hints": hints,
    }
    text = await run_sandboxed(functools.partial(_builtin("repair.j2").render, values))
    return text.strip() + "\n"


def _named_tables(sql: str, tables: list[TableInfo]) -> list[TableInfo]:
    lowered = sql.lower()
    named: list[TableInfo] = []
    for table in tables:
        short = table.name.lower().rsplit(".", 1)[-1]
        if re.search(rf"(?<![\w.]){re.escape(short)}(?!\w)", lowered) or table.name.lower() in lowered:
            named.append(table)
    return named


def _column_list(table: TableInfo) -> str:
    names = [column.name for column in table.columns[:_MAX_HINT_COLUMNS]]
    more = len(table.columns) - len(names)
    return ", ".join(names) + (f" (and {more} more)" if more > 0 else "")


def failure_hints(error: AppError | None, message: str, sql: str, context: SchemaContext) -> list[str]:
    """Hints for a repair prompt.

    The guard's own (``extra["hint"]``, ``extra["suggestions"]``), and for an unknown table or column the real
    columns of the tables the SQL names (else every linked table's).
    """
    hints: list[str] = []
    if error is not None:
        hint = error.extra.get("hint")
        if isinstance(hint, str) and hint.strip():
            hints.append(hint.strip())
        suggestions = error.extra.get("suggestions")
        if isinstance(suggestions, list) and suggestions:
            hints.append("Did you mean: " + ", ".join(str(s) for s in suggestions[:10]) + "?")  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
    if _UNKNOWN.search(message):
        tables = _named_tables(sql, context.tables) or context.tables
        hints.extend(f"{table.name} has the columns: {_column_list(table)}" for table in tables[:8])
        if len(context.tables) > 0:
            hints.append("The tables are: " + ", ".join(table.name for table in context.tables))
    return hints


def normalise_sql(sql: str) -> str:
    """``sql`` for comparing answers: case, whitespace and a trailing semicolon ignored."""
    return " ".join(sql.lower().replace(";", " ").split())


def _stage_of_refusal(error: SQLRefusedError) -> Stage:
    rule = str(error.extra.get("rule", "")).lower()
    return "parse" if rule in _PARSE_RULES else "guard"


@dataclass(slots=True, kw_only=True)
class _Outcome:
    """What became of one model answer."""

    raw: str
    sql: str
    last_sql: str
    error: str | None = None
    stage: Stage | None = None
    failure: AppError | None = None
    table: Table | None = None


@dataclass(slots=True, kw_only=True)
class _Loop:
    """One request's state: the conversation with the model, the attempts, the steps."""

    request: Text2SQLRequest
    datasource: DatasourceInfo
    models: ModelRegistry
    tools: Text2SQLTools
    on_step: StepCallback | None
    origin: CallOrigin | None
    context: SchemaContext | None = None
    prompt: str = ""
    attempts: list[Text2SQLAttempt] = field(default_factory=list[Text2SQLAttempt])
    model_name: str = ""

    async def step(self, kind: Any, attempt: int = 0, started: float | None = None, **detail: Any) -> None:
        if self.on_step is None:
            return
        duration = (time.perf_counter() - started) * 1000 if started is not None else 0.0
        await self.on_step(Text2SQLStep(kind=kind, attempt=attempt, detail=detail, duration_ms=duration))

    async def link(self) -> SchemaContext:
        request = self.request
        started = time.perf_counter()
        context = await self.tools.link(request.question, request.linking, request.top_k_tables, request.examples)
        await self.step(
            "link",
            started=started,
            tables=[table.name for table in context.tables],
            scores=dict(context.scores),
            examples=len(context.examples),
        )
        started = time.perf_counter()
        self.context = context
        self.prompt = await render_prompt(request, context)
        await self.step("prompt", started=started, prompt=self.prompt)
        return context

    async def generate(self, messages: list[Message], temperature: float | None = None, seed: int | None = None) -> str:
        request = ChatRequest(
            messages=messages,
            temperature=self.request.temperature if temperature is None else temperature,
            max_tokens=self.request.max_tokens,
            seed=seed,
        )
        result = await self.models.chat(self.request.model, request, origin=self.origin)
        self.model_name = result.model
        return result.text

    def extract(self, raw: str) -> tuple[str, str | None]:
        try:
            sql = self.tools.extract(raw).strip()
        except (AppError, ValueError) as exc:
            return "", str(getattr(exc, "detail", exc)) or "no SQL query found in the answer"
        if not sql:
            return "", "no SQL query found in the answer"
        return sql, None

    async def guard(self, attempt: int, outcome: _Outcome) -> GuardedQuery | None:
        started = time.perf_counter()
        try:
            guarded = await self.tools.guard(outcome.sql)
        except SQLRefusedError as exc:
            outcome.failure, outcome.stage, outcome.error = exc, _stage_of_refusal(exc), exc.detail
            rule = exc.extra.get("rule")
            await self.step("guard", attempt, started, ok=False, error=exc.detail, rule=rule, stage=outcome.stage)
            return None
        outcome.last_sql = guarded.sql
        await self.step("guard", attempt, started, ok=True, sql=guarded.sql, tables=guarded.tables, limit=guarded.limit)
        return guarded

    async def execute(self, attempt: int, outcome: _Outcome, guarded: GuardedQuery) -> None:
        started = time.perf_counter()
        try:
            table = await self.tools.execute(guarded)
        except DatasourceError as exc:
            outcome.failure, outcome.stage, outcome.error = exc, "execute", exc.detail
            await self.step("execute", attempt, started, ok=False, error=exc.detail, reason=exc.extra.get("reason"))
            return
        outcome.table = table
        await self.step(
            "execute", attempt, started, ok=True, rows=len(table.rows), columns=table.columns, truncated=table.truncated
        )

    async def attempt(
        self, attempt: int, messages: list[Message], last_sql: str, failed: frozenset[str] = frozenset()
    ) -> _Outcome:
        """One answer of the model: generated, extracted, guarded and (when asked) executed.

        An answer whose SQL equals (normalised) one in ``failed`` is sampled again at a higher temperature, a seed
        each, at most ``len(_RESAMPLE_TEMPERATURES)`` times.
        """
        started = time.perf_counter()
        raw = await self.generate(messages)
        sql, error = self.extract(raw)
        await self.step("generate", attempt, started, raw=raw, sql=sql)
        for seed, temperature in enumerate(_RESAMPLE_TEMPERATURES, start=1):
            if not sql or normalise_sql(sql) not in failed:
                break
            tried = time.perf_counter()
            raw = await self.generate(messages, temperature=temperature, seed=seed)
            sql, error = self.extract(raw)
            await self.step("generate", attempt, tried, raw=raw, sql=sql, resample=True, temperature=temperature)
        outcome = _Outcome(raw=raw, sql=sql, last_sql=last_sql)
        if error is not None:
            outcome.error, outcome.stage = error, "extract"
        else:
            outcome.last_sql = sql
            guarded = await self.guard(attempt, outcome)
            if guarded is not None and self.request.execute:
                await self.execute(attempt, outcome, guarded)
        self.attempts.append(
            Text2SQLAttempt(
                attempt=attempt,
                raw=raw,
                sql=sql,
                error=outcome.error,
                stage=outcome.stage,
                duration_ms=(time.perf_counter() - started) * 1000,
            )
        )
        return outcome

    async def autofix(self, attempt: int, outcome: _Outcome) -> _Outcome | None:
        """A deterministic fix of a guard refusal (``rivulet.data.autofix``), guarded and executed like an answer.

        ``None`` when the refusal is not one it fixes or nothing changed. Reported as a ``repair`` step with
        ``autofix: true`` and recorded as an attempt (``raw`` says what changed).
        """
        assert self.context is not None
        failure = outcome.failure
        if not isinstance(failure, SQLRefusedError) or failure.extra.get("rule") not in AUTOFIX_RULES:
            return None
        started = time.perf_counter()
        try:
            fixed = await asyncio.to_thread(
                autofix_sql, outcome.sql, dialect=self.context.dialect, tables=self.context.tables
            )
        except Exception:  # noqa: BLE001 - a fix is optional: the model repairs instead
            return None
        if fixed is None or normalise_sql(fixed[0]) == normalise_sql(outcome.sql):
            return None
        sql, changes = fixed
        change = "; ".join(changes)
        await self.step("repair", attempt, started, autofix=True, change=change, error=outcome.error, sql=sql)
        fixed_outcome = _Outcome(raw=f"autofix: {change}", sql=sql, last_sql=outcome.last_sql)
        fixed_outcome.last_sql = sql
        guarded = await self.guard(attempt, fixed_outcome)
        if guarded is not None and self.request.execute:
            await self.execute(attempt, fixed_outcome, guarded)
        self.attempts.append(
            Text2SQLAttempt(
                attempt=attempt,
                raw=fixed_outcome.raw,
                sql=sql,
                error=fixed_outcome.error,
                stage=fixed_outcome.stage,
                duration_ms=(time.perf_counter() - started) * 1000,
            )
        )
        return fixed_outcome

    async def repair(self, attempt: int, outcome: _Outcome, failed: list[str]) -> str:
        """The repair prompt for a failed attempt (reported as a ``repair`` step)."""
        assert outcome.error is not None
        assert outcome.stage is not None
        assert self.context is not None
        hints = failure_hints(outcome.failure, outcome.error, outcome.sql, self.context)
        prompt = await render_repair(
            question=self.request.question,
            dialect=self.context.dialect,
            sql=outcome.sql,
            error=outcome.error,
            stage=outcome.stage,
            hints=hints,
            schema=self.context.text,
            failed=failed,
        )
        await self.step("repair", attempt, error=outcome.error, stage=outcome.stage, hints=hints, prompt=prompt)
        return prompt

    async def done(self, outcome: _Outcome | None) -> Text2SQLResult:
        assert self.context is not None
        error = "the model was not asked" if outcome is None else outcome.error
        ok = error is None
        sql = "" if outcome is None else outcome.last_sql
        table = None if outcome is None or not ok else outcome.table
        await self.step(
            "done",
            max(len(self.attempts) - 1, 0),
            ok=ok,
            sql=sql,
            attempts=len(self.attempts),
            error=error,
            rows=None if table is None else len(table.rows),
        )
        return Text2SQLResult(
            ok=ok,
            question=self.request.question,
            datasource=self.datasource.name,
            dialect=self.context.dialect,
            sql=sql,
            table=table,
            linked_tables=[table.name for table in self.context.tables],
            prompt=self.prompt,
            attempts=self.attempts,
            error=error,
            model=self.model_name or self.request.model,
        )


async def run_text2sql(
    request: Text2SQLRequest,
    *,
    datasource: DatasourceInfo,
    models: ModelRegistry,
    tools: Text2SQLTools,
    on_step: StepCallback | None = None,
    origin: CallOrigin | None = None,
) -> Text2SQLResult:
    """Answer ``request`` on ``datasource``: link, prompt, generate, guard, execute, and repair failures.

    A question that cannot be answered is ``ok=False`` with the last error (never a raise).

    Raises:
        NotFoundError: No such model.
        ModelError: The model failed (every model of its fallback chain).
        ValidationError: The request's prompt template does not compile or render.
    """
    loop = _Loop(request=request, datasource=datasource, models=models, tools=tools, on_step=on_step, origin=origin)
    await loop.link()
    attempt = 0
    outcome = await loop.attempt(attempt, [Message(role="user", content=loop.prompt)], "")
    failed: list[str] = []  # the SQL of every failed attempt, in order
    repairs = 0
    while outcome.error is not None and request.max_repairs > 0:
        failure = outcome.failure
        if isinstance(failure, DatasourceError) and failure.extra.get("reason") in _NO_REPAIR_REASONS:
            break
        if outcome.sql and outcome.sql not in failed:
            failed.append(outcome.sql)
        for _ in range(_MAX_AUTOFIX):  # deterministic fixes first; they do not count as repairs
            fixed = await loop.autofix(attempt + 1, outcome)
            if fixed is None:
                break
            attempt += 1
            outcome = fixed
            if outcome.error is None:
                break
            failed.append(outcome.sql)
        if outcome.error is None or repairs >= request.max_repairs:
            break
        repairs += 1
        attempt += 1
        prompt = await loop.repair(attempt, outcome, failed)
        outcome = await loop.attempt(
            attempt, [Message(role="user", content=prompt)], outcome.last_sql, frozenset(map(normalise_sql, failed))
        )
    return await loop.done(outcome)
