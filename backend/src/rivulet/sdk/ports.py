"""The port type vocabulary and its compatibility rules — the one place they are defined.

Operators annotate ``Inputs``/``Outputs`` fields with the aliases below (``Text``, ``Messages``, ``Stream[Text]``,
``list[Chunk]``, ``Text | None``, a ``TypeVar`` for generic ports). ``port_type_of`` turns an annotation into a
``PortType``; ``check_compatible`` applies DESIGN.md §4; ``type_rules_document`` exports the same rules as JSON
for the editor (``schemas/types.json``).

Example:
    >>> str(port_type_of(list[Chunk]))
    'List[Chunk]'
    >>> check_compatible(parse_port_type("Stream[Text]"), parse_port_type("Text")).coercion
    'collect'
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal, TypeVar, Union

import msgspec

__all__ = (
    "BASE_TYPES",
    "JSON_SOURCES",
    "Bool",
    "ChartSpec",
    "Chunk",
    "Compatibility",
    "Document",
    "Embedding",
    "Float",
    "HttpRequest",
    "HttpResponse",
    "Int",
    "Json",
    "Message",
    "Messages",
    "PortType",
    "SQLQuery",
    "Stream",
    "Table",
    "Text",
    "check_compatible",
    "parse_port_type",
    "port_type_of",
    "python_type_of",
    "type_rules_document",
)


class _Tag(msgspec.Struct, frozen=True):
    name: str


Text = Annotated[str, _Tag("Text")]
Int = Annotated[int, _Tag("Int")]
Float = Annotated[float, _Tag("Float")]
Bool = Annotated[bool, _Tag("Bool")]
Json = Annotated[Any, _Tag("Json")]
Embedding = Annotated[list[float], _Tag("Embedding")]

T_co = TypeVar("T_co", covariant=True)
Stream = AsyncIterator
"""``Stream[T]``: an async iterator of ``T`` items (LLM tokens, rows)."""


class Message(msgspec.Struct, frozen=True, kw_only=True):
    """One chat message."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str
    name: str | None = None
    tool_call_id: str | None = None


Messages = Annotated[list[Message], _Tag("Messages")]


class Document(msgspec.Struct, frozen=True, kw_only=True):
    """A source document (file, page, record) with metadata."""

    id: str
    text: str
    metadata: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])


class Chunk(msgspec.Struct, frozen=True, kw_only=True):
    """A piece of a document, optionally scored: what retrievers return and answers cite (by ``id``)."""

    id: str
    document_id: str
    text: str
    metadata: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])
    score: float | None = None
    source: str = ""
    """Where the text came from (file name or URL; page and heading path are in ``metadata``)."""


class Table(msgspec.Struct, frozen=True, kw_only=True):
    """Tabular data: column names and row tuples, with the columns' types where known.

    ``types`` holds one normalised type per column (``integer``, ``number``, ``text``, ``boolean``, ``date``,
    ``datetime``, ``json`` or ``unknown``); empty when the producer does not know them. ``truncated`` says the
    rows stop at a row or byte cap (the query had more).
    """

    columns: list[str]
    rows: list[list[Any]]
    types: list[str] = msgspec.field(default_factory=list[str])
    truncated: bool = False


class SQLQuery(msgspec.Struct, frozen=True, kw_only=True):
    """A SQL statement with its dialect (sqlglot names)."""

    sql: str
    dialect: str = "postgres"


class ChartSpec(msgspec.Struct, frozen=True, kw_only=True):
    """An ECharts option object plus a title."""

    title: str = ""
    option: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])
    kind: str = ""
    """The chart family (``bar``, ``line``, ``pie``, ``scatter``, ``table``, ...); empty when not stated."""


class HttpRequest(msgspec.Struct, frozen=True, kw_only=True):
    method: str = "GET"
    url: str = ""
    headers: dict[str, str] = msgspec.field(default_factory=dict[str, str])
    query: dict[str, str] = msgspec.field(default_factory=dict[str, str])
    body: Any = None


