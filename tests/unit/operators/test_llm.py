"""LLM operators against a fake ``ModelRegistry`` (the real models are exercised in tests/integration)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from rivulet.lib.exceptions import OperatorError
from rivulet.sdk.models import ConversationStore, ModelRegistry
from rivulet.sdk.operator import Deferred
from rivulet.sdk.ports import Message
from rivulet_operators.llm import chat, complete, conversation_memory, embed, prompt_template, structured_output
from rivulet_operators.llm import summarize as summarize_op
from tests.unit.operators.conftest import FakeContext, params_of, run_operator
from tests.unit.providers.fakes import FakeModels


def context(models: FakeModels, services: dict[type, Any] | None = None) -> FakeContext:
    return FakeContext(services={ModelRegistry: models, **(services or {})})


class MemoryConversations:
    def __init__(self) -> None:
        self.sessions: dict[str, list[Message]] = {}

    async def history(self, session_id: str, limit: int) -> list[Message]:
        return self.sessions.get(session_id, [])[-limit:]

    async def append(self, session_id: str, messages: Any) -> None:
        self.sessions.setdefault(session_id, []).extend(messages)

    async def clear(self, session_id: str) -> None:
        self.sessions.pop(session_id, None)


async def test_chat_streams_tokens_then_delivers_the_message() -> None:
    models = FakeModels(answers=["Paris is nice"])
    out = await run_operator(
        chat.Chat, {"system_prompt": "Be brief.", "temperature": 0}, {"prompt": "Capital?"}, context(models)
    )
    assert isinstance(out["message"], Deferred)
    tokens = [t async for t in out["tokens"]]
    assert "".join(tokens) == "Paris is nice "
    assert await out["message"].resolve() == Message(role="assistant", content="Paris is nice ")
    model, request = models.requests[0]
    assert model == "default"
    assert [m.role for m in request.messages] == ["system", "user"]
    assert request.temperature == 0


async def test_chat_appends_the_answer_to_the_session() -> None:
    memory = MemoryConversations()
    ctx = context(FakeModels(answers=["hi"]), {ConversationStore: memory})
    out = await run_operator(chat.Chat, {}, {"prompt": "hello", "session_id": "s1"}, ctx)
    _ = [t async for t in out["tokens"]]
    await out["message"].resolve()
    assert memory.sessions["s1"] == [Message(role="assistant", content="hi ")]


async def test_chat_without_input_is_a_located_error() -> None:
    with pytest.raises(OperatorError, match="nothing to answer") as info:
        await run_operator(chat.Chat, {"system_prompt": "x"}, {}, context(FakeModels()))
    assert info.value.extra == {"operator_id": "llm.chat", "node_id": "node-1"}


async def test_chat_without_model_service_says_so() -> None:
    with pytest.raises(OperatorError, match="no model registry"):
        await run_operator(chat.Chat, {}, {"prompt": "x"}, FakeContext())


async def test_completion_returns_text_and_tokens() -> None:
    out = await run_operator(complete.Complete, {"max_tokens": 5}, {"prompt": "Say ok"}, context(FakeModels()))
    assert out == {"text": "ok", "tokens": 2}


def test_prompt_template_variables_become_typed_ports() -> None:
    params = params_of(
        prompt_template.PromptTemplate,
        {
            "template": "Q: {{ question }}\n{% for c in context %}{{ c.text }}{% endfor %}",
            "variable_types": {"context": "List[Chunk]"},
        },
    )
    ports = {p.name: str(p.type) for p in prompt_template.PromptTemplate.input_ports(params)}
    assert ports == {"context": "List[Chunk]", "question": "Text"}


def test_prompt_template_rejects_types_for_unknown_variables() -> None:
    with pytest.raises(msgspec.ValidationError, match="does not use"):
        params_of(prompt_template.PromptTemplate, {"template": "{{ a }}", "variable_types": {"b": "Text"}})
    with pytest.raises(msgspec.ValidationError, match=r"variable_types\.a"):
        params_of(prompt_template.PromptTemplate, {"template": "{{ a }}", "variable_types": {"a": "Nope"}})


async def test_prompt_template_renders_prompt_and_messages() -> None:
    out = await run_operator(
        prompt_template.PromptTemplate,
        {"template": "Hello {{ name }}", "system_prompt": "sys"},
        {"name": "Ada"},
    )
    assert out["prompt"] == "Hello Ada"
    assert out["messages"] == [Message(role="system", content="sys"), Message(role="user", content="Hello Ada")]


SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}


async def test_structured_output_repairs_an_invalid_answer() -> None:
    models = FakeModels(answers=['{"name": "Ada"}', '```json\n{"name": "Ada", "age": 36}\n```'])
    out = await run_operator(
        structured_output.StructuredOutput, {"json_schema": SCHEMA}, {"text": "Ada, 36"}, context(models)
    )
    assert out == {"data": {"name": "Ada", "age": 36}, "attempts": 2}
    repair = models.requests[1][1].messages[-1].content
    assert "'age' is a required property" in repair
    assert models.requests[0][1].json_schema == SCHEMA


async def test_structured_output_gives_up_with_the_errors() -> None:
    models = FakeModels(answers=["not json"])
    with pytest.raises(OperatorError, match=r"no valid answer after 2 attempt\(s\): the answer is not valid JSON"):
        await run_operator(
            structured_output.StructuredOutput,
            {"json_schema": SCHEMA, "max_repairs": 1},
            {"text": "x"},
            context(models),
        )


def test_structured_output_rejects_an_invalid_schema() -> None:
    with pytest.raises(msgspec.ValidationError, match="not a valid JSON Schema"):
        params_of(structured_output.StructuredOutput, {"json_schema": {"type": "nope"}})


def test_schema_errors_are_located() -> None:
    assert structured_output.schema_errors({"name": 1, "age": 2}, SCHEMA) == ["$.name: 1 is not of type 'string'"]


async def test_embed_batches_and_reports_the_single_vector() -> None:
    models = FakeModels()
    out = await run_operator(
        embed.Embed, {"batch_size": 2}, {"texts": ["a", "bb", "ccc"], "text": "dddd"}, context(models)
    )
    assert models.embedded == [["a", "bb"], ["ccc", "dddd"]]
    assert out["embedding"] == [1.0, 4.0]
    assert out["dimensions"] == 2
    assert len(out["embeddings"]) == 4


async def test_embed_without_text_output_leaves_embedding_unproduced() -> None:
    out = await run_operator(embed.Embed, {}, {"texts": ["a"]}, context(FakeModels()))
    assert "embedding" not in out


async def test_conversation_memory_loads_history_and_stores_the_message() -> None:
    memory = MemoryConversations()
    memory.sessions["s"] = [Message(role="user", content="one"), Message(role="assistant", content="two")]
    ctx = FakeContext(services={ConversationStore: memory})
    out = await run_operator(
        conversation_memory.ConversationMemory,
        {"window": 1, "system_prompt": "sys"},
        {"message": "three", "session_id": "s"},
        ctx,
    )
    assert [m.content for m in out["messages"]] == ["sys", "two", "three"]
    assert memory.sessions["s"][-1] == Message(role="user", content="three")


def test_split_text_respects_the_chunk_size() -> None:
    text = "\n\n".join(f"Paragraph {i}. " + "word " * 50 for i in range(10))
    chunks = summarize_op.split_text(text, 400, 20)
    assert len(chunks) > 3
    assert all(len(c) <= 400 + 20 + 1 for c in chunks)


async def test_summarize_maps_then_reduces() -> None:
    models = FakeModels(answers=["short summary"])
    text = " ".join(f"Sentence number {i} is here." for i in range(200))
    ctx = context(models)
    out = await run_operator(summarize_op.Summarize, {"chunk_chars": 500}, {"text": text}, ctx)
    assert out["summary"] == "short summary"
    assert out["chunks"] > 5
    assert len(models.requests) > out["chunks"]  # the map calls, then at least one reduce
    assert ctx.progress_calls
