"""The bodies of ``/api/evaluations``: the start request and the list; records and comparisons are the service's."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from rivulet.storage.base import EvaluationRecord

__all__ = ("EvaluationList", "EvaluationStart")

MAX_DATASET_CHARS = 8 * 1024 * 1024


class EvaluationStart(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Evaluate a flow on a dataset (JSON lines, given as text: the file the editor uploaded)."""

    flow_id: Annotated[str, Meta(min_length=1, max_length=200)]
    dataset: Annotated[str, Meta(min_length=1, max_length=MAX_DATASET_CHARS)]
    """The JSON lines: ``{"inputs": {...}, "expected": ...}`` or ``{"question", "sql", "db"}`` per line."""
    dataset_name: Annotated[str, Meta(min_length=1, max_length=200)] = "dataset.jsonl"
    metric: Literal["exact", "contains", "json_match", "sql_execution", "llm_judge"] = "exact"
    version: Annotated[int, Meta(ge=1)] | None = None
    """The flow version (default: the latest)."""
    model: Annotated[str, Meta(max_length=200)] | None = None
    """The judge of ``llm_judge``."""
    datasource: Annotated[str, Meta(max_length=200)] | None = None
    """The database of ``sql_execution`` (default: each line's ``db``)."""
    output: Annotated[str, Meta(max_length=200)] | None = None
    """Which flow output is compared (default: the only one, or all of them)."""
    name: Annotated[str, Meta(max_length=200)] = ""


class EvaluationList(msgspec.Struct, frozen=True, kw_only=True):
    """Evaluations, newest first, without their items."""

    items: list[EvaluationRecord]
