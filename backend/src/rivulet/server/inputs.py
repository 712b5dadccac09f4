"""Reading request input without a 500: JSON bodies, NUL characters and values the database cannot store.

- ``RivuletRequest`` (the app's request class) decodes JSON bodies like Litestar does, but answers invalid UTF-8,
  malformed JSON and JSON nested deeper than ``MAX_JSON_DEPTH`` with a 400 ``malformed_request`` that says
  what is wrong and at which byte, instead of an unhandled ``UnicodeDecodeError`` or ``RecursionError``.
- ``storage_value_error`` turns the ``psycopg.DataError`` of a value PostgreSQL cannot store (a NUL character in
  a text or ``jsonb`` value, an integer out of range) into a 400 ``nul_character`` naming where the NUL is in
  the request, or a 422 ``validation_error``. Run inputs, outputs and errors keep their NULs instead
  (``rivulet.storage.postgres.jsonb``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import msgspec
from litestar import Request
from litestar.exceptions import SerializationException
from litestar.utils.scope.state import ScopeState

from rivulet.lib.exceptions import AppError, MalformedRequestError, NulCharacterError, ValidationError

if TYPE_CHECKING:
    import psycopg

__all__ = ("MAX_JSON_DEPTH", "RivuletRequest", "find_nul", "malformed_json", "storage_value_error")

_NUL = "\x00"


def _child_path(path: str, key: str) -> str:
    return f"{path}.{key}" if key.isidentifier() else f"{path}[{msgspec.json.encode(key).decode()}]"


def find_nul(value: Any, path: str = "$") -> str | None:
    """The JSONPath of the first string or object key in ``value`` that holds a NUL character, or ``None``."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if _NUL in item:
                return where
        elif isinstance(item, dict):
            entries: list[tuple[Any, str]] = []
            mapping = cast("dict[Any, Any]", item)
            for key, child in mapping.items():
                name = str(key)
                if _NUL in name:
                    return _child_path(where, name)  # quoted as JSON: the NUL shows as \\u0000
                entries.append((child, _child_path(where, name)))
            stack.extend(reversed(entries))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{i}]") for i, child in reversed(list(enumerate(item))))  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]
    return None


MAX_JSON_DEPTH = 900
"""About how deep JSON arrays and objects may nest: ``msgspec`` decodes within Python's recursion limit (1,000
frames, some of which the server itself uses), so the real bound lies a little above this; reports name this one."""

_DEPTH_SCAN_BYTES = 1 << 20


def _too_deep_at(body: bytes) -> int | None:
    """The offset where ``body`` nests deeper than ``MAX_JSON_DEPTH`` (in its first MiB; strings skipped)."""
    depth = 0
    in_string = escaped = False
    for offset, byte in enumerate(body[:_DEPTH_SCAN_BYTES]):
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in b"[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return offset
        elif byte in b"]}":
            depth -= 1
    return None


def _utf8_error_at(body: bytes) -> UnicodeDecodeError | None:
    try:
        body.decode()
    except UnicodeDecodeError as exc:
        return exc
    return None


def malformed_json(exc: Exception, *, what: str, body: bytes | None = None) -> MalformedRequestError:
    """The 400 for a JSON ``body`` (named ``what``: ``"the request body"``) that ``msgspec`` could not decode."""
    if isinstance(exc, RecursionError):
        at = None if body is None else _too_deep_at(body)
        where = "" if at is None else f" at byte {at}"
        message = f"JSON is nested too deeply{where} (at most about {MAX_JSON_DEPTH} levels of arrays and objects)"
        error: dict[str, Any] = {"source": "body", "message": message}
        if at is not None:
            error["position"] = at
    elif isinstance(exc, UnicodeDecodeError):
        whole = None if body is None else _utf8_error_at(body)
        bad = whole or exc
        message = f"invalid UTF-8 at byte {bad.start}: {bad.reason}"
        error = {"source": "body", "position": bad.start, "message": message}
    else:
        message = str(exc).removeprefix("JSON is malformed: ")
        error = {"source": "body", "message": message}
    return MalformedRequestError(f"{what} is not valid JSON: {message}", extra={"errors": [error]})


class RivuletRequest(Request[Any, Any, Any]):
    """Litestar's ``Request`` whose ``json()`` answers undecodable bodies with a located 400."""

    async def json(self) -> Any:
        try:
            return await super().json()
        except (RecursionError, UnicodeDecodeError, SerializationException) as exc:
            raise malformed_json(exc, what="the request body", body=await self.body()) from None


def _nul_in_request(request: Request[Any, Any, Any]) -> dict[str, Any] | None:
    """Where the request carries a NUL: a query parameter or a place in its (already decoded) JSON body."""
    for key, value in request.query_params.multi_items():
        if _NUL in key or _NUL in value:
            return {"source": "query", "parameter": key.replace(_NUL, "\\u0000")}
    body = ScopeState.from_scope(request.scope).json
    if isinstance(body, (dict, list, str)):
        path = find_nul(body)
        if path is not None:
            return {"source": "body", "path": path}
    return None


def storage_value_error(request: Request[Any, Any, Any], exc: psycopg.DataError) -> AppError:
    """The client error behind a ``DataError``: a value of the request that PostgreSQL cannot store."""
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) or (str(exc).splitlines() or [type(exc).__name__])[0]
    detail = getattr(diag, "message_detail", None) or ""
    if "NUL" in primary or "\\u0000" in detail:
        where = _nul_in_request(request)
        located = "" if where is None else f" at {where.get('path') or 'query parameter ' + where['parameter']}"
        message = "a NUL character (\\u0000) cannot be stored here"
        return NulCharacterError(
            f"the request contains a NUL character (\\u0000){located}, which cannot be stored there",
            extra={"errors": [{**(where or {"source": "request"}), "message": message}]},
        )
    return ValidationError(
        f"a value of the request cannot be stored: {primary}",
        extra={"errors": [{"source": "request", "message": primary}]},
    )
