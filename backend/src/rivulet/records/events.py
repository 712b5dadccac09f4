"""The run event union ``rivulet.events/v1``: what the runtime emits, what storage keeps, what clients receive.

Every event carries ``run_id``, ``seq`` (gap-free per run, starting at 1) and ``ts`` (Unix seconds); node events
add ``node_id``. The union is tagged on ``type`` with snake_case tags. A run always ends with exactly one
``run_finished`` event (also after a cancellation, which is announced first by ``run_cancelled``).

Example:
    >>> event = NodeSucceeded(run_id="r1", seq=3, ts=0.0, node_id="n1", duration_ms=1.5)
    >>> encode_event(event)
    b'{"type":"node_succeeded","run_id":"r1","seq":3,"ts":0.0,"node_id":"n1","duration_ms":1.5,"cached":false}'
    >>> decode_event(encode_event(event)) == event
    True
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

__all__ = (
    "EVENTS_SCHEMA",
    "ErrorInfo",
    "Event",
    "NodeChunk",
    "NodeFailed",
    "NodeOutput",
    "NodeProgress",
    "NodeSkipped",
    "NodeStarted",
    "NodeSucceeded",
    "RunCancelled",
    "RunFinished",
    "RunStarted",
    "RunStatus",
    "decode_event",
    "decode_events",
    "encode_event",
    "encoder",
)

EVENTS_SCHEMA = "rivulet.events/v1"

RunStatus = Literal["queued", "running", "succeeded", "failed", "cancelled", "interrupted"]
"""Lifecycle of a run. ``interrupted``: the process executing it died; its persisted events are kept."""


def _empty() -> dict[str, Any]:
    return {}


class ErrorInfo(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, gc=False):
    """A located, client-safe description of a failure."""

    code: str
    """Stable snake_case code: ``operator_error``, ``timeout``, ``cancelled``, ``input_missing``, ..."""
    message: str
    """Human-readable explanation."""
    node_id: str | None = None
    """The node that failed, when the error belongs to one."""
    operator_id: str | None = None
    """The operator of that node."""
    attempt: int | None = None
    """Which attempt failed (1-based)."""
    details: dict[str, Any] = msgspec.field(default_factory=_empty)
    """Structured context (expected values, limits)."""


class _Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", gc=False):
    # gc=False (inherited): events are plain data that never reference back to anything holding them, so the
    # cycle collector need not track them (a busy endpoint keeps thousands queued for the next group write)

    run_id: str
    """The run the event belongs to."""
    seq: int
    """Position in the run's event stream: 1, 2, 3, ... without gaps."""
    ts: float
    """Unix time in seconds when the event was emitted."""


class RunStarted(_Event, frozen=True, kw_only=True, tag="run_started"):
    """The run began executing."""

    flow_id: str
    flow_version: int
    node_ids: tuple[str, ...] = ()
    """Every node of the compiled graph, in topological order."""
    trigger: str = "api"
    """``editor``, ``api``, ``schedule`` or ``cli``."""


class NodeStarted(_Event, frozen=True, kw_only=True, tag="node_started"):
    """An attempt of a node began."""

    node_id: str
    attempt: int = 1


class NodeProgress(_Event, frozen=True, kw_only=True, tag="node_progress"):
    """Progress reported by the operator (``ctx.progress``)."""

    node_id: str
    value: float
    max: float | None = None


class NodeChunk(_Event, frozen=True, kw_only=True, tag="node_chunk"):
    """One item of a ``Stream`` output (an LLM token, a row)."""

    node_id: str
    port: str
    data: Any
    index: int = 0
    """Position of the item in the stream (0-based)."""


class NodeOutput(_Event, frozen=True, kw_only=True, tag="node_output"):
    """A produced output value, as a bounded preview (strings cut, large values summarised)."""

    node_id: str
    port: str
    preview: Any
    truncated: bool = False


class NodeSucceeded(_Event, frozen=True, kw_only=True, tag="node_succeeded"):
    """A node finished; ``cached`` when its outputs came from the cache instead of running it."""

    node_id: str
    duration_ms: float
    cached: bool = False


class NodeFailed(_Event, frozen=True, kw_only=True, tag="node_failed"):
    """An attempt failed. ``retrying`` is true when another attempt follows."""

    node_id: str
    error: ErrorInfo
    retrying: bool = False


class NodeSkipped(_Event, frozen=True, kw_only=True, tag="node_skipped"):
    """A node did not run: an untaken branch, a missing required input, a disabled node."""

    node_id: str
    reason: str


class RunFinished(_Event, frozen=True, kw_only=True, tag="run_finished"):
    """The last event of every run."""

    status: RunStatus
    outputs: dict[str, Any] = msgspec.field(default_factory=_empty)
    """Values of the output nodes by node id (previews for large values)."""
    error: ErrorInfo | None = None
    duration_ms: float = 0.0


class RunCancelled(_Event, frozen=True, kw_only=True, tag="run_cancelled"):
    """Cancellation was requested; running nodes are being stopped. ``run_finished`` follows."""

    reason: str = "cancelled by user"


Event = (
    RunStarted
    | NodeStarted
    | NodeProgress
    | NodeChunk
    | NodeOutput
    | NodeSucceeded
    | NodeFailed
    | NodeSkipped
    | RunFinished
    | RunCancelled
)
"""The ``rivulet.events/v1`` union."""

encoder = msgspec.json.Encoder()
"""The one encoder for events on every wire (WebSocket, storage, CLI)."""
_decoder: msgspec.json.Decoder[Event] = msgspec.json.Decoder(Event)  # type: ignore[arg-type]
_list_decoder: msgspec.json.Decoder[list[Event]] = msgspec.json.Decoder(list[Event])  # type: ignore[arg-type]


def encode_event(event: Event) -> bytes:
    """Encode one event as JSON."""
    return encoder.encode(event)


def decode_event(data: bytes | str) -> Event:
    """Decode one event.

    Raises:
        msgspec.ValidationError: The JSON is not a ``rivulet.events/v1`` event; the message locates the field.
    """
    return _decoder.decode(data)


def decode_events(data: bytes | str) -> list[Event]:
    """Decode a JSON array of events."""
    return _list_decoder.decode(data)
