"""``/f``: published flows served as HTTP endpoints, and their OpenAPI document.

A call is authenticated by the middleware before anything here runs; then, in order: route lookup (404), method
(405), key scope (403), the key's rate limit (429), body validation against the trigger's fields (422, each
error naming its field), the endpoint's concurrency limit (429), and only then the run. Every call that reaches
the lookup is audited (who, when, run, status, duration).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeAlias, cast
from urllib.parse import parse_qsl

import msgspec
from litestar import Controller, Request, Response, asgi, get
from litestar.exceptions import ClientException, HTTPException, MethodNotAllowedException
from litestar.params import FromPath
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.types import ASGIApp, Receive, Scope, Send  # noqa: TC002 - litestar reads handler annotations at runtime

from rivulet.domain.access import principal_of
from rivulet.domain.endpoints.openapi import endpoints_openapi
from rivulet.domain.endpoints.schemas import CallAccepted
from rivulet.lib.exceptions import (
    AppError,
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RunFailedError,
    ValidationError,
)
from rivulet.publishing.audit import AuditLog
from rivulet.publishing.limits import ConcurrencyLimiter, RateLimiter
from rivulet.publishing.registry import EndpointRegistry
from rivulet.records.events import NodeChunk, RunFinished, encoder
from rivulet.runtime.service import RunDetail, RunRequest, RunService
from rivulet.security import Principal
from rivulet.security.permissions import Permission, flow_access, requires
from rivulet.server.deps import Injected
from rivulet.server.inputs import malformed_json
from rivulet.server.permissions import check_permission
from rivulet.storage.base import CallOutcome, CallRecord, EndpointStore

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable

    from litestar.types import HTTPScope

    from rivulet.publishing.registry import LiveEndpoint
    from rivulet.runtime.executor import RunResult

    Audit: TypeAlias = Callable[[int, str | None, CallOutcome], None]
    """Records one call in the audit: its status, run id and outcome (the duration runs up to now)."""

__all__ = ("CALLS_STATE", "EndpointCalls", "GatewayController", "call_endpoint")

_CALL = requires(Permission.ENDPOINT_CALL)

CALLS_STATE = "endpoint_calls"
"""The app state key of the app's ``EndpointCalls`` (``call_endpoint`` runs without dependency injection)."""


@dataclass(slots=True, kw_only=True)
class EndpointCalls:
    """What ``/f`` needs: the live and the stored endpoints, the runtime, the audit and the per-replica limits."""

    runs: RunService
    published: EndpointRegistry
    endpoints: EndpointStore
    audit: AuditLog
    rate_limiter: RateLimiter = field(default_factory=RateLimiter)
    concurrency: ConcurrencyLimiter = field(default_factory=ConcurrencyLimiter)


_LOCATION = re.compile(r" - at `(?P<path>[^`]+)`$")
_MISSING = re.compile(r"missing required field `(?P<field>[^`]+)`")
_UNKNOWN = re.compile(r"unknown field `(?P<field>[^`]+)`")


def _located(message: str, base: str = "$") -> dict[str, Any]:
    """One body error as ``{path, field, message}`` from a msgspec message (its `` - at `$…` `` tail located)."""
    path = base
    if match := _LOCATION.search(message):
        path = base + match["path"][1:]
        message = message[: match.start()]
    elif base == "$" and (match := _MISSING.search(message) or _UNKNOWN.search(message)):
        path = f"$.{match['field']}"
    field = path[2:].split(".")[0].split("[")[0] if path.startswith("$.") else None
    return {"path": path, "field": field, "message": message}


def _field_errors(live: LiveEndpoint, values: object, *, strict: bool) -> list[dict[str, Any]]:
    """Every error of a decoded body, field by field: missing required fields, invalid values, unknown fields.

    Only called once the body failed (msgspec stops at the first error), so valid calls never pay for it.
    """
    if not isinstance(values, dict):
        return []
    body = cast("dict[str, Any]", values)
    errors: list[dict[str, Any]] = []
    declared = msgspec.structs.fields(live.body_type)
    for info in declared:
        if info.encode_name not in body:
            if info.required:
                errors.append(_located(f"Object missing required field `{info.encode_name}`"))
            continue
        try:
            msgspec.convert(body[info.encode_name], info.type, strict=strict)
        except msgspec.ValidationError as exc:
            errors.append(_located(str(exc), f"$.{info.encode_name}"))
    names = {info.encode_name for info in declared}
    errors.extend(_located(f"Object contains unknown field `{key}`") for key in body if key not in names)
    return errors


