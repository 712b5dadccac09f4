"""The DB-GPT importer on real knowledge exports: every knowledge node maps, folds or is contracted with a reason,
and the flows compile with the real ``rag.*`` operators.

Fixtures: ``tests/fixtures/dbgpt`` (DB-GPT's and dbgpts' own knowledge flows, see its README). The RAG chat flow is
run end to end (a space, an ingested document, a cited answer) in ``tests/integration/test_dbgpt_knowledge.py``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from rivulet.compiler import analyze_flow, compile_flow
from rivulet.registry.loader import default_registry
from rivulet.registry.registry import OperatorRegistry
from rivulet.templates._dbgpt_knowledge import chunk_plan, search_params, summary_instructions
from rivulet.templates.dbgpt import DbgptImport, convert_dbgpt_flow
from rivulet.templates.dbgpt_mappings import CITE_INSTRUCTION, answer_prompt_params, coerce_param

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "dbgpt"
RAG_CHAT = "rag_chat_awel_flow_template.json"
KNOWLEDGE_EXPORTS = (
    RAG_CHAT,
    "embedded_knowledge_process_flow.json",
    "kg_knowledge_process_flow.json",
    "hybrid_knowledge_process_flow_zh.json",
    "awel_flow_rag_chat_example.json",
    "rag_save_url_to_vstore.json",
    "rag_url_knowledge_example.json",
    "awel_flow_rag_summary_example.json",
)
HISTORY_LOADERS = {"ServePreChatHistoryLoadOperator", "DefaultServePreChatHistoryLoadOperator"}
"""Chat history is never carried (each run answers one message): the only nodes these exports leave unmapped."""


def _load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def _convert(name: str | dict[str, Any], registry: OperatorRegistry | None = None, **kw: Any) -> DbgptImport:
    export = _load(name) if isinstance(name, str) else name
    return convert_dbgpt_flow(export, registry or default_registry(), **kw)


def _short(report: Any) -> str:
    return str(report.dbgpt_class).rsplit(".", 1)[-1]


def _by_class(result: DbgptImport) -> dict[str, Any]:
    return {_short(n): n for n in result.nodes}


def _edges(result: DbgptImport) -> set[tuple[str, str, str, str]]:
    return {(e.source, e.source_port, e.target, e.target_port) for e in result.document.edges}


def _node(result: DbgptImport, node_id: str) -> Any:
    return next(n for n in result.document.nodes if n.id == node_id)


def _canvas(export: dict[str, Any]) -> dict[str, Any]:
    return export["flow"]["flow_data"] if "flow" in export else export


def _param(export: dict[str, Any], type_name: str, name: str) -> dict[str, Any]:
    node = next(n for n in _canvas(export)["nodes"] if n["data"].get("type_name") == type_name)
    return next(p for p in node["data"]["parameters"] if p["name"] == name)


@pytest.mark.parametrize("name", KNOWLEDGE_EXPORTS)
def test_every_knowledge_export_imports_and_compiles_with_nothing_knowledge_left_out(name: str) -> None:
    registry = default_registry()
    result = _convert(name, registry)
    assert {_short(n) for n in result.unmapped} <= HISTORY_LOADERS, [(n.dbgpt_class, n.reason) for n in result.unmapped]
    assert all(n.reason for n in result.nodes if n.status == "folded"), "every fold or contraction says why"
    assert [d for d in analyze_flow(result.document, registry).diagnostics if d.severity == "error"] == []
    graph = compile_flow(result.document, registry)
    # DB-GPT answers with the leaf's output: every imported flow has a run output
    assert any(n.spec.id == "core.output" for n in graph.nodes.values())
    mapped = sorted(n.node_id or "" for n in result.nodes if n.status == "mapped")
    added = sorted(n.id for n in result.document.nodes if n.id not in mapped)
    assert all(n.startswith(("output_", "knowledge_operator_0_text")) for n in added), added


def test_rag_chat_template_golden() -> None:
    """HOKnowledgeOperator → rag.retrieve; the higher-order LLM it feeds → rag.answer with the template folded."""
    result = _convert(RAG_CHAT, models=["default"])
    status = {c: (n.status, n.operator) for c, n in _by_class(result).items()}
    assert status == {
        "CommonLLMHttpTrigger": ("mapped", "trigger.http"),
        "HOStreamingLLMOperator": ("mapped", "rag.answer"),
        "HOKnowledgeOperator": ("mapped", "rag.retrieve"),
        "CommonChatPromptTemplate": ("folded", None),
        "OpenAIStreamingOutputOperator": ("mapped", "core.output"),
    }
    nodes = {n.id: (n.operator, n.params) for n in result.document.nodes}
    assert set(nodes) == {
        "common_llm_http_trigger_0",
        "higher_order_knowledge_operator_0",
        "higher_order_streaming_llm_operator_0",
        "openai_streaming_output_operator_0",
        "output_citations",
    }
    # null top_k and score_threshold are DB-GPT's defaults (5, 0.3): a cosine threshold, so vector search
    assert nodes["higher_order_knowledge_operator_0"] == (
        "rag.retrieve",
        {"space": "k_cmd2", "top_k": 5, "mode": "vector", "min_score": 0.3},
    )
    trigger = nodes["common_llm_http_trigger_0"][1]
    assert [f["name"] for f in trigger["fields"]] == ["user_input"]
    assert (trigger["slug"], trigger["method"], trigger["response"]) == ("templates", "POST", "json")
    operator, answer = nodes["higher_order_streaming_llm_operator_0"]
    assert operator == "rag.answer"
    assert set(answer) == {"system_prompt"}  # the model: rag.answer's default
    system = answer["system_prompt"]
    assert system.startswith("You are a helpful AI assistant.\nBased on the known information below")
    assert "2.If the information available in the knowledge base is insufficient" in system
    assert "{" not in system  # no f-string variable left: rag.answer sends passages and question itself
    assert "known information:" not in system
    assert system.endswith('use the same language as the "user".\n\n' + CITE_INSTRUCTION)
    assert nodes["openai_streaming_output_operator_0"] == ("core.output", {"name": "answer"})
    assert nodes["output_citations"] == ("core.output", {"name": "citations"})
    assert _edges(result) == {
        ("common_llm_http_trigger_0", "user_input", "higher_order_knowledge_operator_0", "query"),
        ("common_llm_http_trigger_0", "user_input", "higher_order_streaming_llm_operator_0", "question"),
        ("higher_order_knowledge_operator_0", "chunks", "higher_order_streaming_llm_operator_0", "chunks"),
        ("higher_order_streaming_llm_operator_0", "answer", "openai_streaming_output_operator_0", "value"),
        ("higher_order_streaming_llm_operator_0", "citations", "output_citations", "value"),
    }
    assert result.dropped_edges == []
    reasons = {c: n.reason or "" for c, n in _by_class(result).items()}
    assert "vector search with min_score" in reasons["HOKnowledgeOperator"]
    assert "run output 'citations'" in reasons["HOStreamingLLMOperator"]


def test_embedding_ingestion_takes_the_documents_in_the_request() -> None:
    result = _convert("embedded_knowledge_process_flow.json")
    by_class = _by_class(result)
    assert by_class["VectorStorageOperator"].operator == "rag.ingest"
    for folded in (
        "ChromaStore",
        "ChromaVectorConfig",
        "DefaultEmbeddings",
        "ChunkManagerOperator",
        "KnowledgeOperator",
    ):
        assert by_class[folded].status == "folded", folded
    # the server file path is reported, never carried; so is Chroma's persist path
    assert "../../../../docs/docs/quickstart.md: not carried" in by_class["KnowledgeOperator"].reason
    assert "persist_path not carried" in by_class["ChromaVectorConfig"].reason
    # the chunk manager's sizes (Automatic: DB-GPT's 512/50 characters) reach the ingestion, in tokens
    chunk_manager = by_class["ChunkManagerOperator"].reason
    assert "512 characters with 50 overlap (about 128/13 tokens)" in chunk_manager
    assert "vector_storage_operator_0: DB-GPT's chunks" in chunk_manager
    assert "chunk_size 128, overlap 13" in chunk_manager
    assert "space's own chunking" not in chunk_manager
    ingest = _node(result, "vector_storage_operator_0")
    assert ingest.params == {  # ChromaStore's null name: DB-GPT's default collection, created on first write
        "space": "dbgpt_collection",
        "create_space": True,
        "chunk_size": 128,
        "chunk_overlap": 13,  # no strategy: DB-GPT picks one by document kind, Rivulet takes the space's
    }
    assert "space 'dbgpt_collection' is created on the first run" in by_class["VectorStorageOperator"].reason
    assert "must exist" not in by_class["VectorStorageOperator"].reason
    trigger = _node(result, "dict_http_trigger_0")
    assert trigger.params["fields"] == [
        {
            "name": "documents",
            "type": "List[Document]",
            "description": 'The documents to add: [{"id": "<name>", "text": "..."}].',
        }
    ]
    assert _edges(result) == {
        ("dict_http_trigger_0", "documents", "vector_storage_operator_0", "documents"),
        ("vector_storage_operator_0", "report", "output_report", "value"),
    }
    assert result.dropped_edges == []  # resource chains and contracted nodes account for every DB-GPT edge


def test_hybrid_ingestion_fans_out_into_one_space() -> None:
    result = _convert("hybrid_knowledge_process_flow_zh.json", models=["default"])
    by_class = _by_class(result)
    assert by_class["KnowledgeProcessBranchOperator"].status == "folded"
    assert by_class["KnowledgeProcessJoinOperator"].status == "folded"
    graph = _node(result, "knowledge_graph_operator_1")
    assert graph.operator == "rag.graph_extract"
    # one Rivulet space holds vectors and graph; deepseek-chat is not configured here
    assert graph.params == {"space": "dbgpt_collection", "model": "default", "create_space": True}
    reason = by_class["KnowledgeGraphOperator"].reason
    assert "graph 'dbgpt' merged into space 'dbgpt_collection'" in reason
    assert "model 'deepseek-chat' is not configured here" in reason
    assert _node(result, "vector_storage_operator_0").params == {
        "space": "dbgpt_collection",
        "create_space": True,
        "chunk_size": 128,
        "chunk_overlap": 13,
    }
    # both branches create the space when missing (the one that loses the race uses the other's): no warning
    assert "space 'dbgpt_collection' is created on the first run" in reason
    assert "must exist" not in reason
    assert "must exist" not in by_class["VectorStorageOperator"].reason
    assert "rag.graph_extract uses the space's own chunking" in by_class["ChunkManagerOperator"].reason
    assert by_class["TuGraphStoreConfig"].reason.startswith("connection settings not carried")
    assert _edges(result) == {
        ("dict_http_trigger_0", "documents", "knowledge_graph_operator_1", "documents"),
        ("dict_http_trigger_0", "documents", "vector_storage_operator_0", "documents"),
        ("knowledge_graph_operator_1", "triplets", "output_triplets", "value"),
        ("vector_storage_operator_0", "report", "output_report", "value"),
    }


def test_graph_alone_keeps_its_graph_name_and_extraction_model() -> None:
    result = _convert("kg_knowledge_process_flow.json")
    assert _node(result, "knowledge_graph_operator_0").params == {  # TuGraph creates its graph on first write
        "space": "dbgpt",
        "create_space": True,
        "model": "deepseek-chat",
    }
    reason = _by_class(result)["KnowledgeGraphOperator"].reason
    assert "space 'dbgpt' is created on the first run" in reason
    assert "must exist" not in reason
    client = _by_class(result)["DefaultLLMClient"]
    assert (client.status, client.reason) == (
        "folded",
        "how DB-GPT reaches its model server (for knowledge_graph_operator_0)",
    )


def test_space_retriever_feeds_the_knowledge_prompt_builder() -> None:
    result = _convert("awel_flow_rag_chat_example.json")
    assert _node(result, "space_operator_0").params == {"space": "dba", "top_k": 5, "mode": "vector", "min_score": 0.3}
    prompt = _node(result, "knowledge_space_prompt_builder_operator_0")
    assert prompt.operator == "llm.prompt_template"
    assert "{{ context }}" in prompt.params["template"]
    assert prompt.params["template"].endswith("{{ user_input }}")  # the human message {messages}
    assert _edges(result) == {
        ("common_llm_http_trigger_0", "user_input", "space_operator_0", "query"),
        ("common_llm_http_trigger_0", "user_input", "knowledge_space_prompt_builder_operator_0", "user_input"),
        ("space_operator_0", "context", "knowledge_space_prompt_builder_operator_0", "context"),
        ("knowledge_space_prompt_builder_operator_0", "messages", "llm_operator_0", "messages"),
        ("llm_operator_0", "message", "output_answer", "value"),
    }


def test_url_to_vector_store_and_its_retrieval_flow_share_the_collection() -> None:
    save = _convert("rag_save_url_to_vstore.json")
    assert _node(save, "embedding_assembler_operator_0").params == {
        "space": "my_awel_flow_vector",
        "create_space": True,
        "strategy": "recursive",  # the assembler's CHUNK_BY_SIZE
        "chunk_size": 128,
        "chunk_overlap": 13,
    }
    assert _node(save, "knowledge_operator_0").operator == "rag.load_url"
    by_class = _by_class(save)
    assert by_class["ChunksToStringOperator"].status == "folded"  # rag.ingest reports, it does not hand on chunks
    assert "recursive chunks of 512 characters" in by_class["EmbeddingAssemblerOperator"].reason
    assert "strategy recursive, chunk_size 128, overlap 13" in by_class["EmbeddingAssemblerOperator"].reason
    assert _edges(save) == {
        ("common_llm_http_trigger_0", "user_input", "knowledge_operator_0", "url"),
        ("knowledge_operator_0", "documents", "embedding_assembler_operator_0", "documents"),
        ("embedding_assembler_operator_0", "report", "output_report", "value"),
    }

    ask = _convert("rag_url_knowledge_example.json")
    assert _node(ask, "embedding_retriever_operator_0").params == {
        "space": "my_awel_flow_vector",
        "top_k": 3,
        "mode": "vector",
        "min_score": 0.3,  # null threshold, default stored as the text "0.3"
    }
    assert _node(ask, "chunks_to_string_operator_0").params == {}  # "\\n": Rivulet's numbered passages instead
    merge = _by_class(ask)["MergeStringToDictOperator"]
    assert (merge.status, merge.reason) == (
        "folded",
        "its inputs fill the variables user_input, context of the node it feeds",
    )
    assert _edges(ask) == {
        ("common_llm_http_trigger_0", "user_input", "embedding_retriever_operator_0", "query"),
        ("embedding_retriever_operator_0", "chunks", "chunks_to_string_operator_0", "chunks"),
        ("common_llm_http_trigger_0", "user_input", "history_prompt_builder_operator_0", "user_input"),
        ("chunks_to_string_operator_0", "context", "history_prompt_builder_operator_0", "context"),
        ("history_prompt_builder_operator_0", "messages", "streaming_llm_operator_0", "messages"),
        ("streaming_llm_operator_0", "message", "openai_streaming_output_operator_0", "value"),
    }


def test_summary_loads_its_url_and_joins_the_documents_for_the_summariser() -> None:
    result = _convert("awel_flow_rag_summary_example.json", models=["default"])
    assert _node(result, "knowledge_operator_0").params == {"url": "https://docs.dbgpt.site/docs/awel"}
    summary = _node(result, "summary_assembler_operator_0")
    assert summary.operator == "llm.summarize"
    assert summary.params["model"] == "default"  # chatgpt_proxyllm is DB-GPT's default, not a choice
    assert summary.params["max_concurrency"] == 3
    assert summary.params["instructions"] == summary_instructions("en")
    adapter = _node(result, "knowledge_operator_0_text")
    assert adapter.operator == "core.template"
    assert _edges(result) == {
        ("knowledge_operator_0", "documents", "knowledge_operator_0_text", "documents"),
        ("knowledge_operator_0_text", "text", "summary_assembler_operator_0", "text"),
        ("summary_assembler_operator_0", "summary", "output_summary", "value"),
    }
    # the datasource URL wins over the request (as in DB-GPT): the trigger's edge is left out
    assert any(e.endswith("request_body_to_dict_operator___$$___common___$$___v1_0") for e in result.dropped_edges)


@pytest.mark.parametrize(
    ("threshold", "default", "expected"),
    [
        (None, 0.3, {"mode": "vector", "min_score": 0.3}),
        (0.55, 0.3, {"mode": "vector", "min_score": 0.55}),
        (0, 0.3, {"mode": "hybrid"}),
        (None, "0.7", {"mode": "vector", "min_score": 0.7}),
        (None, None, {"mode": "vector", "min_score": 0.3}),  # no default in the export: DB-GPT's registered one
    ],
)
def test_score_threshold_means_vector_search_with_min_score(threshold: Any, default: Any, expected: Any) -> None:
    export = _load(RAG_CHAT)
    param = _param(export, "HOKnowledgeOperator", "score_threshold")
    param.update(value=threshold, default=default)
    params = _node(_convert(export), "higher_order_knowledge_operator_0").params
    assert {k: v for k, v in params.items() if k in ("mode", "min_score")} == expected


def test_a_higher_order_llm_without_rag_answer_fills_the_context_key_its_retriever_names() -> None:
    """``context`` is the alias DB-GPT exports ``context_key`` under; without rag.answer the chat reads it."""
    export = _load(RAG_CHAT)
    _param(export, "HOKnowledgeOperator", "context")["value"] = "knowledge"
    prompt = _param(export, "CommonChatPromptTemplate", "system_message")
    prompt["value"] = prompt["value"].replace("{context}", "{knowledge}")
    registry = OperatorRegistry([e for e in default_registry().entries() if e.operator.spec.id != "rag.answer"])
    result = _convert(export, registry)
    assert _by_class(result)["HOStreamingLLMOperator"].operator == "llm.chat"
    assert ("higher_order_knowledge_operator_0", "context", "common_chat_prompt_template_0", "knowledge") in _edges(
        result
    )
    compile_flow(result.document, registry)


def test_a_store_feeding_nothing_is_reported_and_a_custom_request_key_is_not_guessed() -> None:
    export = _load("rag_url_knowledge_example.json")
    canvas = _canvas(export)
    store = next(n for n in canvas["nodes"] if n["data"].get("type_name") == "VectorStoreConnector")
    canvas["edges"] = [e for e in canvas["edges"] if e["source"] != store["id"]]
    _param(export, "RequestedParsedOperator", "key")["value"] = "question"
    result = _convert(export)
    by_class = _by_class(result)
    assert (by_class["VectorStoreConnector"].status, by_class["VectorStoreConnector"].reason) == (
        "unmapped",
        "no node uses it",
    )
    assert by_class["ChromaVectorConfig"].status == "unmapped"
    retriever = _node(result, "embedding_retriever_operator_0")
    assert retriever.params["space"] == "dbgpt_collection"
    assert "DB-GPT's default" in by_class["EmbeddingRetrieverOperator"].reason
    parsed = by_class["RequestedParsedOperator"]
    assert parsed.status == "unmapped"
    assert "request field 'question'" in (parsed.reason or "")


def test_chunk_parameters_of_the_chunk_manager_fold_into_the_ingestion() -> None:
    export = _load("embedded_knowledge_process_flow.json")
    canvas = _canvas(export)
    chunk_manager = next(n for n in canvas["nodes"] if n["data"]["type_name"] == "ChunkManagerOperator")
    params_id = "resource_dbgpt_ext.rag.chunk_manager.ChunkParameters_0"
    canvas["nodes"].append(
        {
            "id": params_id,
            "data": {
                "type_name": "ChunkParameters",
                "parameters": [
                    {"name": "chunk_strategy", "type_name": "str", "value": "CHUNK_BY_MARKDOWN_HEADER"},
                    {"name": "chunk_size", "type_name": "int", "value": None, "default": "1000"},
                    {"name": "chunk_overlap", "type_name": "int", "value": 100},
                ],
            },
        }
    )
    canvas["edges"].append(
        {
            "source": params_id,
            "target": chunk_manager["id"],
            "source_handle": f"{params_id}|outputs|0",
            "target_handle": f"{chunk_manager['id']}|parameters|0",
        }
    )
    result = _convert(export)
    ingest = _node(result, "vector_storage_operator_0")
    assert ingest.params == {
        "space": "dbgpt_collection",
        "create_space": True,
        "strategy": "markdown",
        "chunk_size": 250,  # a null value: the export's default "1000" characters
        "chunk_overlap": 25,
    }
    by_class = _by_class(result)
    assert by_class["ChunkParameters"].status == "folded"
    assert "strategy markdown, chunk_size 250, overlap 25" in by_class["ChunkManagerOperator"].reason
    compile_flow(result.document, default_registry())


def test_a_separator_the_ingestion_cannot_take_is_reported() -> None:
    export = _load("embedded_knowledge_process_flow.json")
    canvas = _canvas(export)
    chunk_manager = next(n for n in canvas["nodes"] if n["data"]["type_name"] == "ChunkManagerOperator")
    params_id = "resource_dbgpt_ext.rag.chunk_manager.ChunkParameters_0"
    parameters = [
        {"name": "chunk_strategy", "type_name": "str", "value": "CHUNK_BY_SEPARATOR"},
        {"name": "separator", "type_name": "str", "value": "\\n\\n"},
    ]
    canvas["nodes"].append({"id": params_id, "data": {"type_name": "ChunkParameters", "parameters": parameters}})
    canvas["edges"].append(
        {
            "source": params_id,
            "target": chunk_manager["id"],
            "source_handle": f"{params_id}|outputs|0",
            "target_handle": f"{chunk_manager['id']}|parameters|0",
        }
    )
    result = _convert(export)
    assert _node(result, "vector_storage_operator_0").params["strategy"] == "recursive"
    assert "separators ['\\n\\n'] not carried (rag.ingest has no such param)" in (
        _by_class(result)["ChunkManagerOperator"].reason
    )


@pytest.mark.parametrize(
    ("resources", "default", "expected"),
    [
        ([], None, (None, 128, 13)),
        ([], "CHUNK_BY_SIZE", ("recursive", 128, 13)),
        (
            [("ChunkParameters", {"chunk_strategy": "Automatic", "chunk_size": 2000, "chunk_overlap": 100})],
            None,
            (None, 500, 25),
        ),
        ([("ChunkParameters", {"chunk_size": 10, "chunk_overlap": 50})], "CHUNK_BY_SIZE", ("recursive", 16, 13)),
        ([("ChunkParameters", {"chunk_size": 100_000, "chunk_overlap": 40_000})], None, (None, 8192, 4096)),
        ([("MarkdownHeaderTextSplitter", {"chunk_size": 400})], None, ("markdown", 100, 13)),
    ],
)
def test_chunk_sizes_in_characters_become_tokens_within_the_limits(
    resources: list[tuple[str, dict[str, Any]]], default: str | None, expected: tuple[str | None, int, int]
) -> None:
    plan = chunk_plan(resources, default)
    assert (plan.strategy, plan.size_tokens, plan.overlap_tokens) == expected
    config = plan.config()  # always a valid ChunkingConfig
    assert config.chunk_overlap < config.chunk_size


def test_separator_chunking_keeps_the_separator() -> None:
    plan = chunk_plan([("ChunkParameters", {"chunk_strategy": "CHUNK_BY_SEPARATOR", "separator": "\\n\\n"})], None)
    assert plan.config().separators == ["\n\n"]


@pytest.mark.parametrize(
    ("top_k", "threshold", "expected"),
    [
        (None, None, {"top_k": 5, "mode": "hybrid"}),
        (3, 0.3, {"top_k": 3, "mode": "vector", "min_score": 0.3}),
        ("10", 0.0, {"top_k": 10, "mode": "hybrid"}),
        (10_000, True, {"top_k": 500, "mode": "hybrid"}),
    ],
)
def test_search_params(top_k: Any, threshold: Any, expected: dict[str, Any]) -> None:
    assert search_params(top_k, threshold) == expected


@pytest.mark.parametrize(
    ("value", "type_name", "expected"),
    [("0.3", "float", 0.3), ("10", "int", 10), ("False", "bool", False), ("true", "bool", True), ("x", "int", "x")],
)
def test_text_defaults_read_as_their_type(value: str, type_name: str, expected: Any) -> None:
    assert coerce_param(value, type_name) == expected


def test_answer_prompt_keeps_instructions_and_drops_the_inserted_parts() -> None:
    params, note = answer_prompt_params(
        {"system_message": "Be precise.\nContext: {context}\nQuestion: {user_input}", "human_message": "{user_input}"}
    )
    assert params == {"system_prompt": f"Be precise.\n\n{CITE_INSTRUCTION}"}
    assert note == ""
    params, note = answer_prompt_params(
        {"system_message": "Use {context} for {question}.", "human_message": "Q: {question}"}, frozenset({"question"})
    )
    assert params["system_prompt"].startswith("Use the passages given for the question.")
    assert note == "its human message is not carried: rag.answer asks the question itself"
    assert answer_prompt_params({"system_message": None}) == ({}, "")


def test_the_import_is_deterministic_and_the_input_untouched() -> None:
    export = _load("hybrid_knowledge_process_flow_zh.json")
    before = copy.deepcopy(export)
    first, second = _convert(export), _convert(export)
    assert export == before
    assert msgspec.json.encode(first) == msgspec.json.encode(second)
