"""Deferred outputs: delivered after the node's streams end (``llm.chat``'s ``message`` after its tokens)."""

from __future__ import annotations

import msgspec
import pytest

from rivulet.records.events import NodeChunk, NodeOutput
from rivulet.runtime.executor import Executor
from rivulet.runtime.memory import MemoryEventBus
from rivulet.sdk import NoParams, Operator
from rivulet.sdk.models import ModelRegistry
from rivulet.sdk.operator import Deferred
from rivulet.sdk.ports import Text
from rivulet.storage.memory import MemoryRunStore
from rivulet_operators.llm.chat import Chat
from tests.unit.providers.fakes import FakeModels
from tests.unit.runtime.fakes import Output, Source, Upper, build_graph, spec

pytestmark = pytest.mark.timeout(60)


class TextOut(msgspec.Struct, frozen=True, kw_only=True):
    text: Text


class LateFailure(Operator[NoParams, msgspec.Struct, TextOut]):
    """No streams, one deferred output that fails."""

    spec = spec("test.late_failure")
    outputs_type = TextOut

    @classmethod
    def output_values(cls, outputs: object) -> dict[str, object]:
        async def boom() -> str:
            raise RuntimeError("deferred value failed")

        return {"text": Deferred(boom())}

    async def run(self, ctx: object, params: NoParams, inputs: msgspec.Struct) -> TextOut:  # type: ignore[override]
        return TextOut(text="")


async def test_chat_message_is_delivered_after_every_token() -> None:
    bus = MemoryEventBus(MemoryRunStore())
    graph = build_graph(
        [("q", Source, {"value": "hi"}), ("chat", Chat, {"temperature": 0}), ("out", Output)],
        ["q.value -> chat.prompt", "chat.message -> out.value"],
        output_nodes=("out",),
    )
    executor = Executor(bus, services={ModelRegistry: FakeModels(answers=["one two three"])})
    result = await executor.run(graph, run_id="d1")
    assert result.status == "succeeded", result.error
    assert result.outputs["out"].content == "one two three "
    await bus.flush()
    events = await bus.read("d1")
    chunk_seqs = [e.seq for e in events if isinstance(e, NodeChunk)]
    message = next(e for e in events if isinstance(e, NodeOutput) and e.port == "message")
    assert len(chunk_seqs) == 3
    assert message.seq > max(chunk_seqs)


async def test_a_failing_deferred_output_fails_the_node() -> None:
    bus = MemoryEventBus(MemoryRunStore())
    graph = build_graph([("late", LateFailure), ("up", Upper)], ["late.text -> up.text"])
    result = await Executor(bus).run(graph)
    assert result.status == "failed"
    assert result.error is not None
    assert result.error.node_id == "late"
    assert "deferred value failed" in result.error.message
    assert "up" not in result.nodes or result.nodes["up"].status != "succeeded"
