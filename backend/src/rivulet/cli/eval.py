"""``rivulet eval``: evaluate flows and Text2SQL on JSON-lines datasets; list, show and compare evaluations.

    rivulet eval text2sql DATASET.jsonl --datasource shop --model qwen [--flow ID] [--max-repairs 2]
    rivulet eval FLOW DATASET.jsonl --metric exact|contains|json_match|sql_execution|llm_judge [--model M]
    rivulet eval list [--flow ID]
    rivulet eval show EVALUATION
    rivulet eval compare A B

Like ``rivulet kb``, the commands open the database themselves (the embedded one unless ``RIVULET_DATABASE_URL``)
and run everything in this process: the flows run through a run service, the models and data sources are the
configured ones, and each evaluation is stored (``/api/evaluations`` and the editor show it). ``FLOW`` is a flow id
or a flow file (``rivulet.flow/v1`` JSON). Progress goes to stderr; the result is a table and a summary line
(``--json``: the evaluation as one JSON document; ``--output FILE`` also writes it to a file). A low score is a
result, not a failure: the exit code is 0 unless the evaluation broke or every item failed with an error (1).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from rivulet.cli.common import add_home_arg, add_json_arg, database, failed, note, out, print_json, settings_for
from rivulet.lib.exceptions import ValidationError

if TYPE_CHECKING:
    import argparse
    from collections.abc import Awaitable, Callable

    from rivulet.app.wiring import Services
    from rivulet.evaluation.service import Comparison
    from rivulet.lib.settings import Settings
    from rivulet.storage.base import EvaluationItem, EvaluationRecord

__all__ = ("add_eval_parser",)

_METRICS = ("exact", "contains", "json_match", "sql_execution", "llm_judge")
_COMMANDS = ("text2sql", "list", "show", "compare")
_encoder = msgspec.json.Encoder(order="deterministic")


async def _with_services(settings: Settings, url: str, action: Callable[[Services], Awaitable[int]]) -> int:
    from rivulet.app.wiring import open_services, register_sample
    from rivulet.storage.postgres.migrate import apply_migrations
    from rivulet.storage.postgres.pool import open_pool

    pool = await open_pool(url, min_size=1, max_size=4)
    try:
        await apply_migrations(pool)
        quiet = msgspec.structs.replace(settings, scheduler_enabled=False)  # an evaluation fires no schedules
        async with open_services(quiet, pool) as services:
            await register_sample(quiet, services.data)  # `shop`, which the server registers in the background
            return await action(services)
    finally:
        await pool.close()


def _mark(passed: bool | None) -> str:
    return "-" if passed is None else ("✔" if passed else "✖")


def _short(text: Any, width: int) -> str:
    value = " ".join(str(text).split()) if text is not None else ""
    return value if len(value) <= width else value[: width - 1] + "…"


def _console() -> Any:
    from rich.console import Console

    return Console(file=sys.stdout, soft_wrap=False, width=max(100, Console(file=sys.stdout).width))


def _percent(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.1f}%)" if whole else "0/0"


def summary_line(record: EvaluationRecord) -> str:
    """One line: pipeline (and baseline) accuracy, the difference, repairs, errors, time."""
    s = record.summary
    total = int(s.get("total", 0))
    if record.kind == "text2sql":
        parts = [f"pipeline {_percent(int(s.get('passed', 0)), total)}"]
        if "baseline_passed" in s:
            delta = 100 * (float(s.get("score", 0)) - float(s.get("baseline_score", 0)))
            parts += [f"baseline {_percent(int(s['baseline_passed']), total)}", f"{delta:+.1f} points"]
            parts.append(f"{s.get('repaired', 0)} fixed by repair")
    else:
        parts = [
            f"{record.metric} {_percent(int(s.get('passed', 0)), total)}",
            f"mean score {float(s.get('score', 0)):.3f}",
        ]
    if s.get("errors"):
        parts.append(f"{s['errors']} errors")
    if "duration_s" in s:
        parts.append(f"{float(s['duration_s']):.1f} s")
    return " · ".join(parts)


def _text2sql_table(items: list[EvaluationItem]) -> Any:
    from rich.table import Table

    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for column in ("#", "question", "pipeline", "repairs", "baseline", "note"):
        table.add_column(column, overflow="fold" if column == "note" else "ellipsis")
    for item in items:
        d = item.details
        note_text = item.error or d.get("error") or ("" if item.passed else f"sql: {d.get('sql') or '-'}")
        table.add_row(
            str(item.index + 1),
            _short(d.get("question", item.inputs.get("question")), 48),
            _mark(item.passed),
            str(d.get("repairs", 0)),
            _mark(d.get("baseline_match")) if "baseline_match" in d else "-",
            _short(note_text, 70),
        )
    return table


def _flow_table(items: list[EvaluationItem]) -> Any:
    from rich.table import Table

    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for column in ("#", "inputs", "expected", "output", "score", "pass"):
        table.add_column(column)
    for item in items:
        table.add_row(
            str(item.index + 1),
            _short(_encoder.encode(item.inputs).decode(), 36),
            _short(item.expected if isinstance(item.expected, str) else _encoder.encode(item.expected).decode(), 30),
            _short(
                item.error or (item.output if isinstance(item.output, str) else _encoder.encode(item.output).decode()),
                40,
            ),
            f"{item.score:.2f}",
            _mark(item.passed),
        )
    return table


def _report(record: EvaluationRecord, args: argparse.Namespace) -> int:
    if args.output:
        Path(args.output).write_bytes(msgspec.json.format(_encoder.encode(record), indent=2) + b"\n")
        note(f"report written to {args.output}")
    if args.json:
        print_json(record)
    else:
        console = _console()
        console.print(_text2sql_table(record.items) if record.kind == "text2sql" else _flow_table(record.items))
        out(f"evaluation {record.id}: {summary_line(record)}")
    if record.status != "succeeded":
        return failed("evaluation", record.error or record.status)
    total = int(record.summary.get("total", 0))
    if total and int(record.summary.get("errors", 0)) == total:
        first = next((item.error for item in record.items if item.error), "every item failed")
        return failed("evaluation", f"every item failed; the first: {first}")
    return 0


class _Progress:
    """A progress bar on stderr, advanced as items are stored."""

    def __init__(self, total: int, label: str) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.passed = 0
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[passed]} passed"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self.task = self.progress.add_task(label, total=total, passed=0)

    def __enter__(self) -> _Progress:
        self.progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.progress.stop()

    def item(self, item: EvaluationItem) -> None:
        self.passed += int(item.passed)
        self.progress.update(self.task, advance=1, passed=self.passed)


def _limited(dataset: Any, limit: int | None) -> Any:
    if not limit:
        return dataset
    return msgspec.structs.replace(dataset, items=dataset.items[:limit])


def _flow_source(flow: str | None) -> tuple[str | None, Any]:
    """A flow id, or a flow file's document."""
    if flow is None:
        return None, None
    path = Path(flow)
    if path.suffix == ".json" or path.is_file():
        from rivulet.compiler.flow import decode_flow

        if not path.is_file():
            raise ValidationError(
                f"{flow}: no such flow file", extra={"errors": [{"path": "FLOW", "message": "not found"}]}
            )
        return None, decode_flow(path.read_bytes())
    return flow, None


