"""A small scripted OpenAI-compatible server (raw ASGI on uvicorn, loopback) for provider tests."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import uvicorn

from tests.conftest import free_port

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

API_KEY = "sk-test-123"
ECHO_MODEL = "echo-headers"
"""Asking for this model gets a 502 whose body echoes the request's headers (plain, base64 and URL-encoded)."""


@dataclass
class ScriptedOpenAI:
    """Records every request; answers chat (SSE or JSON), tool calls, structured output and embeddings."""

    requests: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    headers: list[dict[str, str]] = field(default_factory=list[dict[str, str]])
    url: str = ""
    replies: list[str] = field(default_factory=list[str])
    """Scripted chat answers, used in turn (the last one repeats); empty: "Hello from the server"."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        payload: dict[str, Any] = json.loads(body or b"{}")
        self.requests.append({"path": scope["path"], **payload})
        self.headers.append(headers)
        if payload.get("model") == ECHO_MODEL:  # a careless upstream: its error repeats the credentials it got
            authorization = headers.get("authorization", "")
            echo = {
                "authorization": authorization,
                "base64": base64.b64encode(authorization.encode()).decode(),
                "urlencoded": quote(authorization, safe=""),
                "headers": headers,
            }
            await self._json(send, 502, {"error": {"message": "upstream rejected the request", "echo": echo}})
        elif headers.get("authorization") != f"Bearer {API_KEY}":
            await self._json(send, 401, {"error": {"message": "bad key"}})
        elif payload.get("model") == "broken":
            await self._json(send, 500, {"error": {"message": "model crashed"}})
        elif scope["path"] == "/v1/embeddings":
            data = [{"index": i, "embedding": [float(len(t)), 0.5, -1.0]} for i, t in enumerate(payload["input"])]
            await self._json(send, 200, {"data": list(reversed(data)), "usage": {"prompt_tokens": 7}})
        elif scope["path"] == "/v1/chat/completions":
            await self._sse(send, list(self._events(payload)))
        else:
            await self._json(send, 404, {"error": {"message": "no such route"}})

    def _events(self, payload: dict[str, Any]) -> AsyncIterator[dict[str, Any]] | Any:
        def choice(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        yield choice({"role": "assistant"})
        if payload.get("tools"):
            name = payload["tools"][0]["function"]["name"]
            yield choice(
                {"tool_calls": [{"index": 0, "id": "call_1", "function": {"name": name, "arguments": '{"ci'}}]}
            )
            yield choice({"tool_calls": [{"index": 0, "function": {"arguments": 'ty": "Paris"}'}}]})
            yield choice({}, "tool_calls")
        elif payload.get("response_format", {}).get("type") == "json_schema":
            yield choice({"content": '{"name": "Ada", '})
            yield choice({"content": '"age": 36}'})
            yield choice({}, "stop")
        elif self.replies:
            reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
            middle = len(reply) // 2
            for token in (reply[:middle], reply[middle:]):
                yield choice({"content": token})
            yield choice({}, "stop")
        else:
            for token in ["Hel", "lo", " from", " the", " server"]:
                yield choice({"content": token})
            yield choice({}, "stop")
        yield {"choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 5}}

    async def _json(self, send: Any, status: int, body: Any) -> None:
        raw = json.dumps(body).encode()
        await send(
            {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]}
        )
        await send({"type": "http.response.body", "body": raw})

    async def _sse(self, send: Any, events: list[dict[str, Any]]) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
        for event in events:
            await send(
                {"type": "http.response.body", "body": f"data: {json.dumps(event)}\n\n".encode(), "more_body": True}
            )
            await asyncio.sleep(0)
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})


@contextlib.asynccontextmanager
async def serve_openai() -> AsyncIterator[ScriptedOpenAI]:
    """Serve a ``ScriptedOpenAI`` on 127.0.0.1:<free port>; ``.url`` is its ``/v1`` base URL."""
    app = ScriptedOpenAI()
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    app.url = f"http://127.0.0.1:{port}/v1"
    try:
        yield app
    finally:
        server.should_exit = True
        await task
