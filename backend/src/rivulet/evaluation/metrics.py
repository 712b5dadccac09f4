"""How an output is compared with its expectation: exact, contains, json_match, sql_execution, llm_judge.

Each metric gives a ``Score`` (0..1, passed or not, and details for the report):

- ``exact``: equal after normalising (texts: surrounding whitespace and line endings; other values: as JSON, with
  numbers compared by value, so ``1`` equals ``1.0``).
- ``contains``: the output's text contains the expected text (or every one of a list of texts), ignoring case and
  runs of whitespace; the score is the share of texts found.
- ``json_match``: the output (JSON, or JSON in a text, code fences allowed) matches the expected value: objects
  match when every expected key matches (extra keys in the output are allowed), lists element by element, numbers
  by value; the score is the share of expected leaves that match.
- ``sql_execution``: Spider's execution accuracy. The gold and the predicted SQL run on the same database and their
  results are compared as multisets of rows; row order matters only when the gold SQL has a top-level ``ORDER BY``.
  Columns may come in another order (as in Spider's evaluation, a permutation of the columns is searched); values
  are normalised: numbers by value (``Decimal``, ``float`` and ``int`` alike, rounded to 6 decimals after float
  noise is removed), booleans as ``0``/``1``, dates and times as ISO text, ``None`` as itself.
- ``llm_judge``: a model grades the output against the expectation and answers ``{"score": 0..1, "reason": ...}``
  under a strict JSON schema; passed at ``score >= 0.5``.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Literal, cast

import msgspec

from rivulet.lib.exceptions import AppError

if TYPE_CHECKING:
    from rivulet.sdk.models import CallOrigin, ModelRegistry
    from rivulet.sdk.ports import Table

__all__ = (
    "JUDGE_SCHEMA",
    "METRICS",
    "Score",
    "SqlRunner",
    "contains",
    "exact",
    "has_top_level_order_by",
    "json_match",
    "llm_judge",
    "normalise_rows",
    "normalise_value",
    "output_text",
    "results_match",
    "sql_execution",
    "sql_of",
)

MetricName = Literal["exact", "contains", "json_match", "sql_execution", "llm_judge"]
METRICS: Final[tuple[MetricName, ...]] = ("exact", "contains", "json_match", "sql_execution", "llm_judge")

SqlRunner = Callable[[str], Awaitable["Table"]]
"""Runs one SQL text on the evaluation's database and returns its rows."""

_MAX_PERMUTATIONS: Final = 5040  # 7 columns with no value to tell them apart
_FENCE = re.compile(r"```[a-zA-Z0-9_+-]*\s*\n?(.*?)```", re.DOTALL)
_SPACES = re.compile(r"\s+")


class Score(msgspec.Struct, frozen=True, kw_only=True):
    """What a metric made of one item."""

    score: float
    passed: bool
    details: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])
    error: str | None = None
    """The item could not be scored (the gold SQL failed, the judge did not answer)."""


# -- values -----------------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """Structs and other msgspec-encodable values as plain JSON-like Python values."""
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    try:
        return msgspec.to_builtins(value)
    except (TypeError, msgspec.EncodeError):
        return str(value)


