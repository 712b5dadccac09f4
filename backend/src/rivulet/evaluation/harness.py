"""Evaluating a flow on a dataset: each item's inputs run the flow, its output is scored by a metric, results stream.

Every item is a real run through the ``RunService`` (``RunService.execute``, recorded like an endpoint call, with
the run's summary history), a few at a time. Each result goes into the ``EvaluationStore`` as soon as it is scored,
so a long evaluation shows its progress; the record is closed with a summary (``total``, ``passed``, ``score``,
``errors``) when every item is done, or ``failed`` with the reason when the evaluation itself broke.

    record = await evaluate_flow(store, runs=runs, graph=graph, dataset=dataset, scorer=scorer_for("exact"))
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

import msgspec

from rivulet.evaluation.metrics import (
    Score,
    contains,
    exact,
    json_match,
    llm_judge,
    output_text,
    sql_execution,
    sql_of,
)
from rivulet.lib.exceptions import AppError, ValidationError
from rivulet.lib.log import get_logger
from rivulet.runtime.service import RunRequest
from rivulet.storage.base import EvaluationItem

if TYPE_CHECKING:
    from rivulet.compiler.graph import CompiledGraph
    from rivulet.evaluation.dataset import Dataset, DatasetItem
    from rivulet.evaluation.metrics import MetricName, SqlRunner
    from rivulet.records.runs import RunTrigger
    from rivulet.runtime.service import RunService
    from rivulet.sdk.models import ModelRegistry
    from rivulet.storage.base import EvaluationRecord, EvaluationStore

__all__ = (
    "DEFAULT_CONCURRENCY",
    "FlowOutcome",
    "ItemCallback",
    "Scorer",
    "evaluate_flow",
    "flow_runner",
    "pick_output",
    "run_evaluation",
    "scorer_for",
    "summarise",
)

_log = get_logger("rivulet.evaluation")
DEFAULT_CONCURRENCY: Final = 2
_ERROR_CHARS: Final = 2000

Scorer = Callable[["DatasetItem", Any], Awaitable[Score]]
"""Scores one item's output against its expectation."""
ItemCallback = Callable[[EvaluationItem], None]
"""Told about each item as it is stored (the CLI's progress)."""


class FlowOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """One run of the evaluated flow."""

    run_id: str
    status: str
    outputs: dict[str, Any]
    error: str | None = None
    duration_ms: float = 0.0


FlowRunner = Callable[[dict[str, Any]], Awaitable[FlowOutcome]]


def flow_runner(runs: RunService, graph: CompiledGraph, *, trigger: RunTrigger = "api") -> FlowRunner:
    """Runs ``graph`` with one item's inputs through the run service (recorded as a run, summary history)."""

    async def run(inputs: dict[str, Any]) -> FlowOutcome:
        result = await runs.execute(graph, RunRequest(inputs=inputs, trigger=trigger), history="summary")
        error = None if result.error is None else result.error.message
        return FlowOutcome(
            run_id=result.run_id,
            status=result.status,
            outputs=result.outputs,
            error=error if result.status != "succeeded" else None,
            duration_ms=result.duration_ms,
        )

    return run


def pick_output(outputs: dict[str, Any], key: str | None) -> Any:
    """The value compared: ``outputs[key]``, the only output, or all outputs (an object) when there are several.

    Raises:
        ValidationError: ``key`` is not among the outputs.
    """
    if key is not None:
        if key not in outputs:
            raise ValidationError(
                f"the flow has no output {key!r} (outputs: {', '.join(sorted(outputs)) or 'none'})",
                extra={"errors": [{"path": "output", "message": "unknown output", "got": key}]},
            )
        return outputs[key]
    if len(outputs) == 1:
        return next(iter(outputs.values()))
    return outputs


