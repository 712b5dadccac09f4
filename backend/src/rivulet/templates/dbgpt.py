"""Import DB-GPT AWEL flow exports as Rivulet flows, reporting every node that has no equivalent.

Accepted shapes: the export wrapper ``{"flow": {"name", "label", "description", "flow_data": {...}}}``, a bare
flow record with ``flow_data``, and the bare canvas ``{"nodes", "edges", "viewport"}``. Node ids look like
``operator_<name>___$$___<category>___$$___<version>_<n>`` and ``resource_<type_cls>_<n>``; edge handles like
``<node>|outputs|<i>``, ``<node>|inputs|<i>`` and ``<node>|parameters|<i>``.

Operators and resources are matched by their class name (``data.type_name``, e.g. ``HOStreamingLLMOperator``)
or their flow name (``data.name``). A match whose Rivulet operator is not installed, and every node without a
match, is reported (with its DB-GPT class) and left out with its edges; resources that only configure another
node (a datasource, an LLM client) are folded into that node's params.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import msgspec

from rivulet.compiler.flow import Edge, FlowDocument, FlowMetadata, Node, Position, Viewport
from rivulet.lib.exceptions import ValidationError
from rivulet.registry.registry import OperatorRegistry

__all__ = ("DBGPT_MAPPINGS", "DbgptImport", "DbgptMapping", "DbgptNodeReport", "convert_dbgpt_flow")

_OPERATOR_ID = re.compile(r"^operator_(?P<name>.+?)___\$\$___(?P<category>.+?)___\$\$___(?P<version>.+)_(?P<n>\d+)$")
_RESOURCE_ID = re.compile(r"^resource_(?P<cls>.+)_(?P<n>\d+)$")
_HANDLE = re.compile(r"^(?P<node>.+)\|(?P<kind>inputs|outputs|parameters)\|(?P<index>\d+)$")


@dataclass(frozen=True, slots=True)
class DbgptMapping:
    """How one DB-GPT class becomes a Rivulet node (or a param of the node it configures)."""

    operator: str
    """Target Rivulet operator id."""
    inputs: tuple[str | None, ...] = ()
    """Rivulet input port for DB-GPT input index ``i`` (``None``: the input is dropped)."""
    outputs: tuple[str | None, ...] = ()
    """Rivulet output port for DB-GPT output index ``i``."""
    params: dict[str, str] = field(default_factory=dict[str, str])
    """DB-GPT parameter name → Rivulet param name."""
    fixed: dict[str, Any] = field(default_factory=dict[str, Any])
    """Params always set on the Rivulet node."""
    as_input: str | None = None
    """A resource that becomes a node: the input port of the consumer its ``parameters`` edge feeds."""
    fold_into: str | None = None
    """A resource that is not a node: the consumer param that receives its label/name instead."""


USER_INPUT = "user_input"
"""DB-GPT fills a prompt template's ``{{ user_input }}`` from the request; Rivulet wires it to the trigger's field."""

_LLM = DbgptMapping(
    # input 0 is DB-GPT's whole request body (the prompt comes from the prompt template resource instead);
    # input 1 is extra context (knowledge, schema), which Rivulet feeds through the prompt template's variables
    operator="llm.chat",
    inputs=(None, None),
    outputs=("message",),
    params={"model": "model"},
)
_TRIGGER = DbgptMapping(
    operator="trigger.http",
    outputs=(None, USER_INPUT),
    params={"methods": "method"},
    fixed={"fields": [{"name": USER_INPUT, "type": "Text", "description": "The user's message."}]},
)

DBGPT_MAPPINGS: dict[str, DbgptMapping] = {
    # triggers
    "CommonLLMHttpTrigger": _TRIGGER,
    "DictHttpTrigger": DbgptMapping(operator="trigger.http", outputs=("body",)),
    "RequestHttpTrigger": DbgptMapping(operator="trigger.http", outputs=("body",)),
    # LLM chat (streaming or not: Rivulet streams tokens from llm.chat either way)
    "HOStreamingLLMOperator": _LLM,
    "HOLLMOperator": _LLM,
    "StreamingLLMOperator": _LLM,
    "LLMOperator": _LLM,
    # prompt templates
    "CommonChatPromptTemplate": DbgptMapping(
        operator="llm.prompt_template",
        outputs=("prompt",),
        params={"human_message": "template", "system_message": "system_prompt"},
        as_input="prompt",
    ),
    "PromptBuilderOperator": DbgptMapping(operator="llm.prompt_template", outputs=("prompt",)),
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
    "OpenAILLMClient": DbgptMapping(operator="", fold_into="model"),
    "DefaultLLMClient": DbgptMapping(operator="", fold_into="model"),
    # outputs
    "OpenAIStreamingOutputOperator": DbgptMapping(
        operator="core.output", inputs=("value",), outputs=("value",), fixed={"name": "answer"}
    ),
    "StringToInteger": DbgptMapping(
        operator="core.convert", inputs=("value",), outputs=("value",), fixed={"to": "int"}
    ),
}
"""DB-GPT class name → mapping. ``CodeMapOperator`` is deliberately absent: Rivulet runs no user code."""


class DbgptNodeReport(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What became of one DB-GPT node."""

    dbgpt_id: str
    dbgpt_class: str
    """``type_cls`` (e.g. ``dbgpt.app.operators.llm.HOStreamingLLMOperator``)."""
    label: str
    status: Literal["mapped", "folded", "unmapped"]
    node_id: str | None = None
    """The Rivulet node id (mapped nodes)."""
    operator: str | None = None
    """The Rivulet operator it maps (or would map) to."""
    reason: str | None = None