def output_text(value: Any) -> str:
    """A value as text: texts as they are, anything else as compact JSON."""
    value = _plain(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _number(value: float | Decimal) -> int | float:
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        return number
    number = round(round(number, 9), 6)  # float noise first (0.1 + 0.2), then the precision compared
    return int(number) if number.is_integer() else number


def normalise_value(value: Any) -> Any:
    """One value of a result row, normalised for comparison (numbers by value, dates as ISO text)."""
    if value is None or isinstance(value, (str, int)):
        return int(value) if isinstance(value, bool) else value
    if isinstance(value, (float, Decimal)):
        return _number(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(cast("bytes", value)).hex()
    if isinstance(value, (list, tuple)):
        return tuple(normalise_value(v) for v in cast("Sequence[Any]", value))
    if isinstance(value, dict):
        return json.dumps(_plain(value), sort_keys=True, default=str)
    return str(value)


def normalise_rows(rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """Rows as tuples of normalised values."""
    return [tuple(normalise_value(v) for v in row) for row in rows]


def _same_rows(gold: list[tuple[Any, ...]], predicted: list[tuple[Any, ...]], *, ordered: bool) -> bool:
    if ordered:
        return gold == predicted
    return Counter(gold) == Counter(predicted)


def _column_candidates(gold: list[tuple[Any, ...]], predicted: list[tuple[Any, ...]], width: int) -> list[list[int]]:
    """For each predicted column, the gold columns holding the same multiset of values."""
    gold_columns = [Counter(row[i] for row in gold) for i in range(width)]
    predicted_columns = [Counter(row[i] for row in predicted) for i in range(width)]
    return [[g for g in range(width) if gold_columns[g] == column] for column in predicted_columns]


def results_match(gold: Sequence[Sequence[Any]], predicted: Sequence[Sequence[Any]], *, ordered: bool) -> bool:
    """Whether two results are equal as Spider counts it (rows as multisets unless ``ordered``; columns permuted).

    Args:
        gold: The gold query's rows.
        predicted: The predicted query's rows.
        ordered: The gold query orders its rows (a top-level ``ORDER BY``): row order must match too.
    """
    gold_rows = normalise_rows(gold)
    predicted_rows = normalise_rows(predicted)
    if len(gold_rows) != len(predicted_rows):
        return False
    if not gold_rows:
        return True
    width = len(gold_rows[0])
    if any(len(row) != width for row in (*gold_rows, *predicted_rows)):
        return False
    if _same_rows(gold_rows, predicted_rows, ordered=ordered):
        return True
    candidates = _column_candidates(gold_rows, predicted_rows, width)
    if any(not c for c in candidates):
        return False
    tried = 0
    for permutation in itertools.product(*candidates):
        if len(set(permutation)) != width:
            continue
        tried += 1
        if tried > _MAX_PERMUTATIONS:
            return False
        # predicted column i holds gold column permutation[i]: reorder the predicted rows into gold's order
        inverse = [0] * width
        for predicted_index, gold_index in enumerate(permutation):
            inverse[gold_index] = predicted_index
        reordered = [tuple(row[inverse[i]] for i in range(width)) for row in predicted_rows]
        if _same_rows(gold_rows, reordered, ordered=ordered):
            return True
    return False


_ORDER_BY = re.compile(r"\border\s+by\b", re.IGNORECASE)


def _strip_strings(sql: str) -> str:
    return re.sub(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"", "''", sql)


def _order_by_outside_parentheses(sql: str) -> bool:
    """Fallback when sqlglot cannot parse: an ``ORDER BY`` at parenthesis depth 0."""
    text = _strip_strings(sql)
    depth = 0
    flat: list[str] = []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        flat.append(char if depth == 0 else " ")
    return bool(_ORDER_BY.search("".join(flat)))


def has_top_level_order_by(sql: str, dialect: str | None = None) -> bool:
    """Whether ``sql``'s outermost query orders its rows (subqueries' and window functions' ORDER BY don't count)."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        tree = sqlglot.parse_one(sql, read=dialect or None)
    except SqlglotError:
        return _order_by_outside_parentheses(sql)
    while isinstance(tree, exp.Subquery):  # (SELECT ... ORDER BY ...)
        tree = tree.this
    return tree.args.get("order") is not None


def sql_of(value: Any) -> str | None:
    """The SQL text in a flow's output: a text, an ``SQLQuery`` (``{"sql", "dialect"}``) or an object holding one."""
    value = _plain(value)
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        for key in ("sql", "query"):
            found = sql_of(value.get(key))  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
            if found:
                return found
    return None


# -- metrics ----------------------------------------------------------------------------------------------------


def _normal_text(text: str) -> str:
    return text.replace("\r\n", "\n").strip()


def _json_equal(expected: Any, output: Any) -> bool:
    if isinstance(expected, bool) or isinstance(output, bool):
        return expected is output or (type(expected) is type(output) and expected == output)
    if isinstance(expected, (int, float)) and isinstance(output, (int, float)):
        return _number(expected) == _number(output)
    if isinstance(expected, dict) and isinstance(output, dict):
        return expected.keys() == output.keys() and all(_json_equal(v, output[k]) for k, v in expected.items())  # pyright: ignore[reportUnknownVariableType, reportUnknownMemberType]
    if isinstance(expected, list) and isinstance(output, list):
        return len(expected) == len(output) and all(_json_equal(a, b) for a, b in zip(expected, output, strict=True))  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]
    return expected == output


def exact(expected: Any, output: Any) -> Score:
    """Equal after normalising (see the module's doc)."""
    expected, output = _plain(expected), _plain(output)
    if isinstance(expected, str) and isinstance(output, str):
        passed = _normal_text(expected) == _normal_text(output)
    elif isinstance(expected, str):
        passed = _normal_text(expected) == _normal_text(output_text(output))
    else:
        passed = _json_equal(expected, output)
    return Score(score=1.0 if passed else 0.0, passed=passed)


def _fold(text: str) -> str:
    return _SPACES.sub(" ", text).strip().casefold()


def contains(expected: Any, output: Any) -> Score:
    """The output's text contains the expected text, or each of a list of texts (case and spacing ignored)."""
    expected = _plain(expected)
    wanted = [output_text(e) for e in expected] if isinstance(expected, list) else [output_text(expected)]  # pyright: ignore[reportUnknownVariableType]
    haystack = _fold(output_text(output))
    found = [w for w in wanted if _fold(w) in haystack]
    missing = [w for w in wanted if _fold(w) not in haystack]
    score = len(found) / len(wanted) if wanted else 1.0
    return Score(score=score, passed=not missing, details={"missing": missing} if missing else {})


def _parse_json(value: Any) -> tuple[Any, str | None]:
    """The output as a JSON value (texts are parsed: whole, in a code fence, or from the first ``{``/``[``)."""
    value = _plain(value)
    if not isinstance(value, str):
        return value, None
    candidates = [value.strip()]
    candidates += [m.strip() for m in _FENCE.findall(value)]
    for opener, closer in (("{", "}"), ("[", "]")):
        start, end = value.find(opener), value.rfind(closer)
        if 0 <= start < end:
            candidates.append(value[start : end + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate), None
        except ValueError:
            continue
    return None, "the output is not JSON"


def _leaves(expected: Any, output: Any, path: str, mismatches: list[str]) -> tuple[int, int]:
    """(matching leaves, expected leaves) of ``expected`` found in ``output``; mismatching paths collected."""
    if isinstance(expected, dict):
        if not expected:
            ok = isinstance(output, dict)
            if not ok:
                mismatches.append(path or "$")
            return int(ok), 1
        total = matched = 0
        for key, value in expected.items():  # pyright: ignore[reportUnknownVariableType]
            sub = f"{path}.{key}" if path else f"$.{key}"
            present = isinstance(output, dict) and key in output
            m, t = _leaves(value, output[key] if present else _MISSING, sub, mismatches)  # pyright: ignore[reportUnknownArgumentType]
            matched, total = matched + m, total + t
        return matched, total
    if isinstance(expected, list):
        if not expected or not isinstance(output, list) or len(output) != len(expected):  # pyright: ignore[reportUnknownArgumentType]
            ok = isinstance(output, list) and len(output) == len(expected)  # pyright: ignore[reportUnknownArgumentType]
            if not ok:
                mismatches.append(f"{path or '$'} (length)")
                return 0, max(1, _count(expected))
            return 1, 1
        total = matched = 0
        for index, (a, b) in enumerate(zip(expected, output, strict=True)):  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]
            m, t = _leaves(a, b, f"{path or '$'}[{index}]", mismatches)
            matched, total = matched + m, total + t
        return matched, total
    ok = output is not _MISSING and _json_equal(expected, output)
    if not ok:
        mismatches.append(path or "$")
    return int(ok), 1


def _count(value: Any) -> int:
    if isinstance(value, dict):
        return sum(_count(v) for v in value.values()) or 1  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
    if isinstance(value, list):
        return sum(_count(v) for v in value) or 1  # pyright: ignore[reportUnknownVariableType]
    return 1


_MISSING: Final = object()


def json_match(expected: Any, output: Any) -> Score:
    """The output matches the expected JSON (extra keys allowed); score: the share of expected leaves matched."""
    parsed, problem = _parse_json(output)
    if problem is not None:
        return Score(score=0.0, passed=False, details={"reason": problem})
    mismatches: list[str] = []
    matched, total = _leaves(_plain(expected), parsed, "", mismatches)
    score = matched / total if total else 1.0
    return Score(score=score, passed=not mismatches, details={"mismatches": mismatches[:20]} if mismatches else {})


async def sql_execution(
    gold_sql: str,
    predicted_sql: str | None,
    run: SqlRunner,
    *,
    dialect: str | None = None,
    predicted_rows: Sequence[Sequence[Any]] | None = None,
    gold_rows: Sequence[Sequence[Any]] | None = None,
) -> Score:
    """Spider's execution accuracy of ``predicted_sql`` against ``gold_sql`` on the database ``run`` reaches.

    Args:
        gold_sql: The reference query.
        predicted_sql: The query to judge (``None``: nothing was produced, a failure).
        run: Executes one query.
        dialect: The gold query's dialect (to find its ``ORDER BY``).
        predicted_rows: The predicted query's rows when already executed (not run again).
        gold_rows: The gold query's rows when already executed.
    """
    ordered = has_top_level_order_by(gold_sql, dialect)
    details: dict[str, Any] = {"ordered": ordered}
    if gold_rows is None:
        try:
            gold_rows = (await run(gold_sql)).rows
        except AppError as exc:
            return Score(score=0.0, passed=False, details=details, error=f"the gold SQL failed: {exc.detail}")
    details["gold_rows"] = len(gold_rows)
    if predicted_rows is None:
        if not predicted_sql:
            return Score(score=0.0, passed=False, details={**details, "reason": "no SQL"})
        try:
            predicted_rows = (await run(predicted_sql)).rows
        except AppError as exc:
            return Score(score=0.0, passed=False, details={**details, "reason": f"the SQL failed: {exc.detail}"})
    details["rows"] = len(predicted_rows)
    passed = results_match(gold_rows, predicted_rows, ordered=ordered)
    return Score(score=1.0 if passed else 0.0, passed=passed, details=details)


JUDGE_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "score": {"type": "number", "minimum": 0, "maximum": 1},
        "reason": {"type": "string"},
    },
    "required": ["score", "reason"],
    "additionalProperties": False,
}
"""The judge's answer (structured output)."""

