"""What each DB-GPT AWEL node becomes in Rivulet, and how DB-GPT prompt templates read as Jinja2.

A DB-GPT node is looked up by its class name (``data.type_name``, the tail of ``data.type_cls``) or, for exports
that carry only the flow name (``data.name``, or the name inside the node id), by that name through
``DBGPT_FLOW_NAMES``. Semantics followed (DB-GPT's ``dbgpt.core`` and ``dbgpt_app.operators``):

- ``CommonLLMHttpTrigger`` emits the request body; the user's message is its ``messages`` field. Rivulet's
  ``trigger.http`` declares that message as the text field ``user_input``.
- The higher-order LLM operators (``HOStreamingLLMOperator``, ``HOLLMOperator``) take the request body and build
  the conversation themselves: system message, then the human message of their prompt template (DB-GPT's default:
  ``{user_input}``). Their request input is the pseudo port ``REQUEST``: it becomes ``llm.chat``'s ``prompt``, or,
  when a prompt template is attached, that template's ``user_input``. Their second input (extra context, e.g. a
  retriever's) is the pseudo port ``CONTEXT``: the template's ``context`` variable when it reads one.
- ``StreamingLLMOperator`` / ``LLMOperator`` take a ready model request: ``llm.chat``'s ``messages``.
- ``ConversationComposerOperator``, ``HistoryPromptBuilderOperator`` and ``PromptBuilderOperator`` format a prompt
  template resource into messages: ``llm.prompt_template`` with the resource folded into its params.
- Request builders and ``UserInputParsedOperator`` only repackage one input: they are contracted away (their
  upstream is wired straight to their downstream).
- LLM client resources say how DB-GPT reaches its model server, never which model: they fold to the default model.

Knowledge (DB-GPT's ``dbgpt.rag`` / ``dbgpt_ext.rag`` operators):

- Retrievers (``HOKnowledgeOperator``, ``SpaceRetrieverOperator``, ``EmbeddingRetrieverOperator``) are one
  ``rag.retrieve``: its ``context`` output where DB-GPT hands on text (``HOContextBody``, the list of chunk texts),
  its ``chunks`` where DB-GPT hands on chunks. A ``score_threshold`` (a cosine similarity in DB-GPT) means
  ``mode: vector`` with ``min_score``; none (or 0) leaves Rivulet's hybrid search.
- A higher-order LLM fed by a retriever becomes ``rag.answer`` (the user's message is the ``question``, the
  retriever's chunks the passages), so the answer cites chunk ids.
- Vector stores, their configs and connectors, embeddings, knowledge graphs and graph store configs are
  resources: the chain of them feeding a node is followed to its end, and the ``name`` found on the way (a Chroma
  collection, a graph) is the Rivulet knowledge space. Connection settings are never carried.
- ``KnowledgeOperator`` loads a URL (``rag.load_url``) or, for a file on the DB-GPT server or inline text, is
  contracted: the documents come in the request. ``ChunkManagerOperator`` is contracted too: its sizes (characters,
  become tokens: ÷ 4) are the chunk params of the ``rag.ingest`` it feeds, which splits the documents itself.
- Ingesting nodes (vector storage, embedding assembler) and knowledge graph nodes create their space on first
  write, as DB-GPT's stores create their collection or graph (``create_space`` of ``rag.ingest`` and
  ``rag.graph_extract``).

Data (DB-GPT's ``dbgpt_app.operators.datasource`` / ``report``; details in ``_dbgpt_data.py``):

- A higher-order LLM fed by a ``HODatasourceRetrieverOperator`` whose answer goes to ``SQLOutputParser`` or a
  ``HODatasourceExecutorOperator`` writes SQL: it becomes ``sql.generate`` (``HO_T2S``: linked schema, guard, run,
  repairs), with the datasource of the retriever's ``DatasourceResource`` (``db_name``) and ``max_num_results`` as
  ``max_rows``. The retriever, the parser and the executor are contracted into it (its ``table`` is what the
  executor hands on) and its prompt template is not carried; the executor's chart view becomes a
  ``chart.recommend`` (run output ``chart``).
- Elsewhere the retriever is ``sql.schema_context`` and the executor ``sql.run_query`` (an executor nothing feeds
  is left out; a parser without ``sql.generate`` upstream has no equivalent).
- ``ReportAnalystOperator`` is ``chart.summarize`` (question and rows); ``StringJoinOperator`` is a
  ``core.template`` joining its inputs with its separator, rows as a markdown table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = (
    "BODY",
    "CITE_INSTRUCTION",
    "CONTEXT",
    "DBGPT_DEFAULTS",
    "DBGPT_FLOW_NAMES",
    "DBGPT_MAPPINGS",
    "DEFAULT_SYSTEM_MESSAGE",
    "HO_RAG",
    "HO_T2S",
    "PARAM_ALIASES",
    "REQUEST",
    "UNMAPPED_REASONS",
    "USER_INPUT",
    "DbgptMapping",
    "FoldKind",
    "MappingKind",
    "answer_prompt_params",
    "coerce_param",
    "convert_param",
    "prompt_params",
)

USER_INPUT = "user_input"
"""The trigger's text field holding the user's message (DB-GPT's request ``messages``)."""
REQUEST = "@request"
"""Pseudo port: the whole DB-GPT request body entering a higher-order LLM operator."""
CONTEXT = "@context"
"""Pseudo port: extra context (``HOContextBody``) entering a higher-order LLM operator."""
BODY = "@body"
"""Pseudo port: a ``DictHttpTrigger``'s request body; feeding a typed input, it becomes a request field."""
DEFAULT_SYSTEM_MESSAGE = "You are a helpful AI assistant."
"""The system message of DB-GPT's default chat prompt (and of ``CommonChatPromptTemplate`` left unset)."""
_USER_KEYS = frozenset({USER_INPUT, "messages"})
"""Template variables DB-GPT fills with the user's message (``messages`` is the request field's own name)."""


FoldKind = Literal[
    "prompt", "model", "datasource", "space", "graph", "embeddings", "connection", "chunking", "splitter", "ranker",
    "rewrite",
]  # fmt: skip
"""What a resource gives the node its chain of ``parameters`` edges ends at.

``prompt``: the template params; ``model``: the default model; ``datasource``: its ``db_name``; ``space``: a vector
store's collection ``name`` (the knowledge space); ``graph``: a knowledge graph's ``name`` and its extraction model;
``embeddings``: nothing (the space's embedding model); ``connection``: nothing (store connection settings);
``chunking``/``splitter``: chunk sizes; ``ranker``: a ``top_k`` cap; ``rewrite``: nothing (query rewriting).
"""
MappingKind = Literal[
    "retriever", "context", "loader", "chunker", "ingest", "graph", "summary",
    "schema", "text2sql", "sql_parser", "executor", "analyst", "join",
]  # fmt: skip
"""Knowledge nodes whose params and wiring the converter works out from the flow around them."""


@dataclass(frozen=True, slots=True)
class DbgptMapping:
    """How one DB-GPT class becomes a Rivulet node, a param of another node, or nothing (contracted away)."""

    operator: str
    """Target Rivulet operator id (``""`` for resources folded into their consumers and contracted nodes)."""
    inputs: tuple[str | None, ...] = ()
    """Rivulet input port for DB-GPT input index ``i`` (``None``: the input is dropped; or a pseudo port)."""
    outputs: tuple[str | None, ...] = ()
    """Rivulet output port for DB-GPT output index ``i``."""
    params: dict[str, str] = field(default_factory=dict[str, str])
    """DB-GPT parameter name → Rivulet param name."""
    fixed: dict[str, Any] = field(default_factory=dict[str, Any])
    """Params always set on the Rivulet node."""
    as_input: str | None = None
    """A resource that becomes a node: the input port of the consumer its ``parameters`` edge feeds."""
    fold_into: FoldKind | None = None
    """A resource that is not a node: what it gives the node its ``parameters`` edges lead to."""
    passes: int | None = None
    """A node that only repackages its input ``passes``: its upstream is wired straight to its downstream."""
    spread: tuple[str, ...] = ()
    """A node that packs its inputs into a dict: param naming the consumer's variable for each input index."""
    kind: MappingKind | None = None
    """Knowledge nodes: how the converter fills in params (space, search mode, chunking) and wiring."""
    space_default: str | None = None
    """The DB-GPT collection used when no store with a ``name`` is attached."""
    note: str | None = None
    """Why this mapping (reported with the node)."""


_HO_LLM = DbgptMapping(
    operator="llm.chat",
    inputs=(REQUEST, CONTEXT),
    outputs=("message",),
    params={"model": "model"},
    fixed={"system_prompt": DEFAULT_SYSTEM_MESSAGE},
)
_LLM = DbgptMapping(operator="llm.chat", inputs=("messages",), outputs=("message",))
_TRIGGER = DbgptMapping(
    operator="trigger.http",
    # 0: the request body, 1: its messages as one string; both carry the user's message
    outputs=(USER_INPUT, USER_INPUT),
    params={"methods": "method", "endpoint": "slug", "streaming_response": "response"},
    fixed={"fields": [{"name": USER_INPUT, "type": "Text", "description": "The user's message."}]},
)
_FORMAT = DbgptMapping(operator="llm.prompt_template", inputs=(USER_INPUT,), outputs=("messages",))

_VECTOR_INGEST = DbgptMapping(
    operator="rag.ingest", inputs=("documents",), outputs=("chunks",), kind="ingest", space_default="dbgpt_collection"
)
"""Both DB-GPT ways of writing documents into a vector store (the storage operator and the embedding assembler)."""

DBGPT_MAPPINGS: dict[str, DbgptMapping] = {
    # triggers
    "CommonLLMHttpTrigger": _TRIGGER,
    "DictHttpTrigger": DbgptMapping(operator="trigger.http", outputs=(BODY,)),
    "RequestHttpTrigger": DbgptMapping(operator="trigger.http", outputs=("body",)),
    # LLM chat (streaming or not: Rivulet streams tokens from llm.chat either way)
    "HOStreamingLLMOperator": _HO_LLM,
    "HOLLMOperator": _HO_LLM,
    "StreamingLLMOperator": _LLM,
    "LLMOperator": _LLM,
    # prompt templates and the operators that format them
    "CommonChatPromptTemplate": DbgptMapping(
        operator="llm.prompt_template", outputs=("messages",), as_input="messages", fold_into="prompt"
    ),
    "ConversationComposerOperator": _FORMAT,
    "HistoryPromptBuilderOperator": DbgptMapping(
        operator="llm.prompt_template", inputs=(None, USER_INPUT), outputs=("messages",)
    ),
    "PromptBuilderOperator": _FORMAT,
    # repackaging only
    "UserInputParsedOperator": DbgptMapping(operator="", passes=0),
    "RequestBuilderOperator": DbgptMapping(operator="", passes=0),
    "MergedRequestBuilderOperator": DbgptMapping(operator="", passes=1),
    # knowledge: retrieval (rag.retrieve outputs both the chunks and the numbered passages as text)
    "HOKnowledgeOperator": DbgptMapping(
        operator="rag.retrieve",
        inputs=("query",),
        outputs=("context", "chunks"),
        params={"knowledge_space": "space", "top_k": "top_k"},
        kind="retriever",
    ),
    "SpaceRetrieverOperator": DbgptMapping(
        operator="rag.retrieve",
        inputs=("query",),
        outputs=("context",),
        params={"space_name": "space"},
        kind="retriever",
    ),
    "EmbeddingRetrieverOperator": DbgptMapping(
        operator="rag.retrieve",
        inputs=("query",),
        outputs=("chunks",),
        params={"top_k": "top_k"},
        kind="retriever",
        space_default="dbgpt_collection",
    ),
    "ChunksToStringOperator": DbgptMapping(
        operator="rag.context", inputs=("chunks",), outputs=("context",), kind="context"
    ),
    "KnowledgeSpacePromptBuilderOperator": DbgptMapping(
        operator="llm.prompt_template", inputs=(USER_INPUT, "context", None), outputs=("messages",)
    ),
    # knowledge: loading, chunking, storing
    "KnowledgeOperator": DbgptMapping(operator="rag.load_url", inputs=("url",), outputs=("documents",), kind="loader"),
    "ChunkManagerOperator": DbgptMapping(
        operator="",
        passes=0,
        kind="chunker",
        note="contracted: Rivulet's ingestion splits documents itself (with these sizes)",
    ),
    "VectorStorageOperator": _VECTOR_INGEST,
    "EmbeddingAssemblerOperator": _VECTOR_INGEST,
    "KnowledgeGraphOperator": DbgptMapping(
        operator="rag.graph_extract",
        inputs=("documents",),
        outputs=("triplets",),
        kind="graph",
        space_default="dbgpt",
    ),
    "SummaryAssemblerOperator": DbgptMapping(
        operator="llm.summarize",
        inputs=("text",),
        outputs=("summary",),
        params={"model_name": "model", "concurrency_limit_with_llm": "max_concurrency"},
        kind="summary",
    ),
    "KnowledgeProcessBranchOperator": DbgptMapping(
        operator="", passes=0, note="contracted: its chunks go to every branch (DB-GPT's branch skips none)"
    ),
    "KnowledgeProcessJoinOperator": DbgptMapping(
        operator="", passes=0, note="contracted: DB-GPT's join only returns status messages"
    ),
    # knowledge resources: followed to the node they configure
    **dict.fromkeys(
        (
            "ChromaStore",
            "ChromaVectorConfig",
            "VectorStoreConnector",
            "MilvusStore",
            "MilvusVectorConfig",
            "ElasticStore",
            "ElasticsearchVectorConfig",
            "OceanBaseStore",
            "OceanBaseConfig",
            "PGVectorStore",
            "PGVectorConfig",
            "WeaviateStore",
            "WeaviateVectorConfig",
        ),
        DbgptMapping(operator="", fold_into="space"),
    ),
    **dict.fromkeys(
        (
            "BuiltinKnowledgeGraph",
            "BuiltinKnowledgeGraphConfig",
            "CommunitySummaryKnowledgeGraph",
            "CommunitySummaryKnowledgeGraphConfig",
        ),
        DbgptMapping(operator="", fold_into="graph"),
    ),
    **dict.fromkeys(
        ("TuGraphStoreConfig", "Neo4jStoreConfig", "MemGraphStoreConfig"),
        DbgptMapping(operator="", fold_into="connection"),
    ),
    **dict.fromkeys(
        (
            "DefaultEmbeddings",
            "HuggingFaceEmbeddings",
            "HuggingFaceInstructEmbeddings",
            "HuggingFaceInferenceAPIEmbeddings",
            "OpenAPIEmbeddings",
            "JinaEmbeddings",
            "OllamaEmbeddings",
            "TongYiEmbeddings",
            "QianFanEmbeddings",
        ),
        DbgptMapping(operator="", fold_into="embeddings"),
    ),
    "ChunkParameters": DbgptMapping(operator="", fold_into="chunking"),
    **dict.fromkeys(
        (
            "CharacterTextSplitter",
            "RecursiveCharacterTextSplitter",
            "MarkdownHeaderTextSplitter",
            "SeparatorTextSplitter",
            "PageTextSplitter",
            "ParagraphTextSplitter",
            "SpacyTextSplitter",
        ),
        DbgptMapping(operator="", fold_into="splitter"),
    ),
    **dict.fromkeys(
        ("DefaultRanker", "CrossEncoderRanker", "RRFRanker", "RerankEmbeddingsRanker"),
        DbgptMapping(operator="", fold_into="ranker"),
    ),
    "QueryRewrite": DbgptMapping(operator="", fold_into="rewrite"),
    # request glue around knowledge flows
    "RequestedParsedOperator": DbgptMapping(operator="", passes=0),
    "RequestBodyToDictOperator": DbgptMapping(operator="", passes=0),
    "StringOutput2ModelOutputOperator": DbgptMapping(operator="", passes=0),
    "MergeStringToDictOperator": DbgptMapping(operator="", spread=("first_key", "second_key")),
    # datasource / SQL (the chat-data flow's retriever → LLM → parser → executor is refined into sql.generate)
    "HODatasourceRetrieverOperator": DbgptMapping(
        operator="sql.schema_context", inputs=("question",), outputs=("context", "tables"), kind="schema"
    ),
    "HODatasourceExecutorOperator": DbgptMapping(
        operator="sql.run_query", inputs=("query",), outputs=("table", "table"), kind="executor"
    ),
    "DatasourceResource": DbgptMapping(operator="", fold_into="datasource"),
    "SQLOutputParser": DbgptMapping(
        operator="",
        passes=0,
        kind="sql_parser",
        note="contracted: sql.generate hands on its query and rows (DB-GPT parses the model's JSON answer)",
    ),
    "ReportAnalystOperator": DbgptMapping(
        operator="chart.summarize",
        inputs=("question", "table"),
        outputs=("text",),
        params={"model": "model"},
        kind="analyst",
    ),
    "StringJoinOperator": DbgptMapping(operator="core.template", outputs=("text",), kind="join"),
    # LLM clients: how DB-GPT reaches a model server (the model itself comes from the request)
    "OpenAILLMClient": DbgptMapping(operator="", fold_into="model"),
    "DefaultLLMClient": DbgptMapping(operator="", fold_into="model"),
    "RemoteLLMClient": DbgptMapping(operator="", fold_into="model"),
    # outputs
    "OpenAIStreamingOutputOperator": DbgptMapping(
        operator="core.output", inputs=("value",), outputs=("value",), fixed={"name": "answer"}
    ),
    "StringToInteger": DbgptMapping(
        operator="core.convert", inputs=("value",), outputs=("value",), fixed={"to": "int"}
    ),
}
"""DB-GPT class name → mapping. ``CodeMapOperator`` is deliberately absent: Rivulet runs no user code."""

_HISTORY = "chat history is not carried over: each run answers one message"

HO_T2S = DbgptMapping(
    operator="sql.generate",
    inputs=(REQUEST, CONTEXT),
    outputs=("table",),
    params={"model": "model"},
    kind="text2sql",
    note="writes, guards and runs the SQL, repairing failures (DB-GPT: retriever prompt, LLM, SQL parser, executor)",
)
"""A higher-order LLM that writes SQL: fed by a datasource retriever, its answer parsed by ``SQLOutputParser``."""

HO_RAG = DbgptMapping(
    operator="rag.answer",
    inputs=(REQUEST, CONTEXT),
    outputs=("answer",),
    params={"model": "model"},
    note="answers from the retrieved chunks, citing their ids",
)
"""A higher-order LLM operator whose extra context comes from a knowledge retriever."""

UNMAPPED_REASONS: dict[str, str] = {
    "CodeMapOperator": "no Rivulet equivalent: Rivulet runs no user code",
    "PreChatHistoryLoadOperator": _HISTORY,
    "ServePreChatHistoryLoadOperator": _HISTORY,
    "DefaultServePreChatHistoryLoadOperator": _HISTORY,
    "QueryRewriteOperator": "no Rivulet equivalent (query rewriting)",
    "FullTextStorageOperator": "no separate full-text store: rag.ingest fills the space's keyword index itself",
}
"""Why a known DB-GPT class has no mapping (others: "no Rivulet equivalent")."""

DBGPT_FLOW_NAMES: dict[str, str] = {
    "common_llm_http_trigger": "CommonLLMHttpTrigger",
    "dict_http_trigger": "DictHttpTrigger",
    "request_http_trigger": "RequestHttpTrigger",
    "higher_order_streaming_llm_operator": "HOStreamingLLMOperator",
    "higher_order_llm_operator": "HOLLMOperator",
    "streaming_llm_operator": "StreamingLLMOperator",
    "llm_operator": "LLMOperator",
    "common_chat_prompt_template": "CommonChatPromptTemplate",
    "conversation_composer_operator": "ConversationComposerOperator",
    "history_prompt_builder_operator": "HistoryPromptBuilderOperator",
    "prompt_builder_operator": "PromptBuilderOperator",
    "user_input_parsed_operator": "UserInputParsedOperator",
    "request_builder_operator": "RequestBuilderOperator",
    "merged_request_builder_operator": "MergedRequestBuilderOperator",
    "higher_order_knowledge_operator": "HOKnowledgeOperator",
    "higher_order_datasource_retriever_operator": "HODatasourceRetrieverOperator",
    "higher_order_datasource_executor_operator": "HODatasourceExecutorOperator",
    "default_sql_output_parser": "SQLOutputParser",
    "report_analyst": "ReportAnalystOperator",
    "string_join_operator": "StringJoinOperator",
    "datasource": "DatasourceResource",
    "openai_llm_client": "OpenAILLMClient",
    "default_llm_client": "DefaultLLMClient",
    "remote_llm_client": "RemoteLLMClient",
    "openai_streaming_output_operator": "OpenAIStreamingOutputOperator",
    "code_map_operator": "CodeMapOperator",
    "chat_history_load_operator": "PreChatHistoryLoadOperator",
    "default_serve_pre_chat_history_load_operator": "DefaultServePreChatHistoryLoadOperator",
    # knowledge
    "knowledge_operator": "KnowledgeOperator",
    "chunk_manager_operator": "ChunkManagerOperator",
    "chunk_parameters": "ChunkParameters",
    "vector_storage_operator": "VectorStorageOperator",
    "embedding_assembler_operator": "EmbeddingAssemblerOperator",
    "embedding_retriever_operator": "EmbeddingRetrieverOperator",
    "space_operator": "SpaceRetrieverOperator",
    "knowledge_space_prompt_builder_operator": "KnowledgeSpacePromptBuilderOperator",
    "chunks_to_string_operator": "ChunksToStringOperator",
    "summary_assembler_operator": "SummaryAssemblerOperator",
    "knowledge_graph_operator": "KnowledgeGraphOperator",
    "builtin_knowledge_graph": "BuiltinKnowledgeGraph",
    "knowledge_graph_config": "BuiltinKnowledgeGraphConfig",
    "community_summary_knowledge_graph": "CommunitySummaryKnowledgeGraph",
    "community_summary_kg_config": "CommunitySummaryKnowledgeGraphConfig",
    "tugraph_config": "TuGraphStoreConfig",
    "knowledge_process_operator": "KnowledgeProcessBranchOperator",
    "knowledge_process_join_operator": "KnowledgeProcessJoinOperator",
    "full text_storage_operator": "FullTextStorageOperator",
    "default_embeddings": "DefaultEmbeddings",
    "default_embedding_factory": "DefaultEmbeddings",
    "huggingface_embeddings": "HuggingFaceEmbeddings",
    "huggingface_instructor_embeddings": "HuggingFaceInstructEmbeddings",
    "huggingface_inference_api_embeddings": "HuggingFaceInferenceAPIEmbeddings",
    "openapi_embeddings": "OpenAPIEmbeddings",
    "jina_embeddings": "JinaEmbeddings",
    "chroma_vector_store": "ChromaStore",  # ChromaVectorConfig's flow name before Dec 2024: folds the same way
    "chroma_vector_config": "ChromaVectorConfig",
    "vector_store_connector": "VectorStoreConnector",
    "milvus_vector_store": "MilvusStore",
    "milvus_vector_config": "MilvusVectorConfig",
    "elastic_vector_store": "ElasticStore",
    "elasticsearch_vector_config": "ElasticsearchVectorConfig",
    "ob_vector_store": "OceanBaseStore",
    "oceanbase_vector_config": "OceanBaseConfig",
    "pg_vector_config": "PGVectorConfig",
    "weaviate_vector_config": "WeaviateVectorConfig",
    "query_rewrite_operator": "QueryRewriteOperator",
    "query_rewrite": "QueryRewrite",
    "default_ranker": "DefaultRanker",
    "cross_encoder_ranker": "CrossEncoderRanker",
    "request_body_to_str__parsed_operator": "RequestedParsedOperator",
    "request_body_to_dict_operator": "RequestBodyToDictOperator",
    "merge_string_to_dict_operator": "MergeStringToDictOperator",
    "string_2_model_output_operator": "StringOutput2ModelOutputOperator",
}

DBGPT_DEFAULTS: dict[str, dict[str, Any]] = {
    "HOKnowledgeOperator": {"context_key": "context", "top_k": 5, "score_threshold": 0.3, "reranker_top_k": 3},
    "SpaceRetrieverOperator": {"top_k": 5, "score_threshold": 0.3},
    "EmbeddingRetrieverOperator": {"top_k": 5, "score_threshold": 0.3},
    "ChunksToStringOperator": {"separator": "\n"},
    "MergeStringToDictOperator": {"first_key": USER_INPUT, "second_key": "context"},
    "KnowledgeOperator": {"knowledge_type": "DOCUMENT"},
    "ChromaStore": {"name": "dbgpt_collection"},
    "BuiltinKnowledgeGraph": {"name": "dbgpt"},
    "BuiltinKnowledgeGraphConfig": {"name": "dbgpt_collection"},
    "CommunitySummaryKnowledgeGraph": {"name": "dbgpt"},
    "CommunitySummaryKnowledgeGraphConfig": {"name": "dbgpt_collection"},
    "ChunkParameters": {"chunk_size": 512, "chunk_overlap": 50, "separator": "\n"},
    "SummaryAssemblerOperator": {"language": "en", "concurrency_limit_with_llm": 3},
    "RequestedParsedOperator": {"key": "messages"},
    "HODatasourceRetrieverOperator": {"max_num_results": 50, "context_key": "context"},
    "StringJoinOperator": {"separator": "\n\n"},
}
"""DB-GPT's registered defaults, for exports that leave a parameter out (an export's own ``default`` wins)."""

PARAM_ALIASES: dict[str, dict[str, str]] = {
    "HOKnowledgeOperator": {"context": "context_key"},
    "HODatasourceRetrieverOperator": {"context": "context_key"},
    "EmbeddingAssemblerOperator": {"vector_store_connector": "index_store"},
    "EmbeddingRetrieverOperator": {"vector_store_connector": "index_store"},
}
"""Parameters exported under their alias (DB-GPT's ``Parameter.alias``): class → alias → name."""
"""DB-GPT flow name (``ViewMetadata.name`` / ``register_resource(name=…)``) → class name."""

_HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
_TRUE, _FALSE = frozenset({"true", "1", "yes"}), frozenset({"false", "0", "no", "none", ""})


def coerce_param(value: Any, type_name: str | None) -> Any:
    """A DB-GPT parameter value as its declared type (old exports store defaults as text: ``"0.3"``, ``"False"``).

    Values that do not read as the type are returned unchanged.
    """
    if not isinstance(value, str) or type_name not in ("int", "float", "bool"):
        return value
    text = value.strip()
    if type_name == "bool":
        lowered = text.lower()
        return True if lowered in _TRUE else False if lowered in _FALSE else value
    try:
        return int(text) if type_name == "int" else float(text)
    except ValueError:
        return value


def _slug(endpoint: str) -> str | None:
    """The last endpoint segment that is not a ``{placeholder}``, as a slug (``chat_x`` → ``chat-x``)."""
    for segment in reversed(endpoint.split("/")):
        if segment and "{" not in segment:
            slug = re.sub(r"[^a-z0-9]+", "-", segment.lower()).strip("-")[:63].rstrip("-")
            return slug or None
    return None


def convert_param(target: str, value: Any) -> Any:
    """A DB-GPT trigger parameter's value as the ``trigger.http`` param ``target`` (``None``: leave it unset).

    ``methods`` ``"post"`` → ``method`` ``"POST"`` (only Rivulet's methods); ``endpoint`` → ``slug``;
    ``streaming_response`` → ``response`` ``"sse"`` / ``"json"``. Other params pass unchanged.
    """
    if target == "method":
        method = value.strip().upper() if isinstance(value, str) else None
        return method if method in _HTTP_METHODS else None
    if target == "slug":
        return _slug(value) if isinstance(value, str) else None
    if target == "response":
        return ("sse" if value else "json") if isinstance(value, bool) else None
    return value


_JINJA_OUTPUT = re.compile(r"\{\{\s*[A-Za-z_][A-Za-z0-9_]*\s*\}\}")
_FSTRING = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)(?:![rsa])?(?::[^{}]*)?\}|[{}]")


