"""Call an HTTP API and emit its response.

Private, loopback, link-local, multicast and reserved addresses are refused unless ``allow_private_network`` is
on (and the deployment's ``NetworkPolicy`` permits it) or the address is in the policy's allowed networks. Every
address a host resolves to is checked, the request goes to the checked address (no second lookup), and every
redirect hop is checked again. JSON responses are decoded; other bodies are text. A status of 400 or more fails
the node unless ``fail_on_error_status`` is off. Never cached: requests have side effects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import httpx
import msgspec
from msgspec import Meta

from rivulet.sdk import MissingDependencyError, Operator, OperatorSpec, ui_hint
from rivulet.sdk.net import BlockedAddressError, NetworkPolicy, resolve_allowed
from rivulet.sdk.ports import HttpResponse, Int, Json, Text
from rivulet.sdk.rules import requires_one_of
from rivulet_operators.core._common import fail

if TYPE_CHECKING:
    from rivulet.sdk import RunContext

__all__ = ("SPEC", "HttpRequestOperator", "Inputs", "Outputs", "Params")

SPEC = OperatorSpec(
    id="core.http_request",
    category="core",
    title="HTTP request",
    description="Call an HTTP API.",
    icon="globe",
    tags=("http", "api", "rest", "webhook"),
    cacheable=False,
    input_rules=(requires_one_of("url", params=("url",)),),
)

_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    url: Annotated[str, Meta(max_length=8192, description="http(s) URL; the url input overrides it.")] = ""
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] = "GET"
    headers: Annotated[dict[str, str], Meta(description="Request headers.", extra_json_schema=ui_hint("key_value"))] = (
        msgspec.field(default_factory=dict[str, str])
    )
    body: Annotated[Any, Meta(description="JSON body (strings are sent as text); the body input overrides it.")] = None
    timeout_s: Annotated[float, Meta(gt=0, le=600, description="Timeout for the whole request.")] = 30.0
    follow_redirects: bool = True
    max_redirects: Annotated[int, Meta(ge=0, le=20)] = 5
    max_response_bytes: Annotated[int, Meta(ge=1, le=100_000_000, description="Larger responses fail.")] = 10_000_000
    fail_on_error_status: Annotated[bool, Meta(description="Fail the node on a 4xx/5xx status.")] = True
    allow_private_network: Annotated[
        bool, Meta(description="Allow private, loopback and link-local addresses (internal services).")
    ] = False


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    url: Annotated[Text | None, Meta(description="Overrides the url param.")] = None
    body: Annotated[Json | None, Meta(description="Overrides the body param.")] = None


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    response: Annotated[HttpResponse, Meta(description="Status, headers and decoded body.")]
    body: Annotated[Json, Meta(description="The decoded body (JSON or text).")]
    status: Annotated[Int, Meta(description="The HTTP status code.")]


def _policy(ctx: RunContext) -> NetworkPolicy:
    try:
        return ctx.service(NetworkPolicy)
    except MissingDependencyError:
        return NetworkPolicy()


def _content(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if isinstance(body, str | bytes):
        return {"content": body}
    return {"content": msgspec.json.encode(body), "headers": {"content-type": "application/json"}}


class _Exchange:
    """One request with its redirects, each hop pinned to a checked address."""

    def __init__(self, client: httpx.AsyncClient, params: Params, policy: NetworkPolicy) -> None:
        self.client = client
        self.params = params
        self.policy = policy

    async def _send_once(self, method: str, url: httpx.URL, headers: dict[str, str], body: Any) -> httpx.Response:
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"URL must be http(s) with a host, got {str(url)!r}")
        port = url.port or (443 if url.scheme == "https" else 80)
        addresses = await resolve_allowed(url.host, port, self.policy, allow_private=self.params.allow_private_network)
        content = _content(body)
        merged = {**content.get("headers", {}), **headers, "host": url.netloc.decode("ascii")}
        extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
        request = self.client.build_request(
            method, url.copy_with(host=str(addresses[0])), headers=merged, content=content.get("content"),
            extensions=extensions,
        )  # fmt: skip
        return await self.client.send(request, stream=True)

    async def send(self, method: str, url: httpx.URL, body: Any) -> tuple[httpx.Response, bytes]:
        headers = dict(self.params.headers)
        for _ in range(self.params.max_redirects + 1):
            response = await self._send_once(method, url, headers, body)
            location = response.headers.get("location")
            if not (self.params.follow_redirects and response.status_code in _REDIRECTS and location):
                return response, await self._read(response)
            await response.aclose()
            target = url.join(location)
            if target.host != url.host:
                headers = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "cookie")}
            if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
                method, body = "GET", None
            url = target
        raise ValueError(f"more than {self.params.max_redirects} redirects")

    async def _read(self, response: httpx.Response) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.params.max_response_bytes:
                await response.aclose()
                raise ValueError(f"response is larger than {self.params.max_response_bytes} bytes")
            chunks.append(chunk)
        await response.aclose()
        return b"".join(chunks)


def _decode(response: httpx.Response, raw: bytes) -> Any:
    if "json" in response.headers.get("content-type", "") and raw:
        try:
            return msgspec.json.decode(raw)
        except msgspec.DecodeError:
            pass
    return raw.decode(response.encoding or "utf-8", errors="replace")


class HttpRequestOperator(Operator[Params, Inputs, Outputs]):
    """Send the request and decode the response."""

    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> Outputs:
        url = inputs.url or params.url
        if not url:
            raise fail(SPEC, ctx, "no URL: set the url param or connect the url input")
        body = inputs.body if inputs.body is not None else params.body
        timeout = httpx.Timeout(params.timeout_s)
        try:
            async with httpx.AsyncClient(timeout=timeout, trust_env=False, follow_redirects=False) as client:
                response, raw = await _Exchange(client, params, _policy(ctx)).send(params.method, httpx.URL(url), body)
        except BlockedAddressError as exc:
            raise fail(SPEC, ctx, exc.detail) from exc
        except (ValueError, httpx.InvalidURL) as exc:
            raise fail(SPEC, ctx, f"{params.method} {url}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise fail(SPEC, ctx, f"{params.method} {url} failed: {type(exc).__name__}: {exc}") from exc
        decoded = _decode(response, raw)
        if params.fail_on_error_status and response.status_code >= 400:
            preview = raw[:300].decode("utf-8", errors="replace")
            raise fail(SPEC, ctx, f"{params.method} {url} returned {response.status_code}: {preview}")
        headers = dict(response.headers.items())
        result = HttpResponse(status=response.status_code, headers=headers, body=decoded)
        return Outputs(response=result, body=decoded, status=response.status_code)
