"""Text2SQL: answer a question with one guarded SQL query on a data source, repairing failures.

The pipeline links the schema (relevant tables and few-shot examples), prompts the model, takes the SQL out of
its answer, checks it with the read-only guard against the real schema and runs it; a query that fails anywhere
goes back to the model with its exact error up to ``max_repairs`` times. Each step (``link``, ``prompt``,
``generate``, ``guard``, ``execute``, ``repair``, ``done``) streams live on ``steps`` (``node.chunk`` events);
``query``, ``table`` and ``trace`` follow once it is over. When no attempt works the node fails with the last SQL
and its error (the steps stay visible). Never cached: the data changes under the flow.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated, Any, cast

import msgspec
from msgspec import Meta

from rivulet.lib.exceptions import AppError
from rivulet.sdk import Operator, OperatorSpec
from rivulet.sdk.data import QueryLimits, StepCallback, Text2SQLRequest, Text2SQLResult, Text2SQLStep
from rivulet.sdk.models import origin_of
from rivulet.sdk.operator import Deferred
from rivulet.sdk.ports import Json, Messages, SQLQuery, Stream, Table, Text
from rivulet.sdk.ui import DatasourceRef, ModelRef, PromptText
from rivulet_operators.sql._common import MaxRows, TimeoutSeconds, datasources_of, describe, fail

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Coroutine

    from rivulet.sdk import RunContext

__all__ = ("SPEC", "Generate", "Inputs", "Outputs", "Params", "compact_step", "failure_message", "trace_of")

CHUNK_BYTES = 1900
"""Largest step chunk (JSON bytes): run events preview items up to 2 KB, larger ones become cut strings."""

SPEC = OperatorSpec(
    id="sql.generate",
    category="sql",
    title="Text to SQL",
    description="Answer a question with guarded SQL on a data source: linked schema, model, guard, run, repair.",
    icon="database-zap",
    tags=("sql", "text2sql", "nl2sql", "llm", "database", "query", "ai"),
    cacheable=False,
)


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    datasource: Annotated[DatasourceRef, Meta(description="The data source to query.")] = "shop"
    model: Annotated[ModelRef, Meta(description="The chat model writing the SQL.")] = "default"
    max_repairs: Annotated[int, Meta(ge=0, le=10, description="Times a failing query goes back with its error.")] = 2
    top_k_tables: Annotated[int, Meta(ge=1, le=200, description="Most tables in the prompt (schema linking).")] = 8
    examples: Annotated[int, Meta(ge=0, le=20, description="Few-shot examples in the prompt.")] = 3
    linking: Annotated[bool, Meta(description="Link the schema; off: every table goes in the prompt.")] = True
    execute: Annotated[bool, Meta(description="Run the query (off: stop after the guard; no rows).")] = True
    max_rows: MaxRows = 1000
    timeout_s: TimeoutSeconds = 30.0
    prompt_template: Annotated[
        Annotated[PromptText, Meta(max_length=100_000)] | None,
        Meta(
            description="A jinja2 prompt replacing the default: question, dialect, dialect_name, schema, tables, "
            "examples (question, sql), history (role, content).",
        ),
    ] = None
    temperature: Annotated[float, Meta(ge=0, le=2, description="0 is deterministic.")] = 0.0


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    question: Annotated[Text, Meta(description="The question to answer.")]
    history: Annotated[Messages | None, Meta(description="Earlier turns (follow-up questions).")] = None


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    query: Annotated[SQLQuery, Meta(description="The SQL that worked (guarded, with its row limit).")]
    table: Annotated[Table, Meta(description="Its rows (empty when execute is off).")]
    steps: Annotated[Stream[Json], Meta(description="Each step of the pipeline as it happens.")]
    trace: Annotated[Json, Meta(description="Attempts, linked tables and the prompt.")]


class _Result(msgspec.Struct, frozen=True):
    query: Any
    table: Any
    steps: Any
    trace: Any


def trace_of(result: Text2SQLResult) -> dict[str, Any]:
    """What the ``trace`` output shows of a result."""
    return {
        "ok": result.ok,
        "datasource": result.datasource,
        "dialect": result.dialect,
        "model": result.model,
        "linked_tables": result.linked_tables,
        "prompt": result.prompt,
        "attempts": msgspec.to_builtins(result.attempts),
        "error": result.error,
    }


def failure_message(result: Text2SQLResult) -> str:
    """Why no attempt worked: the count, the last SQL and its error."""
    count = len(result.attempts)
    last = result.attempts[-1] if result.attempts else None
    stage = f" ({last.stage})" if last is not None and last.stage else ""
    sql = f"; last SQL: {describe(result.sql, 500)}" if result.sql else "; the model wrote no SQL"
    return (
        f"no working SQL for data source {result.datasource!r} after {count} attempt{'s' if count != 1 else ''}"
        f"{sql}; error{stage}: {describe(result.error or 'unknown', 800)}"
    )


class Generate(Operator[Params, Inputs, _Result]):
    """Stream the Text2SQL steps, then deliver the query, its rows and the trace."""

    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs

    @classmethod
    def output_values(cls, outputs: Any) -> dict[str, Any]:
        return {
            "steps": outputs.steps,
            "query": Deferred(outputs.query),
            "table": Deferred(outputs.table),
            "trace": Deferred(outputs.trace),
        }

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> _Result:
        question = inputs.question.strip()
        if not question:
            raise fail(SPEC, ctx, "the question is empty")
        if len(question) > 8000:
            raise fail(SPEC, ctx, f"the question is too long ({len(question)} characters, at most 8000)")
        service = datasources_of(SPEC, ctx)
        request = Text2SQLRequest(
            question=question,
            model=params.model,
            history=list(inputs.history or []),
            linking=params.linking,
            top_k_tables=params.top_k_tables,
            examples=params.examples,
            max_repairs=params.max_repairs,
            execute=params.execute,
            prompt_template=params.prompt_template,
            temperature=params.temperature,
            limits=QueryLimits(max_rows=params.max_rows, timeout_s=params.timeout_s),
        )
        loop = asyncio.get_running_loop()
        futures: dict[str, asyncio.Future[Any]] = {port: loop.create_future() for port in ("query", "table", "trace")}

        def call(on_step: StepCallback) -> Coroutine[Any, Any, Text2SQLResult]:
            return service.text2sql(params.datasource, request, on_step=on_step, origin=origin_of(ctx))

        steps = _pump(call, futures, ctx, params.datasource)
        return _Result(steps=steps, query=futures["query"], table=futures["table"], trace=futures["trace"])


def _cut(value: Any, limit: int) -> Any:
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + "…"
    if isinstance(value, dict):
        return {key: _cut(item, limit) for key, item in cast("dict[str, Any]", value).items()}
    if isinstance(value, list):
        items = cast("list[Any]", value)
        return [_cut(item, limit) for item in items[:50]] + (["…"] if len(items) > 50 else [])
    return value


def compact_step(step: Text2SQLStep) -> dict[str, Any]:
    """A step as a JSON chunk small enough to show whole in run events (long texts cut: the trace has them)."""
    data: dict[str, Any] = msgspec.to_builtins(step)
    for limit in (1200, 400, 120, 40):
        if len(msgspec.json.encode(data)) <= CHUNK_BYTES:
            return data
        data = {**data, "detail": _cut(data["detail"], limit), "cut": True}
    return {"kind": step.kind, "attempt": step.attempt, "detail": {}, "cut": True}


def _settle(
    futures: dict[str, asyncio.Future[Any]], result: Text2SQLResult | None, error: BaseException | None
) -> None:
    """Resolve the deferred outputs: values from ``result``, or ``error`` (``None`` for both: cancelled)."""
    for port, future in futures.items():
        if future.done():
            continue
        if error is not None:
            future.set_exception(error)
            future.exception()  # marks it retrieved: the first deferred output reports it
        elif result is None:
            future.cancel()
        elif port == "query":
            future.set_result(SQLQuery(sql=result.sql, dialect=result.dialect))
        elif port == "table":
            future.set_result(result.table or Table(columns=[], rows=[]))
        else:
            future.set_result(trace_of(result))


async def _pump(
    call: Callable[[StepCallback], Coroutine[Any, Any, Text2SQLResult]],
    futures: dict[str, asyncio.Future[Any]],
    ctx: RunContext,
    datasource: str,
) -> AsyncIterator[Any]:
    """Run the pipeline, yielding each step as JSON as it happens; then resolve the deferred outputs."""
    queue: asyncio.Queue[Text2SQLStep | None] = asyncio.Queue()

    async def on_step(step: Text2SQLStep) -> None:
        await queue.put(step)

    def finished(_: object) -> None:
        queue.put_nowait(None)

    task: asyncio.Task[Text2SQLResult] = asyncio.create_task(call(on_step))
    task.add_done_callback(finished)
    try:
        while (step := await queue.get()) is not None:
            yield compact_step(step)
        try:
            result = task.result()
        except AppError as exc:
            raise fail(SPEC, ctx, f"data source {datasource!r}: {exc.detail}") from exc
    except Exception as exc:
        _settle(futures, None, exc)
        raise
    except BaseException:
        _settle(futures, None, None)
        raise
    finally:
        if not task.done():
            task.cancel()
    _settle(futures, result, None if result.ok else fail(SPEC, ctx, failure_message(result)))
