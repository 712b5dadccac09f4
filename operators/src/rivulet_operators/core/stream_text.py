"""Turn a text into a ``Stream[Text]`` of tokens (words with their trailing space, characters or lines).

Handy for demos and for testing streaming consumers (SSE endpoints, the editor's live output) without a model:
it streams exactly like an LLM's token output, with an optional pause between items.
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Annotated, Literal

import msgspec
from msgspec import Meta

from rivulet.sdk import Operator, OperatorSpec
from rivulet.sdk.ports import Stream, Text

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from rivulet.sdk import RunContext

__all__ = ("SPEC", "Inputs", "Outputs", "Params", "StreamText", "split_tokens")

SPEC = OperatorSpec(
    id="core.stream_text",
    category="core",
    title="Stream text",
    description="Emit a text as a stream of tokens (words, characters or lines).",
    icon="waves",
    tags=("stream", "tokens", "text"),
    cacheable=False,
)


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    unit: Annotated[Literal["words", "chars", "lines"], Meta(description="What one token is.")] = "words"
    delay_s: Annotated[float, Meta(ge=0, le=10, description="Pause before each token, in seconds.")] = 0.0


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    text: Annotated[Text, Meta(description="The text to stream.")]


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    tokens: Annotated[Stream[Text], Meta(description="The tokens; joined they give back the text.")]


def split_tokens(text: str, unit: str) -> list[str]:
    """Tokens whose concatenation is ``text``.

    Example:
        >>> split_tokens("a b  c", "words")
        ['a ', 'b  ', 'c']
    """
    if unit == "chars":
        return list(text)
    if unit == "lines":
        return text.splitlines(keepends=True)
    return re.findall(r"\S+\s*|\s+", text)


class StreamText(Operator[Params, Inputs, Outputs]):
    """Yield the tokens of ``inputs.text``."""

    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> Outputs:
        async def tokens() -> AsyncIterator[str]:
            for token in split_tokens(inputs.text, params.unit):
                if params.delay_s:
                    await asyncio.sleep(params.delay_s)
                yield token

        return Outputs(tokens=tokens())
