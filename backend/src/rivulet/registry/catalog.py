"""The operator catalog: what the editor's palette, node renderer and params forms are built from.

``build_catalog(registry)`` describes every operator (latest version first, older versions marked) with its
params JSON Schema (constraints, descriptions and ``ui`` hints from ``Annotated[..., Meta(...)]``), its ports
with type strings, its input rules (``rivulet.sdk.rules``: "connect one of these inputs", "this input or that
param", "not both"; the compiler enforces them), and whether ports depend on params (then the editor asks
``resolve_ports`` through ``POST /api/operators/{id}/ports``). ``GET /api/operators`` serves it.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import msgspec

from rivulet.sdk.ports import type_rules_document
from rivulet.sdk.rules import InputRule

if TYPE_CHECKING:
    from rivulet.registry.registry import OperatorClass, OperatorRegistry
    from rivulet.sdk.operator import PortSpec

__all__ = (
    "KNOWN_CATEGORIES",
    "CategoryRead",
    "OperatorCatalog",
    "OperatorPorts",
    "OperatorRead",
    "PortRead",
    "build_catalog",
    "describe_operator",
    "params_schema",
    "resolve_ports",
)

KNOWN_CATEGORIES: dict[str, tuple[str, str, str]] = {
    "core": ("Core", "Inputs, outputs, values, templates and control flow.", "box"),
    "llm": ("LLM", "Chat and completion models, prompts and structured output.", "sparkles"),
    "rag": ("Retrieval", "Loading, chunking, embedding and searching documents.", "library"),
    "sql": ("SQL", "Querying datasources with guarded SQL.", "database"),
    "chart": ("Charts", "Turning tables into charts.", "bar-chart"),
    "agent": ("Agents", "Tool-using agents.", "bot"),
    "trigger": ("Triggers", "Where runs start: HTTP endpoints and schedules.", "zap"),
    "io": ("Input/output", "Files, HTTP and external systems.", "plug"),
}
"""Palette order and presentation of the built-in categories (``id: (title, description, icon)``)."""


class PortRead(msgspec.Struct, frozen=True, kw_only=True):
    """One port as the editor sees it."""

    name: str
    type: str
    """A port type string (``List[Chunk]``); one upper-case letter is a generic variable."""
    required: bool = True
    description: str = ""


class OperatorRead(msgspec.Struct, frozen=True, kw_only=True):
    """One operator version in the palette."""

    id: str
    version: int
    latest: bool
    """False for an older version kept so that saved flows still compile."""
    category: str
    title: str
    description: str
    icon: str
    tags: tuple[str, ...]
    cacheable: bool
    params_schema: dict[str, Any]
    """JSON Schema of the params (an object schema; nested Structs under ``$defs``)."""
    inputs: tuple[PortRead, ...]
    """Input ports for the default params (the ``Inputs`` fields when params have required fields)."""
    outputs: tuple[PortRead, ...]
    input_rules: tuple[InputRule, ...] = ()
    """Rules over groups of optional inputs, for the default params (checked by the compiler)."""
    dynamic_inputs: bool = False
    """Input ports depend on the params: ask ``POST /api/operators/{id}/ports``."""
    dynamic_outputs: bool = False
    """Output ports depend on the params."""
    docs: str = ""
    """The operator module's docstring (Markdown-ish text)."""
    source: str = ""
    """Where the operator was loaded from (built-in module or entry-point pack)."""


class CategoryRead(msgspec.Struct, frozen=True, kw_only=True):
    """A palette section."""

    id: str
    title: str
    description: str = ""
    icon: str = "box"
    count: int = 0
    """Operators (latest versions) in the category."""


class OperatorCatalog(msgspec.Struct, frozen=True, kw_only=True):
    """The body of ``GET /api/operators``."""

    operators: tuple[OperatorRead, ...]
    categories: tuple[CategoryRead, ...]
    types: dict[str, Any]
    """The port type vocabulary and connection rules (same document as ``schemas/types.json``)."""


class OperatorPorts(msgspec.Struct, frozen=True, kw_only=True):
    """The ports of one operator for given params."""

    inputs: tuple[PortRead, ...]
    outputs: tuple[PortRead, ...]
    input_rules: tuple[InputRule, ...] = ()
    """The input rules for these params."""


