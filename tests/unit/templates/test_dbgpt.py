"""The DB-GPT AWEL importer: shapes, ids, handles, mapping report, and a compile with the mapped operators."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from rivulet.compiler import compile_flow
from rivulet.lib.exceptions import ValidationError
from rivulet.registry.loader import default_registry
from rivulet.registry.registry import OperatorEntry, OperatorRegistry
from rivulet.sdk import Operator, OperatorSpec
from rivulet.sdk.ports import Json, Text
from rivulet.templates.dbgpt import convert_dbgpt_flow

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "dbgpt"
CHAT_DATA = FIXTURES / "chat_data_flow.json"
MAPPED_TARGETS = ("trigger.http", "llm.chat", "llm.prompt_template", "sql.schema_context", "sql.run_query")
CHAT_TARGETS = ("trigger.http", "llm.chat", "llm.prompt_template")
"""The operators the chat part of the flow needs (issues 6 and 7); the SQL nodes are reported when absent."""


class _StubParams(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Accepts the params the mapping sets on each target (the real operators validate their own)."""

    model: str = "default"
    datasource: str = ""
    method: str = "POST"
    fields: list[dict[str, Any]] = msgspec.field(default_factory=list[dict[str, Any]])
    template: str = ""
    system_prompt: str = ""


class _SqlInputs(msgspec.Struct, frozen=True, kw_only=True):
    question: Text | None = None
    sql: Json | None = None


class _SqlOut(msgspec.Struct, frozen=True, kw_only=True):
    context: Json
    table: Json


def _stub(op_id: str, inputs: type, outputs: type) -> type[Operator[Any, Any, Any]]:
    """A stand-in for an operator built by another issue (the real chat operators are tested below)."""

    class Stub(Operator[_StubParams, Any, Any]):
        spec = OperatorSpec(id=op_id, category=op_id.split(".", maxsplit=1)[0], title=op_id)
        params_type = _StubParams
        inputs_type = inputs
        outputs_type = outputs

        async def run(self, ctx: Any, params: _StubParams, inputs: Any) -> Any:
            raise NotImplementedError

    return Stub


def _registry_with_stubs() -> OperatorRegistry:
    """The default registry plus stand-ins for the SQL operators, which are not built yet (and only those)."""
    stubs = [_stub("sql.schema_context", _SqlInputs, _SqlOut), _stub("sql.run_query", _SqlInputs, _SqlOut)]
    base = list(default_registry().entries())
    present = {entry.operator.spec.id for entry in base}
    missing = [s for s in stubs if s.spec.id not in present]  # the real operator wins once it exists
    return OperatorRegistry([*base, *(OperatorEntry(operator=s, source="test stub") for s in missing)])


def test_report_names_every_node_and_keeps_positions_labels() -> None:
    result = convert_dbgpt_flow(CHAT_DATA.read_bytes(), _registry_with_stubs())
    assert len(result.nodes) == 9
    by_class = {n.dbgpt_class.rsplit(".", 1)[-1]: n for n in result.nodes}
    assert by_class["HOStreamingLLMOperator"].status == "mapped"
    assert by_class["HOStreamingLLMOperator"].operator == "llm.chat"
    assert by_class["CommonLLMHttpTrigger"].operator == "trigger.http"
    assert by_class["CommonChatPromptTemplate"].operator == "llm.prompt_template"
    executor = by_class["HODatasourceExecutorOperator"]
    assert (executor.status, executor.reason) == (
        "unmapped",
        "nothing feeds it the SQL to run (DB-GPT would not run it either): left out",
    )
    assert by_class["OpenAIStreamingOutputOperator"].operator == "core.output"
    assert {by_class[c].status for c in ("DatasourceResource", "OpenAILLMClient")} == {"folded"}
    assert [n.dbgpt_class for n in result.unmapped] == [
        "dbgpt_app.operators.datasource.HODatasourceExecutorOperator",
        "dbgpt_app.operators.code.CodeMapOperator",
    ]
    doc = result.document
    assert doc.name == "Chat Data AWEL Flow"
    assert doc.metadata.source == "dbgpt"
    chat = next(n for n in doc.nodes if n.operator == "llm.chat")
    assert (chat.label, chat.position.x, chat.position.y) == ("Streaming LLM Operator", 200.0, -300.0)
    assert chat.params == {"model": "default"}
    retriever = next(n for n in doc.nodes if n.operator == "sql.schema_context")
    assert retriever.params == {"datasource": "sales_db"}
    edges = {(e.source, e.source_port, e.target, e.target_port) for e in doc.edges}
    assert edges == {
        # the prompt resource's |parameters| edge becomes a port edge into the chat's messages (system message too)
        ("common_chat_prompt_template_0", "messages", "higher_order_streaming_llm_operator_0", "messages"),
        ("higher_order_streaming_llm_operator_0", "message", "openai_streaming_output_operator_0", "value"),
        ("common_llm_http_trigger_0", "user_input", "higher_order_datasource_retriever_operator_0", "question"),
        # the trigger→LLM request edge: the user's message goes to the LLM's prompt template
        ("common_llm_http_trigger_0", "user_input", "common_chat_prompt_template_0", "user_input"),
    }
    assert doc.viewport is not None
    assert doc.viewport.zoom == 0.75
    # retriever→llm (extra context the template does not read), trigger→code map and the datasource of the
    # executor left out are dropped
    assert len(result.dropped_edges) == 3