def _jinja_name(name: str, user_keys: frozenset[str]) -> str:
    return USER_INPUT if name in user_keys else name


def _to_jinja(text: str, user_keys: frozenset[str]) -> tuple[str, bool]:
    """A DB-GPT template as Jinja2, and whether it reads any variable.

    DB-GPT templates are f-strings unless they already use Jinja2's ``{{ name }}``.
    """
    if _JINJA_OUTPUT.search(text):
        jinja = _JINJA_OUTPUT.sub(lambda m: "{{ " + _jinja_name(m.group(0).strip("{} \t\n"), user_keys) + " }}", text)
        return jinja, True
    found = False

    def repl(match: re.Match[str]) -> str:
        nonlocal found
        if match.group(1):
            found = True
            return "{{ " + _jinja_name(match.group(1), user_keys) + " }}"
        brace = match.group(0)[0]  # "{{" and "}}" are escaped braces; a lone brace is kept as it is
        return "{{ '{' }}" if brace == "{" else brace

    return _FSTRING.sub(repl, text), found


def _unescape(text: str) -> str:
    """A template without variables as the text DB-GPT sends (``{{`` and ``}}`` are escaped braces)."""
    return text if _JINJA_OUTPUT.search(text) else text.replace("{{", "{").replace("}}", "}")


