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
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from rivulet.compiler.flow import Edge, FlowDocument, FlowMetadata, Node, Position, Viewport
from rivulet.lib.exceptions import ValidationError

if TYPE_CHECKING:
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


_LLM = DbgptMapping(
    # input 0 is DB-GPT's whole request body: in Rivulet the prompt comes from the prompt template resource
    operator="llm.chat", inputs=(None, "context"), outputs=("text",), params={"model": "model"}
)
_TRIGGER = DbgptMapping(operator="trigger.http", outputs=("body", "text"), params={"methods": "method"})

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
        operator="llm.prompt_template", outputs=("text",), params={"human_message": "template",
                                                                   "system_message": "system"},
        as_input="prompt",
    ),  # fmt: skip
    "PromptBuilderOperator": DbgptMapping(operator="llm.prompt_template", inputs=("values",), outputs=("text",)),
    # knowledge retrieval
    "HOKnowledgeOperator": DbgptMapping(
        operator="rag.retrieve", inputs=("query",), outputs=("context",), params={"knowledge_space": "collection",
                                                                                 "top_k": "top_k"},
    ),  # fmt: skip
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
    "StringToInteger": DbgptMapping(operator="core.convert", inputs=("value",), outputs=("value",),
                                    fixed={"to": "int"}),  # fmt: skip
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


