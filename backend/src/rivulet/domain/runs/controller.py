"""The runs API: start runs, run history, node states, events (replay) and cancellation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from rivulet.domain.runs.schemas import RunCreate
from rivulet.lib.exceptions import ConfigError
from rivulet.runtime.events import Event, RunStatus
from rivulet.runtime.service import RunDetail, RunRequest, RunService
from rivulet.server.services import ServicesDep
from rivulet.storage.base import RunQuery, RunRecord

__all__ = ("RunsController",)


def _runs(services: ServicesDep) -> RunService:
    if services.runs is None:
        raise ConfigError("the runtime is not configured in this process")
    return services.runs


class RunsController(Controller):
    path = "/api"
    tags = ["runs"]

    @post(
        "/flows/{flow_id:str}/runs",
        status_code=201,
        summary="Start a run",
        description="Compile the flow version and start it. The run executes in the background: follow it over "
        "the WebSocket (`subscribe`) or poll `GET /api/runs/{id}/events`. 422 with located diagnostics when the "
        "flow does not compile.",
    )
    async def start_run(self, services: ServicesDep, flow_id: FromPath[str], data: JSONBody[RunCreate]) -> RunRecord:
        request = RunRequest(
            inputs=data.inputs,
            version=data.version,
            trigger=data.trigger,
            variables=data.variables,
            from_node=data.from_node,
            only_nodes=data.only_nodes,
            deadline_s=data.deadline_s,
        )
        return await _runs(services).start_flow_run(flow_id, request)

    @get("/runs", summary="Run history", description="Runs newest first, filtered by flow, status and time.")
    async def list_runs(
        self,
        services: ServicesDep,
        *,
        flow_id: Annotated[str | None, QueryParameter(required=False)] = None,
        status: Annotated[RunStatus | None, QueryParameter(required=False)] = None,
        since: Annotated[datetime | None, QueryParameter(required=False, description="created at or after")] = None,
        until: Annotated[datetime | None, QueryParameter(required=False, description="created before")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
    ) -> list[RunRecord]:
        query = RunQuery(flow_id=flow_id, status=status, since=since, until=until, limit=limit, offset=offset)
        return await _runs(services).list(query)

    @get("/runs/{run_id:str}", summary="One run", description="The run with the state of every node.")
    async def get_run(self, services: ServicesDep, run_id: FromPath[str]) -> RunDetail:
        return await _runs(services).get(run_id)

    @get(
        "/runs/{run_id:str}/events",
        summary="Run events",
        description="Events with `seq > after_seq` in order (`rivulet.events/v1`): persisted ones and those "
        "published but not yet written.",
    )
    async def list_events(
        self,
        services: ServicesDep,
        run_id: FromPath[str],
        after_seq: Annotated[int, QueryParameter(ge=0)] = 0,
        limit: Annotated[int | None, QueryParameter(ge=1, le=10_000, required=False)] = None,
    ) -> list[Event]:
        return await _runs(services).events(run_id, after_seq, limit)

    @post(
        "/runs/{run_id:str}/cancel",
        status_code=202,
        summary="Cancel a run",
        description="Stops the run's running nodes; `run_cancelled` then `run_finished` (status `cancelled`) "
        "follow. 409 when the run already ended.",
    )
    async def cancel_run(self, services: ServicesDep, run_id: FromPath[str]) -> RunRecord:
        return await _runs(services).cancel(run_id)
