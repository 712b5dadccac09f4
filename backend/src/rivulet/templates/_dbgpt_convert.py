"""The DB-GPT canvas → Rivulet nodes and edges (the decoding and the public API live in ``dbgpt.py``).

Order of work: every node is looked up (duplicates, missing operators and nodes without an equivalent are
reported and left out); a prompt template resource is folded into its consumer when that consumer formats it
(``llm.prompt_template``), else it becomes a node of its own; nodes that only repackage one input are contracted;
then each remaining DB-GPT edge becomes a port edge, a folded param, or is dropped, and the pseudo ports of the
higher-order LLM operators are resolved against the prompt template attached to them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import msgspec

from rivulet.compiler.flow import Edge, Node, Position
from rivulet.lib.exceptions import ValidationError
from rivulet.registry.registry import OperatorRegistry
from rivulet.templates.dbgpt_mappings import (
    CONTEXT,
    DBGPT_FLOW_NAMES,
    DBGPT_MAPPINGS,
    REQUEST,
    UNMAPPED_REASONS,
    USER_INPUT,
    DbgptMapping,
    convert_param,
    prompt_params,
)

__all__ = ("Converter", "DbgptNodeReport", "Link", "Names", "class_of", "wire_user_input")

_OPERATOR_ID = re.compile(r"^operator_(?P<name>.+?)___\$\$___(?P<category>.+?)___\$\$___(?P<version>.+)_(?P<n>\d+)$")
_RESOURCE_ID = re.compile(r"^resource_(?P<cls>.+)_(?P<n>\d+)$")
_HANDLE = re.compile(r"^(?P<node>.+)\|(?P<kind>inputs|outputs|parameters)\|(?P<index>\d+)$")
_USER_KEY_PARAMS = ("human_message_key", "user_message_key", "key")
"""Params naming the template variable that receives the user's message."""


NodeStatus = Literal["mapped", "folded", "unmapped"]


