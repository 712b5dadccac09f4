"""Import DB-GPT AWEL flow exports as Rivulet flows, reporting every node that has no equivalent.

Accepted shapes: the export wrapper ``{"flow": {"name", "label", "description", "flow_data": {...}}}``, a bare
flow record with ``flow_data``, and the bare canvas ``{"nodes", "edges", "viewport"}``. Node ids look like
``operator_<name>___$$___<category>___$$___<version>_<n>`` and ``resource_<type_cls>_<n>``; edge handles like
``<node>|outputs|<i>``, ``<node>|inputs|<i>`` and ``<node>|parameters|<i>``.

Nodes are matched by class name or flow name (``rivulet.templates.dbgpt_mappings``). A match whose Rivulet
operator is not installed, every node without a match, and a node whose id repeats an earlier node's, is reported
(with its DB-GPT class) and left out with its edges; resources that only configure another node (a datasource, an
LLM client, a prompt template formatted by its consumer) are folded into that node's params; nodes that only
repackage their input are contracted (their upstream is wired to their downstream).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import msgspec

from rivulet.compiler.flow import Edge, FlowDocument, FlowMetadata, Viewport
from rivulet.lib.exceptions import ValidationError
from rivulet.templates._dbgpt_convert import Converter, DbgptNodeReport, Link, class_of, wire_user_input
from rivulet.templates.dbgpt_mappings import DBGPT_MAPPINGS, USER_INPUT, DbgptMapping, coerce_param

if TYPE_CHECKING:
    from collections.abc import Collection

    from rivulet.registry.registry import OperatorRegistry

__all__ = (
    "DBGPT_MAPPINGS",
    "MAX_DEPTH",
    "USER_INPUT",
    "DbgptImport",
    "DbgptMapping",
    "DbgptNodeReport",
    "convert_dbgpt_flow",
)

MAX_DEPTH = 64
"""The deepest JSON nesting accepted (real exports nest about 10 levels)."""


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
    default: Any = None
    """DB-GPT's default, used when ``value`` is null (as DB-GPT builds the flow)."""
    type_name: str | None = None
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


