"""The content-addressed node cache: unchanged nodes are not run again, and a hit is never visible.

A hit must give exactly what running the node would give, so a node's key covers everything its result
depends on:

- *identity*: the flow (entries are never shared between flows: a ``cached`` flag would tell one user what
  another one's flow computed), operator id, version and class, params, and the node's resolved port types;
- *inputs*: every upstream value, by port name;
- *context*: what the node read from its ``RunContext`` while it ran: the run inputs and flow variables it
  looked up (by name; iterating a mapping reads all of it), the secrets it resolved (as keyed hashes: the
  values are never stored), and its node id if it asked for it. A node that asked for the run id or for a
  service (a model registry, a store) depends on something outside the run and is not cached.

Values are encoded with pickle (never unpickled): lossless for type and order, so ``(1, 2)`` and ``[1, 2]``,
``{"a": 1, "b": 2}`` and ``{"b": 2, "a": 1}`` or a Struct and a dict with the same fields get different keys.
Equal values encoded differently only cost a miss.

What a node reads is only known once it ran, so a lookup has two steps: the *base key* (identity and inputs)
finds the *reads* recorded when the node last ran with them (``deps:<base>``), and the reads, valued in the
current run, complete the *content key* that finds the outputs. If those values changed, the node may read
something else this time: it simply runs and records its new reads.

Nodes whose operator declares ``cacheable=False`` or whose policy sets ``cache: false``, nodes with stream
ports and values that cannot be encoded are never cached. The cache also keeps each recorded run's node
outputs (``run_key``), which is what a partial re-run (``from_node`` / ``only_nodes``) reuses even for
non-cacheable nodes. Entries are bounded by total encoded size and evicted least-recently-used first.

Example:
    >>> cache = NodeCache(max_bytes=1_000)
    >>> cache.put("k", {"value": 1})
    True
    >>> cache.get("k")
    {'value': 1}
"""

from __future__ import annotations

import datetime
import hashlib
import io
import os
import pickle
import threading
import types
from collections import OrderedDict
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeAlias
from uuid import UUID

import msgspec

if TYPE_CHECKING:
    from collections.abc import Mapping

    from rivulet.compiler.graph import CompiledNode

__all__ = (
    "NO_DEPS",
    "Deps",
    "NodeCache",
    "content_key",
    "deps_key",
    "node_identity",
    "node_key",
    "run_key",
    "secret_digest",
)

_encoder = msgspec.msgpack.Encoder()
_PROTOCOL = 5
_SALT = os.urandom(16)
"""Keys the hashes of secret values: they cannot be matched against guesses outside this process."""

Deps: TypeAlias = tuple[Any, Any, tuple[str, ...], bool]
"""What a node read from its context: ``(run inputs, variables, secret names, node id?)``; a mapping's entry is
``None`` (not read), ``"*"`` (all of it) or the sorted names looked up."""
NO_DEPS: Deps = (None, None, (), False)
"""The reads of a node that read nothing from its context."""


_VALUE_TYPES = (msgspec.Struct, datetime.date, datetime.time, datetime.timedelta, datetime.tzinfo, Decimal, UUID, Enum)
"""Besides the builtin scalars and containers, what a value may hold: types whose pickled form is their content."""


class _ValuePickler(pickle.Pickler):
    """Pickles values only: any other object (a handle, a plain ``object()``) would pickle without its identity."""

    def reducer_override(self, obj: Any) -> Any:
        # builtin scalars and containers never come here (pickle's fast path); subclasses of them do. Classes
        # and functions (a Struct's rebuild function) are pickled by name, which is what they are.
        if isinstance(obj, _REFERENCES + _VALUE_TYPES) or type(obj) in _BUILTIN:
            return NotImplemented
        raise pickle.PicklingError(f"{type(obj).__qualname__} is not a value")


_REFERENCES = (type, types.FunctionType, types.BuiltinFunctionType)
_BUILTIN = frozenset((str, bytes, int, float, bool, list, tuple, dict, set, frozenset, type(None)))


class _Encoder(threading.local):
    """A value pickler and its buffer, reused; one per thread (a dump may switch threads in ``reducer_override``).

    No ``__slots__``: slots would be shared by every thread; ``threading.local`` attributes are not.
    """

    def __init__(self) -> None:
        self.buffer = io.BytesIO()
        self.pickler = _ValuePickler(self.buffer, protocol=_PROTOCOL)
        self.pickler.fast = True  # no memo: a value shared twice encodes like two equal values (cycles raise)

    def encode(self, value: Any) -> bytes | None:
        buffer = self.buffer
        buffer.seek(0)
        buffer.truncate()
        try:
            self.pickler.dump(value)
        except Exception:  # noqa: BLE001 - pickling may fail in many ways (not a value, local class, recursion)
            return None
        return buffer.getvalue()


