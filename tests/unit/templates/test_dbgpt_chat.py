"""The DB-GPT importer on real chat exports: the user's message reaches the model, by class or by flow name.

Fixtures: ``tests/fixtures/dbgpt`` (real DB-GPT / dbgpts exports, see its README). The same flows are run
end to end over HTTP with the embedded model in ``tests/integration/test_dbgpt_import.py``.
"""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from rivulet.compiler import analyze_flow, compile_flow
from rivulet.compiler.flow import decode_flow, encode_flow
from rivulet.lib.exceptions import ValidationError
from rivulet.registry.loader import default_registry
from rivulet.templates.dbgpt import MAX_DEPTH, convert_dbgpt_flow
from rivulet.templates.dbgpt_mappings import DEFAULT_SYSTEM_MESSAGE, convert_param, prompt_params

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "dbgpt"
THREE_NODE = FIXTURES / "simple_streaming_chat_flow.json"
FIVE_NODE = FIXTURES / "awel_flow_simple_streaming_chat.json"
NAMES_ONLY = FIXTURES / "awel_flow_example_chat.json"


def _edges(document: Any) -> set[tuple[str, str, str, str]]:
    ids = {n.id: n.operator for n in document.nodes}
    return {(ids[e.source], e.source_port, ids[e.target], e.target_port) for e in document.edges}


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def test_three_node_export_wires_the_trigger_to_the_llm_prompt() -> None:
    result = convert_dbgpt_flow(THREE_NODE.read_bytes(), default_registry())
    assert [n.status for n in result.nodes] == ["mapped"] * 3
    assert result.dropped_edges == []
    assert _edges(result.document) == {
        ("trigger.http", "user_input", "llm.chat", "prompt"),
        ("llm.chat", "message", "core.output", "value"),
    }
    chat = next(n for n in result.document.nodes if n.operator == "llm.chat")
    # no prompt template: DB-GPT's default one (its system message, then the user's message)
    assert chat.params == {"system_prompt": DEFAULT_SYSTEM_MESSAGE}
    compile_flow(result.document, default_registry())


def test_five_node_export_folds_the_prompt_into_the_composer() -> None:
    result = convert_dbgpt_flow(FIVE_NODE.read_bytes(), default_registry())
    status = {n.dbgpt_class.rsplit(".", 1)[-1]: (n.status, n.operator) for n in result.nodes}
    assert status == {
        "StreamingLLMOperator": ("mapped", "llm.chat"),
        "OpenAIStreamingOutputOperator": ("mapped", "core.output"),
        "CommonLLMHttpTrigger": ("mapped", "trigger.http"),
        "ConversationComposerOperator": ("mapped", "llm.prompt_template"),
        "CommonChatPromptTemplate": ("folded", None),
    }
    assert _edges(result.document) == {
        ("trigger.http", "user_input", "llm.prompt_template", "user_input"),
        ("llm.prompt_template", "messages", "llm.chat", "messages"),
        ("llm.chat", "message", "core.output", "value"),
    }
    composer = next(n for n in result.document.nodes if n.operator == "llm.prompt_template")
    # the template's messages are unset: the defaults the export carries (DB-GPT's {user_input} and its system
    # message, spelt as DB-GPT registers it)
    assert composer.params == {"template": "{{ user_input }}", "system_prompt": "You are a helpful AI Assistant."}
    compile_flow(result.document, default_registry())


def test_nodes_known_only_by_flow_name_are_mapped_and_repackagers_contracted() -> None:
    raw = _load(NAMES_ONLY)
    assert all("type_name" not in n["data"] for n in raw["nodes"] if n["id"].startswith("operator_"))
    result = convert_dbgpt_flow(raw, default_registry())
    by_name = {n.dbgpt_class: n for n in result.nodes}
    assert by_name["CommonLLMHttpTrigger"].operator == "trigger.http"
    assert by_name["StreamingLLMOperator"].operator == "llm.chat"
    assert by_name["OpenAIStreamingOutputOperator"].operator == "core.output"
    assert by_name["HistoryPromptBuilderOperator"].operator == "llm.prompt_template"
    assert {by_name[c].status for c in ("UserInputParsedOperator", "RequestBuilderOperator")} == {"folded"}
    assert by_name["PreChatHistoryLoadOperator"].status == "unmapped"
    assert _edges(result.document) == {
        ("trigger.http", "user_input", "llm.prompt_template", "user_input"),
        ("llm.prompt_template", "messages", "llm.chat", "messages"),
        ("llm.chat", "message", "core.output", "value"),
    }
    compile_flow(result.document, default_registry())


def _with_client(type_name: str, label: str, params: list[dict[str, Any]]) -> dict[str, Any]:
    export = _load(THREE_NODE)
    canvas = export["flow"]["flow_data"]
    llm = canvas["nodes"][1]["id"]
    client = f"resource_dbgpt.model.{type_name}_0"
    data = {"type_name": type_name, "label": label, "parameters": params}
    canvas["nodes"].append({"id": client, "data": data})
    target = f"{llm}|parameters|2"
    canvas["edges"].append(
        {"source": client, "target": llm, "source_handle": f"{client}|outputs|0", "target_handle": target}
    )
    return export


