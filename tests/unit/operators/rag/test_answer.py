"""rag.answer: the prompt it sends, streamed and whole answers, citations and the uncited fallback."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from rivulet.lib.exceptions import ModelError, OperatorError
from rivulet.sdk.models import ChatChunk, ModelRegistry
from rivulet.sdk.operator import Deferred
from rivulet_operators.rag import answer
from tests.unit.operators.conftest import FakeContext, params_of, run_operator
from tests.unit.operators.rag.fakes import corpus
from tests.unit.providers.fakes import FakeModels

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


def context(models: Any) -> FakeContext:
    return FakeContext(services={ModelRegistry: models})


async def test_answer_streams_then_delivers_answer_and_cited_chunks() -> None:
    models = FakeModels(answers=["Ada wrote it [c-ada] for Babbage's engine [c-babbage]."])
    out = await run_operator(
        answer.Answer, {"model": "local", "temperature": 0}, {"question": "Who wrote it?", "chunks": corpus()},
        context(models),
    )  # fmt: skip
    assert isinstance(out["answer"], Deferred)
    assert isinstance(out["citations"], Deferred)
    tokens = [t async for t in out["tokens"]]
    text = await out["answer"].resolve()
    assert "".join(tokens) == text == "Ada wrote it [c-ada] for Babbage's engine [c-babbage]. "
    citations = await out["citations"].resolve()
    assert [(c.id, c.metadata["cited"]) for c in citations] == [("c-ada", True), ("c-babbage", True)]
    assert citations[0].text.startswith("Ada Lovelace")  # the passage text travels with the citation
    model, request = models.requests[0]
    assert model == "local"
    assert request.temperature == 0
    assert [m.role for m in request.messages] == ["system", "user"]
    assert "Cite the passages you use by their ids" in request.messages[0].content
    prompt = request.messages[1].content
    assert prompt.startswith(
        "Passages:\n\nAda Lovelace wrote the first program for the Analytical Engine.\n(source: ada.md [c-ada])"
    )
    assert prompt.endswith("\n\nQuestion: Who wrote it?")


async def test_an_answer_citing_nothing_falls_back_to_the_passages_given() -> None:
    models = FakeModels(answers=["Ada Lovelace did."])
    out = await run_operator(
        answer.Answer, {"stream": False, "budget_tokens": 50}, {"question": "Who?", "chunks": corpus()},
        context(models),
    )  # fmt: skip
    assert "tokens" not in out
    assert out["answer"] == "Ada Lovelace did."
    assert [(c.id, c.metadata["cited"], c.metadata["passage"]) for c in out["citations"]] == [
        ("c-ada", False, 1), ("c-tea", False, 2),
    ]  # fmt: skip


async def test_citation_by_passage_number_is_understood() -> None:
    models = FakeModels(answers=["Babbage [2]."])
    chunks = [corpus()[0], corpus()[2]]
    out = await run_operator(answer.Answer, {"stream": False}, {"question": "Who?", "chunks": chunks}, context(models))
    assert [(c.id, c.metadata["passage"]) for c in out["citations"]] == [("c-babbage", 2)]


async def test_answer_with_no_chunks_still_asks_and_cites_nothing() -> None:
    models = FakeModels(answers=["I do not know."])
    out = await run_operator(answer.Answer, {"stream": False}, {"question": "Who?", "chunks": []}, context(models))
    assert out["citations"] == []
    assert "(no passages were found)" in models.requests[0][1].messages[-1].content


async def test_a_failing_stream_fails_the_deferred_outputs() -> None:
    class Failing(FakeModels):
        async def stream(self, model: str, request: Any, *, origin: Any = None) -> AsyncIterator[ChatChunk]:
            yield ChatChunk(text="Ada ")
            raise ModelError("model 'default' failed: boom")

    out = await run_operator(answer.Answer, {}, {"question": "Who?", "chunks": corpus()}, context(Failing()))
    with pytest.raises(ModelError, match="boom"):
        _ = [t async for t in out["tokens"]]
    with pytest.raises(ModelError):
        await out["answer"].resolve()
    with pytest.raises(ModelError):
        await out["citations"].resolve()


async def test_answer_errors_are_located() -> None:
    with pytest.raises(OperatorError, match="the question is empty") as info:
        await run_operator(answer.Answer, {}, {"question": "  ", "chunks": corpus()}, context(FakeModels()))
    assert info.value.extra == {"operator_id": "rag.answer", "node_id": "node-1"}
    with pytest.raises(OperatorError, match="no model registry"):
        await run_operator(answer.Answer, {}, {"question": "Who?", "chunks": corpus()}, FakeContext())


def test_answer_params_and_ports() -> None:
    params = params_of(answer.Answer, {})
    assert params.model == "default"
    assert params.stream is True
    ports = {p.name: str(p.type) for p in answer.Answer.output_ports(params)}
    assert ports == {"tokens": "Stream[Text]", "answer": "Text", "citations": "List[Chunk]"}
    assert answer.SPEC.cacheable is False
