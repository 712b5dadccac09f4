"""The DB-GPT canvas → Rivulet nodes and edges (the decoding and the public API live in ``dbgpt.py``).

Order of work (``Converter.convert``):

1. **refine**: a few mappings depend on the flow around a node — a ``KnowledgeOperator`` loads a URL or passes
   documents from the request; a higher-order LLM fed by a retriever answers with citations (``rag.answer``);
   a ``ChunksToStringOperator`` after an ingestion (which reports, not chunks) is contracted.
2. **place**: every node is looked up (duplicates, missing operators and nodes without an equivalent are reported
   and left out) and gets its params, knowledge ones from the resource chains feeding it (store → space,
   graph → space and model, rankers, chunk sizes); a prompt template resource is folded into its consumer when that
   consumer formats it (``llm.prompt_template``, ``rag.answer``), else it becomes a node of its own.
3. **after placing**: the chunk manager's sizes go to the ingestion it feeds (or a note); a graph beside a vector
   store joins the store's space.
4. **resources**: reported folded when their chain reaches a placed node, unmapped otherwise.
5. **edges**: nodes that only repackage one input are contracted, dict packers spread into their consumer's
   variables; each remaining DB-GPT edge becomes a port edge, a folded param, or is dropped; the pseudo ports of the
   higher-order LLM operators are resolved; a ``DictHttpTrigger`` body feeding a typed input becomes a request
   field; a documents → text edge gets a small template node between; an edge whose types cannot connect is
   dropped (and reported).
6. **outputs**: a flow without an output node gets one on each leaf (DB-GPT answers with the leaf's output);
   ``rag.answer``'s citations always become the run output ``citations``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import msgspec

from rivulet.compiler.flow import Edge, Node, Position
from rivulet.lib.exceptions import ValidationError
from rivulet.registry.registry import OperatorRegistry
from rivulet.sdk.ports import PortType, check_compatible, parse_port_type
from rivulet.templates._dbgpt_data import (
    MAX_JOIN_INPUTS,
    analyst_notes,
    join_template,
    join_variable,
    text2sql_params,
)
from rivulet.templates._dbgpt_knowledge import chunk_plan, search_params, summary_instructions
from rivulet.templates.dbgpt_mappings import (
    BODY,
    CONTEXT,
    DBGPT_DEFAULTS,
    DBGPT_FLOW_NAMES,
    DBGPT_MAPPINGS,
    HO_RAG,
    HO_T2S,
    PARAM_ALIASES,
    REQUEST,
    UNMAPPED_REASONS,
    USER_INPUT,
    DbgptMapping,
    answer_prompt_params,
    convert_param,
    prompt_params,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from rivulet.templates._dbgpt_knowledge import ChunkPlan

__all__ = ("Converter", "DbgptNodeReport", "Link", "Names", "class_of", "wire_user_input")

_OPERATOR_ID = re.compile(r"^operator_(?P<name>.+?)___\$\$___(?P<category>.+?)___\$\$___(?P<version>.+)_(?P<n>\d+)$")
_RESOURCE_ID = re.compile(r"^resource_(?P<cls>.+)_(?P<n>\d+)$")
_HANDLE = re.compile(r"^(?P<node>.+)\|(?P<kind>inputs|outputs|parameters)\|(?P<index>\d+)$")
_USER_KEY_PARAMS = ("human_message_key", "user_message_key", "key")
"""Params naming the template variable that receives the user's message."""
_ONE_LEVEL_FOLDS = frozenset({"prompt", "model", "datasource"})
"""Resources that set a param of the node their edge feeds directly (the others are followed along a chain)."""
_LATE = frozenset(
    {"model", "datasource", "space", "graph", "embeddings", "connection", "chunking", "splitter", "ranker", "rewrite"}
)
"""Resources decided after the nodes are placed (folded when their chain reaches one)."""
_RETRIEVERS = frozenset({"rag.retrieve", "rag.graph_retrieve"})
_FORMATTERS = frozenset({"llm.prompt_template", "rag.answer"})
"""Operators that take a DB-GPT prompt template as params."""
_MAX_HOPS = 64
"""The longest chain of resources or pass-through nodes followed."""
_RESULTS: dict[str, tuple[str, str]] = {
    "llm.chat": ("message", "answer"),
    "rag.answer": ("answer", "answer"),
    "rag.ingest": ("report", "report"),
    "rag.graph_extract": ("triplets", "triplets"),
    "llm.summarize": ("summary", "summary"),
    "rag.context": ("context", "context"),
    "rag.retrieve": ("chunks", "chunks"),
    "rag.load_url": ("documents", "documents"),
    "sql.generate": ("table", "table"),
    "sql.run_query": ("table", "table"),
    "sql.schema_context": ("context", "context"),
    "chart.summarize": ("text", "summary"),
    "chart.recommend": ("chart", "chart"),
    "core.template": ("text", "answer"),
}
"""Operator → (output port, run output name) a leaf answers with."""
_DOCUMENTS_AS_TEXT = "{% for d in documents %}{{ d.text }}\n\n{% endfor %}"
_DOCUMENT_FIELD = "documents"
_FIELD_NAMES = {"url": "source"}
"""Rivulet input port → the request field a ``DictHttpTrigger`` body gives it (DB-GPT reads ``body["source"]``)."""
_FIELD_DESCRIPTIONS = {
    "source": "The URL to load (DB-GPT's datasource).",
    _DOCUMENT_FIELD: 'The documents to add: [{"id": "<name>", "text": "..."}].',
}


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
    port: str | None = None
    """The Rivulet input port, when a spread node decided it (a variable of the consumer's template)."""

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
    """Parameter values, DB-GPT's defaults filled in where the value is null."""
    explicit: dict[str, Any]
    """Parameter values as set in the export (null: unset)."""
    position: tuple[float, float]
    mapping: DbgptMapping | None = None
    why: str | None = None
    """Why the node is unmapped, when its mapping was withdrawn."""


