"""Extract structured data: the model answers with JSON that must validate against a declared JSON Schema.

The schema goes to the model (providers that support it constrain decoding to it: llama.cpp grammars, OpenAI
``json_schema`` response format). The answer is parsed and validated; on failure the model is shown its answer
and the validation errors and asked to repair it, up to ``max_repairs`` times. The node fails with the last
errors when no valid answer came back.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from jsonschema import Draft202012Validator, SchemaError
from msgspec import Meta

from rivulet.sdk import Operator, OperatorSpec
from rivulet.sdk.models import ChatRequest, origin_of
from rivulet.sdk.ports import Int, Json, Message, Text
from rivulet.sdk.ui import ModelRef, PromptText, ui_hint
from rivulet_operators.llm._common import fail, models_of

if TYPE_CHECKING:
    from rivulet.sdk import RunContext

__all__ = ("SPEC", "Inputs", "Outputs", "Params", "StructuredOutput", "parse_answer", "schema_errors")

SPEC = OperatorSpec(
    id="llm.structured_output",
    category="llm",
    title="Structured output",
    description="Have a model fill a JSON Schema; answers are validated and repaired.",
    icon="braces",
    tags=("llm", "json", "schema", "extract", "ai"),
    cacheable=False,
)

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    json_schema: Annotated[
        dict[str, Any], Meta(description="The JSON Schema the answer must satisfy.", extra_json_schema=ui_hint("json"))
    ]
    instructions: Annotated[PromptText, Meta(max_length=100_000, description="What to extract or produce.")] = (
        "Extract the requested fields from the text."
    )
    model: Annotated[ModelRef, Meta(description="A configured chat model.")] = "default"
    temperature: Annotated[float, Meta(ge=0, le=2)] = 0.0
    max_tokens: Annotated[int, Meta(ge=1, le=131_072)] = 512
    max_repairs: Annotated[int, Meta(ge=0, le=5, description="Repair attempts after an invalid answer.")] = 2

    def __post_init__(self) -> None:
        problem = _schema_problem(msgspec.json.encode(self.json_schema))
        if problem is not None:
            raise ValueError(f"json_schema is not a valid JSON Schema: {problem}")


@functools.lru_cache(maxsize=256)
def _schema_problem(encoded: bytes) -> str | None:
    """Why a JSON Schema (encoded) is not valid, or None.

    Cached: the compiler checks every node's params on each validation (every edit in the editor), and
    ``check_schema`` costs milliseconds per schema.
    """
    try:
        Draft202012Validator.check_schema(msgspec.json.decode(encoded))
    except SchemaError as exc:
        return exc.message
    return None


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    text: Annotated[Text, Meta(description="The input to read.")]


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    data: Annotated[Json, Meta(description="The validated JSON value.")]
    attempts: Annotated[Int, Meta(description="Model calls it took (1 = valid at once).")]


def parse_answer(text: str) -> Any:
    """The JSON value in a model's answer (code fences and prose around one object are tolerated).

    Raises:
        ValueError: No JSON value found; the message says why.
    """
    fenced = _FENCE.search(text)
    candidate = (fenced.group(1) if fenced else text).strip()
    try:
        return msgspec.json.decode(candidate)
    except msgspec.DecodeError as first:
        start, end = candidate.find("{"), candidate.rfind("}")
        if 0 <= start < end:
            try:
                return msgspec.json.decode(candidate[start : end + 1])
            except msgspec.DecodeError:
                pass
        raise ValueError(f"the answer is not valid JSON ({first})") from first


def schema_errors(value: Any, schema: dict[str, Any]) -> list[str]:
    """Every validation error as ``$.path: message`` (empty when valid)."""
    validator = Draft202012Validator(schema)
    found: list[str] = []
    for error in sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path)):  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType, reportUnknownLambdaType]
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)  # pyright: ignore[reportUnknownVariableType, reportUnknownMemberType]
        found.append(f"${path}: {error.message}")
    return found


class StructuredOutput(Operator[Params, Inputs, Outputs]):
    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> Outputs:
        models = models_of(SPEC, ctx)
        schema_text = msgspec.json.encode(params.json_schema).decode()
        messages = [
            Message(
                role="system",
                content=f"{params.instructions}\nAnswer with only a JSON value that satisfies this JSON Schema:\n"
                f"{schema_text}",
            ),
            Message(role="user", content=inputs.text),
        ]
        problems: list[str] = []
        for attempt in range(1, params.max_repairs + 2):
            request = ChatRequest(
                messages=messages,
                temperature=params.temperature,
                max_tokens=params.max_tokens,
                json_schema=params.json_schema,
            )
            answer = (await models.chat(params.model, request, origin=origin_of(ctx))).text
            try:
                value = parse_answer(answer)
            except ValueError as exc:
                problems = [str(exc)]
            else:
                problems = schema_errors(value, params.json_schema)
                if not problems:
                    return Outputs(data=value, attempts=attempt)
            ctx.log.info("structured output invalid", extra={"attempt": attempt, "problems": problems[:5]})
            messages = [
                *messages,
                Message(role="assistant", content=answer[:2000]),  # a runaway answer is not sent back whole
                Message(
                    role="user",
                    content="That answer is invalid:\n- "
                    + "\n- ".join(problems[:10])
                    + "\nReply with corrected JSON only.",
                ),
            ]
        raise fail(SPEC, ctx, f"no valid answer after {params.max_repairs + 1} attempt(s): " + "; ".join(problems[:10]))