def scorer_for(
    metric: MetricName,
    *,
    models: ModelRegistry | None = None,
    judge_model: str | None = None,
    sql_runner: Callable[[str | None], SqlRunner] | None = None,
    dialect: Callable[[str | None], Awaitable[str | None]] | None = None,
) -> Scorer:
    """The scorer of ``metric``.

    Args:
        metric: Which metric.
        models: The judge's models (``llm_judge``).
        judge_model: The judge (``llm_judge``).
        sql_runner: ``db → runner`` of the item's database (``sql_execution``; ``db`` is the line's, or ``None``).
        dialect: ``db → its SQL dialect`` (``sql_execution``: to find the gold query's ``ORDER BY``).

    Raises:
        ValidationError: What the metric needs is missing.
    """
    if metric == "exact":
        return _sync(exact)
    if metric == "contains":
        return _sync(contains)
    if metric == "json_match":
        return _sync(json_match)
    if metric == "sql_execution":
        if sql_runner is None:
            raise ValidationError("the sql_execution metric needs a database (a data source)")
        runner_of = sql_runner

        async def by_execution(item: DatasetItem, output: Any) -> Score:
            if not isinstance(item.expected, str):
                return Score(score=0.0, passed=False, error="the expected value must be the gold SQL (a text)")
            spoken = await dialect(item.db) if dialect is not None else None
            return await sql_execution(item.expected, sql_of(output), runner_of(item.db), dialect=spoken)

        return by_execution
    if metric == "llm_judge":
        if models is None or not judge_model:
            raise ValidationError(
                "the llm_judge metric needs a judge model (--model)",
                extra={"errors": [{"path": "model", "message": "required for llm_judge"}]},
            )
        judges, judge = models, judge_model

        async def by_judge(item: DatasetItem, output: Any) -> Score:
            return await llm_judge(judges, judge, inputs=item.inputs, expected=item.expected, output=output)

        return by_judge
    raise ValidationError(f"unknown metric {metric!r}", extra={"errors": [{"path": "metric", "message": "unknown"}]})


def _sync(metric: Callable[[Any, Any], Score]) -> Scorer:
    async def score(item: DatasetItem, output: Any) -> Score:
        return metric(item.expected, output)

    return score


def _preview(value: Any) -> Any:
    """What an item keeps of an output: the value, or its text cut to 8 KB when large."""
    text = output_text(value)
    if len(text) <= 8192:
        try:
            return msgspec.to_builtins(value)
        except (TypeError, msgspec.EncodeError):
            return text
    return text[:8192] + " [...]"


def summarise(items: list[EvaluationItem], *, duration_s: float | None = None) -> dict[str, Any]:
    """``total``, ``passed``, ``score`` (mean), ``errors``, ``accuracy``; a Text2SQL run adds the baseline's."""
    total = len(items)
    summary: dict[str, Any] = {
        "total": total,
        "passed": sum(1 for i in items if i.passed),
        "score": round(sum(i.score for i in items) / total, 4) if total else 0.0,
        "errors": sum(1 for i in items if i.error),
    }
    summary["accuracy"] = round(summary["passed"] / total, 4) if total else 0.0
    baseline = [i.details["baseline_match"] for i in items if "baseline_match" in i.details]
    if baseline:
        summary["baseline_passed"] = sum(1 for b in baseline if b)
        summary["baseline_score"] = round(summary["baseline_passed"] / len(baseline), 4)
        summary["delta"] = round(summary["score"] - summary["baseline_score"], 4)
        summary["repaired"] = sum(1 for i in items if i.passed and i.details.get("repairs"))
        summary["baseline_errors"] = sum(1 for i in items if i.details.get("baseline_error"))
    if duration_s is not None:
        summary["duration_s"] = round(duration_s, 2)
    return summary