def _text2sql(args: argparse.Namespace) -> Callable[[Services], Awaitable[int]]:
    from rivulet.evaluation.dataset import read_dataset
    from rivulet.evaluation.text2sql import Text2SQLEvalOptions

    if len(args.args) != 1:
        raise ValidationError("usage: rivulet eval text2sql DATASET.jsonl --datasource NAME --model NAME [--flow ID]")
    path = Path(args.args[0])
    dataset = _limited(read_dataset(path, kind="text2sql"), args.limit)
    options = Text2SQLEvalOptions(
        model=args.model or "default",
        datasource=args.datasource,
        max_repairs=args.max_repairs,
        baseline=not args.no_baseline,
    )
    flow_id, document = _flow_source(args.flow)
    base_dir = path.resolve().parent

    async def run(services: Services) -> int:
        with _Progress(len(dataset.items), "text2sql") as progress:
            record = await services.evaluations.start_text2sql(
                dataset,
                options=options,
                flow_id=flow_id,
                document=document,
                version=args.version,
                output=args.output_key,
                base_dir=base_dir,
                name=args.name or "",
                on_item=progress.item,
            )
        return _report(record, args)

    return run


def _flow(args: argparse.Namespace) -> Callable[[Services], Awaitable[int]]:
    from rivulet.evaluation.dataset import read_dataset

    if len(args.args) != 1:
        raise ValidationError("usage: rivulet eval FLOW DATASET.jsonl --metric exact|contains|json_match|...")
    dataset = _limited(read_dataset(Path(args.args[0])), args.limit)
    flow_id, document = _flow_source(args.target)
    metric = args.metric or "exact"

    async def run(services: Services) -> int:
        with _Progress(len(dataset.items), metric) as progress:
            record = await services.evaluations.start(
                flow_id,
                dataset,
                metric=metric,
                model=args.model,
                version=args.version,
                output=args.output_key,
                datasource=args.datasource,
                name=args.name or "",
                trigger="cli",
                document=document,
                wait=True,
                concurrency=args.concurrency,
                on_item=progress.item,
            )
        return _report(record, args)

    return run