_encode = _Encoder().encode
"""Lossless bytes of a value (type, order and structure), or ``None`` when it is not a plain value."""


def node_identity(node: CompiledNode, scope: str = "") -> bytes | None:
    """The encoded identity of ``node`` (operator, version, class, params, port types), or ``None``.

    Args:
        node: The node.
        scope: Who may share its cache entries: the runtime passes the flow id, so a run never learns from a
            ``cached`` flag what somebody else's flow computed.
    """
    operator = node.operator
    return _encode(
        (
            scope,
            node.spec.id,
            node.spec.version,
            f"{operator.__module__}.{operator.__qualname__}",
            node.params,
            [(port.name, port.type) for port in node.inputs],
            [(port.name, port.type) for port in node.outputs],
        )
    )


def node_key(node: CompiledNode, inputs: Mapping[str, Any], identity: bytes | None = None) -> str | None:
    """The base key of running ``node`` on ``inputs`` (identity and inputs), or ``None`` when not computable.

    Args:
        node: The node.
        inputs: Its input values by port name.
        identity: ``node_identity(node)`` when the caller keeps it.
    """
    if identity is None:
        identity = node_identity(node)
        if identity is None:
            return None
    data = _encode(sorted(inputs.items(), key=_first))
    if data is None:
        return None
    return hashlib.blake2b(identity + b"\0" + data, digest_size=20).hexdigest()


def _first(item: tuple[str, Any]) -> str:
    return item[0]


def deps_key(base: str) -> str:
    """The key under which the reads of the node last run with base key ``base`` are kept."""
    return f"deps:{base}"


def secret_digest(value: str) -> bytes:
    """A keyed hash of a secret value (what a cache key holds instead of the value)."""
    return hashlib.blake2b(value.encode(), key=_SALT, digest_size=20).digest()


def _looked_up(spec: Any, mapping: Mapping[str, Any]) -> Any:
    if spec is None:
        return None
    if spec == "*":
        return list(mapping.items())
    return [(name, name in mapping, mapping.get(name)) for name in spec]


def content_key(
    base: str,
    deps: Deps,
    *,
    run_inputs: Mapping[str, Any],
    variables: Mapping[str, Any],
    node_id: str,
    secrets: Mapping[str, bytes | None],
) -> str | None:
    """The key of a node's outputs: its base key and the current values of what it read (``deps``).

    Args:
        base: ``node_key`` of the node and its inputs.
        deps: What the node read when it ran.
        run_inputs: The run's inputs.
        variables: The run's flow variables.
        node_id: The node.
        secrets: ``secret_digest`` of each secret named in ``deps`` (``None``: not found).

    Raises:
        KeyError: A secret named in ``deps`` is missing from ``secrets``.
    """
    if deps == NO_DEPS:
        return base  # it read nothing from its context: identity and inputs are all there is
    inputs_spec, variables_spec, secret_names, uses_node_id = deps
    data = _encode(
        (
            deps,
            _looked_up(inputs_spec, run_inputs),
            _looked_up(variables_spec, variables),
            [(name, secrets[name]) for name in secret_names],
            node_id if uses_node_id else None,
        )
    )
    if data is None:
        return None
    return hashlib.blake2b(base.encode() + b"\0" + data, digest_size=20).hexdigest()


def run_key(run_id: str, node_id: str) -> str:
    """The key under which a recorded run keeps a node's outputs."""
    return f"run:{run_id}:{node_id}"


def _size(outputs: Mapping[str, Any]) -> int | None:
    try:
        return len(_encoder.encode(outputs)) + 64
    except (TypeError, ValueError, OverflowError):
        return None


class NodeCache:
    """An LRU map ``key → {port: value}`` bounded by the total encoded size of the values.

    Values are shared, not copied: consumers must treat them as immutable (port values always are by contract).

    Args:
        max_bytes: Total budget; an entry larger than a quarter of it is not stored.
    """

    def __init__(self, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, tuple[dict[str, Any], int]] = OrderedDict()
        self._bytes = 0

    def get(self, key: str) -> dict[str, Any] | None:
        """The outputs stored under ``key`` (marks it recently used), or ``None``."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: str, outputs: Mapping[str, Any]) -> bool:
        """Store outputs; returns ``False`` when they cannot be encoded or are too large."""
        size = _size(outputs)
        if size is None or size > self.max_bytes // 4:
            return False
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old[1]
        self._entries[key] = (dict(outputs), size)
        self._bytes += size
        while self._bytes > self.max_bytes:
            _, (_, evicted) = self._entries.popitem(last=False)
            self._bytes -= evicted
        return True

    @property
    def size_bytes(self) -> int:
        """Total encoded size of the stored entries."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Drop every entry."""
        self._entries.clear()
        self._bytes = 0
