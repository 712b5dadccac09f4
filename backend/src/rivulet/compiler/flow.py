"""The ``rivulet.flow/v1`` document: what the canvas saves and the compiler reads.

Unknown fields are rejected with a located error (``$.nodes[0].parms``). Older schema versions are
migrated on load by ``FLOW_MIGRATIONS``; an unknown ``schema`` value is an error, never a guess.

Example:
    >>> doc = decode_flow(b'{"schema": "rivulet.flow/v1", "name": "hello", "nodes": [], "edges": []}')
    >>> doc.name
    'hello'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from rivulet.lib.exceptions import ValidationError

__all__ = (
    "FLOW_MIGRATIONS",
    "FLOW_SCHEMA",
    "Edge",
    "FlowDocument",
    "FlowMetadata",
    "Node",
    "NodePolicy",
    "Note",
    "Position",
    "Variable",
    "Viewport",
    "decode_flow",
    "encode_flow",
)

FLOW_SCHEMA = "rivulet.flow/v1"

Identifier = Annotated[str, Meta(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.:-]*$")]
PortName = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[a-z_][a-z0-9_]*$")]
OperatorId = Annotated[str, Meta(min_length=3, max_length=128, pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")]


class _Doc(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every document Struct: immutable, keyword-only, strict about unknown fields."""


class Position(_Doc, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Canvas coordinates of a node (editor state; ignored by the runtime)."""

    x: float = 0.0
    y: float = 0.0


class NodePolicy(_Doc, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How the runtime treats one node. Defaults come from the operator when a field is ``None``."""

    timeout_s: Annotated[float, Meta(gt=0, le=86_400)] | None = None
    """Fail the attempt after this many seconds."""
    retries: Annotated[int, Meta(ge=0, le=20)] = 0
    """Extra attempts after a failure."""
    retry_backoff_s: Annotated[float, Meta(ge=0, le=3_600)] = 1.0
    """Base delay before a retry; doubles each attempt."""
    on_error: Literal["fail", "continue", "route"] = "fail"
    """``fail`` the run, ``continue`` (downstream is skipped), or ``route`` the error to the ``error`` port."""
    cache: bool = True
    """Allow the content-addressed cache for this node (operators may still opt out)."""


class Node(_Doc, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One operator instance on the canvas."""

    id: Identifier
    """Unique within the flow."""
    operator: OperatorId
    """Operator id, e.g. ``llm.chat``."""
    operator_version: Annotated[int, Meta(ge=1)] = 1
    """Version of the operator the params were written for."""
    label: str | None = None
    """Display title; defaults to the operator's title."""
    params: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])
    """Parameters, validated against the operator's ``Params`` Struct by the compiler."""
    position: Position = msgspec.field(default_factory=Position)
    """Canvas position."""
    policy: NodePolicy = msgspec.field(default_factory=NodePolicy)
    """Timeout, retry and error policy."""
    disabled: bool = False
    """A disabled node and everything that depends only on it are skipped."""