def prompt_params(values: dict[str, Any], user_keys: frozenset[str] = frozenset()) -> dict[str, Any]:
    """``llm.prompt_template`` params from a ``CommonChatPromptTemplate``'s parameter values.

    The human message becomes the template: unset or blank means the user's message (DB-GPT's ``{user_input}``);
    ``{user_input}``, ``{{ user_input }}`` and ``{messages}`` (and the consumer's user message key) all read the
    trigger's ``user_input``. The system message is kept as the system prompt (DB-GPT's default when unset); one
    that reads variables is rendered too, as the start of the template. The chat history placeholder
    (``MessagesPlaceholder``) is not carried over: each run answers one message.
    """
    keys = _USER_KEYS | user_keys
    human = values.get("human_message")
    template = _to_jinja(human, keys)[0] if isinstance(human, str) and human.strip() else "{{ " + USER_INPUT + " }}"
    system = values.get("system_message")
    system = DEFAULT_SYSTEM_MESSAGE if system is None else str(system)
    system_jinja, reads = _to_jinja(system, keys)
    if reads:  # DB-GPT formats the system message too: render it with the template
        return {"template": f"{system_jinja}\n\n{template}", "system_prompt": ""}
    return {"template": template, "system_prompt": _unescape(system)}


CITE_INSTRUCTION = (
    "Each passage of the known information starts with its id in square brackets: after each statement, cite "
    "the passage it comes from by that id in square brackets, for example [id]."
)
"""Appended to a DB-GPT system message carried into ``rag.answer`` (DB-GPT's Chat Knowledge asks for ``[n]``)."""

