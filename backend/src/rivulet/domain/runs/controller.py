"""The runs API: start runs, run history, node states, events (replay) and cancellation."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from rivulet.domain.access import principal_of, readable_flow_ids, require_flow, require_run
from rivulet.domain.runs.deps import RunsDeps
from rivulet.domain.runs.schemas import RunCreate, RunListItem
from rivulet.records.events import Event, RunStatus
from rivulet.records.runs import RunQuery, RunRecord
from rivulet.runtime.service import RunDetail, RunRequest, RunService
from rivulet.security.permissions import Access, Permission, requires
from rivulet.server.deps import Injected

if TYPE_CHECKING:
    from rivulet.storage.base import FlowStore

__all__ = ("RunsController",)


async def _checked_run(
    runs: RunService, flows: FlowStore, request: Request[Any, Any, Any], run_id: str, need: Access
) -> RunDetail:
    """The run, when the caller may ``need`` its flow (404 as for a missing run otherwise)."""
    detail = await runs.get(run_id)
    await require_run(flows, principal_of(request), detail.run, need)
    return detail


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
        opt=requires(Permission.FLOWS_WRITE),
    )
    async def start_run(
        self,
        deps: Injected[RunsDeps],
        request: Request[Any, Any, Any],
        flow_id: FromPath[str],
        data: JSONBody[RunCreate],
    ) -> RunRecord:
        await require_flow(deps.flows, principal_of(request), flow_id, "write")
        run = RunRequest(
            inputs=data.inputs,
            version=data.version,
            trigger=data.trigger,
            variables=data.variables,
            from_node=data.from_node,
            only_nodes=data.only_nodes,
            deadline_s=data.deadline_s,
        )
        return await deps.runs.start_flow_run(flow_id, run)

    @get(
        "/runs",
        summary="Run history",
        description="Runs of the flows the caller may read, newest first, filtered by flow, status and time.",
        opt=requires(Permission.FLOWS_READ),
    )
    async def list_runs(
        self,
        deps: Injected[RunsDeps],
        request: Request[Any, Any, Any],
        *,
        flow_id: Annotated[str | None, QueryParameter(required=False)] = None,
        status: Annotated[RunStatus | None, QueryParameter(required=False)] = None,
        since: Annotated[datetime | None, QueryParameter(required=False, description="created at or after")] = None,
        until: Annotated[datetime | None, QueryParameter(required=False, description="created before")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
    ) -> list[RunListItem]:
        flow_ids = await readable_flow_ids(deps.flows, principal_of(request))
        query = RunQuery(
            flow_id=flow_id, flow_ids=flow_ids, status=status, since=since, until=until, limit=limit, offset=offset
        )
        runs = await deps.runs.list(query)
        flows = {f.id: f for f in await deps.flows.summaries({r.flow_id for r in runs})}  # one query for the names
        answered = [r.id for r in runs if r.trigger == "app"]
        feedback = await deps.apps.feedback_for_runs(answered) if answered else {}
        return [
            RunListItem.of(
                r, f.name if (f := flows.get(r.flow_id)) else None, f.updated_at if f else None, feedback.get(r.id)
            )
            for r in runs
        ]

    @get(
        "/runs/{run_id:str}",
        summary="One run",
        description="The run with the state of every node.",
        opt=requires(Permission.FLOWS_READ),
    )
    async def get_run(
        self,
        deps: Injected[RunsDeps],
        request: Request[Any, Any, Any],
        run_id: FromPath[str],
    ) -> RunDetail:
        return await _checked_run(deps.runs, deps.flows, request, run_id, "read")

    @get(
        "/runs/{run_id:str}/events",
        summary="Run events",
        description="Events with `seq > after_seq` in order (`rivulet.events/v1`): persisted ones and those "
        "published but not yet written.",
        opt=requires(Permission.FLOWS_READ),
    )
    async def list_events(
        self,
        *,
        deps: Injected[RunsDeps],
        request: Request[Any, Any, Any],
        run_id: FromPath[str],
        after_seq: Annotated[int, QueryParameter(ge=0)] = 0,
        limit: Annotated[int | None, QueryParameter(ge=1, le=10_000, required=False)] = None,
    ) -> list[Event]:
        if not principal_of(request).is_admin:
            await _checked_run(deps.runs, deps.flows, request, run_id, "read")
        return await deps.runs.events(run_id, after_seq, limit)

    @post(
        "/runs/{run_id:str}/cancel",
        status_code=202,
        summary="Cancel a run",
        description="Stops the run's running nodes; `run_cancelled` then `run_finished` (status `cancelled`) "
        "follow. 409 when the run already ended.",
        opt=requires(Permission.FLOWS_WRITE),
    )
    async def cancel_run(
        self,
        deps: Injected[RunsDeps],
        request: Request[Any, Any, Any],
        run_id: FromPath[str],
    ) -> RunRecord:
        await _checked_run(deps.runs, deps.flows, request, run_id, "write")
        return await deps.runs.cancel(run_id)
