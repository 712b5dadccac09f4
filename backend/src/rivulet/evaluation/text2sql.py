"""``rivulet eval text2sql``: execution accuracy of the Text2SQL pipeline against a raw-prompt baseline, same model.

For each dataset line (``{"question", "sql", "db"}``) the gold SQL runs on the database, then two answers are
scored by Spider's execution accuracy (``metrics.results_match``):

- the **pipeline**: ``Datasources.text2sql`` with schema linking, few-shot examples and up to ``max_repairs``
  repairs (or, with a flow, the flow run with the input ``question``, its SQL output executed);
- the **baseline**: the same model given the whole schema and the question in a plain prompt
  (``BASELINE_PROMPT``), no linking, no examples, no repair (``max_repairs=0``).

``db`` is a data source name, or an SQLite or DuckDB file: such a file is opened as an ephemeral data source (in
memory, gone after the evaluation). A ``datasource`` given to the evaluation replaces every line's ``db``.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import msgspec

from rivulet.evaluation.harness import (
    DEFAULT_CONCURRENCY,
    FlowRunner,
    ItemCallback,
    pick_output,
    run_evaluation,
)
from rivulet.evaluation.metrics import has_top_level_order_by, results_match, sql_of
from rivulet.lib.exceptions import AppError, ValidationError
from rivulet.sdk.data import QueryLimits, Text2SQLRequest
from rivulet.storage.base import EvaluationItem

if TYPE_CHECKING:
    from rivulet.data.service import DataService
    from rivulet.evaluation.dataset import Dataset, DatasetItem
    from rivulet.sdk.data import Datasources, Text2SQLResult
    from rivulet.storage.base import EvaluationRecord, EvaluationStore

__all__ = ("BASELINE_PROMPT", "Text2SQLEvalOptions", "Text2SQLSources", "check_sources", "evaluate_text2sql")

BASELINE_PROMPT: Final = """Database schema:
{{ schema }}

Write a {{ dialect }} SQL query that answers this question: {{ question }}
SQL:"""
"""The raw prompt of the baseline: the whole schema and the question, nothing else."""

GOLD_LIMITS: Final = QueryLimits(max_rows=100_000, timeout_s=120)
_FILE_SUFFIXES: Final = {".sqlite": "sqlite", ".sqlite3": "sqlite", ".db": "sqlite", ".duckdb": "duckdb"}
_NAME_CHARS: Final = re.compile(r"[^A-Za-z0-9_.-]+")
_ERROR_CHARS: Final = 2000


class Text2SQLEvalOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How the pipeline and the baseline are asked."""

    model: str
    datasource: str | None = None
    """Replaces every line's ``db``."""
    max_repairs: int = 2
    top_k_tables: int = 8
    examples: int = 3
    baseline: bool = True
    baseline_last: bool = True
    """Ask the baseline after every pipeline answer rather than item by item: the same answers, but the baseline's
    prompts then follow one another and share their long prefix (the whole schema), which a local model keeps in
    its cache (llama.cpp): on a CPU that is most of the baseline's time."""
    max_tokens: int = 512
    timeout_s: float = 60.0


class Text2SQLSources:
    """The data sources an evaluation reaches: the configured ones, plus ephemeral ones for database files.

    Args:
        data: The configured data sources.
        base_dir: Where relative file paths of ``db`` are looked up first (the dataset's folder).
    """

    def __init__(self, data: DataService, *, base_dir: Path | None = None) -> None:
        self.data = data
        self.base_dir = base_dir
        self._ephemeral: DataService | None = None
        self._files: dict[Path, str] = {}
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def _file(self, db: str) -> Path | None:
        candidates = [Path(db)]
        if self.base_dir is not None and not Path(db).is_absolute():
            candidates.insert(0, self.base_dir / db)
        for candidate in candidates:
            if candidate.suffix.lower() in _FILE_SUFFIXES and candidate.is_file():
                return candidate.resolve()
        return None

    async def resolve(self, db: str) -> tuple[Datasources, str]:
        """The service and the name to ask for ``db``.

        Raises:
            NotFoundError: ``db`` is neither a data source nor a database file.
        """
        path = self._file(db)
        if path is None:
            await self.data.info(db)  # NotFoundError names it
            return self.data, db
        ephemeral = self._ephemeral_service()
        if path not in self._files:
            from rivulet.data.specs import DatasourceSpec

            kind = _FILE_SUFFIXES[path.suffix.lower()]
            if kind == "sqlite" and path.suffix.lower() == ".db" and path.read_bytes()[:16] != b"SQLite format 3\x00":
                kind = "duckdb"
            digest = hashlib.sha256(str(path).encode()).hexdigest()[:8]
            name = f"{_NAME_CHARS.sub('-', path.stem)[:40].strip('-.') or 'db'}-{digest}"
            await ephemeral.create(DatasourceSpec(name=name, kind=kind, path=str(path)), owner_id=None)  # pyright: ignore[reportArgumentType]
            self._files[path] = name
        return ephemeral, self._files[path]

    def _ephemeral_service(self) -> DataService:
        if self._ephemeral is None:
            from rivulet.data.service import DataOptions, DataService
            from rivulet.knowledge.service import KnowledgeService
            from rivulet.storage.memory import MemorySecretStore
            from rivulet.storage.memory_data import MemoryDatasourceStore
            from rivulet.storage.memory_knowledge import MemoryKnowledgeStore

            self._tmp = tempfile.TemporaryDirectory(prefix="rivulet-eval-")
            models = self.data.models
            knowledge = KnowledgeService(MemoryKnowledgeStore(), models, create_missing_spaces=True)
            self._ephemeral = DataService(
                MemoryDatasourceStore(),
                MemorySecretStore(),
                models,
                knowledge,
                options=DataOptions(files_dir=Path(self._tmp.name)),
            )
        return self._ephemeral

    async def close(self) -> None:
        """Close the ephemeral data sources."""
        if self._ephemeral is not None:
            await self._ephemeral.close()
            self._ephemeral = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def _attempts(result: Text2SQLResult) -> list[dict[str, Any]]:
    return [
        {"attempt": a.attempt, "sql": a.sql, "error": a.error, "stage": a.stage, "duration_ms": round(a.duration_ms)}
        for a in result.attempts
    ]