async def run_evaluation(
    store: EvaluationStore,
    record: EvaluationRecord,
    items: list[DatasetItem],
    evaluate_item: Callable[[DatasetItem], Awaitable[EvaluationItem]],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_item: ItemCallback | None = None,
    then: Callable[[list[EvaluationItem]], Awaitable[list[EvaluationItem]]] | None = None,
) -> EvaluationRecord:
    """Evaluate ``items`` (``concurrency`` at a time), storing each result as it comes; close the record.

    ``then`` is a second pass over the results (in index order) that stores and returns them updated (the Text2SQL
    baseline). An item that raises is stored as an error item; the evaluation ends ``failed`` only when it is
    cancelled or the store fails.
    """
    started = time.perf_counter()
    done: list[EvaluationItem] = []
    limit = asyncio.Semaphore(max(1, concurrency))

    async def one(item: DatasetItem) -> None:
        async with limit:
            began = time.perf_counter()
            try:
                result = await evaluate_item(item)
            except AppError as exc:
                result = _failed_item(item, exc.detail, began)
            except Exception as exc:  # noqa: BLE001 - one broken item must not end the evaluation
                _log.warning("evaluation item failed", exc_info=True, extra={"index": item.index})
                result = _failed_item(item, f"{type(exc).__name__}: {exc}", began)
            await store.add_items(record.id, [result])
            done.append(result)
            if on_item is not None:
                on_item(result)

    try:
        async with asyncio.TaskGroup() as group:
            for item in items:
                group.create_task(one(item))
        if then is not None:
            done.sort(key=lambda i: i.index)
            done[:] = await then(list(done))
    except BaseException as exc:
        reason = "cancelled" if isinstance(exc, asyncio.CancelledError) else f"{type(exc).__name__}: {exc}"
        done.sort(key=lambda i: i.index)
        with contextlib.suppress(Exception):  # the original error matters more
            await asyncio.shield(
                store.finish(record.id, status="failed", summary=summarise(done), error=reason[:_ERROR_CHARS])
            )
        raise
    done.sort(key=lambda i: i.index)
    return await store.finish(
        record.id, status="succeeded", summary=summarise(done, duration_s=time.perf_counter() - started)
    )


def _failed_item(item: DatasetItem, error: str, began: float) -> EvaluationItem:
    return EvaluationItem(
        index=item.index,
        inputs=item.inputs,
        expected=item.expected,
        error=error[:_ERROR_CHARS],
        duration_ms=(time.perf_counter() - began) * 1000,
    )


async def evaluate_flow(
    store: EvaluationStore,
    record: EvaluationRecord,
    *,
    run_flow: FlowRunner,
    dataset: Dataset,
    scorer: Scorer,
    output_key: str | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_item: ItemCallback | None = None,
) -> EvaluationRecord:
    """Run the flow on every item of ``dataset`` and score its output; results stream into ``store``.

    Args:
        store: Where the evaluation is recorded (``record`` was created there, ``running``).
        record: The evaluation.
        run_flow: Runs the flow with one item's inputs (``flow_runner``).
        dataset: The items.
        scorer: The metric (``scorer_for``).
        output_key: Which output is compared (default: the only one, or all of them as an object).
        concurrency: Items run at once.
        on_item: Told about each stored item.
    """

    async def evaluate_item(item: DatasetItem) -> EvaluationItem:
        began = time.perf_counter()
        outcome = await run_flow(item.inputs)
        details: dict[str, Any] = {"run_id": outcome.run_id, "run_status": outcome.status}
        if outcome.error is not None:
            return EvaluationItem(
                index=item.index,
                inputs=item.inputs,
                expected=item.expected,
                output=_preview(outcome.outputs) if outcome.outputs else None,
                error=f"the run {outcome.status}: {outcome.error}"[:_ERROR_CHARS],
                details=details,
                duration_ms=(time.perf_counter() - began) * 1000,
            )
        output = pick_output(outcome.outputs, output_key)
        score = await scorer(item, output)
        return EvaluationItem(
            index=item.index,
            inputs=item.inputs,
            expected=item.expected,
            output=_preview(output),
            score=score.score,
            passed=score.passed,
            error=score.error,
            details={**details, **score.details},
            duration_ms=(time.perf_counter() - began) * 1000,
        )

    return await run_evaluation(store, record, dataset.items, evaluate_item, concurrency=concurrency, on_item=on_item)