class HttpResponse(msgspec.Struct, frozen=True, kw_only=True):
    status: int
    headers: dict[str, str] = msgspec.field(default_factory=dict[str, str])
    body: Any = None


_STRUCTS: dict[type, str] = {
    Message: "Message",
    Document: "Document",
    Chunk: "Chunk",
    Table: "Table",
    SQLQuery: "SQLQuery",
    ChartSpec: "ChartSpec",
    HttpRequest: "HttpRequest",
    HttpResponse: "HttpResponse",
}
BASE_TYPES: tuple[str, ...] = (
    "Any", "Text", "Int", "Float", "Bool", "Json", "Message", "Messages", "Document",
    "Chunk", "Embedding", "Table", "SQLQuery", "ChartSpec", "HttpRequest", "HttpResponse",
)  # fmt: skip
WRAPPERS: tuple[str, ...] = ("List", "Optional", "Stream")
JSON_SOURCES: tuple[str, ...] = ("Json", "Text", "Int", "Float", "Bool")
"""The base types a ``Json`` port accepts besides ``Any`` (exported in ``schemas/types.json``)."""
_PLAIN: dict[Any, str] = {str: "Text", int: "Int", float: "Float", bool: "Bool", Any: "Any", dict: "Json"}


class PortType(msgspec.Struct, frozen=True):
    """A port type: a base name, a wrapper with one argument, or a generic variable (``var=True``)."""

    name: str
    args: tuple[PortType, ...] = ()
    var: bool = False

    def __str__(self) -> str:
        return f"{self.name}[{', '.join(map(str, self.args))}]" if self.args else self.name


def _annotated_tag(annotation: Any) -> str | None:
    for meta in getattr(annotation, "__metadata__", ()):
        if isinstance(meta, _Tag):
            return meta.name
    return None


def port_type_of(annotation: Any) -> PortType:
    """Map a Python annotation (as used on ``Inputs``/``Outputs`` fields) to its ``PortType``.

    Raises:
        TypeError: The annotation is outside the vocabulary.
    """
    tag = _annotated_tag(annotation)
    if tag is not None:
        return PortType(tag)
    if isinstance(annotation, TypeVar):
        return PortType(annotation.__name__, var=True)
    if typing.get_origin(annotation) is Annotated:
        return port_type_of(annotation.__origin__)  # constraints and descriptions only
    if annotation in _PLAIN:
        return PortType(_PLAIN[annotation])
    if annotation in _STRUCTS:
        return PortType(_STRUCTS[annotation])
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return PortType("Optional", (port_type_of(rest[0]),))
    if origin is list and len(args) == 1:
        return PortType("List", (port_type_of(args[0]),))
    if origin is AsyncIterator and len(args) == 1:
        return PortType("Stream", (port_type_of(args[0]),))
    if origin is dict:
        return PortType("Json")
    raise TypeError(f"{annotation!r} is not a port type; use one of {', '.join(BASE_TYPES)} or List/Optional/Stream")


_BASE_PYTHON: dict[str, Any] = {
    "Any": Any,
    "Text": str,
    "Int": int,
    "Float": float,
    "Bool": bool,
    "Json": Any,
    "Embedding": list[float],
    "Messages": list[Message],
    **{name: tp for tp, name in _STRUCTS.items()},
}


def python_type_of(port_type: PortType) -> Any:
    """The msgspec-decodable Python type of a concrete port type (the inverse of ``port_type_of``).

    Use it to validate a value against a port type: ``msgspec.convert(value, python_type_of(t))``.
    Generic variables map to ``Any``.

    Raises:
        TypeError: ``Stream[T]`` (an iterator has no value type) or an unknown name.
    """
    if port_type.var:
        return Any
    if port_type.name == "List":
        return list[python_type_of(port_type.args[0])]
    if port_type.name == "Optional":
        inner = python_type_of(port_type.args[0])
        return Any if inner is Any else inner | None
    if port_type.name in _BASE_PYTHON:
        return _BASE_PYTHON[port_type.name]
    raise TypeError(f"{port_type} has no value type")


_TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*|\[|\]|,)")