class DbgptNodeReport(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What became of one DB-GPT node."""

    dbgpt_id: str
    dbgpt_class: str
    """``type_cls`` (e.g. ``dbgpt_app.operators.llm.HOStreamingLLMOperator``), else the class or flow name."""
    label: str
    status: NodeStatus
    node_id: str | None = None
    """The Rivulet node id (mapped nodes)."""
    operator: str | None = None
    """The Rivulet operator it maps (or would map) to."""
    reason: str | None = None


class Names(NamedTuple):
    shown: str
    """For the report: ``type_cls``, else the class name, else the flow name."""
    short: str
    """The class name (``HOStreamingLLMOperator``), when known."""
    flow_name: str
    """The flow name (``higher_order_streaming_llm_operator``), when known."""


def class_of(dbgpt_id: str, type_cls: str | None, type_name: str | None, name: str | None) -> Names:
    """A node's names from its data, falling back on its id (``operator_<name>…``, ``resource_<type_cls>_<n>``)."""
    cls = type_cls or ""
    if not cls and (m := _RESOURCE_ID.match(dbgpt_id)):
        cls = m.group("cls")
    flow_name = name or ""
    if not flow_name and (m := _OPERATOR_ID.match(dbgpt_id)):
        flow_name = m.group("name")
    short = type_name or cls.rsplit(".", 1)[-1] or DBGPT_FLOW_NAMES.get(flow_name, "")
    return Names(shown=cls or short or flow_name or "unknown", short=short, flow_name=flow_name)


@dataclass(frozen=True, slots=True)
class Link:
    """One DB-GPT edge (or a chain of them through contracted nodes), by DB-GPT node id and port index."""

    source: str
    out: int
    target: str
    kind: str
    """``inputs`` or ``parameters``."""
    index: int
    origins: tuple[str, ...]
    """The DB-GPT edge ids it stands for."""

    @classmethod
    def of(
        cls,
        *,
        edge_id: str,
        source: str,
        target: str,
        src: str | None,
        dst: str | None,
        src_order: int,
        dst_order: int,
    ) -> Link:
        s, d = _HANDLE.match(src or ""), _HANDLE.match(dst or "")
        return cls(
            source=source,
            out=int(s.group("index")) if s else src_order,
            target=target,
            kind=d.group("kind") if d else "inputs",
            index=int(d.group("index")) if d else dst_order,
            origins=(edge_id,),
        )


@dataclass(slots=True)
class _Entry:
    index: int
    dbgpt_id: str
    names: Names
    label: str
    params: dict[str, Any]
    position: tuple[float, float]
    mapping: DbgptMapping | None = None


class _Pending(NamedTuple):
    source: str
    source_port: str
    target: str
    target_port: str
    origins: tuple[str, ...]


def _node_base(names: Names) -> str:
    return re.sub(r"[^a-z0-9]+", "_", (names.flow_name or names.short).lower())[:100].strip("_") or "node"


def _reads(template: Any, variable: str) -> bool:
    return re.search(r"\{\{\s*" + variable + r"\b", str(template or "")) is not None


@dataclass(slots=True)
class Converter:
    """Collects the nodes, then converts the edges; ``outcomes`` is the report, in DB-GPT node order."""

    registry: OperatorRegistry
    models: frozenset[str] | None = None
    max_edges: int = 5_000
    """The most links contracting pass-through nodes may leave (each pair of their edges becomes one)."""
    path: str = "$"
    """JSON path of the canvas in the export (for errors)."""
    entries: dict[str, _Entry] = field(default_factory=dict[str, _Entry])
    nodes: dict[str, Node] = field(default_factory=dict[str, Node])
    outcomes: list[DbgptNodeReport] = field(default_factory=list[DbgptNodeReport])
    _duplicates: list[_Entry] = field(default_factory=list[_Entry])
    _used: set[str] = field(default_factory=set[str])

    def add_node(
        self,
        *,
        index: int,
        dbgpt_id: str,
        names: Names,
        label: str | None,
        params: dict[str, Any],
        position: tuple[float, float],
    ) -> None:
        mapping = DBGPT_MAPPINGS.get(names.short) or DBGPT_MAPPINGS.get(DBGPT_FLOW_NAMES.get(names.flow_name, ""))
        shown = label or names.short or names.flow_name or dbgpt_id
        entry = _Entry(index, dbgpt_id, names, shown, params, position, mapping)
        if dbgpt_id in self.entries:
            self._duplicates.append(entry)
        else:
            self.entries[dbgpt_id] = entry

    def document_nodes(self) -> list[Node]:
        return list(self.nodes.values())

    # nodes

    def _report(self, entry: _Entry, status: NodeStatus, **fields: Any) -> DbgptNodeReport:
        return DbgptNodeReport(
            dbgpt_id=entry.dbgpt_id, dbgpt_class=entry.names.shown, label=entry.label, status=status, **fields
        )

    def _user_keys(self) -> frozenset[str]:
        """Template variables this flow fills with the user's message (besides ``user_input`` and ``messages``)."""
        keys = {
            entry.params.get(name)
            for entry in self.entries.values()
            for name in _USER_KEY_PARAMS
            if name != "key" or entry.names.short == "UserInputParsedOperator"
        }
        return frozenset(k for k in keys if isinstance(k, str) and k)

    def _place(self, entry: _Entry, mapping: DbgptMapping, params: dict[str, Any]) -> DbgptNodeReport:
        if mapping.operator not in self.registry:
            reason = f"maps to {mapping.operator}, which is not installed"
            return self._report(entry, "unmapped", operator=mapping.operator, reason=reason)
        params = {**mapping.fixed, **params}
        note = None
        model = params.get("model")
        if isinstance(model, str) and self.models is not None and model not in {*self.models, "default"}:
            note = f"model {model!r} is not configured here: the default model answers"
            params["model"] = "default"
        self._used.add(node_id := self._free_id(entry))
        x, y = entry.position
        self.nodes[entry.dbgpt_id] = Node(
            id=node_id, operator=mapping.operator, label=entry.label, params=params, position=Position(x=x, y=y)
        )
        return self._report(entry, "mapped", node_id=node_id, operator=mapping.operator, reason=note)

    def _free_id(self, entry: _Entry) -> str:
        """``<flow name>_<n>`` (n from the DB-GPT id), unique and within the 128 characters of a node id."""
        base = _node_base(entry.names)
        node_id = f"{base}_{m.group('n')[:20]}" if (m := _numbered(entry.dbgpt_id)) else base
        number = 2
        while node_id in self._used:
            node_id = f"{base}_{m.group('n')[:20] + '_' if m else ''}{number}"
            number += 1
        return node_id

    def _own_params(self, entry: _Entry, mapping: DbgptMapping) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for name, target in mapping.params.items():
            value = convert_param(target, entry.params.get(name))
            if value is not None:
                params[target] = value
        return params

    def _consumers(self, dbgpt_id: str, links: list[Link]) -> list[str]:
        return [link.target for link in links if link.source == dbgpt_id and link.kind == "parameters"]

    def _decide(self, entry: _Entry, links: list[Link]) -> DbgptNodeReport:
        mapping = entry.mapping
        if mapping is None:
            reason = UNMAPPED_REASONS.get(entry.names.short, "no Rivulet equivalent")
            return self._report(entry, "unmapped", reason=reason)
        if mapping.passes is not None:
            return self._report(entry, "folded", reason="only repackages its input: wired straight through")
        if mapping.fold_into == "prompt":
            consumers = self._consumers(entry.dbgpt_id, links)
            if not consumers:
                return self._report(entry, "unmapped", operator=mapping.operator, reason="no node uses it")
            params = prompt_params(entry.params, self._user_keys())
            if all(self._formats(c) for c in consumers):
                return self._report(entry, "folded", reason="param template/system_prompt of its consumers")
            return self._place(entry, mapping, params)
        if mapping.fold_into is not None:
            return self._report(entry, "folded", reason=f"param {mapping.fold_into} of its consumers")
        return self._place(entry, mapping, self._own_params(entry, mapping))

    def _formats(self, dbgpt_id: str) -> bool:
        """Whether a node formats its prompt template itself (the template folds into its params)."""
        consumer = self.entries.get(dbgpt_id)
        return (
            consumer is not None
            and consumer.mapping is not None
            and consumer.mapping.operator == ("llm.prompt_template")
            and consumer.mapping.fold_into is None
        )

    # edges

    def convert(self, links: list[Link]) -> tuple[list[Edge], list[str]]:
        """Place the nodes, then turn ``links`` into edges; returns the edges and the dropped DB-GPT edge ids."""
        reports = {e.dbgpt_id: self._decide(e, links) for e in self.entries.values()}
        ordered = [(e.index, reports[e.dbgpt_id]) for e in self.entries.values()]
        for dup in self._duplicates:
            first = self.entries[dup.dbgpt_id].index
            reason = f"duplicate node id: nodes[{first}] has the same id (its edges go to that node)"
            ordered.append((dup.index, self._report(dup, "unmapped", reason=reason)))
        self.outcomes = [r for _, r in sorted(ordered, key=lambda pair: pair[0])]
        pending, used = self._resolve(self._contract(links))
        edges: dict[tuple[str, str, str, str], Edge] = {}
        for p in self._pseudo(pending):
            used.update(p.origins)
            key = (p.source, p.source_port, p.target, p.target_port)
            edges.setdefault(
                key, Edge(id=f"e{len(edges) + 1}", source=key[0], source_port=key[1], target=key[2], target_port=key[3])
            )
        dropped = list(dict.fromkeys(o for link in links for o in link.origins if o not in used))
        return list(edges.values()), dropped

    def _contract(self, links: list[Link]) -> list[Link]:
        for dbgpt_id, entry in self.entries.items():
            passes = entry.mapping.passes if entry.mapping is not None else None
            if passes is None:
                continue
            into = [x for x in links if x.target == dbgpt_id and x.source != dbgpt_id]
            out = [x for x in links if x.source == dbgpt_id and x.target != dbgpt_id]
            through = [
                Link(a.source, a.out, b.target, b.kind, b.index, a.origins + b.origins)
                for a in into
                if a.kind == "inputs" and a.index == passes
                for b in out
            ]
            links = [x for x in links if dbgpt_id not in (x.source, x.target)] + through
            if len(links) > self.max_edges:
                where = f"{self.path}.nodes[{entry.index}]"
                message = (
                    f"wiring {entry.names.shown} straight through leaves {len(links)} edges, more than the limit of "
                    f"{self.max_edges} (setting RIVULET_MAX_FLOW_EDGES)"
                )
                raise ValidationError(f"{message} at {where}", extra={"errors": [{"path": where, "message": message}]})
        return links

    def _resolve(self, links: list[Link]) -> tuple[list[_Pending], set[str]]:
        pending: list[_Pending] = []
        used: set[str] = set()
        for link in links:
            source = self.entries.get(link.source)
            if source is not None and link.source not in self.nodes and source.mapping is not None:
                if source.mapping.fold_into is not None and self._fold(source, link):
                    used.update(link.origins)
                continue
            if link.source not in self.nodes or link.target not in self.nodes:
                continue
            src_map, dst_map = self.entries[link.source].mapping, self.entries[link.target].mapping
            assert src_map is not None
            assert dst_map is not None
            src_port = src_map.outputs[link.out] if link.out < len(src_map.outputs) else None
            if link.kind == "parameters":
                dst_port = src_map.as_input
            else:
                dst_port = dst_map.inputs[link.index] if link.index < len(dst_map.inputs) else None
            if src_port is not None and dst_port is not None:
                pending.append(_Pending(link.source, src_port, link.target, dst_port, link.origins))
        return pending, used

    def _fold(self, resource: _Entry, link: Link) -> bool:
        """Set the param a folded resource stands for on the node its ``parameters`` edge feeds."""
        node = self.nodes.get(link.target)
        mapping = resource.mapping
        if node is None or mapping is None or link.kind != "parameters":
            return False
        if mapping.fold_into == "prompt":
            update = prompt_params(resource.params, self._user_keys())
        elif mapping.fold_into == "model":
            # an LLM client says how DB-GPT reaches its model server, never which model: the default one
            update = {} if "model" in node.params else {"model": "default"}
        else:
            names = ("db_name", "datasource", "name")
            value = next((resource.params[k] for k in names if resource.params.get(k)), None)
            if value is None:
                return False
            update = {str(mapping.fold_into): value}
        self.nodes[link.target] = msgspec.structs.replace(node, params={**node.params, **update})
        return True

    def _context_key(self, dbgpt_id: str) -> str:
        """The prompt variable a context source fills (DB-GPT's ``HOContextBody.context_key``)."""
        key = self.entries[dbgpt_id].params.get("context_key")
        return key if isinstance(key, str) and key else "context"

    def _pseudo(self, pending: list[_Pending]) -> list[_Pending]:
        """Resolve ``REQUEST``/``CONTEXT`` of higher-order LLM nodes; map DB-GPT node ids to Rivulet node ids."""
        attached = {
            p.target: p.source
            for p in pending
            if p.target_port == "messages" and self.nodes[p.source].operator == "llm.prompt_template"
        }
        resolved: list[_Pending] = []
        for p in pending:
            target, port = p.target, p.target_port
            if port in (REQUEST, CONTEXT):
                template = attached.get(target)
                variable = USER_INPUT if port == REQUEST else self._context_key(p.source)
                if template is not None:
                    target, port = template, variable
                    if not _reads(self.nodes[template].params.get("template"), variable):
                        continue
                elif port == REQUEST:
                    port = "prompt"
                else:
                    continue
            resolved.append(p._replace(source=self.nodes[p.source].id, target=self.nodes[target].id, target_port=port))
        for chat in attached:  # the template's messages carry the system message
            node = self.nodes[chat]
            params = {k: v for k, v in node.params.items() if k != "system_prompt"}
            self.nodes[chat] = msgspec.structs.replace(node, params=params)
        return resolved


def _numbered(dbgpt_id: str) -> re.Match[str] | None:
    return _OPERATOR_ID.match(dbgpt_id) or _RESOURCE_ID.match(dbgpt_id)


def wire_user_input(nodes: list[Node], edges: list[Edge]) -> list[Edge]:
    """Connect the HTTP trigger's ``user_input`` to every prompt template that reads it and is not fed yet."""
    triggers = [n for n in nodes if n.operator == "trigger.http" and USER_INPUT in str(n.params.get("fields"))]
    if len(triggers) != 1:
        return []
    fed = {(e.target, e.target_port) for e in edges}
    return [
        Edge(
            id=f"e{len(edges) + i + 1}",
            source=triggers[0].id,
            source_port=USER_INPUT,
            target=node.id,
            target_port=USER_INPUT,
        )
        for i, node in enumerate(
            n
            for n in nodes
            if n.operator == "llm.prompt_template"
            and _reads(n.params.get("template"), USER_INPUT)
            and (n.id, USER_INPUT) not in fed
        )
    ]
