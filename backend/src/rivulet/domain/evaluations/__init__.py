"""``/api/evaluations``: evaluation runs of flows on datasets, compared side by side."""

from rivulet.domain.evaluations.controller import EvaluationsController

__all__ = ("EvaluationsController",)