_VARIABLE_WORDS = {"context": "the passages given", USER_INPUT: "the question"}


def answer_prompt_params(values: dict[str, Any], user_keys: frozenset[str] = frozenset()) -> tuple[dict[str, Any], str]:
    """``rag.answer`` params from the ``CommonChatPromptTemplate`` of a higher-order LLM fed by a retriever.

    ``rag.answer`` sends the passages and the question itself, so the system message keeps DB-GPT's instructions
    without the places they were inserted: ``label: {context}`` and ``label: {user_input}`` are removed (another
    variable left in a sentence is named in words), and ``CITE_INSTRUCTION`` is appended. Unset, rag.answer's own
    system prompt (it asks for citations) is kept.

    Returns:
        The params, and a note for the report ("" when nothing was lost).
    """
    keys = _USER_KEYS | user_keys
    system = values.get("system_message")
    note = ""
    human = values.get("human_message")
    if isinstance(human, str) and human.strip():
        jinja, _ = _to_jinja(human, keys)
        if jinja.strip() != "{{ " + USER_INPUT + " }}":
            note = "its human message is not carried: rag.answer asks the question itself"
    if system is None or not str(system).strip():
        return {}, note
    text = str(system)
    if _JINJA_OUTPUT.search(text):  # Jinja variables read as f-string ones below
        text = _JINJA_OUTPUT.sub(lambda m: "{" + m.group(0).strip("{} \t\n") + "}", text)
    names = r"[A-Za-z_][A-Za-z0-9_]*"
    text = re.sub("[^\\n:{}.!?\u3002]{0,40}[:\uff1a][^\\S\\n]*\\n?[^\\S\\n]*\\{(" + names + r")\}", "", text)
    text = re.sub(
        r"\{(" + names + r")\}", lambda m: _VARIABLE_WORDS.get(_jinja_name(m.group(1), keys), m.group(1)), text
    )
    text = text.replace("{{", "{").replace("}}", "}")
    lines = [line.rstrip() for line in text.splitlines()]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return {"system_prompt": f"{text}\n\n{CITE_INSTRUCTION}" if text else CITE_INSTRUCTION}, note