def test_mapped_flow_compiles_with_the_mapped_operators() -> None:
    registry = _registry_with_stubs()
    graph = compile_flow(convert_dbgpt_flow(CHAT_DATA.read_bytes(), registry).document, registry)
    assert len(graph.nodes) == 5  # the executor nothing feeds is left out
    assert graph.nodes["higher_order_streaming_llm_operator_0"].params.model == "default"


def test_bare_canvas_form_and_missing_targets_are_reported() -> None:
    bare = json.loads((FIXTURES / "chat_data_bare.json").read_text())
    result = convert_dbgpt_flow(bare, default_registry())
    assert len(result.nodes) == 9
    for report in result.nodes:
        if report.operator in MAPPED_TARGETS and report.operator not in default_registry():
            assert report.status == "unmapped"
            assert report.reason == f"maps to {report.operator}, which is not installed"


def test_real_operators_compile_the_chat_data_flow() -> None:
    registry = default_registry()
    assert [op for op in CHAT_TARGETS if op not in registry] == [], "a mapping target was renamed or removed"
    result = convert_dbgpt_flow(CHAT_DATA.read_bytes(), registry)
    graph = compile_flow(result.document, registry)
    assert {n.spec.id for n in graph.nodes.values()} >= {*CHAT_TARGETS, "core.output"}
    absent = {op for op in MAPPED_TARGETS if op not in registry}
    assert {n.operator for n in result.unmapped if n.operator} == absent


@pytest.mark.parametrize(
    ("payload", "message"),
    [(b"[1]", "must be a JSON object"), (b"{", "malformed JSON"), (b'{"flow": {"flow_data": {}}}', "not a DB-GPT")],
)
def test_bad_input_is_located(payload: bytes, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        convert_dbgpt_flow(payload, default_registry())


@pytest.mark.parametrize(("context_key", "variable"), [(None, "context"), ("schema", "schema")])
def test_extra_context_of_a_higher_order_llm_fills_its_prompt_variable(context_key: str | None, variable: str) -> None:
    export = json.loads(CHAT_DATA.read_text())
    nodes = export["flow"]["flow_data"]["nodes"]
    prompt = next(n for n in nodes if n["data"]["type_name"] == "CommonChatPromptTemplate")
    human = next(p for p in prompt["data"]["parameters"] if p["name"] == "human_message")
    human["value"] = f"Schema: {{{variable}}}\nQuestion: {{user_input}}"
    if context_key is not None:
        retriever = next(n for n in nodes if n["data"]["type_name"] == "HODatasourceRetrieverOperator")
        retriever["data"]["parameters"].append({"name": "context_key", "category": "common", "value": context_key})
    doc = convert_dbgpt_flow(export, _registry_with_stubs()).document
    template = next(n for n in doc.nodes if n.operator == "llm.prompt_template")
    assert template.params["template"] == f"Schema: {{{{ {variable} }}}}\nQuestion: {{{{ user_input }}}}"
    edges = {(e.source, e.source_port, e.target, e.target_port) for e in doc.edges}
    assert ("higher_order_datasource_retriever_operator_0", "context", template.id, variable) in edges
