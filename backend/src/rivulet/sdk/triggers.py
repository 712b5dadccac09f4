"""Trigger parameters shared by the trigger operators and the publishing layer.

``trigger.http`` declares how a flow is called over HTTP (``METHOD /f/{slug}``, the request body's fields and
the response mode); ``trigger.schedule`` declares when it runs by itself (cron or interval, time zone, inputs).
The operators (``rivulet_operators.trigger``) and the server (publishing, scheduler) read the same Structs.

Example:
    >>> p = HttpTriggerParams(slug="summarise", fields=[BodyField(name="text", type="Text")])
    >>> body_struct(p).__name__, msgspec.json.decode(b'{"text": "hi"}', type=body_struct(p)).text
    ('Body_summarise', 'hi')
"""

from __future__ import annotations

import functools
import zoneinfo
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from rivulet.sdk.ports import parse_port_type, python_type_of
from rivulet.sdk.ui import PortTypeName, ui_hint

__all__ = (
    "BodyField",
    "HttpMethod",
    "HttpTriggerParams",
    "RunHistory",
    "ScheduleTriggerParams",
    "body_struct",
    "cron_trigger",
)

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
RunHistory = Literal["summary", "full"]
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class BodyField(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One field of the request body (a JSON object; query parameters for GET)."""

    name: Annotated[str, Meta(min_length=1, max_length=64, pattern=_NAME, description="Field name.")]
    type: Annotated[PortTypeName, Meta(description="Port type of the value, e.g. Text, Int, Json.")] = "Text"
    required: Annotated[bool, Meta(description="Reject requests without this field (422).")] = True
    default: Annotated[Any, Meta(description="Value when an optional field is absent.")] = None
    description: Annotated[str, Meta(max_length=2000, description="Shown in the endpoint's OpenAPI.")] = ""

    def __post_init__(self) -> None:
        port_type = parse_port_type(self.type)
        if port_type.name == "Stream" or port_type.var:
            raise ValueError(f"field {self.name!r}: type must be a concrete value type, got {self.type!r}")


class HttpTriggerParams(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How a published flow is called."""

    method: Annotated[HttpMethod, Meta(description="HTTP method of the endpoint.")] = "POST"
    slug: Annotated[str, Meta(pattern=SLUG_PATTERN, description="The endpoint is served at /f/{slug}.")] = "my-flow"
    fields: Annotated[
        list[BodyField], Meta(description="Request body fields; each becomes an output port and a run input.")
    ] = msgspec.field(default_factory=list[BodyField])
    response: Annotated[
        Literal["json", "sse"],
        Meta(description="json: the output node's value; sse: stream tokens as Server-Sent Events, then the result."),
    ] = "json"
    description: Annotated[str, Meta(max_length=2000, description="Shown in the endpoint's OpenAPI.")] = ""
    history: Annotated[
        RunHistory,
        Meta(
            description="What run history keeps of a successful call. summary: the run (inputs, outputs, status, "
            "timing), its start and end events; full: also every node's state and every event. Failed calls, and "
            "calls still running after half a second, are always kept in full."
        ),
    ] = "summary"

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate body fields: {', '.join(duplicates)}")


@functools.cache
def cron_trigger(cron: str, timezone: str) -> Any:
    """The apscheduler ``CronTrigger`` of a crontab expression (``ValueError`` when it does not parse)."""
    from apscheduler.triggers.cron import CronTrigger  # pyright: ignore[reportMissingTypeStubs]

    build: Any = CronTrigger.from_crontab  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    return build(cron, timezone=zoneinfo.ZoneInfo(timezone))


class ScheduleTriggerParams(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """When a published flow runs by itself. Exactly one of ``cron`` and ``interval_s``."""

    cron: Annotated[
        str | None, Meta(description="Crontab expression, e.g. '*/5 * * * *' (minute hour day month weekday).")
    ] = None
    interval_s: Annotated[Annotated[float, Meta(ge=1)] | None, Meta(description="Run every this many seconds.")] = None
    timezone: Annotated[str, Meta(description="IANA time zone of the cron expression, e.g. Europe/Paris.")] = "UTC"
    inputs: Annotated[
        dict[str, Any], Meta(description="Run inputs of every scheduled run.", extra_json_schema=ui_hint("json"))
    ] = msgspec.field(default_factory=dict[str, Any])
    missed_policy: Annotated[
        Literal["run_once", "skip"],
        Meta(description="After downtime: run_once fires one catch-up run; skip records the missed fires only."),
    ] = "run_once"

    def __post_init__(self) -> None:
        if (self.cron is None) == (self.interval_s is None):
            raise ValueError("set exactly one of cron and interval_s")
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        if self.cron is not None:
            try:
                cron_trigger(self.cron, self.timezone)
            except ValueError as exc:
                raise ValueError(f"invalid cron expression {self.cron!r}: {exc}") from exc


def body_struct(params: HttpTriggerParams) -> type[msgspec.Struct]:
    """A msgspec Struct type validating the request body: located errors name the field (``$.age``)."""
    return _body_struct(params.slug, tuple(params.fields))


@functools.lru_cache(maxsize=256)
def _body_struct(slug: str, fields: tuple[BodyField, ...]) -> type[msgspec.Struct]:
    specs: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    for field in fields:
        python_type = python_type_of(parse_port_type(field.type))
        if field.required:
            specs.append((field.name, python_type))
        else:
            specs.append((field.name, python_type | None if python_type is not Any else Any, field.default))
    return msgspec.defstruct(f"Body_{slug.replace('-', '_')}", specs, kw_only=True, forbid_unknown_fields=True)
