"""``GET /api/operators`` (the palette catalog) and ``POST /api/operators/{id}/ports`` (ports for params)."""

from rivulet.domain.operators.controller import OperatorsController

__all__ = ("OperatorsController",)