class DbgptImport(msgspec.Struct, frozen=True, kw_only=True):
    """The converted flow and a node-by-node report."""

    document: FlowDocument
    nodes: list[DbgptNodeReport]
    dropped_edges: list[str]
    """DB-GPT edge ids left out because an end was not mapped."""

    @property
    def unmapped(self) -> list[DbgptNodeReport]:
        return [n for n in self.nodes if n.status == "unmapped"]


def _invalid(message: str, path: str) -> ValidationError:
    return ValidationError(message, extra={"errors": [{"path": path, "message": message}]})


class _Loose(msgspec.Struct, frozen=True, kw_only=True):
    """DB-GPT records carry many fields Rivulet does not need; unknown fields are ignored."""


class _Param(_Loose, frozen=True, kw_only=True):
    name: str = ""
    value: Any = None
    category: str | None = None


class _Data(_Loose, frozen=True, kw_only=True):
    label: str | None = None
    custom_label: str | None = None
    name: str | None = None
    type_name: str | None = None
    type_cls: str | None = None
    parameters: list[_Param] | None = None


class _Point(_Loose, frozen=True, kw_only=True):
    x: float = 0.0
    y: float = 0.0
    zoom: float = 1.0


class _Node(_Loose, frozen=True, kw_only=True):
    id: str
    position: _Point | None = None
    data: _Data = msgspec.field(default_factory=_Data)


class _Edge(_Loose, frozen=True, kw_only=True):
    id: str | None = None
    source: str
    target: str
    source_order: int = 0
    target_order: int = 0
    source_handle: str | None = None
    target_handle: str | None = None


class _Canvas(_Loose, frozen=True, kw_only=True):
    nodes: list[_Node]
    edges: list[_Edge] = msgspec.field(default_factory=list[_Edge])
    viewport: _Point | None = None


class _Record(_Loose, frozen=True, kw_only=True):
    name: str | None = None
    label: str | None = None
    description: str | None = None