_JUDGE_SYSTEM: Final = (
    "You grade the output of an AI application against the expected answer. Compare meaning, not wording: the "
    "output passes when it states what the expected answer states, without contradicting it. Answer only with a "
    'JSON object {"score": <number from 0 to 1>, "reason": "<one sentence>"}: 1 = fully correct, 0.5 = partly '
    "correct, 0 = wrong or missing."
)


class _Verdict(msgspec.Struct, frozen=True):
    score: float
    reason: str = ""


async def llm_judge(
    models: ModelRegistry,
    model: str,
    *,
    inputs: dict[str, Any],
    expected: Any,
    output: Any,
    origin: CallOrigin | None = None,
) -> Score:
    """A model grades ``output`` against ``expected`` (strict JSON schema ``{score, reason}``; passed at 0.5)."""
    from rivulet.sdk.models import ChatRequest
    from rivulet.sdk.ports import Message

    prompt = (
        f"Input:\n{output_text(inputs)}\n\nExpected answer:\n{output_text(expected)}\n\n"
        f"Output to grade:\n{output_text(output)}\n\nGrade the output."
    )
    request = ChatRequest(
        messages=[Message(role="system", content=_JUDGE_SYSTEM), Message(role="user", content=prompt)],
        temperature=0.0,
        max_tokens=200,
        json_schema=JUDGE_SCHEMA,
    )
    result = await models.chat(model, request, origin=origin)
    parsed, problem = _parse_json(result.text)
    try:
        if problem is not None:
            raise msgspec.ValidationError(problem)
        verdict = msgspec.convert(parsed, _Verdict)
    except msgspec.ValidationError as exc:
        return Score(score=0.0, passed=False, details={"judge": result.text[:500]}, error=f"the judge's answer: {exc}")
    score = min(1.0, max(0.0, float(verdict.score)))
    return Score(score=score, passed=score >= 0.5, details={"reason": verdict.reason, "judge_model": result.model})