def parse_port_type(text: str) -> PortType:
    """Parse ``List[Optional[Text]]``; single upper-case letters (``T``) are generic variables."""
    tokens = [m.group(1) for m in _TOKEN.finditer(text)]
    pos = 0

    def parse() -> PortType:
        nonlocal pos
        if pos >= len(tokens):
            raise ValueError(f"unexpected end of port type {text!r}")
        name = tokens[pos]
        pos += 1
        if pos < len(tokens) and tokens[pos] == "[":
            pos += 1
            inner = parse()
            if pos >= len(tokens) or tokens[pos] != "]":
                raise ValueError(f"expected ']' in port type {text!r}")
            pos += 1
            if name not in WRAPPERS:
                raise ValueError(f"{name!r} takes no type argument in {text!r}")
            return PortType(name, (inner,))
        if name in BASE_TYPES:
            return PortType(name)
        if len(name) == 1 and name.isupper():
            return PortType(name, var=True)
        raise ValueError(f"unknown port type {name!r} in {text!r}; known: {', '.join(BASE_TYPES)}")

    result = parse()
    if pos != len(tokens):
        raise ValueError(f"trailing text in port type {text!r}")
    return result


class Compatibility(msgspec.Struct, frozen=True):
    """The verdict on connecting a ``source`` output to a ``target`` input."""

    ok: bool
    coercion: Literal["collect"] | None = None
    """``collect``: the compiler inserts a collect step (Stream[T] → T or List[T])."""
    reason: str = ""


def check_compatible(source: PortType, target: PortType) -> Compatibility:
    """Apply the connection rules of DESIGN.md §4 to concrete (non-variable) types.

    Rules: exact match; ``Any`` accepts everything and is accepted everywhere; ``T`` fits ``Optional[T]``;
    ``Stream[T]`` fits ``T`` (text is joined) or ``List[T]`` only through an explicit collect; a ``Text`` or
    ``Json`` value fits ``Json``. Generic variables are resolved by the compiler before calling this.
    """
    if source == target or target.name == "Any" or source.name == "Any":
        return Compatibility(ok=True)
    if target.name == "Json" and source.name in JSON_SOURCES:
        return Compatibility(ok=True)
    if target.name == "Optional":
        inner = target.args[0]
        if source.name == "Optional":
            return check_compatible(source.args[0], inner)
        return check_compatible(source, inner)
    if target.name == "List" and source.name == "List":
        return check_compatible(source.args[0], target.args[0])
    if source.name == "Stream" and target.name != "Stream":
        item = source.args[0]
        for candidate in (target, target.args[0] if target.name == "List" else None):
            if candidate is not None and check_compatible(item, candidate).ok:
                return Compatibility(ok=True, coercion="collect")
    if source.name == "Stream" and target.name == "Stream":
        return check_compatible(source.args[0], target.args[0])
    return Compatibility(ok=False, reason=f"{source} cannot connect to {target}")


def type_rules_document() -> dict[str, Any]:
    """The vocabulary and rules as JSON for the editor (``schemas/types.json``)."""
    structs = {name: msgspec.json.schema(tp) for tp, name in _STRUCTS.items()}
    return {
        "schema": "rivulet.types/v1",
        "base_types": list(BASE_TYPES),
        "wrappers": list(WRAPPERS),
        "json_sources": list(JSON_SOURCES),
        "json_schemas": structs,
        "rules": [
            {"id": "exact", "text": "identical types connect"},
            {"id": "any", "text": "Any accepts every type and is accepted by every port"},
            {"id": "json", "text": "Json accepts Json, Text, Int, Float and Bool"},
            {"id": "optional", "text": "T fits Optional[T]; Optional[T] fits Optional[T]"},
            {"id": "list", "text": "List[A] fits List[B] when A fits B"},
            {"id": "stream", "text": "Stream[A] fits Stream[B] when A fits B"},
            {"id": "collect", "text": "Stream[T] fits T or List[T] through a collect the compiler inserts"},
            {"id": "generic", "text": "a single upper-case letter is a type variable bound by the first connection"},
        ],
    }
