"""DB-GPT's chat-data flow (the real template export) → sql.generate, chart.summarize, a join and a chart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rivulet.compiler import compile_flow
from rivulet.registry.loader import default_registry
from rivulet.sdk.ports import Table
from rivulet.sdk.templating import compile_template
from rivulet.templates._dbgpt_data import join_template, join_variable, markdown_table, text2sql_params
from rivulet.templates.dbgpt import convert_dbgpt_flow

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "dbgpt"
TEMPLATE = FIXTURES / "chat_data_awel_flow_template.json"
TEMPLATE_ZH = FIXTURES / "chat_data_awel_flow_template_zh.json"

T2S = "higher_order_llm_operator_0"
ANALYST = "report_analyst_0"
JOIN = "string_join_operator_0"
TRIGGER = "common_llm_http_trigger_0"


def _export(path: Path = TEMPLATE) -> dict[str, Any]:
    return json.loads(path.read_text())


def _nodes(export: dict[str, Any]) -> list[dict[str, Any]]:
    return export["flow"]["flow_data"]["nodes"]


def _node(export: dict[str, Any], type_name: str) -> dict[str, Any]:
    return next(n for n in _nodes(export) if n["data"]["type_name"] == type_name)


def _set_param(export: dict[str, Any], type_name: str, name: str, value: Any) -> None:
    param = next(p for p in _node(export, type_name)["data"]["parameters"] if p["name"] == name)
    param["value"] = value


@pytest.mark.parametrize("path", [TEMPLATE, TEMPLATE_ZH], ids=["en", "zh"])
def test_the_chat_data_template_becomes_text2sql_summary_join_and_chart(path: Path) -> None:
    registry = default_registry()
    result = convert_dbgpt_flow(path.read_bytes(), registry)
    report = {n.dbgpt_class.rsplit(".", 1)[-1]: n for n in result.nodes}
    assert len(report) == 9
    assert {k: (v.status, v.operator) for k, v in report.items()} == {
        "CommonLLMHttpTrigger": ("mapped", "trigger.http"),
        "CommonChatPromptTemplate": ("folded", None),
        "HODatasourceRetrieverOperator": ("folded", None),
        "HOLLMOperator": ("mapped", "sql.generate"),
        "SQLOutputParser": ("folded", None),
        "DatasourceResource": ("folded", None),
        "HODatasourceExecutorOperator": ("folded", None),
        "ReportAnalystOperator": ("mapped", "chart.summarize"),
        "StringJoinOperator": ("mapped", "core.template"),
    }
    assert result.dropped_edges == []  # every DB-GPT edge is carried or stood for by sql.generate
    assert "case_1_student_manager" in (report["HOLLMOperator"].reason or "")
    assert report["DatasourceResource"].reason == f"param datasource of {T2S}"

    doc = result.document
    nodes = {n.id: n for n in doc.nodes}
    assert nodes[T2S].params == {"datasource": "case_1_student_manager", "max_rows": 50}
    assert nodes[ANALYST].params == {}  # the default model answers
    edges = {(e.source, e.source_port, e.target, e.target_port) for e in doc.edges}
    assert edges == {
        (TRIGGER, "user_input", T2S, "question"),
        (TRIGGER, "user_input", ANALYST, "question"),
        (T2S, "table", ANALYST, "table"),
        (T2S, "table", JOIN, "input_strings"),
        (ANALYST, "text", JOIN, "input_strings_1"),
        (T2S, "table", f"{T2S}_chart", "table"),
        (JOIN, "text", "output_answer", "value"),
        (f"{T2S}_chart", "chart", "output_chart", "value"),
    }
    graph = compile_flow(doc, registry)
    assert {n.spec.id for n in graph.nodes.values()} == {
        "trigger.http",
        "sql.generate",
        "chart.summarize",
        "chart.recommend",
        "core.template",
        "core.output",
    }


def test_the_join_renders_the_rows_as_a_markdown_table_then_the_analysis() -> None:
    doc = convert_dbgpt_flow(TEMPLATE.read_bytes(), default_registry()).document
    template = next(n for n in doc.nodes if n.id == JOIN).params["template"]
    compiled, variables = compile_template(template)
    assert set(variables) == {"input_strings", "input_strings_1"}
    table = Table(columns=["segment", "customers"], rows=[["consumer", 30], ["enterprise", 12]], types=[])
    text = compiled.render(input_strings=table, input_strings_1="Consumers lead with 30.")
    assert text == (
        "| segment | customers |\n| --- | --- |\n| consumer | 30 |\n| enterprise | 12 |\n\nConsumers lead with 30."
    )
    truncated = Table(columns=["a"], rows=[[1]], truncated=True)
    assert "(more rows not shown)" in compiled.render(input_strings=truncated, input_strings_1="")


def test_custom_prompts_and_a_separator_are_reported_or_carried() -> None:
    export = _export()
    _set_param(export, "HODatasourceRetrieverOperator", "prompt_template", "Schema: {table_info}\nQ: {user_input}")
    _set_param(export, "HODatasourceRetrieverOperator", "max_num_results", 20)
    _set_param(export, "ReportAnalystOperator", "model", "qwen-max")
    _set_param(export, "StringJoinOperator", "separator", "\n---{x}\n")
    registry = default_registry()
    result = convert_dbgpt_flow(export, registry, models=["qwen-max"])
    report = {n.dbgpt_class.rsplit(".", 1)[-1]: n for n in result.nodes}
    assert "prompt_template not carried" in (report["HOLLMOperator"].reason or "")
    nodes = {n.id: n for n in result.document.nodes}
    assert nodes[T2S].params["max_rows"] == 20
    assert nodes[ANALYST].params == {"model": "qwen-max"}
    template = nodes[JOIN].params["template"]
    compiled, _ = compile_template(template)
    assert compiled.render(input_strings=Table(columns=["a"], rows=[]), input_strings_1="end").endswith("\n---{x}\nend")
    compile_flow(result.document, registry)


def test_a_parser_after_a_plain_llm_has_no_equivalent() -> None:
    export = _export()
    # the LLM no longer reads the datasource retriever: it is a plain chat, and the parser cannot follow it
    edges = export["flow"]["flow_data"]["edges"]
    export["flow"]["flow_data"]["edges"] = [
        e
        for e in edges
        if not (e["source"].startswith("operator_higher_order_datasource_retriever") and "llm" in e["target"])
    ]
    result = convert_dbgpt_flow(export, default_registry())
    report = {n.dbgpt_class.rsplit(".", 1)[-1]: n for n in result.nodes}
    assert report["HOLLMOperator"].operator == "llm.chat"
    assert report["SQLOutputParser"].status == "unmapped"
    assert "sql.generate" in (report["SQLOutputParser"].reason or "")
    assert report["HODatasourceExecutorOperator"].operator == "sql.run_query"
    retriever = next(n for n in result.document.nodes if n.operator == "sql.schema_context")
    assert retriever.params == {"datasource": "case_1_student_manager"}


def test_text2sql_params_and_join_helpers() -> None:
    assert text2sql_params({"max_num_results": "30"}, {}) == (
        {"max_rows": 30},
        ["max_num_results 30 → max_rows 30 (the guard adds the row limit)"],
    )
    params, notes = text2sql_params({"max_num_results": 0}, {"display_type": "bar", "response_format": " "})
    assert params == {}
    assert notes == [
        (
            "display_type not carried: sql.generate writes its own prompt (linked schema, examples, dialect) and "
            "asks for SQL, not DB-GPT's JSON answer"
        )
    ]
    assert [join_variable(i) for i in range(3)] == ["input_strings", "input_strings_1", "input_strings_2"]
    assert join_template([("a", False)], None) == "{{ a }}"
    assert markdown_table("t").startswith("| {{ t.columns | join(' | ') }} |")