def _check_depth(raw: object) -> None:
    """Refuse nesting deeper than ``MAX_DEPTH``, naming where (iteratively: no recursion to exhaust)."""
    stack: list[tuple[object, str, int]] = [(raw, "$", 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, dict):
            children = [(v, f"{path}.{k}") for k, v in cast("dict[str, object]", value).items()]
        elif isinstance(value, list):
            children = [(v, f"{path}[{i}]") for i, v in enumerate(cast("list[object]", value))]
        else:
            continue
        if depth > MAX_DEPTH:
            raise _invalid(f"JSON nested deeper than {MAX_DEPTH} levels at {path}", path)
        stack.extend((v, p, depth + 1) for v, p in children)


def _too_deep_at(text: bytes) -> int:
    """The byte offset where ``text`` first opens its ``MAX_DEPTH + 1``-th nested array or object."""
    depth, in_string, escaped = 0, False, False
    for offset, byte in enumerate(text):
        if in_string:
            escaped, in_string = (False, True) if escaped else (byte == 0x5C, byte != 0x22)  # backslash, quote
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > MAX_DEPTH:
                return offset
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return len(text)


def _decode(data: bytes | str | dict[str, Any]) -> object:
    if isinstance(data, dict):
        _check_depth(data)
        return data
    try:
        raw: object = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise _invalid(f"malformed JSON: {exc}", "$") from exc
    except RecursionError as exc:  # msgspec's decoder stops at its own depth limit
        text = data.encode() if isinstance(data, str) else data
        raise _invalid(f"JSON nested deeper than {MAX_DEPTH} levels at byte {_too_deep_at(text)}", "$") from exc
    _check_depth(raw)
    return raw


def _unwrap(raw: object) -> tuple[_Record, _Canvas, str]:
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
        return msgspec.convert(record, _Record), msgspec.convert(canvas, _Canvas), canvas_path
    except msgspec.ValidationError as exc:
        message = str(exc)
        where = message.rsplit(" - at `", 1)[1].rstrip("`") if " - at `" in message else "$"
        located = canvas_path + where.removeprefix("$")
        raise _invalid(f"invalid DB-GPT flow at {located}: {message}", located) from exc


def _links(canvas: _Canvas) -> list[Link]:
    links: list[Link] = []
    for raw in canvas.edges:
        link = Link.of(
            edge_id=raw.id or f"{raw.source}|{raw.target}",
            source=raw.source,
            target=raw.target,
            src=raw.source_handle,
            dst=raw.target_handle,
            src_order=raw.source_order,
            dst_order=raw.target_order,
        )
        links.append(link)
    return links


def _check_size(canvas: _Canvas, path: str, max_nodes: int, max_edges: int) -> None:
    for what, count, limit, setting in (
        ("nodes", len(canvas.nodes), max_nodes, "MAX_FLOW_NODES"),
        ("edges", len(canvas.edges), max_edges, "MAX_FLOW_EDGES"),
    ):
        if count > limit:
            message = f"the export has {count} {what}, more than the limit of {limit} (setting RIVULET_{setting})"
            raise _invalid(f"{message} at {path}.{what}", f"{path}.{what}")


def convert_dbgpt_flow(
    data: bytes | str | dict[str, Any],
    registry: OperatorRegistry,
    *,
    models: Collection[str] | None = None,
    max_nodes: int = 2_000,
    max_edges: int = 5_000,
) -> DbgptImport:
    """Convert a DB-GPT AWEL flow export into a ``rivulet.flow/v1`` document (nothing is stored or run).

    Args:
        data: The export (JSON text or decoded).
        registry: Installed operators; a mapping target missing here is reported.
        models: Configured model names; an explicit DB-GPT model name outside them becomes ``default`` (with a
            note in the report). ``None`` keeps explicit names as they are.
        max_nodes: The most DB-GPT nodes accepted (the server's ``max_flow_nodes``).
        max_edges: The most DB-GPT edges accepted, and Rivulet edges made (``max_flow_edges``).

    Raises:
        ValidationError: The input is not JSON, nests deeper than ``MAX_DEPTH``, is not a DB-GPT flow, or is over
            a size limit; the message locates the problem.
    """
    record, canvas, path = _unwrap(_decode(data))
    _check_size(canvas, path, max_nodes, max_edges)
    converter = Converter(
        registry=registry, models=frozenset(models) if models is not None else None, max_edges=max_edges, path=path
    )
    for index, node in enumerate(canvas.nodes):
        data_ = node.data
        position = node.position or _Point()
        common = [p for p in data_.parameters or [] if p.category != "resource"]
        converter.add_node(
            index=index,
            dbgpt_id=node.id,
            names=class_of(node.id, data_.type_cls, data_.type_name, data_.name),
            label=data_.custom_label or data_.label,
            params={p.name: _value(p) for p in common},
            explicit={p.name: coerce_param(p.value, p.type_name) for p in common},
            position=(position.x, position.y),
        )
    edges, dropped = converter.convert(_links(canvas))
    edges += wire_user_input(converter.document_nodes(), edges)
    view = canvas.viewport
    document = FlowDocument(
        name=(record.label or record.name or "Imported DB-GPT flow")[:200],
        description=record.description or "",
        nodes=converter.document_nodes(),
        edges=_numbered(edges),
        metadata=FlowMetadata(tags=["dbgpt"], source="dbgpt"),
        viewport=Viewport(x=view.x, y=view.y, zoom=view.zoom if view.zoom > 0 else 1.0) if view else None,
    )
    return DbgptImport(document=document, nodes=converter.outcomes, dropped_edges=dropped)


def _value(param: _Param) -> Any:
    """A parameter's value, else its default (old exports store defaults as text: read by ``type_name``)."""
    return coerce_param(param.default if param.value is None else param.value, param.type_name)


def _numbered(edges: list[Edge]) -> list[Edge]:
    return [msgspec.structs.replace(e, id=f"e{i + 1}") for i, e in enumerate(edges)]
