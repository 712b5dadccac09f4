"""``AppService`` on memory stores: app checks, answers as runs with memory, streaming, regenerate, stop, feedback."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from rivulet.app.run_service import compiler_for
from rivulet.compiler.diagnostics import CompileError
from rivulet.compiler.flow import Edge, FlowDocument, Node
from rivulet.lib.exceptions import (
    ConflictError,
    MalformedRequestError,
    NotFoundError,
    RateLimitedError,
    ValidationError,
)
from rivulet.publishing.apps import (
    AppInput,
    AppService,
    answer_of,
    detect_message_input,
    detect_session_input,
    memory_session,
    subject_of,
    token_ports,
)
from rivulet.registry.loader import default_registry
from rivulet.runtime.executor import Executor
from rivulet.runtime.memory import MemoryEventBus
from rivulet.runtime.service import RunService, RunServiceConfig
from rivulet.sdk.models import ChatChunk, ConversationStore, ModelRegistry, Usage
from rivulet.sdk.ports import Chunk, Message, Table
from rivulet.security import Principal
from rivulet.storage.memory import MemoryConversationStore, MemoryFlowStore, MemoryRunStore
from rivulet.storage.memory_apps import MemoryAppStore
from tests.unit.providers.fakes import FakeModels

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from rivulet.publishing.apps import ChatTurn
    from rivulet.sdk.models import CallOrigin, ChatRequest

USER = Principal(kind="token", user_id="u1", username="ann", role="editor")


def chat_flow(*, session: bool = True, message: str = "message") -> FlowDocument:
    """``message [+ session_id] → conversation memory → llm.chat → output(answer: Message)``."""
    nodes = [
        Node(id="msg", operator="core.input", params={"name": message, "type": "Text"}),
        Node(id="sess", operator="core.input", params={"name": "session_id", "required": False, "default": "x"}),
        Node(id="memory", operator="llm.conversation_memory", params={}),
        Node(id="chat", operator="llm.chat", params={"model": "default"}),
        Node(id="out", operator="core.output", params={"name": "answer"}),
    ]
    edges = [
        Edge(id="e1", source="msg", source_port="value", target="memory", target_port="message"),
        Edge(id="e2", source="sess", source_port="value", target="memory", target_port="session_id"),
        Edge(id="e3", source="memory", source_port="messages", target="chat", target_port="messages"),
        Edge(id="e4", source="memory", source_port="session_id", target="chat", target_port="session_id"),
        Edge(id="e5", source="chat", source_port="message", target="out", target_port="value"),
    ]
    if not session:
        nodes = [nodes[0], nodes[3], nodes[4]]
        edges = [
            Edge(id="e1", source="msg", source_port="value", target="chat", target_port="prompt"),
            edges[-1],
        ]
    return FlowDocument(name="chat", nodes=nodes, edges=edges)


def stream_flow() -> FlowDocument:
    """``question → core.stream_text → output`` (the output itself is a stream)."""
    return FlowDocument(
        name="stream",
        nodes=[
            Node(id="q", operator="core.input", params={"name": "question"}),
            Node(id="words", operator="core.stream_text", params={"delay_s": 0}),
            Node(id="out", operator="core.output", params={"name": "text"}),
        ],
        edges=[
            Edge(id="e1", source="q", source_port="value", target="words", target_port="text"),
            Edge(id="e2", source="words", source_port="tokens", target="out", target_port="value"),
        ],
    )


@dataclass
class GatedModels(FakeModels):
    """With ``gated``: streams one token, then waits for ``gate`` (a reply that can be stopped half way)."""

    gated: bool = False
    gate: asyncio.Event = field(default_factory=asyncio.Event)

    async def stream(
        self, model: str, request: ChatRequest, *, origin: CallOrigin | None = None
    ) -> AsyncIterator[ChatChunk]:
        if not self.gated:
            async for chunk in super().stream(model, request, origin=origin):
                yield chunk
            return
        self.requests.append((model, request))
        yield ChatChunk(text="Half ")
        await self.gate.wait()
        yield ChatChunk(text="done")
        yield ChatChunk(finish_reason="stop", usage=Usage(completion_tokens=2))


@dataclass
class World:
    service: AppService
    flows: MemoryFlowStore
    store: MemoryAppStore
    memory: MemoryConversationStore
    models: FakeModels
    runs: RunService


@pytest.fixture
async def world() -> AsyncIterator[World]:
    models = GatedModels(answers=["Hello there", "You said hi before", "Another answer"])
    memory = MemoryConversationStore()
    flows = MemoryFlowStore()
    run_store = MemoryRunStore()
    bus = MemoryEventBus(run_store)
    compile_graph = compiler_for(default_registry())
    services: dict[type, object] = {ModelRegistry: models, ConversationStore: memory}
    runs = RunService(
        flows=flows,
        runs=run_store,
        bus=bus,
        executor=Executor(bus, services=services),
        compile_graph=compile_graph,
        config=RunServiceConfig(stale_after_s=0),
    )
    await runs.start()
    store = MemoryAppStore()
    service = AppService(apps=store, flows=flows, runs=runs, memory=memory, compile_graph=compile_graph)
    try:
        yield World(service, flows, store, memory, models, runs)
    finally:
        await service.close()
        await runs.close()


async def collect(service: AppService, turn: ChatTurn) -> list[tuple[str, Any]]:
    return [item async for item in service.stream(turn)]


async def test_inputs_are_detected_and_checked(world: World) -> None:
    flow = await world.flows.create(chat_flow())
    app = await world.service.create(flow_id=flow.summary.id, slug="helper", title="Helper")
    assert (app.message_input, app.session_input) == ("message", "session_id")
    none = await world.service.create(flow_id=flow.summary.id, slug="no-memory", title="x", session_input="")
    assert none.session_input is None
    with pytest.raises(ValidationError, match=r"message_input 'nope' is not a run input.*message \(Text\)"):
        await world.service.create(flow_id=flow.summary.id, slug="bad", title="x", message_input="nope")
    with pytest.raises(ConflictError):
        await world.service.create(flow_id=flow.summary.id, slug="helper", title="again")
    broken = await world.flows.create(
        FlowDocument(name="broken", nodes=[Node(id="chat", operator="llm.chat", params={})])
    )
    with pytest.raises(CompileError):
        await world.service.create(flow_id=broken.summary.id, slug="broken", title="x")
    # detection: the usual names in order, else the single Text input, else a 422 naming what is there
    inputs = [AppInput(name="topic"), AppInput(name="n", type="Int")]
    assert detect_message_input(inputs) == "topic"
    assert detect_message_input([AppInput(name="prompt"), AppInput(name="question")]) == "question"
    with pytest.raises(ValidationError, match=r"topic \(Text\), other \(Text\)"):
        detect_message_input([AppInput(name="topic"), AppInput(name="other")])
    assert detect_session_input([AppInput(name="conversation_uid")]) == "conversation_uid"
    assert detect_session_input([AppInput(name="x")]) is None


async def test_a_conversation_remembers_its_turns_and_streams_the_answer(world: World) -> None:
    flow = await world.flows.create(chat_flow())
    app = await world.service.create(flow_id=flow.summary.id, slug="helper", title="Helper")
    conversation = await world.store.create_conversation(app.id, "user:u1")

    turn = await world.service.send(app, conversation, "Hi, I am Ada")
    events = await collect(world.service, turn)
    names = [name for name, _ in events]
    assert names[0] == "start"
    assert names[-1] == "done"
    assert "".join(p["data"] for n, p in events if n == "token") == "Hello there "
    final = events[-1][1]["message"]
    assert (final.status, final.content, final.run_id) == ("complete", "Hello there ", turn.run_id)
    assert final.extras["duration_ms"] >= 0
    titled = await world.store.get_conversation(conversation.id)
    assert titled.title == "Hi, I am Ada"

    second = await world.service.send(app, titled, "What did I say?")
    await collect(world.service, second)
    _, request = world.models.requests[-1]
    assert [m.content for m in request.messages] == ["Hi, I am Ada", "Hello there ", "What did I say?"]
    session = memory_session(app.id, conversation.id)
    assert len(await world.memory.history(session, 100)) == 4
    run = (await world.runs.get(second.run_id)).run
    assert run.trigger == "app"
    assert run.inputs["session_id"] == session

    # regenerate: the last answer goes (transcript and memory), the last question is answered again
    again = await world.service.regenerate(app, titled)
    assert again.user_message.id == second.user_message.id
    done = (await collect(world.service, again))[-1][1]["message"]
    assert done.content == "Another answer "
    transcript = await world.store.list_messages(conversation.id)
    assert [(m.role, m.content) for m in transcript] == [
        ("user", "Hi, I am Ada"),
        ("assistant", "Hello there "),
        ("user", "What did I say?"),
        ("assistant", "Another answer "),
    ]
    _, request = world.models.requests[-1]
    assert [m.content for m in request.messages] == ["Hi, I am Ada", "Hello there ", "What did I say?"]
    assert len(await world.memory.history(session, 100)) == 4


async def test_an_output_stream_is_the_token_source(world: World) -> None:
    flow = await world.flows.create(stream_flow())
    app = await world.service.create(flow_id=flow.summary.id, slug="words", title="Words")
    assert app.message_input == "question"
    assert app.session_input is None
    compiled = await world.service.graph(flow.summary.id, None)
    assert compiled.ports == frozenset({("out", "value")})
    conversation = await world.store.create_conversation(app.id, "user:u1")
    events = await collect(world.service, await world.service.send(app, conversation, "one two three"))
    tokens = [p["data"] for n, p in events if n == "token"]
    assert len(tokens) == 3
    assert events[-1][1]["message"].content == "".join(tokens)


async def test_stop_cancels_the_run_and_keeps_what_streamed(world: World) -> None:
    assert isinstance(world.models, GatedModels)
    world.models.gated = True
    flow = await world.flows.create(chat_flow(session=False))
    app = await world.service.create(flow_id=flow.summary.id, slug="slow", title="Slow")
    conversation = await world.store.create_conversation(app.id, "user:u1")
    turn = await world.service.send(app, conversation, "Tell me a story")
    stream = world.service.stream(turn)
    assert (await anext(stream))[0] == "start"
    assert await anext(stream) == ("token", {"data": "Half "})
    with pytest.raises(ConflictError, match="still answering"):
        await world.service.send(app, conversation, "another")
    assert await world.service.stop(conversation) is True
    rest = [item async for item in stream]
    final = rest[-1]
    assert final[0] == "error"
    assert (final[1]["message"].status, final[1]["message"].content) == ("cancelled", "Half ")
    assert await world.service.stop(conversation) is False


async def test_closing_stops_a_running_answer_and_stores_it(world: World) -> None:
    assert isinstance(world.models, GatedModels)
    world.models.gated = True
    flow = await world.flows.create(chat_flow(session=False))
    app = await world.service.create(flow_id=flow.summary.id, slug="shutdown", title="Shutdown")
    conversation = await world.store.create_conversation(app.id, "user:u1")
    turn = await world.service.send(app, conversation, "Tell me a story")
    stream = world.service.stream(turn)
    assert (await anext(stream))[0] == "start"
    assert await anext(stream) == ("token", {"data": "Half "})
    await world.service.close()
    await stream.aclose()
    stored = (await world.store.list_messages(conversation.id))[-1]
    assert (stored.status, stored.content) == ("cancelled", "Half ")
    assert stored.extras["error"]["code"] == "cancelled"


async def test_subjects_rate_limits_and_another_apps_token(world: World) -> None:
    flow = await world.flows.create(chat_flow())
    app = await world.service.create(flow_id=flow.summary.id, slug="helper", title="Helper")
    other = await world.service.create(flow_id=flow.summary.id, slug="other", title="Other")
    token, _ = await world.store.create_token(app.id, name="link", rate_limit_per_minute=2)
    link = Principal(kind="app_token", app_id=app.id, key_id=token.id, key_name="link", rate_limit_per_minute=2)
    visitor = "v" * 20
    subject = subject_of(link, visitor)
    assert subject.startswith(f"token:{token.id}:")
    assert len(subject.split(":")[2]) == 32
    assert subject_of(USER, None) == "user:u1"
    for bad in (None, "short", "x" * 129, "bad visitor id!!!!"):
        with pytest.raises(MalformedRequestError):
            subject_of(link, bad)
    assert (await world.service.chat_app("helper", link)).id == app.id
    with pytest.raises(NotFoundError):
        await world.service.chat_app("other", link)
    await world.store.update_app(other.id, enabled=False)
    with pytest.raises(NotFoundError):
        await world.service.chat_app("other", USER)
    mine = await world.store.create_conversation(app.id, subject)
    with pytest.raises(NotFoundError):
        await world.service.conversation(app, "user:u1", mine.id)
    assert (await world.service.conversation(app, subject, mine.id)).id == mine.id
    world.service.admit(link)
    world.service.admit(link)
    with pytest.raises(RateLimitedError) as refused:
        world.service.admit(link)
    assert refused.value.extra.get("retry_after_s", 0) > 0 or refused.value.status_code == 429
    for _ in range(60):
        world.service.admit(USER)
    with pytest.raises(RateLimitedError):
        world.service.admit(USER)
    # new conversations are counted apart from messages, at the same rate
    world.service.admit(link, "conversations")
    world.service.admit(link, "conversations")
    with pytest.raises(RateLimitedError, match="2 conversations per minute"):
        world.service.admit(link, "conversations")


async def test_feedback_is_listed_with_its_question(world: World) -> None:
    flow = await world.flows.create(chat_flow())
    app = await world.service.create(flow_id=flow.summary.id, slug="helper", title="Helper")
    conversation = await world.store.create_conversation(app.id, "user:u1")
    turn = await world.service.send(app, conversation, "Rate me")
    answer = (await collect(world.service, turn))[-1][1]["message"]
    found = await world.service.message(app, "user:u1", answer.id)
    assert found.id == answer.id
    with pytest.raises(NotFoundError):
        await world.service.message(app, "user:someone-else", answer.id)
    await world.store.set_feedback(answer.id, "down", "too short")
    [item] = await world.service.feedback_list(app.id)
    assert (item.question, item.feedback, item.comment, item.run_id) == ("Rate me", "down", "too short", turn.run_id)
    assert await world.store.feedback_for_runs([turn.run_id, "other"]) == {turn.run_id: "down"}


def test_answers_take_text_tables_and_citations() -> None:
    graph = compiler_for(default_registry())(stream_flow())
    chunk = Chunk(id="c1", document_id="d", text="Paris is the capital.", source="atlas.pdf", score=0.9)

    @dataclass
    class Result:
        outputs: dict[str, Any]
        nodes: dict[str, Any] = field(default_factory=dict[str, Any])

    text, extras = answer_of(graph, Result({"a": Message(role="assistant", content="Paris")}), {})  # type: ignore[arg-type]
    assert (text, extras) == ("Paris", {})
    text, extras = answer_of(graph, Result({"a": {"answer": "Paris", "sources": [chunk]}}), {})  # type: ignore[arg-type]
    assert text == "Paris"
    assert extras["citations"] == [{"id": "c1", "source": "atlas.pdf", "text": "Paris is the capital.", "score": 0.9}]
    table = Table(columns=["city", "n"], rows=[["Paris", 1], ["Lyon", 2]])
    text, extras = answer_of(graph, Result({"rows": table}), {})  # type: ignore[arg-type]
    assert text == "**2 rows** · columns `city`, `n`"
    assert extras["tables"][0]["columns"] == ["city", "n"]
    assert token_ports(graph) == frozenset({("out", "value")})
    chat_graph = compiler_for(default_registry())(chat_flow())
    assert token_ports(chat_graph) == frozenset({("chat", "tokens")})
