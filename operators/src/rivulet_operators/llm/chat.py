"""Chat with a model: messages and/or a prompt in, tokens streamed out, then the whole answer as a ``Message``.

Connect ``messages``, ``prompt`` or both: a chat with neither does not compile (``required_input_group_missing``).
Tokens stream as they are generated (``node.chunk`` events in the editor); the ``message`` output is delivered
once the answer is complete. With a ``session_id`` input the answer is appended to that conversation
(``llm.conversation_memory`` loads it back on the next turn).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from msgspec import Meta

from rivulet.sdk import Operator, OperatorSpec
from rivulet.sdk.models import ChatRequest, ConversationStore, origin_of
from rivulet.sdk.operator import Deferred
from rivulet.sdk.ports import Message, Messages, Stream, Text
from rivulet.sdk.rules import requires_one_of
from rivulet.sdk.ui import ModelRef, PromptText
from rivulet_operators.llm._common import build_messages, fail, models_of

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from rivulet.sdk import RunContext

__all__ = ("SPEC", "Chat", "Inputs", "Outputs", "Params")

SPEC = OperatorSpec(
    id="llm.chat",
    category="llm",
    title="Chat",
    description="Ask a chat model; tokens stream out as they are generated.",
    icon="message-circle",
    tags=("llm", "chat", "stream", "ai"),
    cacheable=False,
    input_rules=(requires_one_of("messages", "prompt", hint="the model needs something to answer"),),
)


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    model: Annotated[ModelRef, Meta(description="A configured model; 'default' is the default chat model.")] = "default"
    system_prompt: Annotated[PromptText, Meta(max_length=100_000, description="Sent first, as the system.")] = ""
    temperature: Annotated[float, Meta(ge=0, le=2, description="0 is deterministic.")] = 0.7
    max_tokens: Annotated[int, Meta(ge=1, le=131_072, description="Upper bound of the answer's length.")] = 256


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    messages: Annotated[Messages | None, Meta(description="The conversation so far.")] = None
    prompt: Annotated[Text | None, Meta(description="A user message added at the end.")] = None
    session_id: Annotated[Text | None, Meta(description="Append the answer to this conversation.")] = None


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    tokens: Annotated[Stream[Text], Meta(description="The answer, token by token.")]
    message: Annotated[Message, Meta(description="The whole answer, once complete.")]


class _Result(msgspec.Struct, frozen=True):
    tokens: Any
    message: Any


class Chat(Operator[Params, Inputs, _Result]):
    """Stream a chat answer."""

    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs

    @classmethod
    def output_values(cls, outputs: Any) -> dict[str, Any]:
        return {"tokens": outputs.tokens, "message": Deferred(outputs.message)}

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> _Result:
        messages = build_messages(params.system_prompt, inputs.messages, inputs.prompt)
        if not any(m.role != "system" for m in messages):
            raise fail(SPEC, ctx, "nothing to answer: connect 'messages' or 'prompt' (both are empty)")
        models = models_of(SPEC, ctx)
        request = ChatRequest(messages=messages, temperature=params.temperature, max_tokens=params.max_tokens)
        done: asyncio.Future[Message] = asyncio.get_running_loop().create_future()

        async def tokens() -> AsyncIterator[str]:
            parts: list[str] = []
            try:
                async with contextlib.aclosing(models.stream(params.model, request, origin=origin_of(ctx))) as chunks:
                    async for chunk in chunks:
                        if chunk.text:
                            parts.append(chunk.text)
                            yield chunk.text
            except Exception as exc:
                if not done.done():
                    done.set_exception(exc)
                    done.exception()  # marks it retrieved: the stream's failure is what gets reported
                raise
            except BaseException:
                done.cancel()
                raise
            answer = Message(role="assistant", content="".join(parts))
            if inputs.session_id:
                await ctx.service(ConversationStore).append(inputs.session_id, [answer])
            done.set_result(answer)

        return _Result(tokens=tokens(), message=done)
