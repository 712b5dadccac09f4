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
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = (
    "CONTEXT",
    "DBGPT_FLOW_NAMES",
    "DBGPT_MAPPINGS",
    "DEFAULT_SYSTEM_MESSAGE",
    "REQUEST",
    "UNMAPPED_REASONS",
    "USER_INPUT",
    "DbgptMapping",
    "convert_param",
    "prompt_params",
)

USER_INPUT = "user_input"
"""The trigger's text field holding the user's message (DB-GPT's request ``messages``)."""
REQUEST = "@request"
"""Pseudo port: the whole DB-GPT request body entering a higher-order LLM operator."""
CONTEXT = "@context"
"""Pseudo port: extra context (``HOContextBody``) entering a higher-order LLM operator."""
DEFAULT_SYSTEM_MESSAGE = "You are a helpful AI assistant."
"""The system message of DB-GPT's default chat prompt (and of ``CommonChatPromptTemplate`` left unset)."""
_USER_KEYS = frozenset({USER_INPUT, "messages"})
"""Template variables DB-GPT fills with the user's message (``messages`` is the request field's own name)."""


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
    fold_into: str | None = None
    """A resource that is not a node: the consumer param it sets (``prompt``: the template params)."""
    passes: int | None = None
    """A node that only repackages its input ``passes``: its upstream is wired straight to its downstream."""


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

DBGPT_MAPPINGS: dict[str, DbgptMapping] = {
    # triggers
    "CommonLLMHttpTrigger": _TRIGGER,
    "DictHttpTrigger": DbgptMapping(operator="trigger.http", outputs=("body",)),
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
    # knowledge retrieval
    "HOKnowledgeOperator": DbgptMapping(
        operator="rag.retrieve",
        inputs=("query",),
        outputs=("context",),
        params={"knowledge_space": "collection", "top_k": "top_k"},
    ),
    # datasource / SQL
    "HODatasourceRetrieverOperator": DbgptMapping(
        operator="sql.schema_context", inputs=("question",), outputs=("context",)
    ),
    "HODatasourceExecutorOperator": DbgptMapping(operator="sql.run_query", inputs=("sql",), outputs=("table",)),
    "DatasourceResource": DbgptMapping(operator="", fold_into="datasource"),
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

UNMAPPED_REASONS: dict[str, str] = {
    "CodeMapOperator": "no Rivulet equivalent: Rivulet runs no user code",
    "PreChatHistoryLoadOperator": "chat history is not carried over: each run answers one message",
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
    "datasource": "DatasourceResource",
    "openai_llm_client": "OpenAILLMClient",
    "default_llm_client": "DefaultLLMClient",
    "remote_llm_client": "RemoteLLMClient",
    "openai_streaming_output_operator": "OpenAIStreamingOutputOperator",
    "code_map_operator": "CodeMapOperator",
    "chat_history_load_operator": "PreChatHistoryLoadOperator",
}
"""DB-GPT flow name (``ViewMetadata.name`` / ``register_resource(name=…)``) → class name."""

_HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


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