def _unwrap(raw: object) -> tuple[_Record, _Canvas]:
    if not isinstance(raw, dict):
        raise _invalid("a DB-GPT flow export must be a JSON object", "$")
    top = cast("dict[str, Any]", raw)
    record, path = (top["flow"], "$.flow") if "flow" in top else (top, "$")
    if not isinstance(record, dict):
        raise _invalid(f"{path} must be an object", path)
    record = cast("dict[str, Any]", record)
    canvas, canvas_path = (record["flow_data"], f"{path}.flow_data") if "flow_data" in record else (record, path)
    if not isinstance(canvas, dict) or "nodes" not in canvas:
        raise _invalid(f"not a DB-GPT flow: expected nodes/edges at {canvas_path}", canvas_path)
    try:
        return msgspec.convert(record, _Record), msgspec.convert(canvas, _Canvas)
    except msgspec.ValidationError as exc:
        message = str(exc)
        where = message.rsplit(" - at `", 1)[1].rstrip("`") if " - at `" in message else "$"
        located = canvas_path + where.removeprefix("$")
        raise _invalid(f"invalid DB-GPT flow at {located}: {message}", located) from exc


def _class_of(node: _Node) -> tuple[str, str]:
    """``(type_cls, short class name)`` from the node data, falling back on the id."""
    type_cls = node.data.type_cls or ""
    if not type_cls and (m := _RESOURCE_ID.match(node.id)):
        type_cls = m.group("cls")
    short = node.data.type_name or type_cls.rsplit(".", 1)[-1]
    if not short and (m := _OPERATOR_ID.match(node.id)):
        short = m.group("name")
    return type_cls or short, short


def _params(data: _Data, mapping: DbgptMapping) -> dict[str, Any]:
    params: dict[str, Any] = dict(mapping.fixed)
    for param in data.parameters or []:
        if param.name in mapping.params and param.value is not None and param.category != "resource":
            params[mapping.params[param.name]] = param.value
    return params