def _sql_output(outputs: dict[str, Any], key: str | None) -> str | None:
    """The SQL a flow produced: the named output, an output called ``sql``/``query``, or any output holding SQL."""
    if key is not None:
        return sql_of(pick_output(outputs, key))
    for name in ("sql", "query"):
        if name in outputs and (found := sql_of(outputs[name])):
            return found
    for value in outputs.values():
        found = sql_of(value)
        if found and re.match(r"\s*(with|select)\b", found, re.IGNORECASE):
            return found
    return None


class _Answer(msgspec.Struct, kw_only=True):
    sql: str = ""
    rows: list[list[Any]] | None = None
    error: str | None = None
    repairs: int = 0
    attempts: list[dict[str, Any]] = msgspec.field(default_factory=list[dict[str, Any]])
    linked_tables: list[str] = msgspec.field(default_factory=list[str])
    run_id: str | None = None
    duration_ms: float = 0.0


async def _ask(source: Datasources, name: str, request: Text2SQLRequest) -> _Answer:
    began = time.perf_counter()
    try:
        result = await source.text2sql(name, request)
    except AppError as exc:
        return _Answer(error=exc.detail, duration_ms=(time.perf_counter() - began) * 1000)
    rows = result.table.rows if result.ok and result.table is not None else None
    return _Answer(
        sql=result.sql,
        rows=rows,
        error=None if result.ok else (result.error or "failed"),
        repairs=max(0, len(result.attempts) - 1),
        attempts=_attempts(result),
        linked_tables=result.linked_tables,
        duration_ms=(time.perf_counter() - began) * 1000,
    )


async def _ask_flow(
    run_flow: FlowRunner, source: Datasources, name: str, question: str, output_key: str | None
) -> _Answer:
    began = time.perf_counter()
    outcome = await run_flow({"question": question})
    if outcome.error is not None:
        return _Answer(error=f"the run {outcome.status}: {outcome.error}", run_id=outcome.run_id)
    sql = _sql_output(outcome.outputs, output_key)
    if not sql:
        return _Answer(error="the flow gave no SQL", run_id=outcome.run_id)
    try:
        table = await source.query(name, sql, limits=GOLD_LIMITS)
    except AppError as exc:
        return _Answer(sql=sql, error=exc.detail, run_id=outcome.run_id)
    return _Answer(sql=sql, rows=table.rows, run_id=outcome.run_id, duration_ms=(time.perf_counter() - began) * 1000)


def _request(options: Text2SQLEvalOptions, question: str, *, baseline: bool) -> Text2SQLRequest:
    """The pipeline's request, or the baseline's (whole schema, no examples, no repair, the raw prompt)."""
    limits = QueryLimits(max_rows=10_000, timeout_s=options.timeout_s)
    if baseline:
        return Text2SQLRequest(
            question=question,
            model=options.model,
            linking=False,
            examples=0,
            max_repairs=0,
            prompt_template=BASELINE_PROMPT,
            max_tokens=options.max_tokens,
            limits=limits,
        )
    return Text2SQLRequest(
        question=question,
        model=options.model,
        top_k_tables=options.top_k_tables,
        examples=options.examples,
        max_repairs=options.max_repairs,
        max_tokens=options.max_tokens,
        limits=limits,
    )