@dataclass(slots=True)
class _Outcome:
    status: NodeStatus
    node_id: str | None = None
    operator: str | None = None
    notes: list[str] = field(default_factory=list[str])


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


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _concrete(port_type: PortType) -> bool:
    return not port_type.var and all(_concrete(a) for a in port_type.args)


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
    """Rivulet nodes by DB-GPT node id (nodes the converter adds: by ``<DB-GPT id>#<role>``)."""
    outcomes: list[DbgptNodeReport] = field(default_factory=list[DbgptNodeReport])
    _duplicates: list[_Entry] = field(default_factory=list[_Entry])
    _used: set[str] = field(default_factory=set[str])
    _decisions: dict[str, _Outcome] = field(default_factory=dict[str, _Outcome])
    _ignored_inputs: set[tuple[str, int]] = field(default_factory=set[tuple[str, int]])
    """DB-GPT inputs a param overrides (a ``KnowledgeOperator``'s datasource URL wins over its input)."""
    _chain_links: set[tuple[str, ...]] = field(default_factory=set[tuple[str, ...]])
    """``parameters`` edges between resources whose chain reached a placed node."""
    _datasource_users: dict[str, str] = field(default_factory=dict[str, str])
    """Datasource resource → the ``sql.generate`` (by DB-GPT id) that took its name through a contracted retriever."""
    _absorbed: set[str] = field(default_factory=set[str])
    """DB-GPT edge ids ``sql.generate`` stands for (the retriever's prompt into the LLM)."""
    _charted: set[str] = field(default_factory=set[str])
    """``sql.generate`` nodes (by DB-GPT id) that absorbed an executor: its chart view becomes ``chart.recommend``."""

    def add_node(
        self,
        *,
        index: int,
        dbgpt_id: str,
        names: Names,
        label: str | None,
        params: dict[str, Any],
        position: tuple[float, float],
        explicit: dict[str, Any] | None = None,
    ) -> None:
        """Add one DB-GPT node; ``params`` may carry DB-GPT's defaults, ``explicit`` only the values set."""
        mapping = DBGPT_MAPPINGS.get(names.short) or DBGPT_MAPPINGS.get(DBGPT_FLOW_NAMES.get(names.flow_name, ""))
        cls = names.short or DBGPT_FLOW_NAMES.get(names.flow_name, "")
        aliases = PARAM_ALIASES.get(cls, {})
        explicit = dict(params if explicit is None else explicit)
        resolved = dict(params)
        for values in (resolved, explicit):
            for alias, name in aliases.items():
                if alias in values and values.get(name) is None:
                    values[name] = values.pop(alias)
        for name, default in DBGPT_DEFAULTS.get(cls, {}).items():
            if resolved.get(name) is None:
                resolved[name] = default
        shown = label or names.short or names.flow_name or dbgpt_id
        entry = _Entry(index, dbgpt_id, names, shown, resolved, explicit, position, mapping)
        if dbgpt_id in self.entries:
            self._duplicates.append(entry)
        else:
            self.entries[dbgpt_id] = entry

    def document_nodes(self) -> list[Node]:
        return list(self.nodes.values())

    # the whole conversion

    def convert(self, links: list[Link]) -> tuple[list[Edge], list[str]]:
        """Place the nodes, then turn ``links`` into edges; returns the edges and the dropped DB-GPT edge ids."""
        self._refine(links)
        late = [e for e in self.entries.values() if e.mapping is not None and e.mapping.fold_into in _LATE]
        for entry in self.entries.values():
            if entry not in late:
                self._decisions[entry.dbgpt_id] = self._decide(entry, links)
        self._after_placing(links)
        for entry in late:
            self._decisions[entry.dbgpt_id] = self._decide_resource(entry, links)
        pending, used = self._resolve(self._contract(links))
        used.update(o for origins in self._chain_links for o in origins)
        pending = self._typed(self._pseudo(pending))
        pending = self._joins(pending)
        pending += self._charts()
        pending += self._outputs(pending)
        used.update(self._absorbed)
        edges: dict[tuple[str, str, str, str], Edge] = {}
        for p in pending:
            used.update(p.origins)
            key = (self.nodes[p.source].id, p.source_port, self.nodes[p.target].id, p.target_port)
            edges.setdefault(
                key, Edge(id=f"e{len(edges) + 1}", source=key[0], source_port=key[1], target=key[2], target_port=key[3])
            )
        dropped = list(dict.fromkeys(o for link in links for o in link.origins if o not in used))
        self.outcomes = self._reports()
        return list(edges.values()), dropped

    def _reports(self) -> list[DbgptNodeReport]:
        ordered: list[tuple[int, DbgptNodeReport]] = []
        for entry in self.entries.values():
            o = self._decisions[entry.dbgpt_id]
            reason = "; ".join(dict.fromkeys(n for n in o.notes if n)) or None
            ordered.append((entry.index, self._report(entry, o.status, o.node_id, o.operator, reason)))
        for dup in self._duplicates:
            first = self.entries[dup.dbgpt_id].index
            reason = f"duplicate node id: nodes[{first}] has the same id (its edges go to that node)"
            ordered.append((dup.index, self._report(dup, "unmapped", None, None, reason)))
        return [r for _, r in sorted(ordered, key=lambda pair: pair[0])]

    def _report(
        self, entry: _Entry, status: NodeStatus, node_id: str | None, operator: str | None, reason: str | None
    ) -> DbgptNodeReport:
        return DbgptNodeReport(
            dbgpt_id=entry.dbgpt_id,
            dbgpt_class=entry.names.shown,
            label=entry.label,
            status=status,
            node_id=node_id,
            operator=operator,
            reason=reason,
        )

    def _note(self, dbgpt_id: str, note: str) -> None:
        outcome = self._decisions.get(dbgpt_id.split("#", 1)[0])
        if outcome is not None:
            outcome.notes.append(note)

    # 1. mappings that depend on the flow around a node

    def _refine(self, links: list[Link]) -> None:
        for entry in self.entries.values():
            mapping = entry.mapping
            if mapping is not None and mapping.kind == "loader":
                kind = str(entry.params.get("knowledge_type") or "DOCUMENT").upper()
                if kind != "URL":
                    entry.mapping = replace(mapping, operator="", passes=0, note=self._document_note(entry, kind))
        for entry in self.entries.values():
            mapping = entry.mapping
            if mapping is None:
                continue
            if mapping.operator == "llm.chat" and mapping.inputs == (REQUEST, CONTEXT):
                if HO_RAG.operator in self.registry and self._fed_by(entry.dbgpt_id, 1, links, _retrieves):
                    entry.mapping = HO_RAG
            elif mapping.kind == "context":
                if self._fed_by(entry.dbgpt_id, 0, links, _ingests):
                    note = "contracted: rag.ingest reports what it stored, not the chunks"
                    entry.mapping = replace(mapping, operator="", passes=0, note=note)
            elif entry.names.short == "RequestedParsedOperator":
                key = _text(entry.params.get("key"))
                if key not in (None, "messages"):
                    entry.mapping = None
                    entry.why = f"reads the request field {key!r}: only the user's message (messages) is carried"
        self._refine_data(links)

    def _refine_data(self, links: list[Link]) -> None:
        """DB-GPT's chat data: datasource retriever → higher-order LLM → SQL parser → executor is one sql.generate."""
        if HO_T2S.operator in self.registry:
            for entry in self.entries.values():
                mapping = entry.mapping
                if (
                    mapping is not None
                    and mapping.operator == "llm.chat"
                    and mapping.inputs == (REQUEST, CONTEXT)
                    and self._fed_by(entry.dbgpt_id, 1, links, _links_schema)
                    and self._feeds(entry.dbgpt_id, links, _reads_sql)
                ):
                    entry.mapping = HO_T2S
        for entry in self.entries.values():
            mapping = entry.mapping
            if mapping is None:
                continue
            if mapping.kind == "sql_parser" and not self._fed_by(entry.dbgpt_id, 0, links, _writes_sql):
                entry.mapping = None
                entry.why = (
                    "parses SQL out of a model's JSON answer: no Rivulet equivalent on its own (sql.generate writes, "
                    "guards and runs SQL for a datasource retriever's higher-order LLM)"
                )
            elif mapping.kind == "executor" and not any(
                x.target == entry.dbgpt_id and x.kind == "inputs" and x.index == 0 for x in links
            ):
                entry.mapping = None
                entry.why = "nothing feeds it the SQL to run (DB-GPT would not run it either): left out"
            elif mapping.kind == "executor" and self._fed_by(entry.dbgpt_id, 0, links, _writes_sql):
                note = "contracted: sql.generate runs the query it writes (once, repairing failures)"
                entry.mapping = replace(mapping, operator="", passes=0, note=note)
                self._charted.update(self._feeders(entry.dbgpt_id, links, _writes_sql))
            elif mapping.kind == "schema" and mapping.operator:
                targets = [x for x in links if x.source == entry.dbgpt_id and x.kind == "inputs"]
                if targets and all(
                    x.index == 1 and (t := self.entries.get(x.target)) is not None and t.mapping is HO_T2S
                    for x in targets
                ):
                    note = "contracted: sql.generate links the schema itself (its datasource and max_num_results)"
                    entry.mapping = replace(mapping, operator="", passes=0, note=note)

    def _feeds(self, dbgpt_id: str, links: list[Link], test: Callable[[DbgptMapping], bool]) -> bool:
        """Whether a node's outputs reach, through pass-through nodes, a node passing ``test``."""
        frontier, seen = [dbgpt_id], {dbgpt_id}
        while frontier and len(seen) <= _MAX_HOPS:
            source = frontier.pop(0)
            for link in links:
                target = self.entries.get(link.target)
                if link.source != source or link.kind != "inputs" or target is None or target.mapping is None:
                    continue
                if test(target.mapping):
                    return True
                if target.mapping.passes == link.index and link.target not in seen:
                    seen.add(link.target)
                    frontier.append(link.target)
        return False

    def _feeders(self, dbgpt_id: str, links: list[Link], test: Callable[[DbgptMapping], bool]) -> list[str]:
        """The nodes passing ``test`` that feed input 0 of a node, through pass-through nodes."""
        found: list[str] = []
        frontier, seen = [dbgpt_id], {dbgpt_id}
        while frontier and len(seen) <= _MAX_HOPS:
            target = frontier.pop(0)
            for link in links:
                source = self.entries.get(link.source)
                if link.target != target or link.kind != "inputs" or source is None or source.mapping is None:
                    continue
                if test(source.mapping):
                    found.append(link.source)
                elif source.mapping.passes is not None and link.source not in seen:
                    seen.add(link.source)
                    frontier.append(link.source)
        return found

    @staticmethod
    def _document_note(entry: _Entry, kind: str) -> str:
        source = _text(entry.params.get("datasource"))
        if kind == "TEXT":
            where = "inline text" + (" (not carried)" if source else "")
        else:
            where = f"a file on the DB-GPT server ({source}: not carried)" if source else "a file on the DB-GPT server"
        return f"loads {where}: contracted, the documents come in the request"

    def _fed_by(self, dbgpt_id: str, index: int, links: list[Link], test: Callable[[DbgptMapping], bool]) -> bool:
        """Whether input ``index`` of a node is fed, through pass-through nodes, by a node passing ``test``."""
        frontier, seen = [(dbgpt_id, index)], set[tuple[str, int]]()
        while frontier and len(seen) < _MAX_HOPS:
            target, at = frontier.pop()
            seen.add((target, at))
            for link in links:
                if link.target != target or link.kind != "inputs" or link.index != at:
                    continue
                source = self.entries.get(link.source)
                if source is None or source.mapping is None:
                    continue
                if test(source.mapping):
                    return True
                if source.mapping.passes is not None and (link.source, source.mapping.passes) not in seen:
                    frontier.append((link.source, source.mapping.passes))
        return False

    # 2. nodes

    def _user_keys(self) -> frozenset[str]:
        """Template variables this flow fills with the user's message (besides ``user_input`` and ``messages``)."""
        keys = {
            entry.params.get(name)
            for entry in self.entries.values()
            for name in _USER_KEY_PARAMS
            if name != "key" or entry.names.short == "UserInputParsedOperator"
        }
        return frozenset(k for k in keys if isinstance(k, str) and k)

    def _decide(self, entry: _Entry, links: list[Link]) -> _Outcome:
        mapping = entry.mapping
        if mapping is None:
            reason = entry.why or UNMAPPED_REASONS.get(entry.names.short, "no Rivulet equivalent")
            return _Outcome("unmapped", notes=[reason])
        if mapping.passes is not None:
            return _Outcome("folded", notes=[mapping.note or "only repackages its input: wired straight through"])
        if mapping.spread:
            names = ", ".join(str(entry.params.get(p)) for p in mapping.spread)
            return _Outcome("folded", notes=[f"its inputs fill the variables {names} of the node it feeds"])
        if mapping.fold_into == "prompt":
            consumers = self._consumers(entry.dbgpt_id, links)
            if not consumers:
                return _Outcome("unmapped", operator=mapping.operator, notes=["no node uses it"])
            if all(self._writes_sql(c) for c in consumers):
                note = "not carried: sql.generate writes its own prompt (linked schema, examples, dialect)"
                return _Outcome("folded", notes=[note])
            if all(self._formats(c) for c in consumers):
                return _Outcome("folded", notes=["param template/system_prompt of its consumers"])
            return self._place(entry, mapping, prompt_params(entry.params, self._user_keys()), [])
        params, notes = self._node_params(entry, mapping, links)
        return self._place(entry, mapping, params, notes)

    def _place(self, entry: _Entry, mapping: DbgptMapping, params: dict[str, Any], notes: list[str]) -> _Outcome:
        if mapping.operator not in self.registry:
            reason = f"maps to {mapping.operator}, which is not installed"
            return _Outcome("unmapped", operator=mapping.operator, notes=[reason])
        params = {**mapping.fixed, **params}
        accepted = self._param_names(mapping.operator)
        for name in [k for k in params if accepted is not None and k not in accepted]:
            notes.append(f"{name} not carried ({mapping.operator} has no such param)")
            del params[name]
        model = params.get("model")
        if isinstance(model, str) and self.models is not None and model not in {*self.models, "default"}:
            notes.append(f"model {model!r} is not configured here: the default model answers")
            params["model"] = "default"
        self._used.add(node_id := self._free_id(entry))
        x, y = entry.position
        self.nodes[entry.dbgpt_id] = Node(
            id=node_id, operator=mapping.operator, label=entry.label, params=params, position=Position(x=x, y=y)
        )
        return _Outcome("mapped", node_id=node_id, operator=mapping.operator, notes=notes)

    def _param_names(self, operator: str) -> frozenset[str] | None:
        if operator not in self.registry:
            return None
        params_type: Any = self.registry.get(operator).params_type
        if not (isinstance(params_type, type) and issubclass(params_type, msgspec.Struct)):
            return None
        return frozenset(f.name for f in msgspec.structs.fields(params_type))

    def _free_id(self, entry: _Entry, suffix: str = "") -> str:
        """``<flow name>_<n>`` (n from the DB-GPT id), unique and within the 128 characters of a node id."""
        base = _node_base(entry.names)
        node_id = f"{base}_{m.group('n')[:20]}" if (m := _numbered(entry.dbgpt_id)) else base
        node_id += suffix
        number = 2
        while node_id in self._used:
            node_id = f"{base}_{m.group('n')[:20] + '_' if m else ''}{number}{suffix}"
            number += 1
        return node_id

    def _own_params(self, entry: _Entry, mapping: DbgptMapping) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for name, target in mapping.params.items():
            # a model is carried only when the export names one (DB-GPT's default model name is not a choice)
            raw = entry.explicit.get(name) if target == "model" else entry.params.get(name)
            value = convert_param(target, raw)
            if value is not None:
                params[target] = value
        return params

    def _consumers(self, dbgpt_id: str, links: list[Link]) -> list[str]:
        return [link.target for link in links if link.source == dbgpt_id and link.kind == "parameters"]

    def _formats(self, dbgpt_id: str) -> bool:
        """Whether a node formats its prompt template itself (the template folds into its params)."""
        consumer = self.entries.get(dbgpt_id)
        return self._writes_sql(dbgpt_id) or (
            consumer is not None
            and consumer.mapping is not None
            and consumer.mapping.operator in _FORMATTERS
            and consumer.mapping.fold_into is None
        )

    def _writes_sql(self, dbgpt_id: str) -> bool:
        """Whether a node became ``sql.generate`` (it writes its own prompt: a template folds into nothing)."""
        consumer = self.entries.get(dbgpt_id)
        return consumer is not None and consumer.mapping is not None and _writes_sql(consumer.mapping)

    # knowledge params

    def _chain(self, dbgpt_id: str, links: list[Link]) -> list[_Entry]:
        """The resources feeding a node through ``parameters`` edges, followed back to their ends, nearest first."""
        found: list[_Entry] = []
        frontier, seen = [dbgpt_id], {dbgpt_id}
        while frontier and len(seen) <= _MAX_HOPS:
            target = frontier.pop(0)
            for link in links:
                if link.target != target or link.kind != "parameters" or link.source in seen:
                    continue
                source = self.entries.get(link.source)
                if source is None or source.mapping is None or source.mapping.fold_into is None:
                    continue
                seen.add(link.source)
                found.append(source)
                frontier.append(link.source)
        return found

    def _node_params(self, entry: _Entry, mapping: DbgptMapping, links: list[Link]) -> tuple[dict[str, Any], list[str]]:
        params = self._own_params(entry, mapping)
        notes = [mapping.note] if mapping.note else []
        kind = mapping.kind
        if kind == "retriever":
            self._retriever(entry, mapping, self._chain(entry.dbgpt_id, links), params, notes)
        elif kind in ("ingest", "graph"):
            self._store(entry, mapping, self._chain(entry.dbgpt_id, links), params, notes)
        elif kind == "loader":
            source = _text(entry.params.get("datasource"))
            if source is not None and re.match(r"^https?://", source, re.IGNORECASE):
                params["url"] = source
                self._ignored_inputs.add((entry.dbgpt_id, 0))
                notes.append("its datasource URL is loaded (it wins over the input, as in DB-GPT)")
            elif source is not None:
                notes.append(f"datasource {source!r} is not a URL: not carried, the URL comes from the input")
        elif kind == "text2sql":
            self._text2sql(entry, links, params, notes)
        elif kind == "analyst":
            notes.extend(analyst_notes(entry.explicit))
        elif kind == "summary":
            params["instructions"] = summary_instructions(entry.params.get("language"))
            notes.append("max_iteration_with_llm not carried: llm.summarize reduces until one summary is left")
        elif kind == "context":
            separator = entry.params.get("separator")
            if separator in (None, "\n", "\\n"):
                notes.append("passages are labelled by chunk id and separated by a blank line (DB-GPT: a newline)")
            elif isinstance(separator, str):
                params["separator"] = separator
        return params, notes

    def _text2sql(self, entry: _Entry, links: list[Link], params: dict[str, Any], notes: list[str]) -> None:
        """``sql.generate``'s datasource and row limit, from the retriever feeding the LLM and its resource."""
        retrievers = [
            r
            for x in links
            if x.target == entry.dbgpt_id
            and x.kind == "inputs"
            and x.index == 1
            and (r := self.entries.get(x.source)) is not None
            and r.mapping is not None
            and _links_schema(r.mapping)
        ]
        for retriever in retrievers[:1]:
            extra, more = text2sql_params(retriever.params, retriever.explicit)
            params.update(extra)
            notes.extend(more)
            for resource in self._chain(retriever.dbgpt_id, links):
                if resource.mapping is None or resource.mapping.fold_into != "datasource":
                    continue
                names = (_text(resource.params.get(k)) for k in ("db_name", "datasource", "name"))
                name = next((n for n in names if n is not None), None)
                if name is not None:
                    params["datasource"] = name
                    self._datasource_users[resource.dbgpt_id] = entry.dbgpt_id
                    notes.append(f"data source {name!r} (DB-GPT's database): add it under Data sources")
                    break
        if "datasource" not in params:
            notes.append("no datasource resource: set the datasource param")

    def _store(
        self, entry: _Entry, mapping: DbgptMapping, chain: list[_Entry], params: dict[str, Any], notes: list[str]
    ) -> None:
        """Space (and, for a graph, model and for the embedding assembler, chunk sizes) of an ingesting node."""
        graph = mapping.kind == "graph"
        space = self._space(chain, ("graph",) if graph else ("space",))
        if space is None:
            space = mapping.space_default or "dbgpt_collection"
            notes.append(f"no store names a collection: space {space!r} (DB-GPT's default)")
        params["space"] = space
        if "create_space" in (self._param_names(mapping.operator) or ()):
            params["create_space"] = True  # DB-GPT's stores create their collection (or graph) on first write
        if graph:
            models = (
                _text(r.explicit.get(k))
                for r in chain
                if r.mapping is not None and r.mapping.fold_into == "graph"
                for k in ("llm_model", "model_name")
            )
            model = next((m for m in models if m is not None), None)
            if model is not None:
                params["model"] = model
        if entry.names.short == "EmbeddingAssemblerOperator":
            plan = chunk_plan(self._chunking(chain), "CHUNK_BY_SIZE")
            notes.append(self._fold_chunking(params, mapping.operator, plan))

    def _retriever(
        self, entry: _Entry, mapping: DbgptMapping, chain: list[_Entry], params: dict[str, Any], notes: list[str]
    ) -> None:
        top_k = entry.params.get("top_k")
        for resource in chain:
            fold = resource.mapping.fold_into if resource.mapping is not None else None
            if fold == "ranker" and resource.names.short == "DefaultRanker":
                cap = resource.params.get("topk")
                if isinstance(cap, int) and not isinstance(cap, bool) and isinstance(top_k, int):
                    top_k = min(top_k, cap)
            elif fold == "ranker":
                notes.append(f"reranking ({resource.names.short}) not carried: add a rag.rerank node")
            elif fold == "rewrite":
                notes.append("query rewriting not carried: Rivulet searches the question as asked")
        if entry.params.get("reranker_enabled") is True:
            notes.append("reranking not carried: add a rag.rerank node")
        params.update(search_params(top_k, entry.params.get("score_threshold")))
        if params["mode"] == "vector":
            notes.append(f"score_threshold {params['min_score']} (a cosine similarity): vector search with min_score")
        if "space" not in params:
            space = self._space(chain, ("space",))
            if space is None and mapping.space_default is not None:
                space = mapping.space_default
                notes.append(f"no store names a collection: space {space!r} (DB-GPT's default)")
            if space is not None:
                params["space"] = space
            else:
                notes.append("no knowledge space named: set the space param")

    @staticmethod
    def _space(chain: list[_Entry], folds: tuple[str, ...]) -> str | None:
        for resource in chain:
            if resource.mapping is not None and resource.mapping.fold_into in folds:
                name = _text(resource.params.get("name"))
                if name is not None:
                    return name
        return None

    @staticmethod
    def _chunking(chain: list[_Entry]) -> list[tuple[str, dict[str, Any]]]:
        return [
            (r.names.short, r.params)
            for r in chain
            if r.mapping is not None and r.mapping.fold_into in ("chunking", "splitter")
        ]

    def _fold_chunking(self, params: dict[str, Any], operator: str, plan: ChunkPlan) -> str:
        """Set DB-GPT's chunk sizes on ``params`` when the operator takes them; the note for the report."""
        accepted = self._param_names(operator) or frozenset()
        config = plan.config()
        if {"chunk_size", "chunk_overlap"} <= accepted:
            params.update(chunk_size=config.chunk_size, chunk_overlap=config.chunk_overlap)
            how = ""
            if "strategy" in accepted and plan.strategy is not None:
                params["strategy"] = plan.strategy
                how = f"strategy {plan.strategy}, "
            elif plan.strategy is None:
                how = "the space's strategy (DB-GPT picks one by document kind), "
            dropped = ""
            if plan.separators and "separators" not in accepted:
                dropped = f"; separators {plan.separators!r} not carried ({operator} has no such param)"
            return (
                f"DB-GPT's {plan.describe()}: {how}chunk_size {config.chunk_size}, "
                f"overlap {config.chunk_overlap}{dropped}"
            )
        space = params.get("space")
        where = f" (set it on space {space!r})" if space else ""
        return f"DB-GPT splits into {plan.describe()}; {operator} uses the space's own chunking{where}"

    # 3. after placing

    def _after_placing(self, links: list[Link]) -> None:
        self._one_space()
        for key, node in self.nodes.items():
            if node.operator not in ("rag.ingest", "rag.graph_extract"):
                continue
            space = node.params.get("space")
            if node.params.get("create_space") is True:
                # nodes beside each other creating one space is safe: a creation that loses the race reuses it
                self._note(key, f"space {space!r} is created on the first run when missing (as DB-GPT's store does)")
            else:
                self._note(
                    key, f"space {space!r} must exist: create it under Knowledge (DB-GPT creates it on first use)"
                )
        for entry in self.entries.values():
            if entry.mapping is None or entry.mapping.kind != "chunker":
                continue
            plan = chunk_plan(self._chunking(self._chain(entry.dbgpt_id, links)), None)
            targets = self._downstream(entry.dbgpt_id, links)
            for target in targets:
                node = self.nodes[target]
                params = dict(node.params)
                note = self._fold_chunking(params, node.operator, plan)
                self.nodes[target] = msgspec.structs.replace(node, params=params)
                self._note(entry.dbgpt_id, f"{node.id}: {note}")
            if not targets:
                self._note(entry.dbgpt_id, f"DB-GPT splits into {plan.describe()}")

    def _downstream(self, dbgpt_id: str, links: list[Link]) -> list[str]:
        """Placed nodes a node's outputs reach through pass-through nodes."""
        found: list[str] = []
        frontier, seen = [dbgpt_id], {dbgpt_id}
        while frontier and len(seen) <= _MAX_HOPS:
            source = frontier.pop(0)
            for link in links:
                if link.source != source or link.kind != "inputs" or link.target in seen:
                    continue
                seen.add(link.target)
                target = self.entries.get(link.target)
                if link.target in self.nodes:
                    found.append(link.target)
                elif target is not None and target.mapping is not None and target.mapping.passes == link.index:
                    frontier.append(link.target)
        return found

    def _one_space(self) -> None:
        """A knowledge graph stored beside a vector store joins the store's space (one Rivulet space holds both)."""
        spaces = {n.params.get("space") for n in self.nodes.values() if n.operator == "rag.ingest"}
        if len(spaces) != 1:
            return
        space = spaces.pop()
        for key, node in self.nodes.items():
            graph = node.params.get("space")
            if node.operator == "rag.graph_extract" and graph != space:
                self.nodes[key] = msgspec.structs.replace(node, params={**node.params, "space": space})
                self._note(
                    key, f"graph {graph!r} merged into space {space!r}: one Rivulet space holds vectors and graph"
                )

    # 4. resources

    def _decide_resource(self, entry: _Entry, links: list[Link]) -> _Outcome:
        mapping = entry.mapping
        assert mapping is not None
        user = self._datasource_users.get(entry.dbgpt_id)
        if user is not None:  # its consumers were contracted into sql.generate
            for link in links:
                if link.source == entry.dbgpt_id and link.kind == "parameters" and link.target not in self.nodes:
                    self._chain_links.add(link.origins)
            return _Outcome("folded", notes=[f"param datasource of {self.nodes[user].id}"])
        reached = self._reach(entry.dbgpt_id, links)
        if reached is None:
            return _Outcome("unmapped", notes=["no node uses it"])
        node = self.nodes[reached].id
        fold = mapping.fold_into
        direct = any(x.source == entry.dbgpt_id and x.target == reached for x in links)
        notes = {
            "model": "param model of its consumers" if direct else f"how DB-GPT reaches its model server (for {node})",
            "datasource": "param datasource of its consumers",
            "space": f"its collection is the knowledge space of {node}",
            "graph": f"the graph is stored in the knowledge space of {node} (PostgreSQL)",
            "embeddings": f"the space's embedding model embeds (the space of {node})",
            "connection": f"connection settings not carried: {node} stores in Rivulet's PostgreSQL",
            "chunking": f"chunk sizes: see {node}",
            "splitter": f"chunk sizes: see {node}",
            "ranker": f"see {node}",
            "rewrite": f"see {node}",
        }
        note = notes.get(str(fold), f"configures {node}")
        secrets = [
            k for k in ("password", "user", "username", "persist_path", "api_key", "host") if entry.explicit.get(k)
        ]
        if fold == "space" and secrets:
            note += f"; {', '.join(secrets)} not carried: the space lives in Rivulet's PostgreSQL"
        return _Outcome("folded", notes=[note])

    def _reach(self, dbgpt_id: str, links: list[Link]) -> str | None:
        """The placed node a resource's ``parameters`` edges lead to (through other resources); marks the chain."""
        frontier: list[tuple[str, tuple[tuple[str, ...], ...]]] = [(dbgpt_id, ())]
        seen = {dbgpt_id}
        while frontier and len(seen) <= _MAX_HOPS:
            source, path = frontier.pop(0)
            for link in links:
                if link.source != source or link.kind != "parameters":
                    continue
                target = self.entries.get(link.target)
                reached = [link.target] if link.target in self.nodes else []
                if (
                    not reached
                    and target is not None
                    and target.mapping is not None
                    and target.mapping.kind == "chunker"
                ):
                    reached = self._downstream(link.target, links)  # the chunk manager's sizes went there
                if reached:
                    self._chain_links.update((*path, link.origins))
                    return reached[0]
                folds = target is not None and target.mapping is not None and target.mapping.fold_into is not None
                if folds and link.target not in seen:
                    seen.add(link.target)
                    frontier.append((link.target, (*path, link.origins)))
        return None

    # 5. edges

    def _contract(self, links: list[Link]) -> list[Link]:
        for dbgpt_id, entry in self.entries.items():
            mapping = entry.mapping
            if mapping is None or (mapping.passes is None and not mapping.spread):
                continue
            into = [x for x in links if x.target == dbgpt_id and x.source != dbgpt_id and x.kind == "inputs"]
            out = [x for x in links if x.source == dbgpt_id and x.target != dbgpt_id]
            if mapping.spread:
                ports = [self._variable(entry.params.get(p)) for p in mapping.spread]
                through = [
                    Link(a.source, a.out, b.target, b.kind, b.index, a.origins + b.origins, port=ports[a.index])
                    for a in into
                    if a.index < len(ports)
                    for b in out
                    if b.kind == "inputs"
                ]
            else:
                through = [
                    Link(a.source, a.out, b.target, b.kind, b.index, a.origins + b.origins, b.port)
                    for a in into
                    if a.index == mapping.passes
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

    def _variable(self, key: Any) -> str:
        name = _text(key) or "context"
        return USER_INPUT if name in {USER_INPUT, "messages", *self._user_keys()} else name

    def _resolve(self, links: list[Link]) -> tuple[list[_Pending], set[str]]:
        pending: list[_Pending] = []
        used: set[str] = set()
        for link in links:
            source = self.entries.get(link.source)
            if source is not None and link.source not in self.nodes and source.mapping is not None:
                fold = source.mapping.fold_into
                folded = fold in _ONE_LEVEL_FOLDS and self._fold(source, link)
                if folded or link.origins in self._chain_links:
                    used.update(link.origins)
                continue
            if link.source not in self.nodes or link.target not in self.nodes:
                continue
            if link.kind == "inputs" and (link.target, link.index) in self._ignored_inputs:
                continue
            src_map, dst_map = self.entries[link.source].mapping, self.entries[link.target].mapping
            assert src_map is not None
            assert dst_map is not None
            src_port = src_map.outputs[link.out] if link.out < len(src_map.outputs) else None
            if link.kind == "parameters":
                dst_port = src_map.as_input
            elif link.port is not None:
                dst_port = link.port
            elif dst_map.kind == "join":
                dst_port = join_variable(link.index) if link.index < MAX_JOIN_INPUTS else None
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
            if node.operator == HO_T2S.operator:
                update = {}
                self._note(link.target, "its prompt template is not carried: sql.generate writes its own prompt")
            elif node.operator == "rag.answer":
                update, note = answer_prompt_params(resource.params, self._user_keys())
                if note:
                    self._note(link.target, note)
            else:
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
        return _text(self.entries[dbgpt_id].params.get("context_key")) or "context"

    def _pseudo(self, pending: list[_Pending]) -> list[_Pending]:
        """Resolve ``REQUEST``/``CONTEXT`` of higher-order LLM nodes (into a template, llm.chat or rag.answer)."""
        pending = self._pseudo_sql(pending)
        attached = {
            p.target: p.source
            for p in pending
            if p.target_port == "messages" and self.nodes[p.source].operator == "llm.prompt_template"
        }
        resolved: list[_Pending] = []
        answered: set[str] = set()
        for p in pending:
            target, port, source_port = p.target, p.target_port, p.source_port
            if port in (REQUEST, CONTEXT) and self.nodes[target].operator == "rag.answer":
                if port == CONTEXT:
                    if target in answered or self.nodes[p.source].operator not in _RETRIEVERS:
                        continue
                    answered.add(target)
                    source_port, port = "chunks", "chunks"
                else:
                    port = "question"
            elif port in (REQUEST, CONTEXT):
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
            resolved.append(p._replace(source_port=source_port, target=target, target_port=port))
        for chat in attached:  # the template's messages carry the system message
            node = self.nodes[chat]
            params = {k: v for k, v in node.params.items() if k != "system_prompt"}
            self.nodes[chat] = msgspec.structs.replace(node, params=params)
        return resolved

    def _pseudo_sql(self, pending: list[_Pending]) -> list[_Pending]:
        """Into ``sql.generate``, the request is the question and the retriever's prompt is left out."""
        resolved: list[_Pending] = []
        for p in pending:
            if p.target_port in (REQUEST, CONTEXT) and self.nodes[p.target].operator == HO_T2S.operator:
                if p.target_port == CONTEXT:
                    self._absorbed.update(p.origins)  # the retriever's prompt: sql.generate links the schema itself
                    continue
                p = p._replace(target_port="question")  # noqa: PLW2901
            resolved.append(p)
        return resolved

    def _port_type(self, key: str, port: str, *, output: bool) -> PortType | None:
        """A node's port type (``None``: unknown, generic, or the params do not validate: left to the compiler)."""
        node = self.nodes[key]
        if node.operator not in self.registry:
            return None
        operator = self.registry.get(node.operator)
        try:
            params = msgspec.convert(node.params, operator.params_type)
            ports = operator.output_ports(params) if output else operator.input_ports(params)
        except (msgspec.ValidationError, ValueError, TypeError):
            return None
        found = next((p.type for p in ports if p.name == port), None)
        return found if found is not None and _concrete(found) else None

    def _typed(self, pending: list[_Pending]) -> list[_Pending]:
        """Request fields for ``DictHttpTrigger`` bodies, documents → text adapters, and a last type check."""
        out: list[_Pending] = []
        for p in pending:
            if p.source_port == BODY:
                p = p._replace(source_port=self._body_field(p.source, p.target, p.target_port))  # noqa: PLW2901
            if not any(self.nodes[k].operator.startswith("rag.") for k in (p.source, p.target)):
                out.append(p)  # other mismatches are the compiler's to report, as before knowledge was mapped
                continue
            source = self._port_type(p.source, p.source_port, output=True)
            target = self._port_type(p.target, p.target_port, output=False)
            if source is None or target is None or check_compatible(source, target).ok:
                out.append(p)
            elif str(source) == "List[Document]" and check_compatible(parse_port_type("Text"), target).ok:
                out.extend(self._as_text(p))
            else:
                node = self.nodes[p.target].id
                self._note(p.target, f"{node}.{p.target_port}: {source} cannot connect to {target}, edge left out")
        return out

    def _body_field(self, trigger: str, target: str, port: str) -> str:
        """The trigger port a ``DictHttpTrigger`` body gives a typed input: ``body``, or a request field for it."""
        wanted = self._port_type(target, port, output=False)
        if wanted is None or check_compatible(parse_port_type("Json"), wanted).ok:
            return "body"
        if wanted.name == "Optional":
            wanted = wanted.args[0]
        name = _FIELD_NAMES.get(port, port)
        node = self.nodes[trigger]
        fields: list[dict[str, Any]] = list(node.params.get("fields") or [])
        if all(f.get("name") != name for f in fields):
            description = _FIELD_DESCRIPTIONS.get(name, f"The {name} (DB-GPT's request body).")
            fields.append({"name": name, "type": str(wanted), "description": description})
            self.nodes[trigger] = msgspec.structs.replace(node, params={**node.params, "fields": fields})
            self._note(trigger, f"request field {name} ({wanted}) declared for {self.nodes[target].id}")
        return name

    def _as_text(self, p: _Pending) -> list[_Pending]:
        """Join documents into one text through a ``core.template`` node (for a node reading text)."""
        if "core.template" not in self.registry:
            self._note(p.target, "documents cannot reach a text input: core.template is not installed")
            return []
        key = f"{p.source}#text"
        if key not in self.nodes:
            source = self.nodes[p.source]
            entry = self.entries[p.source]
            self._used.add(node_id := self._free_id(entry, "_text"))
            self.nodes[key] = Node(
                id=node_id,
                operator="core.template",
                label="Documents as text",
                params={"template": _DOCUMENTS_AS_TEXT, "trim": True},
                position=Position(x=source.position.x + 150, y=source.position.y + 120),
            )
            self._note(p.source, f"its documents are joined into one text by {node_id} (core.template)")
        return [
            _Pending(p.source, p.source_port, key, "documents", p.origins),
            _Pending(key, "text", p.target, p.target_port, p.origins),
        ]

    def _joins(self, pending: list[_Pending]) -> list[_Pending]:
        """The template of each ``StringJoinOperator``: its inputs in order, a ``Table`` as a markdown table."""
        for key, node in list(self.nodes.items()):
            entry = self.entries.get(key)
            if entry is None or entry.mapping is None or entry.mapping.kind != "join":
                continue
            fed = {p.target_port: p for p in pending if p.target == key}
            ordered = sorted(fed, key=lambda name: int(name.rsplit("_", 1)[1]) if name[-1].isdigit() else 0)
            variables = [
                (name, str(self._port_type(fed[name].source, fed[name].source_port, output=True)) == "Table")
                for name in ordered
            ]
            template = join_template(variables, entry.params.get("separator"))
            self.nodes[key] = msgspec.structs.replace(node, params={**node.params, "template": template})
            if any(table for _, table in variables):
                self._note(key, "rows are joined as a markdown table (DB-GPT: the executor's chart view)")
        return pending

    def _charts(self) -> list[_Pending]:
        """A ``chart.recommend`` for each ``sql.generate`` that absorbed an executor (DB-GPT draws a chart)."""
        if "chart.recommend" not in self.registry:
            return []
        added: list[_Pending] = []
        for key in sorted(self._charted):
            source = self.nodes.get(key)
            if source is None or source.operator != HO_T2S.operator:
                continue
            chart_key = f"{key}#chart"
            self._used.add(node_id := self._free_id(self.entries[key], "_chart"))
            self.nodes[chart_key] = Node(
                id=node_id,
                operator="chart.recommend",
                label="Chart",
                params={},
                position=Position(x=source.position.x + 320, y=source.position.y - 160),
            )
            added.append(_Pending(key, "table", chart_key, "table", ()))
            self._note(
                key,
                f"DB-GPT's executor draws the chart the model picked (display_type): {node_id} (chart.recommend) "
                "picks one from the columns",
            )
        return added

    # 6. outputs

    def _outputs(self, pending: list[_Pending]) -> list[_Pending]:
        """Run outputs for the leaves of a flow without one, and for ``rag.answer``'s citations."""
        if "core.output" not in self.registry:
            return []
        added: list[_Pending] = []
        names = {str(n.params.get("name")) for n in self.nodes.values() if n.operator == "core.output"}
        sources = {p.source for p in pending}
        fed = {(p.source, p.source_port) for p in pending}
        wanted: list[tuple[str, str, str]] = []
        if not names:
            for key, node in self.nodes.items():
                if key in sources or node.operator.startswith("trigger.") or node.operator == "core.output":
                    continue
                port, name = _RESULTS.get(node.operator) or self._first_output(key)
                if port:
                    wanted.append((key, port, name))
        wanted += [
            (key, "chart", "chart")
            for key, node in self.nodes.items()
            if names and key.endswith("#chart") and node.operator == "chart.recommend" and key not in sources
        ]
        wanted += [
            (key, "citations", "citations")
            for key, node in self.nodes.items()
            if node.operator == "rag.answer" and (key, "citations") not in fed
        ]
        for key, port, name in wanted:
            unique, number = name, 2
            while unique in names:
                unique, number = f"{name}_{number}", number + 1
            names.add(unique)
            source = self.nodes[key]
            out_key = f"{key}#out_{unique}"
            self._used.add(node_id := self._free_output_id(unique))
            self.nodes[out_key] = Node(
                id=node_id,
                operator="core.output",
                label=f"Output {unique}",
                params={"name": unique},
                position=Position(x=source.position.x + 320, y=source.position.y + 60 * (len(added) % 3)),
            )
            added.append(_Pending(key, port, out_key, "value", ()))
            why = "" if port in ("citations", "chart") else " (DB-GPT answers with the last node's output)"
            self._note(key, f"output {port} → run output {unique!r}{why}")
        return added

    def _first_output(self, key: str) -> tuple[str, str]:
        node = self.nodes[key]
        if node.operator not in self.registry:
            return "", ""
        operator = self.registry.get(node.operator)
        try:
            ports = operator.output_ports(msgspec.convert(node.params, operator.params_type))
        except (msgspec.ValidationError, ValueError, TypeError):
            return "", ""
        first = next((p.name for p in ports if p.type.name != "Stream"), "")
        return first, first

    def _free_output_id(self, name: str) -> str:
        base = re.sub(r"[^a-z0-9_]+", "_", f"output_{name}".lower())[:100]
        node_id, number = base, 2
        while node_id in self._used:
            node_id, number = f"{base}_{number}", number + 1
        return node_id


def _links_schema(mapping: DbgptMapping) -> bool:
    return mapping.kind == "schema"


def _writes_sql(mapping: DbgptMapping) -> bool:
    return mapping.kind == "text2sql"


def _reads_sql(mapping: DbgptMapping) -> bool:
    return mapping.kind in ("sql_parser", "executor")


def _retrieves(mapping: DbgptMapping) -> bool:
    return mapping.operator in _RETRIEVERS


def _ingests(mapping: DbgptMapping) -> bool:
    return mapping.kind == "ingest"


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
