"""``/api``: publish/unpublish flows, list endpoints with call stats and audit, API keys, schedules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from rivulet.domain.access import principal_of, readable_flow_ids, require_flow
from rivulet.domain.endpoints.deps import PublishingDeps
from rivulet.domain.endpoints.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    EndpointRead,
    PublishRequest,
    PublishResult,
    ScheduleRead,
    ScheduleUpdate,
)
from rivulet.domain.endpoints.views import describe_endpoint, describe_publication, describe_schedule
from rivulet.lib.exceptions import NotFoundError, PermissionDeniedError, ValidationError
from rivulet.security.permissions import Permission, requires
from rivulet.server.deps import Injected
from rivulet.storage.base import (
    ApiKeyRead,
    CallRecord,
    EndpointStore,
    FireRecord,
    FlowStore,
)

if TYPE_CHECKING:
    from rivulet.security import Principal

__all__ = ("PublishingController",)

_READ = requires(Permission.FLOWS_READ)
_WRITE = requires(Permission.FLOWS_WRITE)


async def _readable(flows: FlowStore, principal: Principal, flow_id: str | None) -> tuple[str, ...] | None:
    """The flows whose endpoints/schedules the caller may list (``None``: all); 404 for an unreadable ``flow_id``."""
    if flow_id is not None:
        await require_flow(flows, principal, flow_id, "read")
    return await readable_flow_ids(flows, principal)


async def _check_key_scope(store: EndpointStore, flows: FlowStore, principal: Principal, slugs: list[str]) -> None:
    """A non-administrator's key must name endpoints, each of a flow the caller may write."""
    if principal.is_admin:
        return
    if not slugs:
        raise ValidationError(
            "name the endpoints this key may call: only administrators make keys for every endpoint",
            extra={"errors": [{"path": "$.endpoints", "field": "endpoints", "message": "must not be empty"}]},
        )
    for index, slug in enumerate(slugs):
        record = await store.get(slug)
        try:
            if record is None:
                raise NotFoundError(f"endpoint {slug!r} not found")
            await require_flow(flows, principal, record.flow_id, "write")
        except (NotFoundError, PermissionDeniedError):
            raise ValidationError(
                f"endpoint {slug!r} is not one of yours",
                extra={"errors": [{"path": f"$.endpoints[{index}]", "field": "endpoints", "message": "not yours"}]},
            ) from None


