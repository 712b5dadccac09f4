"""The content-addressed node cache: unchanged nodes are not run again.

A node's key hashes its operator id and version, its params (encoded deterministically: struct fields in
order, mapping keys sorted) and every input value. Nodes whose operator declares ``cacheable=False`` or whose
policy sets ``cache: false``, nodes with stream ports and inputs that cannot be encoded are never cached. The
cache also keeps each recorded run's node outputs (``run_key``), which is what a partial re-run
(``from_node`` / ``only_nodes``) reuses even for non-cacheable nodes. Entries are bounded by total encoded
size and evicted least-recently-used first.

Example:
    >>> cache = NodeCache(max_bytes=1_000)
    >>> cache.put("k", {"value": 1})
    True
    >>> cache.get("k")
    {'value': 1}
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from collections.abc import Mapping

    from rivulet.compiler.graph import CompiledNode

__all__ = ("NodeCache", "node_key", "run_key")

_encoder = msgspec.msgpack.Encoder(order="deterministic")


def node_key(node: CompiledNode, inputs: Mapping[str, Any]) -> str | None:
    """The content address of running ``node`` on ``inputs``, or ``None`` when it cannot be computed."""
    try:
        data = _encoder.encode(
            (node.spec.id, node.spec.version, node.params, sorted(inputs.items(), key=lambda item: item[0]))
        )
    except (TypeError, ValueError, OverflowError):
        return None
    return hashlib.blake2b(data, digest_size=20).hexdigest()


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
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> dict[str, Any] | None:
        """The outputs stored under ``key`` (marks it recently used), or ``None``."""
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
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