def _node_id(dbgpt_id: str, short: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", short.lower()).strip("_") or "node"
    m = _OPERATOR_ID.match(dbgpt_id) or _RESOURCE_ID.match(dbgpt_id)
    candidate = f"{base}_{m.group('n')}" if m else base
    while candidate in used:
        candidate += "_"
    used.add(candidate)
    return candidate


def _folded_value(data: _Data, fallback: str) -> str:
    for param in data.parameters or []:
        if param.name in ("name", "model", "datasource", "db_name") and param.value:
            return str(param.value)
    return fallback


@dataclass(slots=True)
class _Converter:
    registry: OperatorRegistry
    nodes: dict[str, Node] = field(default_factory=dict[str, Node])
    mappings: dict[str, DbgptMapping] = field(default_factory=dict[str, DbgptMapping])
    reports: list[DbgptNodeReport] = field(default_factory=list[DbgptNodeReport])
    folded: dict[str, tuple[DbgptMapping, str]] = field(default_factory=dict[str, tuple[DbgptMapping, str]])
    used: set[str] = field(default_factory=set[str])

    def node(self, raw: _Node) -> None:
        data = raw.data
        type_cls, short = _class_of(raw)
        label = data.custom_label or data.label or short
        mapping = DBGPT_MAPPINGS.get(short) or DBGPT_MAPPINGS.get(data.name or "")
        report = DbgptNodeReport(dbgpt_id=raw.id, dbgpt_class=type_cls, label=label, status="unmapped")
        if mapping is None:
            self.reports.append(msgspec.structs.replace(report, reason="no Rivulet equivalent"))
            return
        if mapping.fold_into is not None:
            self.folded[raw.id] = (mapping, _folded_value(data, label))
            self.reports.append(
                msgspec.structs.replace(report, status="folded", reason=f"param {mapping.fold_into} of its consumers")
            )
            return
        if mapping.operator not in self.registry:
            reason = f"maps to {mapping.operator}, which is not installed"
            self.reports.append(msgspec.structs.replace(report, operator=mapping.operator, reason=reason))
            return
        position = raw.position or _Point()
        node_id = _node_id(raw.id, data.name or short, self.used)
        self.nodes[raw.id] = Node(
            id=node_id,
            operator=mapping.operator,
            label=label,
            params=_params(data, mapping),
            position=Position(x=position.x, y=position.y),
        )
        self.mappings[raw.id] = mapping
        self.reports.append(
            msgspec.structs.replace(report, status="mapped", node_id=node_id, operator=mapping.operator)
        )

    def fold(self, raw: _Edge) -> bool:
        """Apply a resource edge to its consumer's params; ``True`` when the edge was a folded resource."""
        if raw.source not in self.folded or raw.target not in self.nodes:
            return False
        mapping, value = self.folded[raw.source]
        assert mapping.fold_into is not None
        node = self.nodes[raw.target]
        self.nodes[raw.target] = msgspec.structs.replace(node, params={**node.params, mapping.fold_into: value})
        return True

    def edge(self, raw: _Edge, index: int) -> Edge | None:
        if raw.source not in self.nodes or raw.target not in self.nodes:
            return None
        src = _HANDLE.match(raw.source_handle or "")
        dst = _HANDLE.match(raw.target_handle or "")
        src_index = int(src.group("index")) if src else raw.source_order
        dst_index = int(dst.group("index")) if dst else raw.target_order
        outputs, target = self.mappings[raw.source].outputs, self.mappings[raw.target]
        source_port = outputs[src_index] if src_index < len(outputs) else None
        if dst is not None and dst.group("kind") == "parameters":
            target_port = self.mappings[raw.source].as_input
        else:
            target_port = target.inputs[dst_index] if dst_index < len(target.inputs) else None
        if source_port is None or target_port is None:
            return None
        return Edge(
            id=f"e{index + 1}",
            source=self.nodes[raw.source].id,
            source_port=source_port,
            target=self.nodes[raw.target].id,
            target_port=target_port,
        )


def _wire_user_input(nodes: list[Node], edges: list[Edge]) -> list[Edge]:
    """Connect the HTTP trigger's ``user_input`` to every prompt template that reads ``{{ user_input }}``."""
    triggers = [n for n in nodes if n.operator == "trigger.http" and USER_INPUT in str(n.params.get("fields"))]
    if len(triggers) != 1:
        return []
    fed = {(e.target, e.target_port) for e in edges}
    wired: list[Edge] = []
    for node in nodes:
        template = str(node.params.get("template", ""))
        uses = re.search(r"\{\{\s*" + USER_INPUT + r"\b", template) is not None
        if node.operator == "llm.prompt_template" and uses and (node.id, USER_INPUT) not in fed:
            wired.append(
                Edge(
                    id=f"user_input_{len(wired) + 1}",
                    source=triggers[0].id,
                    source_port=USER_INPUT,
                    target=node.id,
                    target_port=USER_INPUT,
                )
            )
    return wired


def convert_dbgpt_flow(data: bytes | str | dict[str, Any], registry: OperatorRegistry) -> DbgptImport:
    """Convert a DB-GPT AWEL flow export into a ``rivulet.flow/v1`` document (nothing is stored or run).

    Raises:
        ValidationError: The input is not JSON or not a DB-GPT flow; the message locates the problem.
    """
    try:
        raw: object = data if isinstance(data, dict) else msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise _invalid(f"malformed JSON: {exc}", "$") from exc
    record, canvas = _unwrap(raw)
    converter = _Converter(registry=registry)
    for node in canvas.nodes:
        converter.node(node)
    edges: list[Edge] = []
    dropped: list[str] = []
    for index, raw_edge in enumerate(canvas.edges):
        if converter.fold(raw_edge):
            continue
        converted = converter.edge(raw_edge, index)
        if converted is None:
            dropped.append(raw_edge.id or f"{raw_edge.source}|{raw_edge.target}")
        else:
            edges.append(converted)
    edges += _wire_user_input(list(converter.nodes.values()), edges)
    view = canvas.viewport
    document = FlowDocument(
        name=(record.label or record.name or "Imported DB-GPT flow")[:200],
        description=record.description or "",
        nodes=list(converter.nodes.values()),
        edges=edges,
        metadata=FlowMetadata(tags=["dbgpt"], source="dbgpt"),
        viewport=Viewport(x=view.x, y=view.y, zoom=view.zoom if view.zoom > 0 else 1.0) if view else None,
    )
    return DbgptImport(document=document, nodes=converter.reports, dropped_edges=dropped)
