"""Random bearer secrets: login tokens (``rvt_``), endpoint API keys (``rvk_``) and app share tokens (``rva_``).

Only ``hash_token(secret)`` (SHA-256, hex) is stored: the secrets carry 256 bits of entropy, so a fast hash is
the standard choice (no salt or stretching needed, unlike passwords).

Example:
    >>> key = new_api_key()
    >>> key.startswith(API_KEY_PREFIX), len(hash_token(key))
    (True, 64)
"""

from __future__ import annotations

import hashlib
import secrets

__all__ = (
    "API_KEY_PREFIX",
    "APP_TOKEN_PREFIX",
    "TOKEN_PREFIX",
    "hash_token",
    "new_api_key",
    "new_app_token",
    "new_token",
)

TOKEN_PREFIX = "rvt_"  # noqa: S105 - a prefix, not a secret
"""Login tokens and session cookies (a user's credentials)."""
API_KEY_PREFIX = "rvk_"
"""API keys (callers of published endpoints only)."""
APP_TOKEN_PREFIX = "rva_"  # noqa: S105 - a prefix, not a secret
"""Chat app share links (one app's chat routes only)."""


def new_token() -> str:
    """A fresh login token."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_api_key() -> str:
    """A fresh API key."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def new_app_token() -> str:
    """A fresh chat app share token."""
    return APP_TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(secret: str) -> str:
    """The stored form of a token or key."""
    return hashlib.sha256(secret.encode()).hexdigest()
