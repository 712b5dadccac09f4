"""``/api/templates``."""

from rivulet.domain.templates.controller import TemplatesController

__all__ = ("TemplatesController",)
