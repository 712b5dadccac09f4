"""Error → HTTP mapping (the only place it happens).

Every error response is an RFC 9457 problem document: ``{"type", "title", "status", "detail", "code", ...}``.
Unexpected exceptions are logged with their trace and answered with a generic 500: no stack trace, no
internal message ever reaches a client. Known secret values and credential-looking text are redacted from every
problem document (``rivulet.lib.redact``).
"""

from __future__ import annotations

import math
from typing import Any

import psycopg
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException

from rivulet.lib.exceptions import AppError, RateLimitedError
from rivulet.lib.log import get_logger
from rivulet.lib.redact import redact, redact_value
from rivulet.server.inputs import storage_value_error

__all__ = ("error_response", "exception_handlers", "problem")

PROBLEM_JSON = "application/problem+json"
_log = get_logger("rivulet.server")


def problem(
    status: int, code: str, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> Response[dict[str, Any]]:
    """Build a problem-details response."""
    standard = {
        "type": f"urn:rivulet:error:{code}",
        "title": title,
        "status": status,
        "detail": redact(detail),
        "code": code,
    }
    body: dict[str, Any] = {**redact_value(extra), **standard}  # context never overrides the standard members
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _app_error(request: Request[Any, Any, Any], exc: AppError) -> Response[dict[str, Any]]:
    if exc.status_code >= 500:
        _log.error("request failed", extra={"path": request.url.path, "code": exc.code, "detail": exc.detail})
    headers = None
    if isinstance(exc, RateLimitedError):
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))}
    return problem(exc.status_code, exc.code, type(exc).__name__, exc.detail, headers, **exc.extra)


def _validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    items: list[Any] = exc.extra if isinstance(exc.extra, list) else []  # pyright: ignore[reportUnknownMemberType]
    errors: list[Any] = [item for item in items if isinstance(item, dict)]
    return problem(422, "validation_error", "ValidationError", exc.detail, errors=errors)


def _http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    if isinstance(exc, NotAuthorizedException):
        headers = {"WWW-Authenticate": 'Bearer realm="rivulet"'}
        return problem(401, "unauthenticated", type(exc).__name__, exc.detail, headers)
    return problem(exc.status_code, f"http_{exc.status_code}", type(exc).__name__, exc.detail)


def _data_error(request: Request[Any, Any, Any], exc: psycopg.DataError) -> Response[dict[str, Any]]:
    error = storage_value_error(request, exc)  # a value the database cannot store: 400/422, no traceback
    _log.warning("a request value could not be stored", extra={"path": request.url.path, "detail": error.detail})
    return _app_error(request, error)


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    _log.exception("unhandled error", extra={"path": request.url.path, "error_type": type(exc).__name__})
    return problem(500, "internal_error", "InternalError", "an internal error occurred; see the server log")


_HANDLERS: dict[int | type[Exception], Any] = {
    AppError: _app_error,
    ValidationException: _validation,
    HTTPException: _http,
    psycopg.DataError: _data_error,
    Exception: _unexpected,
}


def exception_handlers() -> dict[int | type[Exception], Any]:
    """The handler map for ``Litestar(exception_handlers=...)``."""
    return dict(_HANDLERS)


def error_response(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """The problem+json answer to ``exc``, chosen as Litestar chooses from ``exception_handlers()`` (nearest class)."""
    handler = next(_HANDLERS[cls] for cls in type(exc).__mro__ if cls in _HANDLERS)
    response: Response[dict[str, Any]] = handler(request, exc)
    return response
