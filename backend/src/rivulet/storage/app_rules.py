"""Rules the chat app stores apply alike (memory and PostgreSQL): slugs, allowed values, fields, not-found errors.

Example:
    >>> check_slug("sales-bot")
    'sales-bot'
"""

from __future__ import annotations

import re
from typing import Any, get_args

from rivulet.lib.exceptions import ConflictError, NotFoundError, ValidationError
from rivulet.storage.base import AppFeedback, AppMessageStatus

__all__ = (
    "APP_FEEDBACK",
    "APP_MESSAGE_STATUSES",
    "APP_ROLES",
    "SLUG_PATTERN",
    "TOKEN_PREFIX_LENGTH",
    "UPDATABLE_APP_FIELDS",
    "USED_MARK_SECONDS",
    "app_not_found",
    "check_app_changes",
    "check_app_fields",
    "check_choice",
    "check_no_nul",
    "check_rate_limit",
    "check_slug",
    "clean_text",
    "conversation_not_found",
    "message_not_found",
    "slug_taken",
    "token_not_found",
)

SLUG_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
"""An app's slug: lowercase letters, digits and dashes, 1-64 characters, not starting with a dash."""
APP_MESSAGE_STATUSES: tuple[str, ...] = get_args(AppMessageStatus)
APP_FEEDBACK: tuple[str, ...] = get_args(AppFeedback)
APP_ROLES: tuple[str, ...] = ("user", "assistant")
TOKEN_PREFIX_LENGTH = 8
"""How many leading characters of a share token's secret are kept to recognise it."""
USED_MARK_SECONDS = 60
"""A token's ``last_used_at`` is written at most this often (resolving runs on every request)."""

UPDATABLE_APP_FIELDS: frozenset[str] = frozenset(
    {
        "slug",
        "flow_id",
        "flow_version",
        "title",
        "description",
        "suggested_questions",
        "message_input",
        "session_input",
        "enabled",
        "owner_id",
        "workspace_id",
    }
)
_NOT_NULL_FIELDS = frozenset({"slug", "flow_id", "title", "description", "suggested_questions", "message_input"})


def check_no_nul(**fields: str | None) -> None:
    """Raises ``ValidationError`` naming the first field whose text holds a NUL (text columns cannot keep one)."""
    for field, value in fields.items():
        if value is not None and "\x00" in value:
            raise ValidationError(f"{field} must not hold a NUL character", extra={"field": field})


def clean_text(text: str) -> str:
    """Text a column can hold: NUL replaced (message content and titles come from users and models)."""
    return text.replace("\x00", "\ufffd")


def check_choice(field: str, value: str | None, choices: tuple[str, ...]) -> None:
    """Raises ``ValidationError`` unless ``value`` is ``None`` or one of ``choices``."""
    if value is not None and value not in choices:
        raise ValidationError(
            f"{field} must be one of {', '.join(choices)}, not {str(value)[:80]!r}", extra={"field": field}
        )


def check_slug(slug: str) -> str:
    """Raises ``ValidationError`` unless ``slug`` matches ``SLUG_PATTERN``."""
    if not isinstance(slug, str) or SLUG_PATTERN.fullmatch(slug) is None:  # pyright: ignore[reportUnnecessaryIsInstance]
        raise ValidationError(
            f"slug {str(slug)[:80]!r} must be 1-64 lowercase letters, digits or dashes, not starting with a dash",
            extra={"field": "slug"},
        )
    return slug


def check_rate_limit(rate_limit_per_minute: int | None) -> None:
    """Raises ``ValidationError`` for a limit under 1 (``None``: unlimited)."""
    if rate_limit_per_minute is not None and rate_limit_per_minute < 1:
        raise ValidationError("rate_limit_per_minute must be at least 1", extra={"field": "rate_limit_per_minute"})


def check_app_fields(
    *,
    slug: str,
    title: str,
    description: str,
    suggested_questions: list[str],
    message_input: str,
    session_input: str | None,
    flow_id: str,
    owner_id: str | None,
    workspace_id: str | None,
) -> None:
    """Raises ``ValidationError`` for a bad slug, a blank title or input name, or text holding a NUL."""
    check_slug(slug)
    if not title.strip():
        raise ValidationError("title must not be blank", extra={"field": "title"})
    if not message_input.strip():
        raise ValidationError("message_input must not be blank", extra={"field": "message_input"})
    if session_input is not None and not session_input.strip():
        raise ValidationError("session_input must not be blank (None: no memory)", extra={"field": "session_input"})
    check_no_nul(
        title=title,
        description=description,
        message_input=message_input,
        session_input=session_input,
        flow_id=flow_id,
        owner_id=owner_id,
        workspace_id=workspace_id,
    )
    for question in suggested_questions:
        check_no_nul(suggested_questions=question)


def check_app_changes(changes: dict[str, Any]) -> None:
    """Raises ``ValidationError`` for a field ``update_app`` cannot change or a ``None`` where one is needed."""
    unknown = sorted(set(changes) - UPDATABLE_APP_FIELDS)
    if unknown:
        raise ValidationError(f"these app fields cannot be changed: {', '.join(unknown)}", extra={"fields": unknown})
    for field in sorted(_NOT_NULL_FIELDS & set(changes)):
        if changes[field] is None:
            raise ValidationError(f"{field} must not be null", extra={"field": field})
    if "enabled" in changes and not isinstance(changes["enabled"], bool):
        raise ValidationError("enabled must be true or false", extra={"field": "enabled"})


def app_not_found(app: str) -> NotFoundError:
    return NotFoundError(f"app {app!r} not found", extra={"app": app})


def slug_taken(slug: str) -> ConflictError:
    return ConflictError(f"an app already has the slug {slug!r}", extra={"slug": slug})


def token_not_found(token_id: str) -> NotFoundError:
    return NotFoundError(f"share token {token_id!r} not found", extra={"token_id": token_id})


def conversation_not_found(conversation_id: str) -> NotFoundError:
    return NotFoundError(f"conversation {conversation_id!r} not found", extra={"conversation": conversation_id})


def message_not_found(message_id: str) -> NotFoundError:
    return NotFoundError(f"message {message_id!r} not found", extra={"message": message_id})
