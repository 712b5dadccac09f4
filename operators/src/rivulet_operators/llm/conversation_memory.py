"""Conversation memory: load a session's recent messages (stored in PostgreSQL) and add the new user message.

Connect ``messages`` to ``llm.chat`` and the same ``session_id`` to the chat's ``session_id`` input: the chat
appends its answer, so the next run of the flow with that session sees the whole exchange.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import msgspec
from msgspec import Meta

from rivulet.sdk import MissingDependencyError, Operator, OperatorSpec
from rivulet.sdk.models import ConversationStore
from rivulet.sdk.ports import Message, Messages, Text
from rivulet.sdk.rules import requires_one_of
from rivulet.sdk.ui import PromptText
from rivulet_operators.llm._common import fail

if TYPE_CHECKING:
    from rivulet.sdk import RunContext

__all__ = ("SPEC", "ConversationMemory", "Inputs", "Outputs", "Params")

SPEC = OperatorSpec(
    id="llm.conversation_memory",
    category="llm",
    title="Conversation memory",
    description="Keep a chat's history per session and hand it to the model.",
    icon="history",
    tags=("llm", "chat", "memory", "session"),
    cacheable=False,
    input_rules=(requires_one_of("session_id", params=("session_id",), hint="the conversation to keep"),),
)


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    window: Annotated[int, Meta(ge=1, le=1000, description="How many earlier messages to load.")] = 20
    system_prompt: Annotated[PromptText, Meta(max_length=100_000, description="Put first (not stored).")] = ""
    session_id: Annotated[str, Meta(max_length=200, description="Used when the session_id input is unset.")] = ""


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    message: Annotated[Text, Meta(description="The new user message (stored).")]
    session_id: Annotated[Text | None, Meta(description="The conversation (a user or chat id).")] = None


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    messages: Annotated[Messages, Meta(description="System prompt, history, then the new message.")]
    session_id: Annotated[Text, Meta(description="The session (connect it to llm.chat's session_id).")]


class ConversationMemory(Operator[Params, Inputs, Outputs]):
    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> Outputs:
        session = (inputs.session_id or params.session_id).strip()
        if not session:
            raise fail(SPEC, ctx, "no session: connect 'session_id' or set the session_id param")
        try:
            store = ctx.service(ConversationStore)
        except MissingDependencyError as exc:
            raise fail(SPEC, ctx, f"no conversation store in this process: {exc.detail}") from exc
        history = await store.history(session, params.window)
        user = Message(role="user", content=inputs.message)
        await store.append(session, [user])
        system = [Message(role="system", content=params.system_prompt)] if params.system_prompt.strip() else []
        return Outputs(messages=[*system, *history, user], session_id=session)
