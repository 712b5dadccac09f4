"""Bodies of the publishing API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from rivulet.sdk.triggers import BodyField
from rivulet.storage.base import ApiKeyRead, EndpointRecord, EndpointStats, ScheduleRecord

__all__ = (
    "ApiKeyCreate",
    "ApiKeyCreated",
    "CallAccepted",
    "EndpointRead",
    "PublishRequest",
    "PublishResult",
    "ScheduleRead",
    "ScheduleUpdate",
)


class PublishRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Which version to publish and its limits."""

    version: Annotated[int, Meta(ge=1)] | None = None
    """The flow version (latest when absent)."""
    concurrency_limit: Annotated[int, Meta(ge=1, le=10_000)] | None = None
    """At most this many calls of the endpoint run at once per replica."""


class EndpointRead(msgspec.Struct, frozen=True, kw_only=True):
    """A published endpoint with its call statistics."""

    endpoint: EndpointRecord
    path: str
    """``/f/{slug}``."""
    response: Literal["json", "sse"]
    fields: list[BodyField]
    description: str = ""
    stats: EndpointStats = msgspec.field(default_factory=EndpointStats)
    flow_name: str | None = None
    """The flow's current name (show it instead of the id; with the id and ``flow_updated_at`` when names repeat)."""
    flow_updated_at: datetime | None = None


class ScheduleRead(msgspec.Struct, frozen=True, kw_only=True):
    """A schedule with its upcoming fire times and missed-fire count."""

    schedule: ScheduleRecord
    upcoming: list[str]
    """The next fire times (ISO 8601), at most 5."""
    missed: int = 0
    flow_name: str | None = None
    """The flow's current name."""
    flow_updated_at: datetime | None = None


class PublishResult(msgspec.Struct, kw_only=True):
    """What publishing a flow version mounted."""

    flow_id: str
    version: int
    endpoint: EndpointRead | None = None
    schedule: ScheduleRead | None = None


class ApiKeyCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A new API key."""

    name: Annotated[str, Meta(min_length=1, max_length=100)]
    endpoints: list[Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]] = msgspec.field(
        default_factory=list[str]
    )
    """Slugs it may call; empty means every endpoint."""
    rate_limit_per_minute: Annotated[int, Meta(ge=1, le=1_000_000)] | None = None


class ApiKeyCreated(msgspec.Struct, frozen=True, kw_only=True):
    """The key's metadata and its secret, shown this once."""

    key: ApiKeyRead
    secret: str


class ScheduleUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Enable or disable a schedule."""

    enabled: bool


class CallAccepted(msgspec.Struct, frozen=True, kw_only=True):
    """``?wait=false``: the run started; poll or subscribe to it."""

    run_id: str
    status_url: str
    """``/f/{slug}/runs/{run_id}`` (the same credentials work)."""
    events_url: str
