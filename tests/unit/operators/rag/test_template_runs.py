"""The chat-with-documents flows on the real compiler and runtime, with fake knowledge and model services:
ingest a text, then ask; retrieval is never served from the cache after an ingestion."""

from __future__ import annotations

from typing import Any

import pytest

from rivulet.compiler.compile import compile_flow
from rivulet.registry import load_registry
from rivulet.runtime.cache import NodeCache
from rivulet.runtime.executor import Executor
from rivulet.runtime.memory import MemoryEventBus
from rivulet.runtime.options import RunOptions
from rivulet.sdk.knowledge import KnowledgeBase
from rivulet.sdk.models import ModelRegistry
from rivulet.storage.memory import MemoryRunStore
from rivulet.templates.importer import prepare_flows
from rivulet.templates.package import load_package
from rivulet.templates.sources import BUILTIN_TEMPLATES
from tests.unit.operators.rag.fakes import FakeKnowledge
from tests.unit.providers.fakes import FakeModels

pytestmark = pytest.mark.timeout(60)


async def test_ingest_a_text_then_ask_with_citations() -> None:
    registry = load_registry(entry_point_group=None)
    flows = prepare_flows(load_package(BUILTIN_TEMPLATES / "chat-with-documents"), registry)
    kb = FakeKnowledge()
    models = FakeModels(answers=["Ada wrote the first program [handbook:0]."])
    services: dict[type[Any], Any] = {KnowledgeBase: kb, ModelRegistry: models}
    executor = Executor(MemoryEventBus(MemoryRunStore()), cache=NodeCache(), services=services)

    ingest = compile_flow(flows["flows/ingest-text.json"], registry)
    text = "Ada Lovelace wrote the first program.\n\nTea is brewed at 80 degrees."
    stored = await executor.run(ingest, options=RunOptions(inputs={"text": text, "name": "handbook"}, use_cache=True))
    assert stored.status == "succeeded", stored.error
    assert stored.outputs["chunks"] == 2
    assert stored.outputs["report"]["items"][0]["name"] == "handbook"

    ask = compile_flow(flows["flows/ask.json"], registry)
    options = RunOptions(inputs={"question": "Who wrote the first program?"}, use_cache=True)
    answered = await executor.run(ask, options=options)
    assert answered.status == "succeeded", answered.error
    assert answered.outputs["answer"] == "Ada wrote the first program [handbook:0]. "
    citations = answered.outputs["citations"]
    assert [(c.id, c.metadata["cited"]) for c in citations] == [("handbook:0", True)]
    assert kb.searches[0][1].mode == "hybrid"
    assert kb.searches[0][1].top_k == 4

    kb.spaces["docs"].clear()  # as if the space changed: the retrieval must run again, not come from the cache
    again = await executor.run(ask, options=options)
    assert again.status == "succeeded", again.error
    assert len(kb.searches) == 2
    assert [c.metadata["cited"] for c in again.outputs["citations"]] == []


async def test_ingest_a_url_and_a_refused_one_fails_at_the_loader() -> None:
    registry = load_registry(entry_point_group=None)
    flows = prepare_flows(load_package(BUILTIN_TEMPLATES / "chat-with-documents"), registry, {"space": "web"})
    kb = FakeKnowledge(spaces={"web": []})
    executor = Executor(MemoryEventBus(MemoryRunStore()), services={KnowledgeBase: kb})
    graph = compile_flow(flows["flows/ingest-url.json"], registry)
    stored = await executor.run(graph, options=RunOptions(inputs={"url": "https://example.org/guide"}))
    assert stored.status == "succeeded", stored.error
    assert stored.outputs["chunks"] == 1
    assert [c.source for c in kb.spaces["web"]] == ["https://example.org/guide"]
    refused = await executor.run(graph, options=RunOptions(inputs={"url": "http://127.0.0.1/admin"}))
    assert refused.status == "failed"
    assert refused.error is not None
    assert refused.error.node_id == "load"
    assert "loopback" in refused.error.message