class PublishingController(Controller):
    path = "/api"
    tags = ["publishing"]

    @post(
        "/flows/{flow_id:str}/publish",
        status_code=200,
        summary="Publish a flow version",
        description="Mounts the version's `trigger.http` node as `METHOD /f/{slug}` on every replica and/or "
        "schedules its `trigger.schedule` node. 422 when the flow has no trigger or does not compile, 409 when the "
        "slug belongs to another flow.",
        opt=_WRITE,
    )
    async def publish(
        self,
        deps: Injected[PublishingDeps],
        request: Request[Any, Any, Any],
        flow_id: FromPath[str],
        data: JSONBody[PublishRequest],
    ) -> PublishResult:
        principal = principal_of(request)
        await require_flow(deps.flows, principal, flow_id, "write")
        return describe_publication(
            await deps.publisher.publish(
                flow_id,
                version=data.version,
                concurrency_limit=data.concurrency_limit,
                published_by=principal.username,
            )
        )

    @delete(
        "/flows/{flow_id:str}/publish",
        status_code=200,
        summary="Unpublish a flow",
        description="Removes its endpoint (404 from then on, on every replica) and its schedule.",
        opt=_WRITE,
    )
    async def unpublish(
        self,
        deps: Injected[PublishingDeps],
        request: Request[Any, Any, Any],
        flow_id: FromPath[str],
    ) -> dict[str, list[str]]:
        await require_flow(deps.flows, principal_of(request), flow_id, "write")
        return {"unpublished": await deps.publisher.unpublish(flow_id)}

    @get(
        "/endpoints",
        summary="Published endpoints",
        description="The endpoints of the flows the caller may read, with their call statistics.",
        opt=_READ,
    )
    async def list_endpoints(
        self,
        deps: Injected[PublishingDeps],
        request: Request[Any, Any, Any],
        flow_id: Annotated[str | None, QueryParameter(required=False)] = None,
    ) -> list[EndpointRead]:
        readable = await _readable(deps.flows, principal_of(request), flow_id)
        await deps.audit.flush()  # this replica's latest calls count too
        stats = await deps.endpoints.stats()
        records = [r for r in await deps.endpoints.list(flow_id) if readable is None or r.flow_id in readable]
        flows = {f.id: f for f in await deps.flows.summaries({r.flow_id for r in records})}
        result: list[EndpointRead] = []
        for record in records:
            live = await deps.published.resolve(record.slug)
            if live is not None:
                flow = flows.get(record.flow_id)
                result.append(describe_endpoint(live.record, live.params, stats.get(record.slug), flow))
        return result

    @get(
        "/endpoints/{slug:str}/calls",
        summary="Call audit",
        description="Latest calls: who, when, run, status.",
        opt=_READ,
    )
    async def list_calls(
        self,
        *,
        deps: Injected[PublishingDeps],
        request: Request[Any, Any, Any],
        slug: FromPath[str],
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> list[CallRecord]:
        record = await deps.endpoints.get(slug)
        if record is None:
            raise NotFoundError(f"endpoint {slug!r} not found", extra={"slug": slug})
        await require_flow(deps.flows, principal_of(request), record.flow_id, "read")
        await deps.audit.flush()
        return await deps.endpoints.calls(slug, limit)

    @get(
        "/api-keys",
        summary="API keys",
        description="The caller's keys (administrators: every key); secrets are never shown again.",
        opt=_WRITE,
    )
    async def list_keys(self, deps: Injected[PublishingDeps], request: Request[Any, Any, Any]) -> list[ApiKeyRead]:
        principal = principal_of(request)
        return await deps.auth.list_api_keys(None if principal.is_admin else principal.user_id)

    @post(
        "/api-keys",
        status_code=201,
        summary="Create an API key",
        description="The secret is in this response only; store it. Scope it to endpoint slugs of flows you may "
        "write (empty: every endpoint, administrators only).",
        opt=_WRITE,
    )
    async def create_key(
        self,
        deps: Injected[PublishingDeps],
        request: Request[Any, Any, Any],
        data: JSONBody[ApiKeyCreate],
    ) -> ApiKeyCreated:
        principal = principal_of(request)
        await _check_key_scope(deps.endpoints, deps.flows, principal, data.endpoints)
        key, secret = await deps.auth.create_api_key(
            data.name, data.endpoints, data.rate_limit_per_minute, principal.username, principal.user_id
        )
        return ApiKeyCreated(key=key, secret=secret)

    @delete("/api-keys/{key_id:str}", status_code=200, summary="Revoke an API key (yours; any, as admin)", opt=_WRITE)
    async def revoke_key(
        self,
        deps: Injected[PublishingDeps],
        request: Request[Any, Any, Any],
        key_id: FromPath[str],
    ) -> ApiKeyRead:
        principal = principal_of(request)
        if not principal.is_admin and (await deps.auth.get_api_key(key_id)).owner_id != principal.user_id:
            raise NotFoundError(f"API key {key_id!r} not found", extra={"key_id": key_id})
        key = await deps.auth.revoke_api_key(key_id)
        await deps.changes.notify("auth")
        return key

    @get(
        "/schedules",
        summary="Schedules",
        description="Published schedules of the flows the caller may read, with their next fire times.",
        opt=_READ,
    )
    async def list_schedules(
        self,
        deps: Injected[PublishingDeps],
        request: Request[Any, Any, Any],
        flow_id: Annotated[str | None, QueryParameter(required=False)] = None,
    ) -> list[ScheduleRead]:
        readable = await _readable(deps.flows, principal_of(request), flow_id)
        listed = [s for s in await deps.schedules.list(flow_id) if readable is None or s.flow_id in readable]
        flows = {f.id: f for f in await deps.flows.summaries({s.flow_id for s in listed})}
        return [describe_schedule(s, await deps.schedules.missed_count(s.id), flows.get(s.flow_id)) for s in listed]

    @patch(
        "/schedules/{schedule_id:str}",
        summary="Enable or disable a schedule",
        description="Enabling compiles the schedule's flow version again (422 `compile_error` when it does not).",
        opt=_WRITE,
    )
    async def update_schedule(
        self,
        *,
        deps: Injected[PublishingDeps],
        request: Request[Any, Any, Any],
        schedule_id: FromPath[str],
        data: JSONBody[ScheduleUpdate],
    ) -> ScheduleRead:
        current = await deps.schedules.get(schedule_id)
        await require_flow(deps.flows, principal_of(request), current.flow_id, "write")
        updated = await deps.publisher.set_schedule_enabled(schedule_id, data.enabled)
        return describe_schedule(updated, await deps.schedules.missed_count(schedule_id))

    @get(
        "/schedules/{schedule_id:str}/fires",
        summary="Schedule fires",
        description="Fire times, newest first: `fired` (with the run), `missed` (downtime, coalesced) or `failed`.",
        opt=_READ,
    )
    async def list_fires(
        self,
        deps: Injected[PublishingDeps],
        request: Request[Any, Any, Any],
        schedule_id: FromPath[str],
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> list[FireRecord]:
        schedule = await deps.schedules.get(schedule_id)
        await require_flow(deps.flows, principal_of(request), schedule.flow_id, "read")
        return await deps.schedules.fires(schedule_id, limit)
