"""Helpers shared by the LLM operators (internal)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rivulet.sdk import MissingDependencyError, OperatorError
from rivulet.sdk.models import ModelRegistry
from rivulet.sdk.ports import Message

if TYPE_CHECKING:
    from rivulet.sdk import OperatorSpec, RunContext

__all__ = ("build_messages", "fail", "models_of")


def fail(spec: OperatorSpec, ctx: RunContext, detail: str) -> OperatorError:
    """An ``OperatorError`` located at this operator and node (raise the result)."""
    return OperatorError(detail, operator_id=spec.id, node_id=ctx.node_id)


def models_of(spec: OperatorSpec, ctx: RunContext) -> ModelRegistry:
    """The process's model registry, or a located error saying it is missing."""
    try:
        return ctx.service(ModelRegistry)
    except MissingDependencyError as exc:
        raise fail(spec, ctx, f"no model registry in this process: {exc.detail}") from exc


def build_messages(system_prompt: str, messages: list[Message] | None, prompt: str | None) -> list[Message]:
    """System prompt (when set and not already first), then the messages, then the prompt as a user message."""
    result: list[Message] = []
    history = list(messages or [])
    if system_prompt.strip() and not (history and history[0].role == "system"):
        result.append(Message(role="system", content=system_prompt))
    result.extend(history)
    if prompt is not None and prompt.strip():
        result.append(Message(role="user", content=prompt))
    return result
