"""The WebSocket client protocol on ``/api/ws``: tagged unions on ``type`` in both directions.

Client → server: ``run_start``, ``subscribe``, ``unsubscribe``, ``cancel``, ``ping``. Server → client: the run
events of ``rivulet.events/v1`` as they are, plus ``run_accepted``, ``subscribed``, ``unsubscribed``,
``cancel_accepted``, ``pong`` and ``error`` (located: ``path`` names the bad field of the client message).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

__all__ = (
    "WS_SCHEMA",
    "CancelAccepted",
    "CancelMessage",
    "ClientMessage",
    "ErrorMessage",
    "PingMessage",
    "PongMessage",
    "RunAccepted",
    "RunStartMessage",
    "ServerMessage",
    "SubscribeMessage",
    "Subscribed",
    "UnsubscribeMessage",
    "Unsubscribed",
    "decode_client_message",
    "protocol_schema",
)

WS_SCHEMA = "rivulet.ws/v1"

RunId = Annotated[str, Meta(min_length=1, max_length=128)]


def _empty() -> dict[str, Any]:
    return {}


class _Client(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field="type"):
    request_id: str | None = None
    """Echoed in the reply (and in errors) so that clients can match answers to requests."""


class RunStartMessage(_Client, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="run_start"):
    """Start a run of a stored flow (like ``POST /api/flows/{id}/runs``)."""

    flow_id: Annotated[str, Meta(min_length=1)]
    inputs: dict[str, Any] = msgspec.field(default_factory=_empty)
    version: Annotated[int, Meta(ge=1)] | None = None
    variables: dict[str, Any] | None = None
    trigger: Literal["editor", "api"] = "editor"
    from_node: str | None = None
    only_nodes: list[str] | None = None
    subscribe: bool = True
    """Also subscribe to the new run from its first event."""


class SubscribeMessage(_Client, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="subscribe"):
    """Receive the events of a run with ``seq > after_seq``, then live ones until ``run_finished``."""

    run_id: RunId
    after_seq: Annotated[int, Meta(ge=0)] = 0


class UnsubscribeMessage(_Client, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="unsubscribe"):
    run_id: RunId


class CancelMessage(_Client, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="cancel"):
    run_id: RunId


class PingMessage(_Client, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="ping"):
    pass


ClientMessage = RunStartMessage | SubscribeMessage | UnsubscribeMessage | CancelMessage | PingMessage


class _Server(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    request_id: str | None = None


class RunAccepted(_Server, frozen=True, kw_only=True, tag="run_accepted"):
    run_id: str
    flow_id: str
    flow_version: int


class Subscribed(_Server, frozen=True, kw_only=True, tag="subscribed"):
    run_id: str
    after_seq: int


class Unsubscribed(_Server, frozen=True, kw_only=True, tag="unsubscribed"):
    run_id: str


class CancelAccepted(_Server, frozen=True, kw_only=True, tag="cancel_accepted"):
    run_id: str


class PongMessage(_Server, frozen=True, kw_only=True, tag="pong"):
    pass


class ErrorMessage(_Server, frozen=True, kw_only=True, tag="error"):
    """A request failed; the connection stays open."""

    code: str
    """``invalid_message``, ``not_found``, ``conflict``, ``validation_error``, ``compile_error``, ..."""
    message: str
    path: str | None = None
    """Where in the client message the problem is (``$.after_seq``)."""
    run_id: str | None = None
    details: dict[str, Any] = msgspec.field(default_factory=_empty)


ServerMessage = RunAccepted | Subscribed | Unsubscribed | CancelAccepted | PongMessage | ErrorMessage

_decoder = msgspec.json.Decoder(ClientMessage)


def protocol_schema() -> dict[str, Any]:
    """The protocol as one JSON Schema (``schemas/ws.v1.schema.json``; the editor's types are generated from it).

    ``$defs`` holds every message plus the two unions, ``ClientMessage`` and ``ServerMessage``; a frame is either.
    Server frames that carry a ``seq`` are run events, described by ``rivulet.events/v1``, not here.
    """
    ref = "#/$defs/{name}"
    (client, server), defs = msgspec.json.schema_components((ClientMessage, ServerMessage), ref_template=ref)
    defs |= {"ClientMessage": client, "ServerMessage": server}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": WS_SCHEMA,
        "title": "The /api/ws protocol",
        "anyOf": [{"$ref": ref.format(name=name)} for name in ("ClientMessage", "ServerMessage")],
        "$defs": defs,
    }


def _path(message: str) -> str:
    return message.rsplit(" - at `", 1)[1].rstrip("`") if " - at `" in message else "$"


def decode_client_message(data: str | bytes) -> ClientMessage | ErrorMessage:
    """Decode a client frame, or describe (with its location) why it is not a valid message."""
    try:
        return _decoder.decode(data)
    except msgspec.ValidationError as exc:
        text = str(exc)
        return ErrorMessage(code="invalid_message", message=text, path=_path(text))
    except msgspec.DecodeError as exc:
        return ErrorMessage(code="invalid_message", message=f"malformed JSON: {exc}", path="$")
    except RecursionError:  # msgspec decodes within Python's recursion limit: about 900 levels
        return ErrorMessage(code="invalid_message", message="malformed JSON: nested too deeply", path="$")