class Edge(_Doc, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A typed connection from an output port to an input port."""

    id: Identifier
    source: Identifier
    source_port: PortName
    target: Identifier
    target_port: PortName


class Variable(_Doc, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A flow-level input resolved at run time (secrets come from the secret store)."""

    name: Annotated[str, Meta(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=64)]
    type: Literal["text", "int", "float", "bool", "json", "secret"] = "text"
    required: bool = True
    default: Any = None
    description: str = ""


class Viewport(_Doc, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The canvas viewport when the flow was saved."""

    x: float = 0.0
    y: float = 0.0
    zoom: Annotated[float, Meta(gt=0)] = 1.0


class Note(_Doc, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A sticky note or a group frame on the canvas (editor only)."""

    id: Identifier
    kind: Literal["note", "group"] = "note"
    text: str = ""
    position: Position = msgspec.field(default_factory=Position)
    width: Annotated[float, Meta(ge=0)] = 240.0
    height: Annotated[float, Meta(ge=0)] = 120.0
    color: str | None = None
    members: list[Identifier] = msgspec.field(default_factory=list[str])
    """Node ids inside a group."""


class FlowMetadata(_Doc, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Free-standing facts about a flow."""

    tags: list[str] = msgspec.field(default_factory=list[str])
    template: str | None = None
    """Provenance when imported: ``name@version`` of the template package."""
    source: str | None = None
    """Provenance of a foreign import, e.g. ``dbgpt``."""


class FlowDocument(_Doc, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A whole flow as authored on the canvas (``rivulet.flow/v1``)."""

    schema: Literal["rivulet.flow/v1"] = FLOW_SCHEMA
    id: str = ""
    """Assigned by the server on first save."""
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    description: str = ""
    version: Annotated[int, Meta(ge=0)] = 0
    """Version number assigned by the server on save."""
    nodes: list[Node] = msgspec.field(default_factory=list[Node])
    edges: list[Edge] = msgspec.field(default_factory=list[Edge])
    variables: list[Variable] = msgspec.field(default_factory=list[Variable])
    metadata: FlowMetadata = msgspec.field(default_factory=FlowMetadata)
    viewport: Viewport | None = None
    notes: list[Note] = msgspec.field(default_factory=list[Note])


FlowMigration = Callable[[dict[str, Any]], dict[str, Any]]

FLOW_MIGRATIONS: dict[str, tuple[str, FlowMigration]] = {}
"""``old schema -> (next schema, migrate)``; applied in a chain until ``FLOW_SCHEMA`` is reached."""

_decoder = msgspec.json.Decoder(FlowDocument)
_encoder = msgspec.json.Encoder(order="deterministic")


def _migrate(raw: dict[str, Any]) -> dict[str, Any]:
    seen: set[str] = set()
    schema = raw.get("schema", FLOW_SCHEMA)
    while schema != FLOW_SCHEMA:
        if not isinstance(schema, str) or schema not in FLOW_MIGRATIONS or schema in seen:
            known = ", ".join([FLOW_SCHEMA, *FLOW_MIGRATIONS])
            raise ValidationError(
                f"unsupported flow schema {schema!r} at $.schema; expected one of: {known}",
                extra={"errors": [{"path": "$.schema", "message": "unsupported schema", "got": schema}]},
            )
        seen.add(schema)
        schema, migrate = FLOW_MIGRATIONS[schema]
        raw = {**migrate(raw), "schema": schema}
    return raw


def decode_flow(data: bytes | str | dict[str, Any]) -> FlowDocument:
    """Decode and validate a flow document from JSON or an already-parsed mapping.

    Raises:
        ValidationError: Malformed JSON, a wrong type, or an unknown field; ``extra["errors"][0]["path"]`` locates it.
    """
    try:
        if isinstance(data, dict):
            return msgspec.convert(_migrate(data), FlowDocument)
        if b'"schema"' in (data.encode() if isinstance(data, str) else data) and FLOW_MIGRATIONS:
            return msgspec.convert(_migrate(msgspec.json.decode(data)), FlowDocument)
        return _decoder.decode(data)
    except msgspec.ValidationError as exc:
        message = str(exc)
        path = message.rsplit(" - at `", 1)[1].rstrip("`") if " - at `" in message else "$"
        raise ValidationError(
            f"invalid flow document: {message}", extra={"errors": [{"path": path, "message": message}]}
        ) from exc
    except msgspec.DecodeError as exc:
        raise ValidationError(f"malformed JSON: {exc}", extra={"errors": [{"path": "$", "message": str(exc)}]}) from exc
    except (RecursionError, UnicodeDecodeError) as exc:  # nested deeper than the decoder goes, or not UTF-8
        reason = "nested too deeply" if isinstance(exc, RecursionError) else f"invalid UTF-8 ({exc.reason})"
        raise ValidationError(
            f"malformed JSON: {reason}", extra={"errors": [{"path": "$", "message": reason}]}
        ) from None


def encode_flow(doc: FlowDocument) -> bytes:
    """Deterministic JSON (sorted keys) so that stored versions diff cleanly."""
    return _encoder.encode(doc)
