"""``/api/models``."""

from rivulet.domain.models.controller import ModelsController

__all__ = ("ModelsController",)
