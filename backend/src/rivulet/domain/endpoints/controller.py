"""``/api``: publish/unpublish flows, list endpoints with call stats and audit, API keys, schedules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from rivulet.domain.auth.controller import principal_of, require_admin
from rivulet.domain.endpoints.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    EndpointRead,
    PublishRequest,
    PublishResult,
    ScheduleRead,
    ScheduleUpdate,
)
from rivulet.domain.endpoints.service import describe_endpoint, describe_schedule, publish_flow, unpublish_flow
from rivulet.publishing.scheduler import next_fire_after
from rivulet.server.services import ServicesDep
from rivulet.storage.postgres.auth import ApiKeyRead
from rivulet.storage.postgres.endpoints import CallRecord
from rivulet.storage.postgres.schedules import FireRecord

__all__ = ("PublishingController",)


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
    )
    async def publish(
        self,
        services: ServicesDep,
        request: Request[Any, Any, Any],
        flow_id: FromPath[str],
        data: JSONBody[PublishRequest],
    ) -> PublishResult:
        return await publish_flow(services, flow_id, data, principal_of(request))

    @delete(
        "/flows/{flow_id:str}/publish",
        status_code=200,
        summary="Unpublish a flow",
        description="Removes its endpoint (404 from then on, on every replica) and its schedule.",
    )
    async def unpublish(self, services: ServicesDep, flow_id: FromPath[str]) -> dict[str, list[str]]:
        return {"unpublished": await unpublish_flow(services, flow_id)}

    @get("/endpoints", summary="Published endpoints", description="Every endpoint with its call statistics.")
    async def list_endpoints(
        self, services: ServicesDep, flow_id: Annotated[str | None, QueryParameter(required=False)] = None
    ) -> list[EndpointRead]:
        stats = await services.endpoints.stats()
        result: list[EndpointRead] = []
        assert services.published is not None
        for record in await services.endpoints.list(flow_id):
            live = await services.published.resolve(record.slug)
            if live is not None:
                result.append(describe_endpoint(live.record, live.params, stats.get(record.slug)))
        return result

    @get("/endpoints/{slug:str}/calls", summary="Call audit", description="Latest calls: who, when, run, status.")
    async def list_calls(
        self, services: ServicesDep, slug: FromPath[str], limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100
    ) -> list[CallRecord]:
        await services.audit.flush()
        return await services.endpoints.calls(slug, limit)

    @get("/api-keys", summary="API keys", description="Every key (secrets are never shown again).")
    async def list_keys(self, services: ServicesDep) -> list[ApiKeyRead]:
        return await services.auth.list_api_keys()

    @post(
        "/api-keys",
        status_code=201,
        summary="Create an API key",
        description="The secret is in this response only; store it. Scope it to endpoint slugs (empty: all).",
    )
    async def create_key(
        self, services: ServicesDep, request: Request[Any, Any, Any], data: JSONBody[ApiKeyCreate]
    ) -> ApiKeyCreated:
        principal = require_admin(request)
        key, secret = await services.auth.create_api_key(
            data.name, data.endpoints, data.rate_limit_per_minute, principal.username
        )
        return ApiKeyCreated(key=key, secret=secret)

    @delete("/api-keys/{key_id:str}", status_code=200, summary="Revoke an API key")
    async def revoke_key(
        self, services: ServicesDep, request: Request[Any, Any, Any], key_id: FromPath[str]
    ) -> ApiKeyRead:
        require_admin(request)
        key = await services.auth.revoke_api_key(key_id)
        await services.changes.notify("auth")
        return key

    @get("/schedules", summary="Schedules", description="Published schedules with their next fire times.")
    async def list_schedules(
        self, services: ServicesDep, flow_id: Annotated[str | None, QueryParameter(required=False)] = None
    ) -> list[ScheduleRead]:
        schedules = await services.schedules.list(flow_id)
        return [describe_schedule(s, await services.schedules.missed_count(s.id)) for s in schedules]

    @patch("/schedules/{schedule_id:str}", summary="Enable or disable a schedule")
    async def update_schedule(
        self, services: ServicesDep, schedule_id: FromPath[str], data: JSONBody[ScheduleUpdate]
    ) -> ScheduleRead:
        current = await services.schedules.get(schedule_id)
        next_fire = next_fire_after(current, datetime.now(UTC)) if data.enabled else None
        updated = await services.schedules.set_enabled(schedule_id, data.enabled, next_fire)
        return describe_schedule(updated, await services.schedules.missed_count(schedule_id))

    @get(
        "/schedules/{schedule_id:str}/fires",
        summary="Schedule fires",
        description="Fire times, newest first: `fired` (with the run), `missed` (downtime, coalesced) or `failed`.",
    )
    async def list_fires(
        self,
        services: ServicesDep,
        schedule_id: FromPath[str],
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> list[FireRecord]:
        await services.schedules.get(schedule_id)
        return await services.schedules.fires(schedule_id, limit)