async def check_sources(sources: Text2SQLSources, dataset: Dataset, options: Text2SQLEvalOptions) -> None:
    """Every line has a database and each exists (before anything runs).

    Raises:
        ValidationError: A line names no database and no ``datasource`` was given.
        NotFoundError: A data source does not exist.
    """
    for item in dataset.items:
        db = options.datasource or item.db
        if not db:
            raise ValidationError(
                f'{dataset.name} line {item.line}: no database (give "db" or a data source)',
                extra={"errors": [{"path": f"line {item.line}.db", "message": "missing"}], "line": item.line},
            )
    for db in sorted({options.datasource or item.db or "" for item in dataset.items}):
        await sources.resolve(db)


async def evaluate_text2sql(
    store: EvaluationStore,
    record: EvaluationRecord,
    *,
    sources: Text2SQLSources,
    dataset: Dataset,
    options: Text2SQLEvalOptions,
    run_flow: FlowRunner | None = None,
    output_key: str | None = None,
    concurrency: int = 1,
    on_item: ItemCallback | None = None,
) -> EvaluationRecord:
    """Evaluate the pipeline (or ``run_flow``) and the baseline on every line; results stream into ``store``.

    Each item's ``output`` is the pipeline's SQL; ``details`` hold ``question``, ``gold``, ``sql``, ``repairs``,
    ``attempts``, ``error``, ``match``, ``baseline_sql``, ``baseline_match``, ``baseline_error``, ``linked_tables``.

    Call ``check_sources`` first (before the record is created).
    """
    gold_of: dict[int, tuple[list[list[Any]], bool, Datasources, str]] = {}

    async def baseline(
        question: str, gold_rows: list[list[Any]], ordered: bool, source: Datasources, name: str
    ) -> dict[str, Any]:
        base = await _ask(source, name, _request(options, question, baseline=True))
        base_match = base.rows is not None and results_match(gold_rows, base.rows, ordered=ordered)
        return {
            "baseline_sql": base.sql,
            "baseline_match": base_match,
            "baseline_error": base.error,
            "baseline_duration_ms": round(base.duration_ms),
        }

    async def baselines(items: list[EvaluationItem]) -> list[EvaluationItem]:
        updated: list[EvaluationItem] = []
        for item in items:
            known = gold_of.get(item.index)
            if known is not None:
                gold_rows, ordered, source, name = known
                question = str(item.details.get("question", item.inputs.get("question", "")))
                extra = await baseline(question, gold_rows, ordered, source, name)
                item = msgspec.structs.replace(item, details={**item.details, **extra})  # noqa: PLW2901
                await store.add_items(record.id, [item])
                if on_item is not None:
                    on_item(item)
            updated.append(item)
        return updated

    async def evaluate_item(item: DatasetItem) -> EvaluationItem:
        began = time.perf_counter()
        source, name = await sources.resolve(options.datasource or item.db or "")
        question = str(item.inputs["question"])
        gold = str(item.expected)
        info = await source.info(name)
        ordered = has_top_level_order_by(gold, info.dialect)
        details: dict[str, Any] = {"question": question, "gold": gold, "ordered": ordered, "datasource": name}
        try:
            gold_rows = (await source.query(name, gold, limits=GOLD_LIMITS)).rows
        except AppError as exc:
            return EvaluationItem(
                index=item.index,
                inputs=item.inputs,
                expected=gold,
                error=f"the gold SQL failed: {exc.detail}"[:_ERROR_CHARS],
                details=details,
                duration_ms=(time.perf_counter() - began) * 1000,
            )
        if run_flow is not None:
            answer = await _ask_flow(run_flow, source, name, question, output_key)
        else:
            answer = await _ask(source, name, _request(options, question, baseline=False))
        match = answer.rows is not None and results_match(gold_rows, answer.rows, ordered=ordered)
        details.update(
            sql=answer.sql,
            repairs=answer.repairs,
            attempts=answer.attempts,
            error=answer.error,
            match=match,
            linked_tables=answer.linked_tables,
            gold_rows=len(gold_rows),
            duration_ms=round(answer.duration_ms),
        )
        if answer.run_id is not None:
            details["run_id"] = answer.run_id
        gold_of[item.index] = (gold_rows, ordered, source, name)
        if options.baseline and not options.baseline_last:
            details.update(await baseline(question, gold_rows, ordered, source, name))
        return EvaluationItem(
            index=item.index,
            inputs=item.inputs,
            expected=gold,
            output=answer.sql or None,
            score=1.0 if match else 0.0,
            passed=match,
            details=details,
            duration_ms=(time.perf_counter() - began) * 1000,
        )

    return await run_evaluation(
        store,
        record,
        dataset.items,
        evaluate_item,
        concurrency=concurrency or DEFAULT_CONCURRENCY,
        on_item=on_item,
        then=baselines if options.baseline and options.baseline_last else None,
    )