def _unwrap(raw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    if not isinstance(raw, dict):
        raise _invalid("a DB-GPT flow export must be a JSON object", "$")
    record: dict[str, Any] = raw.get("flow", raw)  # pyright: ignore[reportUnknownVariableType,reportUnknownMemberType]
    if not isinstance(record, dict):
        raise _invalid("$.flow must be an object", "$.flow")
    canvas: Any = record.get("flow_data", record)  # pyright: ignore[reportUnknownMemberType]
    if not isinstance(canvas, dict) or not isinstance(canvas.get("nodes"), list):  # pyright: ignore[reportUnknownMemberType]
        raise _invalid("not a DB-GPT flow: expected nodes/edges in $.flow.flow_data or at the top level", "$")
    return record, canvas  # pyright: ignore[reportUnknownVariableType]


def _class_of(node: dict[str, Any]) -> tuple[str, str]:
    """``(type_cls, short class name)`` from the node data, falling back on the id."""
    data: dict[str, Any] = node.get("data") or {}
    type_cls = str(data.get("type_cls") or "")
    node_id = str(node.get("id", ""))
    if not type_cls and (m := _RESOURCE_ID.match(node_id)):
        type_cls = m.group("cls")
    short = str(data.get("type_name") or type_cls.rsplit(".", 1)[-1])
    if not short and (m := _OPERATOR_ID.match(node_id)):
        short = m.group("name")
    return type_cls or short, short


def _params(data: dict[str, Any], mapping: DbgptMapping) -> dict[str, Any]:
    params: dict[str, Any] = dict(mapping.fixed)
    for param in data.get("parameters") or []:
        name = param.get("name")
        value = param.get("value")
        if name in mapping.params and value is not None and param.get("category") != "resource":
            params[mapping.params[name]] = value
    return params


def _node_id(dbgpt_id: str, short: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", short.lower()).strip("_") or "node"
    m = _OPERATOR_ID.match(dbgpt_id) or _RESOURCE_ID.match(dbgpt_id)
    candidate = f"{base}_{m.group('n')}" if m else base
    while candidate in used:
        candidate += "_"
    used.add(candidate)
    return candidate


@dataclass(slots=True)
class _Converter:
    registry: OperatorRegistry
    nodes: dict[str, Node] = field(default_factory=dict[str, Node])
    mappings: dict[str, DbgptMapping] = field(default_factory=dict[str, DbgptMapping])
    reports: list[DbgptNodeReport] = field(default_factory=list[DbgptNodeReport])
    folded: dict[str, tuple[DbgptMapping, str]] = field(default_factory=dict[str, tuple[DbgptMapping, str]])
    used: set[str] = field(default_factory=set[str])

    def node(self, raw: dict[str, Any]) -> None:
        dbgpt_id = str(raw.get("id", ""))
        data: dict[str, Any] = raw.get("data") or {}
        type_cls, short = _class_of(raw)
        label = str(data.get("custom_label") or data.get("label") or short)
        mapping = DBGPT_MAPPINGS.get(short) or DBGPT_MAPPINGS.get(str(data.get("name", "")))
        report = {"dbgpt_id": dbgpt_id, "dbgpt_class": type_cls, "label": label}
        if mapping is None:
            reason = "no Rivulet equivalent"
            self.reports.append(DbgptNodeReport(**report, status="unmapped", reason=reason))
            return
        if mapping.fold_into is not None:
            value = next((p.get("value") for p in data.get("parameters") or [] if p.get("name") in ("name", "model",
                          "datasource", "db_name") and p.get("value")), None) or label  # fmt: skip
            self.folded[dbgpt_id] = (mapping, str(value))
            self.reports.append(DbgptNodeReport(**report, status="folded", reason=f"param {mapping.fold_into}"))
            return
        if mapping.operator not in self.registry:
            reason = f"maps to {mapping.operator}, which is not installed"
            self.reports.append(DbgptNodeReport(**report, status="unmapped", operator=mapping.operator, reason=reason))
            return
        position = raw.get("position") or {}
        node_id = _node_id(dbgpt_id, str(data.get("name") or short), self.used)
        self.nodes[dbgpt_id] = Node(
            id=node_id, operator=mapping.operator, label=label, params=_params(data, mapping),
            position=Position(x=float(position.get("x", 0.0)), y=float(position.get("y", 0.0))),
        )  # fmt: skip
        self.mappings[dbgpt_id] = mapping
        self.reports.append(DbgptNodeReport(**report, status="mapped", node_id=node_id, operator=mapping.operator))

    def edge(self, raw: dict[str, Any], index: int) -> Edge | None:
        source, target = str(raw.get("source", "")), str(raw.get("target", ""))
        src = _HANDLE.match(str(raw.get("source_handle", ""))) or None
        dst = _HANDLE.match(str(raw.get("target_handle", ""))) or None
        src_index = int(src.group("index")) if src else int(raw.get("source_order", 0))
        dst_kind = dst.group("kind") if dst else "inputs"
        dst_index = int(dst.group("index")) if dst else int(raw.get("target_order", 0))
        if source in self.folded and target in self.nodes:
            mapping, value = self.folded[source]
            assert mapping.fold_into is not None
            node = self.nodes[target]
            self.nodes[target] = msgspec.structs.replace(node, params={**node.params, mapping.fold_into: value})
            return None
        if source not in self.nodes or target not in self.nodes:
            return None
        out_ports, in_map = self.mappings[source].outputs, self.mappings[target]
        source_port = out_ports[src_index] if src_index < len(out_ports) else None
        if dst_kind == "parameters":
            target_port = self.mappings[source].as_input
        else:
            target_port = in_map.inputs[dst_index] if dst_index < len(in_map.inputs) else None
        if source_port is None or target_port is None:
            return None
        return Edge(id=f"e{index + 1}", source=self.nodes[source].id, source_port=source_port,
                    target=self.nodes[target].id, target_port=target_port)  # fmt: skip


def convert_dbgpt_flow(data: bytes | str | dict[str, Any], registry: OperatorRegistry) -> DbgptImport:
    """Convert a DB-GPT AWEL flow export into a ``rivulet.flow/v1`` document (nothing is stored or run).

    Raises:
        ValidationError: The input is not JSON or not a DB-GPT flow.
    """
    try:
        raw: Any = data if isinstance(data, dict) else msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise _invalid(f"malformed JSON: {exc}", "$") from exc
    record, canvas = _unwrap(raw)
    converter = _Converter(registry=registry)
    for index, node in enumerate(canvas["nodes"]):
        if not isinstance(node, dict) or "id" not in node:
            raise _invalid(f"node {index} has no id", f"$.nodes[{index}]")
        converter.node(node)  # pyright: ignore[reportUnknownArgumentType]
    edges: list[Edge] = []
    dropped: list[str] = []
    for index, edge in enumerate(canvas.get("edges") or []):
        converted = converter.edge(edge, index)
        if converted is not None:
            edges.append(converted)
        elif not (edge.get("source") in converter.folded and edge.get("target") in converter.nodes):
            dropped.append(str(edge.get("id", f"edge {index}")))
    viewport = canvas.get("viewport") or {}
    document = FlowDocument(
        name=str(record.get("label") or record.get("name") or "Imported DB-GPT flow")[:200],
        description=str(record.get("description") or ""),
        nodes=list(converter.nodes.values()),
        edges=edges,
        metadata=FlowMetadata(tags=["dbgpt"], source="dbgpt"),
        viewport=Viewport(x=float(viewport.get("x", 0.0)), y=float(viewport.get("y", 0.0)),
                          zoom=float(viewport.get("zoom", 1.0)) or 1.0) if viewport else None,
    )  # fmt: skip
    return DbgptImport(document=document, nodes=converter.reports, dropped_edges=dropped)
