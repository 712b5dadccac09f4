"""Real local models: SmolLM2-135M on llama.cpp and all-MiniLM-L6-v2 on sentence-transformers (no network)."""

from __future__ import annotations

import math

import pytest

from rivulet.providers import MemoryModelStore, ModelConfig, ModelService
from rivulet.providers.local_llamacpp import bundled_gguf
from rivulet.sdk.models import CallOrigin, ChatRequest
from rivulet.sdk.ports import Message

QUESTION = ChatRequest(
    messages=[Message(role="user", content="What is the capital of France?")], temperature=0, max_tokens=8
)


@pytest.fixture(scope="module")
async def models() -> ModelService:
    service = ModelService(MemoryModelStore())
    yield service  # type: ignore[misc]
    await service.close()


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def test_the_bundled_gguf_is_found_in_the_wheel() -> None:
    path = bundled_gguf()
    assert path.name.endswith(".gguf")
    assert path.stat().st_size > 50_000_000


async def test_local_model_generates_and_records_tokens(models: ModelService) -> None:
    result = await models.chat("default", QUESTION, origin=CallOrigin(run_id="local-1", node_id="n"))
    assert result.text.strip()
    assert result.model == "default"
    assert 1 <= result.usage.completion_tokens <= 8
    assert result.usage.prompt_tokens > 5
    [call] = await models.store.list_calls(run_id="local-1")
    assert call.status == "ok"
    assert call.completion_tokens == result.usage.completion_tokens
    assert call.ttft_ms is not None
    assert 0 < call.ttft_ms <= call.latency_ms


async def test_local_generation_is_deterministic_at_temperature_zero(models: ModelService) -> None:
    first = await models.chat("default", QUESTION)
    second = await models.chat("default", QUESTION)
    assert first.text == second.text


async def test_local_model_streams_token_by_token(models: ModelService) -> None:
    chunks = [c async for c in models.stream("default", QUESTION)]
    texts = [c.text for c in chunks if c.text]
    assert len(texts) >= 2
    assert chunks[-1].finish_reason in ("stop", "length")


async def test_closing_the_stream_stops_generation_and_frees_the_model(models: ModelService) -> None:
    long = ChatRequest(messages=[Message(role="user", content="Count from 1 to 100.")], temperature=0, max_tokens=200)
    stream = models.stream("default", long, origin=CallOrigin(run_id="local-cancel"))
    await anext(stream)
    await stream.aclose()  # pyright: ignore[reportAttributeAccessIssue]
    [call] = await models.store.list_calls(run_id="local-cancel")
    assert call.status == "cancelled"
    again = await models.chat("default", QUESTION)  # the worker released the model
    assert again.text


async def test_another_gguf_path_can_be_registered(models: ModelService) -> None:
    await models.save(
        ModelConfig(
            name="smol-copy", provider="local_llamacpp", params={"model_path": str(bundled_gguf()), "n_ctx": 512}
        )
    )
    result = await models.chat("smol-copy", QUESTION)
    assert result.text.strip()


async def test_missing_gguf_file_is_a_clear_error(models: ModelService) -> None:
    from rivulet.lib.exceptions import ModelError

    await models.save(
        ModelConfig(name="ghost", provider="local_llamacpp", params={"model_path": "/nonexistent/x.gguf"})
    )
    with pytest.raises(ModelError, match=r"model_path '/nonexistent/x.gguf' is not a readable model file inside"):
        await models.chat("ghost", QUESTION)


async def test_local_embeddings_have_384_dimensions_and_rank_similar_sentences(models: ModelService) -> None:
    texts = ["A cat sits on the mat.", "A kitten is sitting on a rug.", "Stock markets fell sharply today."]
    result = await models.embed("default-embedding", texts, origin=CallOrigin(run_id="emb-1"))
    assert result.dimensions == 384
    assert len(result.vectors) == 3
    assert all(len(v) == 384 for v in result.vectors)
    cat, kitten, stocks = result.vectors
    assert cosine(cat, kitten) > cosine(cat, stocks) + 0.3
    assert math.isclose(sum(x * x for x in cat), 1.0, rel_tol=1e-4)  # normalised
    [call] = await models.store.list_calls(run_id="emb-1")
    assert (call.operation, call.status) == ("embed", "ok")
    assert call.prompt_tokens > 0


async def test_structured_output_with_the_local_model_follows_the_schema(models: ModelService) -> None:
    from rivulet.sdk.models import ModelRegistry
    from rivulet_operators.llm.structured_output import StructuredOutput
    from tests.unit.operators.conftest import FakeContext, run_operator

    schema = {
        "type": "object",
        "properties": {"city": {"type": "string", "maxLength": 20}, "country": {"type": "string", "maxLength": 20}},
        "required": ["city", "country"],
    }
    out = await run_operator(
        StructuredOutput,
        {"json_schema": schema, "max_tokens": 60},
        {"text": "I live in Paris, which is in France."},
        FakeContext(services={ModelRegistry: models}),
    )
    assert set(out["data"]) == {"city", "country"}  # llama.cpp's grammar keeps the answer inside the schema
    assert all(isinstance(v, str) for v in out["data"].values())
