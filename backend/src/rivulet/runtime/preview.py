"""Bounded, JSON-safe previews of port values for events and run history.

Every value placed in an event goes through ``preview`` first: the result is always encodable by the shared
event encoder (arbitrary objects become a ``<TypeName>`` placeholder) and never much larger than the limit.

Example:
    >>> preview("x" * 10, max_bytes=4)
    ('xxxx…', True)
    >>> preview({"a": [1, 2]})
    ({'a': [1, 2]}, False)
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ("DEFAULT_PREVIEW_BYTES", "preview", "preview_map")

DEFAULT_PREVIEW_BYTES = 2048
_encoder = msgspec.json.Encoder()
_SCALARS = (bool, int, float, type(None))


def preview(value: Any, max_bytes: int = DEFAULT_PREVIEW_BYTES) -> tuple[Any, bool]:
    """A JSON-safe preview of ``value`` and whether it was truncated."""
    if isinstance(value, _SCALARS):
        return value, False
    if isinstance(value, str):
        return (value, False) if len(value) <= max_bytes else (value[:max_bytes] + "…", True)
    try:
        data = _encoder.encode(value)
    except (TypeError, ValueError, OverflowError):
        return f"<{type(value).__name__}>", True
    if len(data) <= max_bytes:
        return msgspec.json.decode(data), False
    return data[:max_bytes].decode(errors="ignore") + "…", True


def preview_map(values: dict[str, Any], max_bytes: int = DEFAULT_PREVIEW_BYTES) -> dict[str, Any]:
    """Previews of a ``{port: value}`` mapping, sharing one byte budget across ports."""
    if not values:
        return {}
    budget = max(64, max_bytes // len(values))
    return {name: preview(value, budget)[0] for name, value in values.items()}
