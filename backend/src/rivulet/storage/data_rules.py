"""Rules the data stores apply alike (memory and PostgreSQL): allowed values, not-found errors, stored JSON.

Both stores keep structured values (configs, schemas, charts, evaluation items) *as JSON*: the memory store
round-trips them through JSON too (``as_stored``), so a datetime inside a schema, a tuple in a table row or a
``Decimal`` comes back exactly as PostgreSQL's ``jsonb`` gives it back, and a caller cannot change a stored value by
mutating what it passed in.

Example:
    >>> as_stored({"rows": [(1, "a")]}, dict)
    {'rows': [[1, 'a']]}
"""

from __future__ import annotations

from typing import Any, TypeVar, get_args

import msgspec

from rivulet.lib.exceptions import NotFoundError, ValidationError
from rivulet.sdk.data import DatasourceKind
from rivulet.storage.base import EvaluationMetric, EvaluationStatus

__all__ = (
    "DATASOURCE_KINDS",
    "EVALUATION_KINDS",
    "EVALUATION_METRICS",
    "EVALUATION_STATUSES",
    "as_stored",
    "check_choice",
    "datasource_not_found",
    "evaluation_not_found",
    "report_not_found",
)

DATASOURCE_KINDS: tuple[str, ...] = get_args(DatasourceKind)
EVALUATION_METRICS: tuple[str, ...] = get_args(EvaluationMetric)
EVALUATION_STATUSES: tuple[str, ...] = get_args(EvaluationStatus)
EVALUATION_KINDS: tuple[str, ...] = ("flow", "text2sql")

_encoder = msgspec.json.Encoder()
_T = TypeVar("_T")


def as_stored(value: Any, type_: type[_T]) -> _T:
    """``value`` as it reads back from a ``jsonb`` column: encoded to JSON and decoded as ``type_``."""
    return msgspec.json.decode(_encoder.encode(value), type=type_)


def check_choice(field: str, value: str, choices: tuple[str, ...]) -> None:
    """Raises ``ValidationError`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValidationError(
            f"{field} must be one of {', '.join(choices)}, not {value[:80]!r}", extra={"field": field}
        )


def datasource_not_found(datasource: str) -> NotFoundError:
    return NotFoundError(f"data source {datasource!r} not found", extra={"datasource": datasource})


def report_not_found(report_id: str) -> NotFoundError:
    return NotFoundError(f"report {report_id!r} not found", extra={"report": report_id})


def evaluation_not_found(evaluation_id: str) -> NotFoundError:
    return NotFoundError(f"evaluation {evaluation_id!r} not found", extra={"evaluation": evaluation_id})