@pytest.mark.parametrize(
    ("type_name", "label", "params"),
    [
        ("DefaultLLMClient", "Default LLM Client", [{"name": "auto_convert_message", "value": None}]),
        ("OpenAILLMClient", "OpenAI LLM Client", [{"name": "api_key", "value": None}]),
    ],
)
def test_llm_clients_fold_to_the_default_model_never_their_label(
    type_name: str, label: str, params: list[dict[str, Any]]
) -> None:
    result = convert_dbgpt_flow(_with_client(type_name, label, params), default_registry())
    chat = next(n for n in result.document.nodes if n.operator == "llm.chat")
    assert chat.params["model"] == "default"
    assert next(n for n in result.nodes if n.dbgpt_class.endswith(type_name)).status == "folded"


def test_an_explicit_model_not_configured_here_becomes_the_default_with_a_note() -> None:
    export = _load(THREE_NODE)
    llm = export["flow"]["flow_data"]["nodes"][1]["data"]
    next(p for p in llm["parameters"] if p["name"] == "model")["value"] = "chatgpt_proxyllm"
    kept = convert_dbgpt_flow(copy.deepcopy(export), default_registry())
    assert next(n for n in kept.document.nodes if n.operator == "llm.chat").params["model"] == "chatgpt_proxyllm"
    result = convert_dbgpt_flow(export, default_registry(), models=["default", "smollm2"])
    assert next(n for n in result.document.nodes if n.operator == "llm.chat").params["model"] == "default"
    report = next(n for n in result.nodes if n.operator == "llm.chat")
    assert report.reason == "model 'chatgpt_proxyllm' is not configured here: the default model answers"


@pytest.mark.parametrize(
    ("human", "template"),
    [
        (None, "{{ user_input }}"),
        ("", "{{ user_input }}"),
        ("   ", "{{ user_input }}"),
        ("{user_input}", "{{ user_input }}"),
        ("{{ user_input }}", "{{ user_input }}"),
        ("{messages}", "{{ user_input }}"),
        ("{{messages}}", "{{ user_input }}"),
        ("Question: {user_input}\nContext: {context}", "Question: {{ user_input }}\nContext: {{ context }}"),
        ('Answer as JSON {{"a": 1}}: {question}', "Answer as JSON {{ '{' }}\"a\": 1}: {{ user_input }}"),
    ],
)
def test_human_messages_read_the_users_message(human: str | None, template: str) -> None:
    params = prompt_params({"human_message": human, "system_message": "Be brief."}, frozenset({"question"}))
    assert params == {"template": template, "system_prompt": "Be brief."}


def test_a_system_message_with_variables_is_rendered_with_the_template() -> None:
    params = prompt_params({"system_message": "Known: {context}", "human_message": "{user_input}"})
    assert params == {"template": "Known: {{ context }}\n\n{{ user_input }}", "system_prompt": ""}
    # f-string escapes in a system message without variables are sent as single braces
    assert prompt_params({"system_message": "Reply as {{x: 1}}"})["system_prompt"] == "Reply as {x: 1}"


@pytest.mark.parametrize("human", ["", "{user_input}", "{{ user_input }}", "{messages}"])
def test_every_prompt_shape_compiles_with_the_user_message_wired(human: str) -> None:
    export = _load(FIVE_NODE)
    prompt = next(n for n in export["nodes"] if n["data"]["type_name"] == "CommonChatPromptTemplate")
    next(p for p in prompt["data"]["parameters"] if p["name"] == "human_message")["value"] = human
    result = convert_dbgpt_flow(export, default_registry())
    assert ("trigger.http", "user_input", "llm.prompt_template", "user_input") in _edges(result.document)
    assert [d for d in analyze_flow(result.document, default_registry()).diagnostics if d.severity == "error"] == []


def test_duplicate_node_ids_are_reported_and_left_out() -> None:
    export = _load(FIVE_NODE)
    export["nodes"].append(copy.deepcopy(export["nodes"][0]))
    result = convert_dbgpt_flow(export, default_registry())
    assert len(result.nodes) == 6
    assert result.nodes[-1].status == "unmapped"
    assert result.nodes[-1].reason == "duplicate node id: nodes[0] has the same id (its edges go to that node)"
    mapped = sorted(n.node_id or "" for n in result.nodes if n.status == "mapped")
    assert mapped == sorted(n.id for n in result.document.nodes)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1_000, 50_000])
