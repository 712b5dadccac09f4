"""``/api/evaluations``: evaluations of flows on datasets, one with its items, two side by side; start and delete.

Every signed-in role lists and reads evaluations (``data:read``) of the flows it may read (Text2SQL evaluations,
made by ``rivulet eval text2sql``, have no flow: everybody sees them); editors and administrators start an
evaluation of a flow they may run and delete evaluations (``data:query``). Starting answers 202 with the
``running`` record: the items stream into it (``GET /api/evaluations/{id}``) until it is ``succeeded`` or
``failed``. ``GET /api/evaluations/compare?a=&b=`` aligns the items of two evaluations by index: ``fixed``,
``broken``, ``changed``, ``same``. docs/evaluation.md has the shapes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from rivulet.data.service import usable_by
from rivulet.domain.access import check_flow, principal_of, readable_flow_ids, require_flow
from rivulet.domain.evaluations.deps import EvaluationsDeps
from rivulet.domain.evaluations.schemas import EvaluationList, EvaluationStart
from rivulet.evaluation.dataset import Dataset, read_dataset
from rivulet.evaluation.service import Comparison
from rivulet.lib.exceptions import NotFoundError, PermissionDeniedError
from rivulet.security.permissions import Permission, requires
from rivulet.server.deps import Injected
from rivulet.storage.base import EvaluationRecord

if TYPE_CHECKING:
    from rivulet.security import Principal

__all__ = ("EvaluationsController",)

_READ = requires(Permission.DATA_READ)
_QUERY = requires(Permission.DATA_QUERY)


async def _readable(deps: EvaluationsDeps, request: Request[Any, Any, Any], evaluation_id: str) -> EvaluationRecord:
    """The evaluation with its items, when the caller may read its flow (404 otherwise, like a missing one)."""
    record = await deps.evaluations.get(evaluation_id)
    principal = principal_of(request)
    missing = NotFoundError(f"evaluation {evaluation_id!r} not found", extra={"evaluation_id": evaluation_id})
    if principal.is_admin:
        return record
    if record.flow_id is None:
        # no flow to share it through (Text2SQL from the CLI): its owner's; an ownerless one the administrators'
        if record.owner_id is None or record.owner_id != principal.user_id:
            raise missing
        return record
    try:
        check_flow(principal, (await deps.flows.get(record.flow_id)).summary, "read")
    except NotFoundError:
        raise missing from None
    return record


async def _check_datasources(
    deps: EvaluationsDeps, principal: Principal, datasource: str | None, dataset: Dataset
) -> None:
    """The caller may use the data source and every line's ``db`` (the gold SQL runs on them): 404 otherwise.

    Another user's uploaded data source answers exactly like a missing one (``sql_execution`` would otherwise
    let an editor run SQL on it and read the verdicts and the database's error messages).
    """
    data = deps.evaluations.data
    names = {item.db for item in dataset.items if item.db}
    if datasource:
        names.add(datasource)
    if data is None or principal.is_admin:
        return
    for name in sorted(names):
        try:
            record = await data.get(name)
        except NotFoundError:
            continue  # the evaluation reports it per item, as before
        if not usable_by(record, principal.user_id):
            raise NotFoundError(f"data source {name!r} not found", extra={"datasource": name})


class EvaluationsController(Controller):
    path = "/api/evaluations"
    tags = ["evaluations"]

    @get("", summary="Evaluations, newest first (of one flow with ?flow_id=), without their items", opt=_READ)
    async def list_evaluations(
        self,
        deps: Injected[EvaluationsDeps],
        request: Request[Any, Any, Any],
        flow_id: Annotated[str | None, QueryParameter(required=False, description="only this flow's")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500, required=False)] = 100,
    ) -> EvaluationList:
        principal = principal_of(request)
        if flow_id is not None and not principal.is_admin:
            await require_flow(deps.flows, principal, flow_id, "read")
        records = await deps.evaluations.list(flow_id=flow_id, limit=limit)
        readable = await readable_flow_ids(deps.flows, principal)
        if readable is not None:
            allowed = set(readable)
            records = [
                r
                for r in records
                if r.flow_id in allowed
                or (r.flow_id is None and r.owner_id is not None and r.owner_id == principal.user_id)
            ]
        return EvaluationList(items=records)

    @post(
        "",
        status_code=202,
        summary="Evaluate a flow on a dataset (JSON lines) in the background; answers the running evaluation",
        description="Each line's inputs run the flow (a real run); its output is scored by the metric. Errors in "
        "the dataset are a 422 naming the line and the field.",
        opt=_QUERY,
    )
    async def start_evaluation(
        self, deps: Injected[EvaluationsDeps], request: Request[Any, Any, Any], data: JSONBody[EvaluationStart]
    ) -> EvaluationRecord:
        principal = principal_of(request)
        await require_flow(deps.flows, principal, data.flow_id, "write")
        dataset = read_dataset(data.dataset.encode(), name=data.dataset_name)
        await _check_datasources(deps, principal, data.datasource, dataset)
        return await deps.evaluations.start(
            data.flow_id,
            dataset,
            metric=data.metric,
            model=data.model,
            version=data.version,
            output=data.output,
            datasource=data.datasource,
            name=data.name,
            owner_id=principal.user_id,
            trigger="api",
        )

    @get(
        "/compare",
        summary="Two evaluations side by side: summary deltas and the items aligned by index",
        description="`status` of a row: `fixed` (fails in a, passes in b), `broken`, `changed` (same verdict, "
        "another output), `same`, `only_a`, `only_b`.",
        opt=_READ,
    )
    async def compare_evaluations(
        self,
        deps: Injected[EvaluationsDeps],
        request: Request[Any, Any, Any],
        a: Annotated[str, QueryParameter(description="the earlier evaluation")],
        b: Annotated[str, QueryParameter(description="the later evaluation")],
    ) -> Comparison:
        await _readable(deps, request, a)
        await _readable(deps, request, b)
        return await deps.evaluations.compare(a, b)

    @get("/{evaluation_id:str}", summary="One evaluation with its items (by index)", opt=_READ)
    async def get_evaluation(
        self, deps: Injected[EvaluationsDeps], request: Request[Any, Any, Any], evaluation_id: FromPath[str]
    ) -> EvaluationRecord:
        return await _readable(deps, request, evaluation_id)

    @delete(
        "/{evaluation_id:str}",
        summary="Delete an evaluation (stopping it when running): its owner, a writer of its flow, an administrator",
        opt=_QUERY,
    )
    async def delete_evaluation(
        self, deps: Injected[EvaluationsDeps], request: Request[Any, Any, Any], evaluation_id: FromPath[str]
    ) -> None:
        record = await _readable(deps, request, evaluation_id)
        principal = principal_of(request)
        if not principal.is_admin and record.owner_id != principal.user_id:
            if record.flow_id is None:
                raise PermissionDeniedError(
                    f"only an administrator may delete evaluation {evaluation_id!r}",
                    extra={"evaluation_id": evaluation_id},
                )
            await require_flow(deps.flows, principal, record.flow_id, "write")
        await deps.evaluations.delete(evaluation_id)
