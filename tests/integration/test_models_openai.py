"""The ``openai_compatible`` provider's real client path against a scripted server on loopback."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from rivulet.lib.exceptions import ModelError, NotFoundError
from rivulet.providers import MemoryModelStore, ModelConfig, ModelService
from rivulet.sdk.models import CallOrigin, ChatRequest, ToolSpec
from rivulet.sdk.net import BlockedAddressError
from rivulet.sdk.ports import Message
from tests.integration.openai_server import API_KEY, ScriptedOpenAI, serve_openai

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

HELLO = ChatRequest(messages=[Message(role="user", content="Say hello")], temperature=0, max_tokens=16)


async def secrets(name: str) -> str:
    if name != "openai-key":
        raise NotFoundError(f"secret {name!r} not found")
    return API_KEY


@pytest.fixture
async def server() -> AsyncIterator[ScriptedOpenAI]:
    async with serve_openai() as app:
        yield app


async def service_for(server: ScriptedOpenAI, *, trusted: bool = True, model: str = "gpt-test") -> ModelService:
    service = ModelService(MemoryModelStore(), secrets=secrets)
    params = {"base_url": server.url, "model": model, "api_key_secret": "openai-key"}
    await service.save(
        ModelConfig(name="remote", provider="openai_compatible", params=params, allow_private_network=trusted)
    )
    await service.save(
        ModelConfig(
            name="remote-embed",
            provider="openai_compatible",
            kind="embedding",
            params={**params, "dimensions": 3},
            allow_private_network=trusted,
        )
    )
    return service


async def test_streaming_chat_over_sse(server: ScriptedOpenAI) -> None:
    service = await service_for(server)
    chunks = [c async for c in service.stream("remote", HELLO, origin=CallOrigin(run_id="r-sse"))]
    assert [c.text for c in chunks if c.text] == ["Hel", "lo", " from", " the", " server"]
    request = server.requests[-1]
    assert request["stream"] is True
    assert request["model"] == "gpt-test"
    assert request["messages"] == [{"role": "user", "content": "Say hello", "name": None, "tool_call_id": None}]
    assert request["stream_options"] == {"include_usage": True}
    assert server.headers[-1]["authorization"] == f"Bearer {API_KEY}"
    [call] = await service.store.list_calls(run_id="r-sse")
    assert (call.prompt_tokens, call.completion_tokens, call.status) == (11, 5, "ok")
    await service.close()


async def test_tool_calls_are_merged_from_fragments(server: ScriptedOpenAI) -> None:
    service = await service_for(server)
    tool = ToolSpec(name="weather", description="Weather by city", parameters={"type": "object"})
    request = ChatRequest(messages=HELLO.messages, tools=[tool])
    result = await service.chat("remote", request)
    assert [(c.id, c.name, c.arguments) for c in result.tool_calls] == [("call_1", "weather", '{"city": "Paris"}')]
    assert result.finish_reason == "tool_calls"
    assert server.requests[-1]["tools"][0] == {
        "type": "function",
        "function": {"name": "weather", "description": "Weather by city", "parameters": {"type": "object"}},
    }
    await service.close()


async def test_structured_output_sends_the_schema(server: ScriptedOpenAI) -> None:
    service = await service_for(server)
    schema = {"type": "object", "properties": {"name": {"type": "string"}}}
    result = await service.chat("remote", ChatRequest(messages=HELLO.messages, json_schema=schema))
    assert result.text == '{"name": "Ada", "age": 36}'
    assert server.requests[-1]["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "output", "schema": schema, "strict": True},
    }
    await service.close()


async def test_embeddings_keep_the_input_order(server: ScriptedOpenAI) -> None:
    service = await service_for(server)
    result = await service.embed("remote-embed", ["a", "bbb"])
    assert result.vectors == [[1.0, 0.5, -1.0], [3.0, 0.5, -1.0]]
    assert (result.dimensions, result.usage.prompt_tokens) == (3, 7)
    assert server.requests[-1]["dimensions"] == 3
    await service.close()


async def test_server_errors_become_model_errors_with_the_status(server: ScriptedOpenAI) -> None:
    service = await service_for(server, model="broken")
    with pytest.raises(ModelError, match=r"answered HTTP 500: .*model crashed") as info:
        await service.chat("remote", HELLO)
    assert info.value.extra["model"] == "remote"
    [call] = await service.store.list_calls()
    assert call.status == "error"
    await service.close()


async def test_loopback_base_url_is_refused_unless_the_admin_allows_it(server: ScriptedOpenAI) -> None:
    service = await service_for(server, trusted=False)
    with pytest.raises(BlockedAddressError, match=r"127\.0\.0\.1 is a loopback address"):
        await service.chat("remote", HELLO)
    assert server.requests == []
    await service.close()


async def test_fallback_from_a_remote_model_to_another(server: ScriptedOpenAI) -> None:
    service = await service_for(server)
    params = {"base_url": server.url, "model": "broken", "api_key_secret": "openai-key"}
    await service.save(
        ModelConfig(
            name="flaky", provider="openai_compatible", params=params, allow_private_network=True, fallbacks=["remote"]
        )
    )
    result = await service.chat("flaky", HELLO)
    assert (result.text, result.model) == ("Hello from the server", "remote")
    await service.close()