def params_schema(operator: OperatorClass) -> dict[str, Any]:
    """The params JSON Schema with the top-level ``$ref`` inlined (so the form reads ``properties`` directly)."""
    schema: dict[str, Any] = msgspec.json.schema(operator.params_type)
    ref = schema.pop("$ref", None)
    if not isinstance(ref, str):
        return schema
    defs: dict[str, Any] = schema.pop("$defs", {})
    name = ref.rsplit("/", 1)[-1]
    referenced = any(f"#/$defs/{name}" in str(d) for key, d in defs.items() if key != name)
    body: dict[str, Any] = defs[name] if referenced else defs.pop(name)
    return {**body, **({"$defs": defs} if defs else {})}


def _port_reads(ports: tuple[PortSpec, ...]) -> tuple[PortRead, ...]:
    return tuple(PortRead(name=p.name, type=str(p.type), required=p.required, description=p.description) for p in ports)


def _default_params(operator: OperatorClass) -> Any:
    try:
        return msgspec.convert({}, operator.params_type)
    except msgspec.ValidationError:
        return None


def resolve_ports(operator: OperatorClass, params: Any) -> OperatorPorts:
    """Ports for validated ``params`` (an instance of ``operator.params_type``)."""
    return OperatorPorts(
        inputs=_port_reads(operator.input_ports(params)),
        outputs=_port_reads(operator.output_ports(params)),
        input_rules=operator.input_rules(params),
    )


def _palette_ports(operator: OperatorClass, dynamic: bool, kind: str) -> tuple[PortRead, ...]:
    method = operator.input_ports if kind == "inputs" else operator.output_ports
    if not dynamic:
        return _port_reads(method(None))
    params = _default_params(operator)
    if params is not None:
        return _port_reads(method(params))
    return ()


def _palette_rules(operator: OperatorClass) -> tuple[InputRule, ...]:
    if not operator.dynamic_inputs:
        return operator.input_rules(None)
    params = _default_params(operator)
    return operator.input_rules(params) if params is not None else operator.spec.input_rules


def describe_operator(operator: OperatorClass, *, latest: bool = True, source: str = "") -> OperatorRead:
    """The catalog entry of one operator class."""
    spec = operator.spec
    module = sys.modules.get(operator.__module__)
    return OperatorRead(
        id=spec.id,
        version=spec.version,
        latest=latest,
        category=spec.category,
        title=spec.title,
        description=spec.description,
        icon=spec.icon,
        tags=spec.tags,
        cacheable=spec.cacheable,
        params_schema=params_schema(operator),
        inputs=_palette_ports(operator, operator.dynamic_inputs, "inputs"),
        outputs=_palette_ports(operator, operator.dynamic_outputs, "outputs"),
        input_rules=_palette_rules(operator),
        dynamic_inputs=operator.dynamic_inputs,
        dynamic_outputs=operator.dynamic_outputs,
        docs=((module.__doc__ if module else None) or "").strip(),
        source=source,
    )


def _categories(operators: tuple[OperatorRead, ...]) -> tuple[CategoryRead, ...]:
    counts: dict[str, int] = {}
    for op in operators:
        if op.latest:
            counts[op.category] = counts.get(op.category, 0) + 1
    order = [c for c in KNOWN_CATEGORIES if c in counts] + sorted(c for c in counts if c not in KNOWN_CATEGORIES)
    result: list[CategoryRead] = []
    for cid in order:
        title, description, icon = KNOWN_CATEGORIES.get(cid, (cid.replace("_", " ").title(), "", "box"))
        result.append(CategoryRead(id=cid, title=title, description=description, icon=icon, count=counts[cid]))
    return tuple(result)


def build_catalog(registry: OperatorRegistry) -> OperatorCatalog:
    """Describe every registered operator version, grouped into categories."""
    latest = {op.spec.id: op.spec.version for op in registry.latest()}
    operators = tuple(
        describe_operator(e.operator, latest=latest[e.key[0]] == e.key[1], source=e.source) for e in registry.entries()
    )
    return OperatorCatalog(operators=operators, categories=_categories(operators), types=type_rules_document())
