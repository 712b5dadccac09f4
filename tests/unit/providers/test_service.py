"""``ModelService`` with scripted providers: resolution, defaults, fallbacks, timeouts, limits, call records."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from rivulet.lib.exceptions import ModelError, NotFoundError, ValidationError
from rivulet.providers import MemoryModelStore, ModelConfig, ModelService
from rivulet.sdk.models import CallOrigin, ChatRequest
from rivulet.sdk.ports import Message
from tests.unit.providers.fakes import ScriptedChat, factory

REQUEST = ChatRequest(messages=[Message(role="user", content="hi")], max_tokens=8)
OPENAI = {"base_url": "http://127.0.0.1:9/v1", "model": "m"}


def service(**providers: ScriptedChat) -> ModelService:
    return ModelService(MemoryModelStore(), provider_factory=factory(dict(providers)))


async def test_builtin_models_exist_without_configuration() -> None:
    models = await service().list_models()
    assert [(m.name, m.kind, m.provider, m.is_default) for m in models] == [
        ("default", "chat", "local_llamacpp", True),
        ("default-embedding", "embedding", "local_sentence_transformers", True),
    ]


async def test_default_alias_follows_the_stored_default() -> None:
    svc = service()
    await svc.save(ModelConfig(name="remote", provider="openai_compatible", params=OPENAI, is_default=True))
    assert (await svc.get("default")).name == "remote"
    assert {m.name: m.is_default for m in await svc.list_models()}["default"] is False
    await svc.set_default("default")
    assert (await svc.get("default")).provider == "local_llamacpp"


async def test_unknown_model_lists_the_configured_ones() -> None:
    with pytest.raises(NotFoundError, match="'nope' not found; configured: default, default-embedding"):
        await service().get("nope")


async def test_bad_params_are_located() -> None:
    with pytest.raises(ValidationError, match=r"missing required field `base_url` - at `\$\.params`"):
        await service().save(ModelConfig(name="x", provider="openai_compatible", params={"model": "m"}))
    with pytest.raises(ValidationError, match="serves chat models, not embedding"):
        await service().save(ModelConfig(name="x", provider="local_llamacpp", kind="embedding"))
    with pytest.raises(ValidationError, match="unknown fallback"):
        await service().save(ModelConfig(name="x", provider="local_llamacpp", fallbacks=["ghost"]))


async def test_chat_streams_and_records_tokens_and_latency() -> None:
    chat = ScriptedChat()
    svc = service(default=chat)
    origin = CallOrigin(run_id="r1", node_id="n1")
    texts = [chunk.text async for chunk in svc.stream("default", REQUEST, origin=origin)]
    assert "".join(texts) == "Hello world"
    [call] = await svc.store.list_calls(run_id="r1")
    assert (call.model, call.status, call.node_id, call.prompt_tokens, call.completion_tokens) == (
        "default",
        "ok",
        "n1",
        5,
        2,
    )
    assert call.ttft_ms is not None
    assert call.latency_ms >= call.ttft_ms


async def test_fallback_chain_answers_when_the_first_model_fails() -> None:
    broken, spare = ScriptedChat(fail=True), ScriptedChat(tokens=["spare"])
    svc = service(primary=broken, spare=spare)
    await svc.save(ModelConfig(name="spare", provider="local_llamacpp"))
    await svc.save(ModelConfig(name="primary", provider="local_llamacpp", fallbacks=["spare"]))
    result = await svc.chat("primary", REQUEST)
    assert (result.text, result.model) == ("spare", "spare")
    statuses = [(c.model, c.status) for c in reversed(await svc.store.list_calls())]
    assert statuses == [("primary", "error"), ("spare", "ok")]


async def test_every_model_failing_names_each_failure() -> None:
    svc = service(primary=ScriptedChat(fail=True))
    await svc.save(ModelConfig(name="primary", provider="local_llamacpp"))
    with pytest.raises(ModelError, match="primary: scripted failure") as info:
        await svc.chat("primary", REQUEST)
    assert info.value.extra["attempts"] == ["primary: scripted failure"]


async def test_timeout_moves_to_the_fallback() -> None:
    svc = service(slow=ScriptedChat(delay=5), quick=ScriptedChat(tokens=["fast"]))
    await svc.save(ModelConfig(name="quick", provider="local_llamacpp"))
    await svc.save(ModelConfig(name="slow", provider="local_llamacpp", timeout_s=0.05, fallbacks=["quick"]))
    result = await svc.chat("slow", REQUEST)
    assert result.text == "fast"
    assert [c.status for c in reversed(await svc.store.list_calls())] == ["timeout", "ok"]


async def test_concurrency_limit_per_model() -> None:
    chat = ScriptedChat(delay=0.01)
    svc = service(one=chat)
    await svc.save(ModelConfig(name="one", provider="local_llamacpp", concurrency=1))
    await asyncio.gather(*(svc.chat("one", REQUEST) for _ in range(4)))
    assert chat.peak == 1


async def test_closing_a_stream_early_records_a_cancelled_call() -> None:
    svc = service(default=ScriptedChat(tokens=["a", "b", "c"]))
    stream = svc.stream("default", REQUEST)
    assert (await anext(stream)).text == "a"
    await stream.aclose()  # pyright: ignore[reportAttributeAccessIssue]
    assert [c.status for c in await svc.store.list_calls()] == ["cancelled"]


async def test_kind_mismatch_is_an_error() -> None:
    with pytest.raises(ValidationError, match="is a embedding model, not a chat model"):
        await service().chat("default-embedding", REQUEST)


async def test_embed_falls_back_and_reports_dimensions() -> None:
    svc = service(bad=ScriptedChat(fail=True), good=ScriptedChat())
    params = {"base_url": "https://example.com/v1", "model": "e"}
    await svc.save(ModelConfig(name="good", provider="openai_compatible", kind="embedding", params=params))
    await svc.save(
        ModelConfig(name="bad", provider="openai_compatible", kind="embedding", params=params, fallbacks=["good"])
    )
    result = await svc.embed("bad", ["ab", "abc"])
    assert (result.model, result.dimensions, result.vectors) == ("good", 2, [[2.0, 1.0], [3.0, 1.0]])


async def test_replacing_a_model_rebuilds_its_provider() -> None:
    first = ScriptedChat()
    svc = service(m=first)
    await svc.save(ModelConfig(name="m", provider="local_llamacpp"))
    await svc.chat("m", REQUEST)
    stored = await svc.get("m")
    await svc.save(msgspec.structs.replace(stored, concurrency=2))
    assert first.closed


async def test_builtins_cannot_be_deleted_but_stored_replacements_can() -> None:
    svc = service()
    with pytest.raises(ValidationError, match="built in"):
        await svc.delete("default")
    await svc.save(ModelConfig(name="default", provider="local_llamacpp", params={"n_ctx": 1024}))
    assert (await svc.get("default")).params["n_ctx"] == 1024
    await svc.delete("default")
    assert (await svc.get("default")).builtin
