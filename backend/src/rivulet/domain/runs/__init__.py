"""The runs API: starting runs, history, node states, events, cancel, and the ``/api/ws`` WebSocket.

Routes: ``POST /api/flows/{id}/runs``, ``GET /api/runs``, ``GET /api/runs/{id}``, ``GET /api/runs/{id}/events``,
``POST /api/runs/{id}/cancel`` and ``/api/ws`` (``rivulet.events/v1`` plus the client protocol).
"""

from rivulet.domain.runs.controller import RunsController
from rivulet.domain.runs.websocket import run_socket

__all__ = ("RunsController", "run_socket")
