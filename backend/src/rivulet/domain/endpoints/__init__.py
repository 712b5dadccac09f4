"""Publishing over HTTP: ``/api`` management (publish, endpoints, API keys, schedules) and the ``/f`` gateway."""

from rivulet.domain.endpoints.controller import PublishingController
from rivulet.domain.endpoints.gateway import GatewayController

__all__ = ("GatewayController", "PublishingController")
