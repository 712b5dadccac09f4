"""``GET /api/health``."""

from rivulet.domain.health.controller import HealthController

__all__ = ("HealthController",)
