"""``/api/flows``."""

from rivulet.domain.flows.controller import FlowsController, validate_document

__all__ = ("FlowsController", "validate_document")
