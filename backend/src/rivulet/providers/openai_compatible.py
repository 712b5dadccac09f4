"""``openai_compatible``: any server speaking the OpenAI chat/embeddings API over HTTP.

Covers vLLM's server, OpenAI, DeepSeek, Qwen/DashScope compatible mode, Ollama and llama.cpp's server. Chat
(streaming over server-sent events), tool calls, JSON mode and JSON-Schema structured output, embeddings.

The API key is a *secret name* resolved at call time (never stored in the model config). ``base_url`` must
pass the deployment's ``NetworkPolicy`` (no private, loopback or link-local addresses) unless the model sets
``allow_private_network`` — an admin's decision, since only ``/api/models`` can set it, never a flow.

The key is registered with the process's redactor (``rivulet.lib.redact``) before it is sent, and every error
text from the server or the HTTP client is redacted before it leaves the provider: a server that echoes the
request's ``Authorization`` header back cannot make the key appear in a reply, a stored call or a log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import httpx
import msgspec

from rivulet.lib.exceptions import ModelError
from rivulet.lib.redact import redact, secret_redactor
from rivulet.sdk.models import ChatChunk, ToolCall, Usage
from rivulet.sdk.net import NetworkPolicy, resolve_allowed

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

    from rivulet.providers.config import OpenAICompatibleParams
    from rivulet.sdk.models import ChatRequest

__all__ = ("OpenAICompatibleProvider", "chat_body")

_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "api-key", "x-api-key", "x-auth-token"})


def chat_body(model: str, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
    """The JSON body of ``POST {base_url}/chat/completions``."""
    body: dict[str, Any] = {
        "model": model,
        "messages": [msgspec.to_builtins(m) for m in request.messages],
        "temperature": request.temperature,
        "stream": stream,
    }
    optional = {"max_tokens": request.max_tokens, "top_p": request.top_p, "seed": request.seed}
    body.update({k: v for k, v in optional.items() if v is not None})
    if request.stop:
        body["stop"] = request.stop
    if stream:
        body["stream_options"] = {"include_usage": True}
    if request.tools:
        body["tools"] = [
            {"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}
            for t in request.tools
        ]
    if request.json_schema is not None:
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "output", "schema": request.json_schema, "strict": True},
        }
    elif request.json_mode:
        body["response_format"] = {"type": "json_object"}
    return body


def _obj(value: Any) -> dict[str, Any]:
    """A JSON object from a decoded payload (anything else reads as empty)."""
    return cast("dict[str, Any]", value) if isinstance(value, dict) else {}


def _items(value: Any) -> list[Any]:
    return cast("list[Any]", value) if isinstance(value, list) else []


def _usage(data: Any) -> Usage | None:
    usage = _obj(data)
    if not usage:
        return None
    return Usage(
        prompt_tokens=int(usage.get("prompt_tokens") or 0), completion_tokens=int(usage.get("completion_tokens") or 0)
    )


class _ToolCalls:
    """Accumulates streamed tool-call fragments by index."""

    def __init__(self) -> None:
        self.parts: dict[int, dict[str, str]] = {}

    def add(self, deltas: list[Any]) -> None:
        for raw in deltas:
            delta = _obj(raw)
            slot = self.parts.setdefault(int(delta.get("index") or 0), {"id": "", "name": "", "arguments": ""})
            function = _obj(delta.get("function"))
            slot["id"] = str(delta.get("id") or slot["id"])
            slot["name"] = str(function.get("name") or slot["name"])
            slot["arguments"] += str(function.get("arguments") or "")

    def calls(self) -> list[ToolCall]:
        return [
            ToolCall(id=p["id"] or f"call_{i}", name=p["name"], arguments=p["arguments"] or "{}")
            for i, p in sorted(self.parts.items())
        ]


class OpenAICompatibleProvider:
    """Chat and embeddings against an OpenAI-compatible server."""

    def __init__(
        self,
        params: OpenAICompatibleParams,
        *,
        name: str,
        secrets: Callable[[str], Awaitable[str]] | None,
        policy: NetworkPolicy | None,
        allow_private_network: bool,
    ) -> None:
        self.params = params
        self.name = name
        self._secrets = secrets
        self._policy = policy or NetworkPolicy()
        self._trusted = allow_private_network
        self._checked = False
        self._client = httpx.AsyncClient(base_url=params.base_url.rstrip("/") + "/", timeout=None)  # noqa: S113 - the model service enforces the model's timeout

    async def _headers(self) -> dict[str, str]:
        if not self._checked and not self._trusted:
            url = urlsplit(self.params.base_url)
            await resolve_allowed(url.hostname or "", url.port or (443 if url.scheme == "https" else 80), self._policy)
            self._checked = True
        headers = {"Accept": "application/json", **self.params.headers}
        for name, value in self.params.headers.items():  # a key configured as a plain header is a secret too
            if name.lower() in _CREDENTIAL_HEADERS:
                secret_redactor().add(value.split(" ", 1)[-1])
        if self.params.api_key_secret:
            if self._secrets is None:
                raise ModelError(
                    f"model {self.name!r} needs a secret store for its API key", extra={"model": self.name}
                )
            key = await self._secrets(self.params.api_key_secret)
            secret_redactor().add(key)
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _error(self, status: int, text: str) -> ModelError:
        # redacted before it is cut: a secret across the cut would otherwise leave its first characters
        return ModelError(
            f"model {self.name!r}: {self.params.base_url} answered HTTP {status}: {redact(text)[:500]}",
            extra={"model": self.name, "status": status},
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        body = chat_body(self.params.model, request, stream=True)
        headers = await self._headers()
        try:
            async with self._client.stream("POST", "chat/completions", json=body, headers=headers) as response:
                if response.status_code >= 400:
                    raise self._error(response.status_code, (await response.aread()).decode(errors="replace"))
                async for chunk in self._events(response):
                    yield chunk
        except httpx.HTTPError as exc:
            raise ModelError(
                f"model {self.name!r}: request to {self.params.base_url} failed: {type(exc).__name__}: "
                + redact(str(exc)),
                extra={"model": self.name},
            ) from exc

    async def _events(self, response: httpx.Response) -> AsyncIterator[ChatChunk]:
        tools = _ToolCalls()
        usage: Usage | None = None
        finish: str | None = None
        async for line in response.aiter_lines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            event = _obj(msgspec.json.decode(data))
            usage = _usage(event.get("usage")) or usage
            for raw in _items(event.get("choices")):
                choice = _obj(raw)
                delta = _obj(choice.get("delta"))
                tools.add(_items(delta.get("tool_calls")))
                finish = str(choice.get("finish_reason") or "") or finish
                content = delta.get("content")
                if isinstance(content, str) and content:
                    yield ChatChunk(text=content)
        yield ChatChunk(tool_calls=tools.calls(), finish_reason=finish or "stop", usage=usage or Usage())

    async def embed(self, texts: Sequence[str]) -> tuple[list[list[float]], Usage]:
        body: dict[str, Any] = {"model": self.params.model, "input": list(texts)}
        if self.params.dimensions is not None:
            body["dimensions"] = self.params.dimensions
        headers = await self._headers()
        try:
            response = await self._client.post("embeddings", json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ModelError(
                f"model {self.name!r}: embeddings request failed: {redact(str(exc))}", extra={"model": self.name}
            ) from exc
        if response.status_code >= 400:
            raise self._error(response.status_code, response.text)
        payload = _obj(response.json())
        rows = sorted((_obj(row) for row in _items(payload.get("data"))), key=lambda row: int(row.get("index") or 0))
        vectors = [[float(x) for x in _items(row.get("embedding"))] for row in rows]
        if len(vectors) != len(texts):
            raise ModelError(
                f"model {self.name!r}: sent {len(texts)} texts, got {len(vectors)} embeddings",
                extra={"model": self.name},
            )
        return vectors, _usage(payload.get("usage")) or Usage()

    async def close(self) -> None:
        await self._client.aclose()