def _body_error(
    exc: msgspec.ValidationError | msgspec.DecodeError, live: LiveEndpoint, raw: bytes, query: dict[str, str]
) -> ValidationError:
    """The 422 of an invalid body, listing every invalid, missing or unknown field (``detail`` counts them)."""
    slug = live.record.slug
    errors: list[dict[str, Any]] = []
    if isinstance(exc, msgspec.ValidationError):
        if live.record.method == "GET":
            errors = _field_errors(live, query, strict=False)
        else:
            with contextlib.suppress(msgspec.DecodeError, RecursionError, UnicodeDecodeError):
                errors = _field_errors(live, msgspec.json.decode(raw or b"{}"), strict=True)
    if not errors:  # not JSON, not an object, or nothing found field by field: msgspec's one error
        errors = [_located(str(exc))]
    first = errors[0]
    if len(errors) == 1:
        detail = f"invalid request body for /f/{slug}: {first['message']} at {first['path']}"
    else:
        paths = ", ".join(e["path"] for e in errors[:5]) + (", …" if len(errors) > 5 else "")
        detail = f"invalid request body for /f/{slug}: {len(errors)} errors ({paths}); see errors"
    return ValidationError(detail, extra={"errors": errors})


def _decode_body(live: LiveEndpoint, raw: bytes, query: dict[str, str]) -> dict[str, Any]:
    """The body of a call (its query parameters for a GET endpoint) as the trigger's declared fields."""
    slug = live.record.slug
    try:
        if live.record.method == "GET":
            body = msgspec.convert(query, live.body_type, strict=False)
        else:
            body = msgspec.json.decode(raw or b"{}", type=live.body_type)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise _body_error(exc, live, raw, query) from exc
    except (RecursionError, UnicodeDecodeError) as exc:  # too deep, or not UTF-8: a 400 saying so, not a 500
        raise malformed_json(exc, what=f"the request body of /f/{slug}", body=raw) from None
    values: dict[str, Any] = msgspec.structs.asdict(body)
    return values


async def _stream_items(runs: RunService, run_id: str, node_id: str) -> Any:
    """The items a ``Stream`` output produced (from the run's ``node_chunk`` events): joined text or a list."""
    chunks = [e for e in await runs.events(run_id) if isinstance(e, NodeChunk) and e.node_id == node_id]
    items = [chunk.data for chunk in sorted(chunks, key=lambda c: c.index)]
    return "".join(items) if all(isinstance(item, str) for item in items) else items


async def _response_value(runs: RunService, live: LiveEndpoint, result: RunResult) -> Any:
    """The output node's value (an object by output name when there are several)."""
    if result.status != "succeeded":
        error = msgspec.to_builtins(result.error) if result.error is not None else None
        raise RunFailedError(
            f"the run behind /f/{live.record.slug} {result.status}: "
            + (result.error.message if result.error else "no detail"),
            extra={"run_id": result.run_id, "run_status": result.status, "error": error},
        )
    outputs: dict[str, Any] = {}
    for name, value in result.outputs.items():
        if hasattr(value, "__aiter__"):  # a stream: its items, from the node's chunk events
            node_of = {str(getattr(live.graph.nodes[n].params, "name", n)): n for n in live.graph.output_nodes}
            value = await _stream_items(runs, result.run_id, node_of.get(name, name))  # noqa: PLW2901
        outputs[name] = value
    if len(outputs) == 1:
        return next(iter(outputs.values()))
    return outputs


def may_call(principal: Principal, live: LiveEndpoint) -> bool:
    """Whether ``principal`` may call ``live``: an API key within its scope, or a user who may read the flow."""
    if principal.is_user:
        return flow_access(principal, live.owner_id, live.workspace_id) != "none"
    return principal.may_call(live.record.slug)


def _admit(calls: EndpointCalls, principal: Principal, live: LiveEndpoint, method: str) -> None:
    slug = live.record.slug
    if principal.is_user and not may_call(principal, live):
        raise NotFoundError(f"no endpoint is published at /f/{slug}", extra={"slug": slug})
    if method != live.record.method:
        raise MethodNotAllowedException(f"/f/{slug} is published for {live.record.method}, not {method}")
    if principal.is_user:
        check_permission(principal, Permission.ENDPOINT_CALL)
    if not principal.may_call(slug):
        raise PermissionDeniedError(f"this API key may not call /f/{slug}", extra={"slug": slug})
    if principal.rate_limit_per_minute is not None and principal.key_id is not None:
        wait_s = calls.rate_limiter.acquire(principal.key_id, per_minute=principal.rate_limit_per_minute)
        if wait_s > 0:
            raise RateLimitedError(
                f"rate limit of {principal.rate_limit_per_minute} calls per minute reached for this API key",
                retry_after_s=wait_s,
            )