def test_deep_nesting_is_a_located_error(depth: int) -> None:
    text = THREE_NODE.read_text().replace('"value": false', '"value": ' + "[" * depth + "1" + "]" * depth, 1)
    with pytest.raises(ValidationError, match=f"nested deeper than {MAX_DEPTH} levels at ") as caught:
        convert_dbgpt_flow(text, default_registry())
    if depth < 1_000:  # msgspec decodes it: the error names the JSON path
        path = "$.flow.flow_data.nodes[0].data.parameters[2].value"
        assert caught.value.extra["errors"][0]["path"].startswith(path)
    else:  # past msgspec's own limit: the byte where nesting passes MAX_DEPTH (8 levels lead to the value)
        at = int(caught.value.detail.rsplit(" ", 1)[1])
        assert at == text.index("[" * 10) + MAX_DEPTH - 8


def test_deep_nesting_in_a_decoded_export_is_a_located_error() -> None:
    export = _load(THREE_NODE)
    value: Any = 1
    for _ in range(MAX_DEPTH):
        value = [value]
    export["flow"]["flow_data"]["nodes"][0]["data"]["parameters"][0]["value"] = value
    with pytest.raises(ValidationError, match=r"at \$\.flow\.flow_data\.nodes\[0\]\.data\.parameters\[0\]\.value"):
        convert_dbgpt_flow(export, default_registry())


def test_node_ids_stay_valid_and_unique_for_long_or_repeated_names() -> None:
    export = _load(FIVE_NODE)
    llm = export["nodes"][0]
    twins = [copy.deepcopy(llm) for _ in range(3)]
    for i, twin in enumerate(twins):  # the same flow name and number under other DB-GPT ids
        twin["id"] = f"{llm['id']}{'x' * 300}{i}"
        twin["data"]["name"] = "streaming_llm_operator" + "_very_long" * 30
    export["nodes"] += twins
    result = convert_dbgpt_flow(export, default_registry())
    ids = [n.id for n in result.document.nodes]
    assert len(ids) == len(set(ids)) == 4 + 3
    assert all(len(i) <= 128 for i in ids)
    decode_flow(encode_flow(result.document))  # the saved document validates


@pytest.mark.parametrize(
    ("target", "value", "expected"),
    [
        ("method", "post", "POST"),
        ("method", "POST,GET", None),
        ("method", ["POST"], None),
        ("slug", "/dbgpts/flow/chat/simple_stream_chat", "simple-stream-chat"),
        ("slug", "/chat-data/{dag_id}", "chat-data"),
        ("slug", "/{dag_id}", None),
        ("slug", "/" + "A" * 100, "a" * 63),
        ("response", True, "sse"),
        ("response", False, "json"),
        ("response", None, None),
    ],
)
def test_trigger_params_become_valid_rivulet_values(target: str, value: Any, expected: Any) -> None:
    assert convert_param(target, value) == expected


def test_the_trigger_keeps_the_endpoint_as_its_slug() -> None:
    result = convert_dbgpt_flow(FIVE_NODE.read_bytes(), default_registry())
    trigger = next(n for n in result.document.nodes if n.operator == "trigger.http")
    assert trigger.params["slug"] == "simple-stream-chat"
    assert compile_flow(result.document, default_registry())


def test_an_export_over_the_node_or_edge_limit_is_refused_where() -> None:
    with pytest.raises(ValidationError, match=r"5 nodes, more than the limit of 4 .* at \$\.nodes$"):
        convert_dbgpt_flow(FIVE_NODE.read_bytes(), default_registry(), max_nodes=4)
    with pytest.raises(ValidationError, match=r"2 edges, more than the limit of 1 .*RIVULET_MAX_FLOW_EDGES\) at"):
        convert_dbgpt_flow(THREE_NODE.read_bytes(), default_registry(), max_edges=1)


def test_pass_through_nodes_cannot_multiply_edges_past_the_limit() -> None:
    """Layers of repackaging nodes, each fully wired to the next: contracting them would make 8**6 edges."""
    export = _load(FIVE_NODE)
    trigger = next(n["id"] for n in export["nodes"] if n["data"]["type_name"] == "CommonLLMHttpTrigger")
    composer = next(n["id"] for n in export["nodes"] if n["data"]["type_name"] == "ConversationComposerOperator")
    layers = [
        [f"operator_user_input_parsed_operator___$$___common___$$___v1_{layer * 8 + i}" for i in range(8)]
        for layer in range(6)
    ]
    export["nodes"] += [
        {"id": node, "data": {"name": "user_input_parsed_operator"}} for layer in layers for node in layer
    ]
    pairs = [(trigger, node) for node in layers[0]] + [(node, composer) for node in layers[-1]]
    pairs += [(a, b) for first, second in itertools.pairwise(layers) for a in first for b in second]
    export["edges"] += [{"source": a, "target": b, "source_order": 0, "target_order": 0} for a, b in pairs]
    with pytest.raises(
        ValidationError, match=r"straight through leaves \d+ edges, more than the limit of 5000"
    ) as caught:
        convert_dbgpt_flow(export, default_registry())
    assert caught.value.extra["errors"][0]["path"].startswith("$.nodes[")
