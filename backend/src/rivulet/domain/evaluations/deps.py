"""What the evaluations API uses, handed to its handlers as one dependency (``deps``)."""

from __future__ import annotations

from dataclasses import dataclass

from rivulet.evaluation.service import EvaluationService
from rivulet.storage.base import FlowStore

__all__ = ("EvaluationsDeps",)


@dataclass(frozen=True, slots=True, kw_only=True)
class EvaluationsDeps:
    """The evaluation service and the flows (who may see an evaluation follows who may see its flow)."""

    evaluations: EvaluationService
    flows: FlowStore
