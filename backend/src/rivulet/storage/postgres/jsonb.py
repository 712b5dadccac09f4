r"""JSON values in ``jsonb`` columns, NUL characters included.

PostgreSQL's ``jsonb`` (and ``text``) cannot hold the character U+0000: ``'{"a": "\\u0000"}'::jsonb`` fails with
"unsupported Unicode escape sequence". Run inputs, outputs and errors are whatever a caller sent or an operator
produced, so a NUL must survive being recorded. A value whose JSON contains a NUL escape is therefore stored
*wrapped*: ``{"rivulet.nul/v1": "<its JSON text>"}``. The JSON text is a plain JSON string there, so its
``\\u0000`` escapes are stored as the six characters they are, and ``restore`` turns the wrapper back into the
value, byte for byte. A value that happens to be an object with the wrapper's key is wrapped too, so the wrapper
is never ambiguous. Everything else is stored as is (and stays queryable with jsonb operators).

Example:
    >>> stored = dump({"text": "a\x00b"})
    >>> stored.startswith('{"rivulet.nul/v1":') and "\\u0000" in stored
    True
    >>> restore(msgspec.json.decode(stored)) == {"text": "a\x00b"}
    True
"""

from __future__ import annotations

from typing import Any, cast

import msgspec

from rivulet.records.events import encoder

__all__ = ("WRAPPER_KEY", "dump", "encode", "may_need_wrapping", "needs_wrapping", "restore", "wrap")

WRAPPER_KEY = "rivulet.nul/v1"
"""The only key of a wrapped value."""

_NUL_ESCAPE = b"\\u0000"
_WRAPPER_KEY_JSON = b'"rivulet.nul/v1"'


def needs_wrapping(value: Any, data: bytes) -> bool:
    """Whether ``value`` (encoded as ``data``) must be stored wrapped.

    A string holding a backslash followed by ``u0000`` also matches: wrapping it is harmless (always restored).
    """
    return _NUL_ESCAPE in data or (isinstance(value, dict) and WRAPPER_KEY in value)


def may_need_wrapping(data: bytes) -> bool:
    """Whether some value inside the JSON text ``data`` may need wrapping (false: none does)."""
    return _NUL_ESCAPE in data or _WRAPPER_KEY_JSON in data


def wrap(data: bytes) -> dict[str, str]:
    """The wrapper of the JSON text ``data``."""
    return {WRAPPER_KEY: data.decode()}


def encode(value: Any) -> bytes:
    """``value`` as JSON that ``jsonb`` accepts (wrapped when it holds a NUL)."""
    data = encoder.encode(value)
    if needs_wrapping(value, data):
        return encoder.encode(wrap(data))
    return data


def dump(value: Any) -> str:
    """``encode`` as text (a ``%s::jsonb`` parameter)."""
    return encode(value).decode()


def restore(value: Any) -> Any:
    """The value that was stored: a wrapper decoded back into what it wrapped, anything else unchanged."""
    if isinstance(value, dict):
        stored = cast("dict[str, Any]", value)
        inner = stored.get(WRAPPER_KEY)
        if len(stored) == 1 and isinstance(inner, str):
            return msgspec.json.decode(inner)
    return cast("Any", value)
