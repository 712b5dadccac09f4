"""Answer a question from retrieved passages, citing them by chunk id; tokens stream out as they are generated.

The chunks are written as passages labelled ``[<chunk id>]`` within ``budget_tokens`` (as ``rag.context`` does)
and sent with the question; the system prompt asks the model to answer only from them and to cite each passage
it uses as ``[<chunk id>]``. ``citations`` are the chunks the answer cites, in order of first citation, with
their passage text, ``metadata["cited"] = true`` and ``metadata["passage"]`` (the passage's position in the
context: ``[n]``, the n-th passage, is understood as a citation too).

Small local models (the bundled SmolLM2-135M) often cite nothing. Then ``citations`` falls back to every
passage the context held, marked ``metadata["cited"] = false``, so the editor still shows the sources the answer
was given. With ``stream`` off the whole answer comes at once and ``tokens`` is not produced.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from msgspec import Meta

from rivulet.sdk import Operator, OperatorSpec
from rivulet.sdk.models import ChatRequest, origin_of
from rivulet.sdk.operator import Deferred
from rivulet.sdk.ports import Chunk, Message, Stream, Text
from rivulet.sdk.ui import ModelRef, PromptText
from rivulet_operators.rag._common import (
    DEFAULT_PASSAGE_TEMPLATE,
    PassageTemplate,
    build_context,
    check_template,
    fail,
    models_of,
    parse_citations,
    with_metadata,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from rivulet.sdk import RunContext

__all__ = ("DEFAULT_SYSTEM_PROMPT", "SPEC", "Answer", "Inputs", "Outputs", "Params", "citations_for")

SPEC = OperatorSpec(
    id="rag.answer",
    category="rag",
    title="Answer with citations",
    description="Answer a question from passages, citing chunk ids; tokens stream out.",
    icon="message-square-quote",
    tags=("rag", "knowledge", "answer", "citations", "llm", "stream"),
    cacheable=False,
)

DEFAULT_SYSTEM_PROMPT = (
    "You answer questions using only the passages provided. Each passage ends with its source and its id in "
    "square brackets. Cite the passages you use by their ids in square brackets, for example [id]. "
    "If the passages do not contain the answer, say that you do not know."
)


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    model: Annotated[ModelRef, Meta(description="A configured chat model; 'default' is the default chat model.")] = (
        "default"
    )
    system_prompt: Annotated[
        PromptText, Meta(max_length=100_000, description="Instructions; the default asks for [chunk-id] citations.")
    ] = DEFAULT_SYSTEM_PROMPT
    temperature: Annotated[float, Meta(ge=0, le=2, description="0 is deterministic.")] = 0.2
    budget_tokens: Annotated[int, Meta(ge=16, le=1_000_000, description="Most tokens of passages sent.")] = 1000
    max_tokens: Annotated[int, Meta(ge=1, le=131_072, description="Upper bound of the answer's length.")] = 256
    template: PassageTemplate = DEFAULT_PASSAGE_TEMPLATE
    stream: Annotated[bool, Meta(description="Stream tokens as they are generated.")] = True

    def __post_init__(self) -> None:
        check_template(self.template)


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    question: Annotated[Text, Meta(description="The question to answer.")]
    chunks: Annotated[list[Chunk], Meta(description="Passages to answer from, best first (e.g. rag.retrieve).")]


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    tokens: Annotated[Stream[Text], Meta(description="The answer, token by token (when stream is on).")]
    answer: Annotated[Text, Meta(description="The whole answer, once complete.")]
    citations: Annotated[list[Chunk], Meta(description="The passages the answer cites (or was given, if none).")]


class _Result(msgspec.Struct, frozen=True):
    tokens: Any
    answer: Any
    citations: Any


def citations_for(answer: str, passages: list[Chunk]) -> list[Chunk]:
    """The cited passages (``cited: true``), or every passage given (``cited: false``) when none is cited.

    Each carries ``metadata["passage"]``, its position in the context (what a ``[n]`` citation names).
    """
    number = {chunk.id: n for n, chunk in enumerate(passages, start=1)}
    cited = parse_citations(answer, passages)
    if cited:
        return [with_metadata(c, cited=True, passage=number[c.id]) for c in cited]
    return [with_metadata(c, cited=False, passage=number[c.id]) for c in passages]


def _messages(params: Params, question: str, context: str) -> list[Message]:
    body = context or "(no passages were found)"
    prompt = f"Passages:\n\n{body}\n\nQuestion: {question}"
    system = [Message(role="system", content=params.system_prompt)] if params.system_prompt.strip() else []
    return [*system, Message(role="user", content=prompt)]


class Answer(Operator[Params, Inputs, _Result]):
    """Stream (or return) an answer and its citations."""

    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs

    @classmethod
    def output_values(cls, outputs: Any) -> dict[str, Any]:
        if outputs.tokens is None:
            return {"answer": outputs.answer, "citations": outputs.citations}
        return {"tokens": outputs.tokens, "answer": Deferred(outputs.answer), "citations": Deferred(outputs.citations)}

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> _Result:
        question = inputs.question.strip()
        if not question:
            raise fail(SPEC, ctx, "the question is empty")
        context, passages = build_context(inputs.chunks, budget_tokens=params.budget_tokens, template=params.template)
        models = models_of(SPEC, ctx)
        request = ChatRequest(
            messages=_messages(params, question, context),
            temperature=params.temperature,
            max_tokens=params.max_tokens,
        )
        if not params.stream:
            text = (await models.chat(params.model, request, origin=origin_of(ctx))).text
            return _Result(tokens=None, answer=text, citations=citations_for(text, passages))
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[str] = loop.create_future()
        citations: asyncio.Future[list[Chunk]] = loop.create_future()

        async def tokens() -> AsyncIterator[str]:
            parts: list[str] = []
            try:
                async with contextlib.aclosing(models.stream(params.model, request, origin=origin_of(ctx))) as chunks:
                    async for chunk in chunks:
                        if chunk.text:
                            parts.append(chunk.text)
                            yield chunk.text
            except Exception as exc:
                for future in (answer, citations):
                    if not future.done():
                        future.set_exception(exc)
                        future.exception()  # marks it retrieved: the stream's failure is what gets reported
                raise
            except BaseException:
                answer.cancel()
                citations.cancel()
                raise
            text = "".join(parts)
            answer.set_result(text)
            citations.set_result(citations_for(text, passages))

        return _Result(tokens=tokens(), answer=answer, citations=citations)