def _list(args: argparse.Namespace) -> Callable[[Services], Awaitable[int]]:
    async def run(services: Services) -> int:
        records = await services.evaluations.list(flow_id=args.flow)
        if args.json:
            print_json(records)
            return 0
        if not records:
            note("no evaluations")
            return 0
        from rich.table import Table

        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for column in ("id", "kind", "flow", "version", "metric", "model", "score", "passed", "status", "created"):
            table.add_column(column)
        for r in records:
            s = r.summary
            table.add_row(
                r.id,
                r.kind,
                r.flow_id or "-",
                str(r.flow_version or "-"),
                r.metric,
                r.model or "-",
                f"{float(s.get('score', 0)):.3f}" if s else "-",
                f"{s.get('passed', 0)}/{s.get('total', 0)}" if s else "-",
                r.status,
                r.created_at.strftime("%Y-%m-%d %H:%M"),
            )
        _console().print(table)
        return 0

    return run


def _show(args: argparse.Namespace) -> Callable[[Services], Awaitable[int]]:
    if len(args.args) != 1:
        raise ValidationError("usage: rivulet eval show EVALUATION")

    async def run(services: Services) -> int:
        record = await services.evaluations.get(args.args[0])
        if args.json:
            print_json(record)
            return 0
        console = _console()
        console.print(_text2sql_table(record.items) if record.kind == "text2sql" else _flow_table(record.items))
        out(f"evaluation {record.id} ({record.status}): {summary_line(record)}")
        return 0

    return run


def _print_comparison(comparison: Comparison) -> None:
    from rich.table import Table

    s = comparison.summary
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for column in ("#", "status", "a", "b", "inputs", "b output"):
        table.add_column(column)
    for row in comparison.rows:
        if row.status == "same":
            continue
        table.add_row(
            str(row.index + 1),
            row.status,
            _mark(row.a_passed),
            _mark(row.b_passed),
            _short(_encoder.encode(row.inputs).decode(), 40),
            _short(row.b_error or row.b_output, 50),
        )
    _console().print(table)
    out(
        f"a {s.a_passed} passed (score {s.a_score:.3f}) → b {s.b_passed} passed (score {s.b_score:.3f}): "
        f"{s.score_delta:+.3f}; fixed {s.fixed}, broken {s.broken}, changed {s.changed}, same {s.same}"
        + ("" if s.same_dataset else " (different datasets)")
    )


def _compare(args: argparse.Namespace) -> Callable[[Services], Awaitable[int]]:
    if len(args.args) != 2:
        raise ValidationError("usage: rivulet eval compare A B")

    async def run(services: Services) -> int:
        comparison = await services.evaluations.compare(args.args[0], args.args[1])
        if args.json:
            print_json(comparison)
        else:
            _print_comparison(comparison)
        return 0

    return run


def _eval(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    if args.metric and args.target in _COMMANDS:
        raise ValidationError(f"--metric is for evaluating a flow, not for `rivulet eval {args.target}`")
    builders: dict[str, Callable[[argparse.Namespace], Callable[[Services], Awaitable[int]]]] = {
        "text2sql": _text2sql,
        "list": _list,
        "show": _show,
        "compare": _compare,
    }
    action = builders.get(args.target, _flow)(args)  # refused arguments fail before any database starts
    with database(settings) as url:
        return asyncio.run(_with_services(settings, url, action))


def add_eval_parser(sub: Any) -> None:
    """The ``eval`` command."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "eval",
        help="evaluate a flow or Text2SQL on a dataset (JSON lines); list, show, compare evaluations",
        description=(
            "rivulet eval text2sql DATASET --datasource NAME --model NAME [--flow ID] | "
            "rivulet eval FLOW DATASET --metric METRIC | rivulet eval list [--flow ID] | "
            "rivulet eval show ID | rivulet eval compare A B"
        ),
    )
    parser.add_argument("target", metavar="text2sql|FLOW|list|show|compare", help="what to do (FLOW: an id or file)")
    parser.add_argument("args", nargs="*", metavar="ARG", help="the dataset, or evaluation ids")
    parser.add_argument("--metric", choices=_METRICS, help="how a flow's output is scored (default exact)")
    parser.add_argument("--model", help="text2sql: the model asked; llm_judge: the judge")
    parser.add_argument("--datasource", help='the data source (replaces each line\'s "db")')
    parser.add_argument("--flow", help="text2sql: evaluate this flow (id or file) instead of the built-in pipeline")
    parser.add_argument("--version", type=int, help="the flow version (default: the latest)")
    parser.add_argument("--output-key", help="which flow output is compared (default: the only one)")
    parser.add_argument("--max-repairs", type=int, default=2, help="text2sql: repairs of the pipeline (default 2)")
    parser.add_argument("--no-baseline", action="store_true", help="text2sql: skip the raw-prompt baseline")
    parser.add_argument("--limit", type=int, help="only the first N items")
    parser.add_argument("--concurrency", type=int, default=2, help="flow runs at once (default 2)")
    parser.add_argument("--name", help="a name for the evaluation")
    parser.add_argument("--output", metavar="FILE", help="also write the report (JSON) to FILE")
    add_json_arg(parser)
    add_home_arg(parser)
    parser.set_defaults(handler=_eval)
