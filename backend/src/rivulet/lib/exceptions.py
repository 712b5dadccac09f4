"""The error hierarchy. Every error the app raises on purpose is an ``AppError``.

HTTP mapping happens in exactly one place (``rivulet.server.core``); code elsewhere raises these and never
builds responses. Each class carries a stable ``code`` that clients can switch on.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = (
    "AppError",
    "AuthenticationError",
    "ConfigError",
    "ConflictError",
    "DatasourceError",
    "MalformedRequestError",
    "MissingDependencyError",
    "ModelError",
    "NotFoundError",
    "NulCharacterError",
    "OperatorError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RunFailedError",
    "SQLRefusedError",
    "StorageError",
    "ValidationError",
)


class AppError(Exception):
    """Root of every deliberate error.

    Args:
        detail: A human-readable message, safe to show to clients.
        extra: Structured context (ids, paths, expected values) returned alongside ``detail``.
    """

    code: ClassVar[str] = "internal_error"
    status_code: ClassVar[int] = 500

    def __init__(self, detail: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra: dict[str, Any] = extra or {}


class ConfigError(AppError):
    """Settings or environment are unusable (bad value, missing extension, unreachable database)."""

    code = "config_error"
    status_code = 500


class ValidationError(AppError):
    """Client input failed validation; ``extra["errors"]`` lists located problems."""

    code = "validation_error"
    status_code = 422


class MalformedRequestError(AppError):
    """The request cannot be read: malformed or too deeply nested JSON, invalid UTF-8, a bad path or query.

    ``extra["errors"]`` locates the problem (``source``: ``path``, ``query`` or ``body``; ``path``, ``position``).
    """

    code = "malformed_request"
    status_code = 400


class NulCharacterError(MalformedRequestError):
    """A NUL character (U+0000) where none can be kept (a path, a query, a name, a setting); located like its base."""

    code = "nul_character"


class NotFoundError(AppError):
    """A named resource does not exist."""

    code = "not_found"
    status_code = 404


class ConflictError(AppError):
    """The request conflicts with current state (stale version, duplicate name)."""

    code = "conflict"
    status_code = 409


class AuthenticationError(AppError):
    """Missing or invalid credentials."""

    code = "unauthenticated"
    status_code = 401


class PermissionDeniedError(AppError):
    """Credentials are valid but do not allow the action."""

    code = "permission_denied"
    status_code = 403


class RateLimitedError(AppError):
    """Too many calls (rate limit or concurrency limit); retry after ``retry_after_s`` seconds.

    Args:
        detail: Which limit was hit.
        retry_after_s: When a retry can succeed (sent as the ``Retry-After`` header, rounded up).
    """

    code = "rate_limited"
    status_code = 429

    def __init__(self, detail: str, *, retry_after_s: float, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail, extra={**(extra or {}), "retry_after_s": retry_after_s})
        self.retry_after_s = retry_after_s


class RunFailedError(AppError):
    """A run started by a published endpoint failed; ``run_id`` and ``error`` say where and why."""

    code = "run_failed"
    status_code = 500


class StorageError(AppError):
    """The storage backend failed in a way the caller cannot fix."""

    code = "storage_error"
    status_code = 503


class OperatorError(AppError):
    """An operator failed while running a node.

    Args:
        detail: What went wrong.
        operator_id: The operator's id, e.g. ``"core.http_request"``.
        node_id: The flow node that ran it, when known.
    """

    code = "operator_error"
    status_code = 500

    def __init__(self, detail: str, *, operator_id: str, node_id: str | None = None) -> None:
        super().__init__(detail, extra={"operator_id": operator_id, "node_id": node_id})
        self.operator_id = operator_id
        self.node_id = node_id


class ModelError(AppError):
    """A model call failed (provider error, timeout, every fallback exhausted); ``extra["model"]`` names it."""

    code = "model_error"
    status_code = 502


class MissingDependencyError(AppError):
    """An optional extra is needed; the message says how to install it.

    Args:
        package: The importable package that is missing.
        extra: The ``rivulet`` extra that provides it.
    """

    code = "missing_dependency"
    status_code = 501

    def __init__(self, package: str, *, extra: str) -> None:
        super().__init__(
            f"{package!r} is not installed; install it with: pip install 'rivulet[{extra}]'",
            extra={"package": package, "extra": extra},
        )


class SQLRefusedError(ValidationError):
    """Generated or user SQL failed the read-only guard (``extra``: ``rule``, ``reason``, ``dialect``)."""

    code = "sql_refused"
    status_code = 422


class DatasourceError(AppError):
    """A data source could not be reached or a query failed on it.

    ``extra["reason"]`` is ``connect``, ``timeout``, ``row_cap``, ``byte_cap`` or ``query``. The detail never
    carries credentials.
    """

    code = "datasource_error"
    status_code = 502