async def _sse(
    runs: RunService, live: LiveEndpoint, run_id: str, result: asyncio.Task[RunResult], release: Any
) -> AsyncGenerator[ServerSentEventMessage]:
    try:
        events = await runs.subscribe(run_id, 0)
        try:
            async for event in events:
                if isinstance(event, NodeChunk) and event.node_id in live.graph.output_nodes:
                    data = encoder.encode({"node_id": event.node_id, "port": event.port, "data": event.data})
                    yield ServerSentEventMessage(data=data.decode(), event="token", id=str(event.seq))
                elif isinstance(event, RunFinished):
                    break
        finally:
            await events.aclose()
        outcome = await result
        if outcome.status == "succeeded":
            payload = {"run_id": run_id, "status": outcome.status, "output": await _response_value(runs, live, outcome)}
            yield ServerSentEventMessage(data=encoder.encode(payload).decode(), event="result")
        else:
            error = msgspec.to_builtins(outcome.error) if outcome.error is not None else None
            payload = {"run_id": run_id, "status": outcome.status, "error": error}
            yield ServerSentEventMessage(data=encoder.encode(payload).decode(), event="error")
    finally:
        release()


class GatewayController(Controller):
    path = "/f"
    tags = ["published endpoints"]

    @get(
        "/openapi.json",
        summary="OpenAPI of published endpoints",
        description="An OpenAPI 3.1 document describing the request and response of every published endpoint the "
        "caller may call (an API key scoped to some endpoints sees only those).",
        opt=_CALL,
    )
    async def openapi(
        self,
        deps: Injected[EndpointCalls],
        request: Request[Any, Any, Any],
    ) -> dict[str, Any]:
        principal = principal_of(request)  # a scoped API key sees only its endpoints, a user the flows it may read
        records = [r for r in await deps.endpoints.list() if principal.may_call(r.slug)]
        lives = [await deps.published.resolve(r.slug) for r in records]
        return endpoints_openapi([live for live in lives if live is not None and may_call(principal, live)])

    @get(
        "/{slug:str}/runs/{run_id:str}",
        summary="A run started by an endpoint",
        description="Poll a `?wait=false` call with the credentials that started it.",
        opt=_CALL,
    )
    async def get_run(
        self,
        deps: Injected[EndpointCalls],
        request: Request[Any, Any, Any],
        slug: FromPath[str],
        run_id: FromPath[str],
    ) -> RunDetail:
        live = await deps.published.resolve(slug)
        if live is None or not may_call(principal_of(request), live):
            raise NotFoundError(f"no endpoint is published at /f/{slug}", extra={"slug": slug})
        detail = await deps.runs.get(run_id)
        if detail.run.flow_id != live.record.flow_id or detail.run.trigger != "api":
            raise NotFoundError(f"run {run_id!r} not found for /f/{slug}", extra={"run_id": run_id})
        return detail

    @asgi("/{slug:str}", copy_scope=False, opt=_CALL)
    async def call(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Call a published flow (any method; each endpoint's body, response and ``?wait`` are in /f/openapi.json).

        The hot path of every endpoint call is a plain ASGI handler: no signature model, parameter parsing,
        dependency injection or response conversion. Authentication, routing and the problem+json error mapping
        still run around it, as for any handler (``rivulet.server.fastpath`` serves most calls without them).
        """
        answer = await call_endpoint(scope, receive, send)
        await answer(scope, receive, send)


async def call_endpoint(scope: Scope, receive: Receive, send: Send) -> ASGIApp:
    """Admit, run and audit one call of ``/f/{slug}`` whose caller is authenticated; returns the answer to send.

    ``scope`` carries the caller (``user``) and the slug (``path_params``). Refusals are raised (``AppError`` and
    Litestar's HTTP exceptions) for the app's problem+json mapping.
    """
    started = time.perf_counter()
    called_at = datetime.now(UTC)
    principal: object = cast("dict[str, Any]", scope).get("user")  # the scope, not a Request: every call
    if not isinstance(principal, Principal):
        raise AuthenticationError("authentication required")
    calls: EndpointCalls = scope["app"].state[CALLS_STATE]
    slug = str(scope["path_params"]["slug"])

    def audit(status: int, run_id: str | None, outcome: CallOutcome) -> None:
        calls.audit.record(
            CallRecord(
                slug=slug,
                caller=principal.label,
                api_key_id=principal.key_id,
                user_id=principal.user_id,
                run_id=run_id,
                status=status,
                duration_ms=(time.perf_counter() - started) * 1000,
                created_at=called_at,
                outcome=outcome,
            )
        )

    status, run_id, outcome = 500, None, "error"
    try:
        http = cast("HTTPScope", scope)
        status, run_id, outcome, response = await _call(calls, http, receive, principal, slug, audit=audit)
    except AppError as exc:
        status = exc.status_code
        run_id = exc.extra.get("run_id", run_id)
        raise
    except HTTPException as exc:  # 405, 413, a client gone before its body...: audited with their own status
        status = exc.status_code
        raise
    finally:
        if status != 404 and outcome != "stream":  # a stream is audited when it ends (its real duration)
            audit(status, run_id, "error" if status >= 400 else outcome)
    return response


_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def _query(scope: HTTPScope) -> tuple[bool, dict[str, str]]:
    """``?wait`` and the other query parameters (the body of a GET endpoint)."""
    raw: bytes = scope["query_string"]
    if not raw:
        return True, {}
    query = dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))
    wait = query.pop("wait", "true").lower()
    if wait not in _TRUE and wait not in _FALSE:
        raise ValidationError(
            f"query parameter wait must be true or false, not {wait!r}",
            extra={"errors": [{"path": "$.wait", "field": "wait", "message": "expected true or false"}]},
        )
    return wait in _TRUE, query


async def _body(receive: Receive, slug: str, limit: int | None) -> bytes:
    """The request body (an ASGI handler reads its own), refused past the app's ``request_max_body_size``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientException(f"the client disconnected before sending the body of /f/{slug}")
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            raise HTTPException(status_code=413, detail=f"the request body of /f/{slug} exceeds {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class _JSONReply:
    """A 200 JSON answer with the run id header (what Litestar's ``ASGIResponse`` does, minus its generality)."""

    __slots__ = ("body", "run_id")

    def __init__(self, body: bytes, run_id: str) -> None:
        self.body = body
        self.run_id = run_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(self.body)).encode()),
            (b"x-rivulet-run-id", self.run_id.encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": self.body, "more_body": False})


async def _call(
    calls: EndpointCalls, scope: HTTPScope, receive: Receive, principal: Principal, slug: str, *, audit: Audit
) -> tuple[int, str | None, CallOutcome, ASGIApp]:
    """Admit, validate and run one call; returns the status, the run id, the outcome and the answer.

    A stream (SSE) is audited by ``audit`` when it ends, so its duration is the whole call's.
    """
    runs = calls.runs
    live = await calls.published.resolve(slug)
    if live is None:
        raise NotFoundError(f"no endpoint is published at /f/{slug}", extra={"slug": slug})
    _admit(calls, principal, live, scope["method"])
    wait, query = _query(scope)
    max_body = scope["app"].request_max_body_size
    max_body = max_body if isinstance(max_body, int) else None
    raw = b"" if live.record.method == "GET" else await _body(receive, slug, max_body)
    inputs = _decode_body(live, raw, query)
    limit = live.record.concurrency_limit
    if not calls.concurrency.try_enter(slug, limit):
        raise RateLimitedError(f"/f/{slug} is already running {limit} calls", retry_after_s=1.0)

    def release() -> None:
        calls.concurrency.leave(slug)

    if wait and not live.streams:  # the common case: run in this task, recorded at its end with other calls
        try:
            run_request = RunRequest(inputs=inputs, trigger="api")
            result = await runs.execute(live.graph, run_request, history=live.params.history, durable=False)
        finally:
            release()
        body = encoder.encode(await _response_value(runs, live, result))
        return 200, result.run_id, "ok", _JSONReply(body, result.run_id)
    response: Response[Any]
    outcome: CallOutcome = "accepted" if not wait else "stream"
    try:
        record = await runs.start_graph(live.graph, RunRequest(inputs=inputs, trigger="api"))
        headers = {"X-Rivulet-Run-Id": record.id}
        if not wait:
            release_after = asyncio.ensure_future(runs.wait(record.id))
            release_after.add_done_callback(lambda _: release())
            base = f"/f/{slug}/runs/{record.id}"
            accepted = CallAccepted(run_id=record.id, status_url=base, events_url=f"/api/runs/{record.id}/events")
            response = Response(accepted, status_code=202, headers=headers)
        else:
            result = asyncio.ensure_future(runs.wait(record.id))
            run_id = record.id

            def finished() -> None:
                release()
                audit(200, run_id, "stream")

            response = ServerSentEvent(_sse(runs, live, record.id, result, finished), headers=headers)
    except BaseException:
        release()
        raise
    request: Request[Any, Any, Any] = Request(scope, receive)
    return response.status_code or 200, record.id, outcome, response.to_asgi_response(None, request)  # pyright: ignore[reportUnknownMemberType]
