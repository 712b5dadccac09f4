"""``EvaluationService``: start, list, get, compare and delete evaluations (the API and the CLI use it).

An evaluation of a flow runs a stored flow version (the latest unless one is named) on a dataset in the background;
its items stream into the store. Two evaluations compare item by item (aligned by index): an item ``fixed`` passes
in the second and failed in the first, ``broken`` the other way round, ``changed`` kept its verdict with another
output, ``same`` kept both.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from rivulet.evaluation.harness import DEFAULT_CONCURRENCY, evaluate_flow, flow_runner, scorer_for
from rivulet.evaluation.metrics import output_text
from rivulet.evaluation.text2sql import Text2SQLEvalOptions, Text2SQLSources, check_sources, evaluate_text2sql
from rivulet.lib.exceptions import ValidationError
from rivulet.lib.log import get_logger
from rivulet.sdk.data import QueryLimits
from rivulet.storage.base import EvaluationRecord

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from rivulet.compiler.flow import FlowDocument
    from rivulet.data.service import DataService
    from rivulet.evaluation.dataset import Dataset
    from rivulet.evaluation.harness import ItemCallback
    from rivulet.evaluation.metrics import MetricName, SqlRunner
    from rivulet.records.runs import RunTrigger
    from rivulet.runtime.service import RunService
    from rivulet.sdk.models import ModelRegistry
    from rivulet.sdk.ports import Table
    from rivulet.storage.base import EvaluationItem, EvaluationStore, FlowStore

__all__ = ("Comparison", "ComparisonRow", "ComparisonSummary", "EvaluationService", "compare_records")

_log = get_logger("rivulet.evaluation")

RowStatus = Literal["fixed", "broken", "changed", "same", "only_a", "only_b"]


class ComparisonRow(msgspec.Struct, frozen=True, kw_only=True):
    """One dataset item in two evaluations."""

    index: int
    status: RowStatus
    inputs: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])
    expected: Any = None
    a_output: Any = None
    b_output: Any = None
    a_passed: bool | None = None
    b_passed: bool | None = None
    a_score: float | None = None
    b_score: float | None = None
    a_error: str | None = None
    b_error: str | None = None


class ComparisonSummary(msgspec.Struct, frozen=True, kw_only=True):
    """What changed from ``a`` to ``b``."""

    a_score: float
    b_score: float
    score_delta: float
    a_passed: int
    b_passed: int
    passed_delta: int
    fixed: int
    broken: int
    changed: int
    same: int
    same_dataset: bool
    """Both ran on the same bytes (a comparison of different datasets aligns unrelated items)."""


class Comparison(msgspec.Struct, frozen=True, kw_only=True):
    """Two evaluations side by side (records without their items; the items are in ``rows``)."""

    a: EvaluationRecord
    b: EvaluationRecord
    summary: ComparisonSummary
    rows: list[ComparisonRow]


def _status(a: EvaluationItem | None, b: EvaluationItem | None) -> RowStatus:
    if a is None:
        return "only_b"
    if b is None:
        return "only_a"
    if a.passed != b.passed:
        return "fixed" if b.passed else "broken"
    if output_text(a.output) != output_text(b.output) or a.score != b.score:
        return "changed"
    return "same"


def compare_records(a: EvaluationRecord, b: EvaluationRecord) -> Comparison:
    """``a`` (the earlier) against ``b``, item by item (by index)."""
    items_a = {item.index: item for item in a.items}
    items_b = {item.index: item for item in b.items}
    rows: list[ComparisonRow] = []
    for index in sorted(items_a.keys() | items_b.keys()):
        left, right = items_a.get(index), items_b.get(index)
        either = left or right
        assert either is not None
        rows.append(
            ComparisonRow(
                index=index,
                status=_status(left, right),
                inputs=either.inputs,
                expected=either.expected,
                a_output=left.output if left else None,
                b_output=right.output if right else None,
                a_passed=left.passed if left else None,
                b_passed=right.passed if right else None,
                a_score=left.score if left else None,
                b_score=right.score if right else None,
                a_error=left.error if left else None,
                b_error=right.error if right else None,
            )
        )
    score_a = float(a.summary.get("score", 0.0))
    score_b = float(b.summary.get("score", 0.0))
    passed_a = sum(1 for item in a.items if item.passed)
    passed_b = sum(1 for item in b.items if item.passed)
    counts = {status: sum(1 for row in rows if row.status == status) for status in ("fixed", "broken", "changed")}
    summary = ComparisonSummary(
        a_score=score_a,
        b_score=score_b,
        score_delta=round(score_b - score_a, 4),
        a_passed=passed_a,
        b_passed=passed_b,
        passed_delta=passed_b - passed_a,
        fixed=counts["fixed"],
        broken=counts["broken"],
        changed=counts["changed"],
        same=sum(1 for row in rows if row.status == "same"),
        same_dataset=a.dataset_hash == b.dataset_hash,
    )
    bare_a = msgspec.structs.replace(a, items=[])
    bare_b = msgspec.structs.replace(b, items=[])
    return Comparison(a=bare_a, b=bare_b, summary=summary, rows=rows)


class EvaluationService:
    """Evaluations of flows (and of the Text2SQL pipeline) over datasets.

    Args:
        store: The evaluation records.
        runs: Runs the evaluated flows.
        flows: Where flow versions come from.
        models: The judge's models (``llm_judge``).
        data: Data sources (``sql_execution`` and Text2SQL evaluations; ``None``: those are refused).
    """

    def __init__(
        self,
        store: EvaluationStore,
        *,
        runs: RunService,
        flows: FlowStore,
        models: ModelRegistry,
        data: DataService | None = None,
    ) -> None:
        self.store = store
        self.runs = runs
        self.flows = flows
        self.models = models
        self.data = data
        self._tasks: dict[str, asyncio.Task[EvaluationRecord]] = {}

    def _sql_runner(self, datasource: str | None) -> Callable[[str | None], SqlRunner]:
        data = self.data
        if data is None:
            raise ValidationError("the sql_execution metric needs data sources, and this process has none")

        def runner_of(db: str | None) -> SqlRunner:
            name = datasource or db
            if not name:
                raise ValidationError('sql_execution: the line names no database ("db") and no data source was given')

            async def run(sql: str) -> Table:
                return await data.query(name, sql, limits=QueryLimits(max_rows=100_000, timeout_s=120))

            return run

        return runner_of

    async def _dialect(self, db: str | None, datasource: str | None) -> str | None:
        name = datasource or db
        if self.data is None or not name:
            return None
        return (await self.data.info(name)).dialect

    async def _flow(
        self, flow_id: str | None, version: int | None, document: FlowDocument | None
    ) -> tuple[FlowDocument, str | None, int | None]:
        if document is not None:
            return document, document.id or flow_id or None, document.version or version
        if flow_id is None:
            raise ValidationError("which flow? (a flow id or a flow document)")
        if version is None:
            flow = await self.flows.get(flow_id)
            return flow.document, flow_id, flow.summary.version
        return (await self.flows.get_version(flow_id, version)).document, flow_id, version

    async def start(
        self,
        flow_id: str | None,
        dataset: Dataset,
        *,
        metric: MetricName,
        model: str | None = None,
        version: int | None = None,
        output: str | None = None,
        datasource: str | None = None,
        name: str = "",
        owner_id: str | None = None,
        trigger: RunTrigger = "api",
        document: FlowDocument | None = None,
        wait: bool = False,
        concurrency: int = DEFAULT_CONCURRENCY,
        on_item: ItemCallback | None = None,
    ) -> EvaluationRecord:
        """Evaluate a stored flow version (or ``document``, a flow not stored) on ``dataset`` by ``metric``.

        Returns the ``running`` record at once (the evaluation goes on in the background), or with ``wait`` the
        finished one.

        Raises:
            NotFoundError: No such flow or version, or data source.
            CompileError: The flow does not compile.
            ValidationError: The metric lacks what it needs (a judge model, a data source).
        """
        document, flow_id, version = await self._flow(flow_id, version, document)
        graph = await asyncio.to_thread(self.runs.compile_graph, document)
        if metric == "sql_execution" and datasource is not None and self.data is not None:
            await self.data.info(datasource)

        async def dialect(db: str | None) -> str | None:
            return await self._dialect(db, datasource)

        scorer = scorer_for(
            metric,
            models=self.models,
            judge_model=model,
            sql_runner=self._sql_runner(datasource) if metric == "sql_execution" else None,
            dialect=dialect,
        )
        record = await self.store.create(
            name=name,
            kind="flow",
            flow_id=flow_id,
            flow_version=version,
            dataset=dataset.name,
            dataset_hash=dataset.sha256,
            metric=metric,
            model=model,
            datasource=datasource,
            owner_id=owner_id,
        )
        work = evaluate_flow(
            self.store,
            record,
            run_flow=flow_runner(self.runs, graph, trigger=trigger),
            dataset=dataset,
            scorer=scorer,
            output_key=output,
            concurrency=concurrency,
            on_item=on_item,
        )
        if wait:
            return await work
        self._background(record.id, work)
        return record

    async def start_text2sql(
        self,
        dataset: Dataset,
        *,
        options: Text2SQLEvalOptions,
        flow_id: str | None = None,
        version: int | None = None,
        output: str | None = None,
        base_dir: Path | None = None,
        name: str = "",
        owner_id: str | None = None,
        trigger: RunTrigger = "cli",
        document: FlowDocument | None = None,
        on_item: ItemCallback | None = None,
    ) -> EvaluationRecord:
        """Evaluate the Text2SQL pipeline (or a flow) and the raw-prompt baseline on ``dataset``; waits for the end.

        Raises:
            NotFoundError: No such data source, flow or version.
            ValidationError: This process has no data sources, or a line names no database.
        """
        if self.data is None:
            raise ValidationError("Text2SQL evaluations need data sources, and this process has none")
        run_flow = None
        if flow_id is not None or document is not None:
            document, flow_id, version = await self._flow(flow_id, version, document)
            graph = await asyncio.to_thread(self.runs.compile_graph, document)
            run_flow = flow_runner(self.runs, graph, trigger=trigger)
        sources = Text2SQLSources(self.data, base_dir=base_dir)
        try:
            await check_sources(sources, dataset, options)
            record = await self.store.create(
                name=name,
                kind="text2sql",
                flow_id=flow_id,
                flow_version=version,
                dataset=dataset.name,
                dataset_hash=dataset.sha256,
                metric="sql_execution",
                model=options.model,
                datasource=options.datasource or _single_db(dataset),
                owner_id=owner_id,
            )
            return await evaluate_text2sql(
                self.store,
                record,
                sources=sources,
                dataset=dataset,
                options=options,
                run_flow=run_flow,
                output_key=output,
                on_item=on_item,
            )
        finally:
            await sources.close()

    def _background(self, evaluation_id: str, work: Any) -> None:
        task: asyncio.Task[EvaluationRecord] = asyncio.create_task(work, name=f"rivulet-evaluation-{evaluation_id}")
        self._tasks[evaluation_id] = task

        def forget(done: asyncio.Task[EvaluationRecord]) -> None:
            self._tasks.pop(evaluation_id, None)
            if not done.cancelled() and done.exception() is not None:
                _log.warning("evaluation failed", exc_info=done.exception(), extra={"evaluation_id": evaluation_id})

        task.add_done_callback(forget)

    async def list(self, *, flow_id: str | None = None, limit: int = 100) -> list[EvaluationRecord]:
        """Newest first, without items."""
        return await self.store.list(flow_id=flow_id, limit=limit)

    async def get(self, evaluation_id: str) -> EvaluationRecord:
        """With its items. Raises ``NotFoundError``."""
        return await self.store.get(evaluation_id)

    async def compare(self, a: str, b: str) -> Comparison:
        """Evaluation ``a`` against ``b``, item by item. Raises ``NotFoundError``."""
        return compare_records(await self.store.get(a), await self.store.get(b))

    async def delete(self, evaluation_id: str) -> None:
        """Stop it if it is running, then delete it. Raises ``NotFoundError``."""
        await self.store.get(evaluation_id)
        task = self._tasks.pop(evaluation_id, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.store.delete(evaluation_id)

    async def wait(self, evaluation_id: str) -> EvaluationRecord:
        """The finished record of an evaluation started here (the stored one when it is not running here)."""
        task = self._tasks.get(evaluation_id)
        if task is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(task)
        return await self.store.get(evaluation_id)

    async def close(self) -> None:
        """Cancel the evaluations still running (they end ``failed``, cancelled)."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        self._tasks.clear()


def _single_db(dataset: Dataset) -> str | None:
    dbs = {item.db for item in dataset.items if item.db}
    return next(iter(dbs)) if len(dbs) == 1 else None
