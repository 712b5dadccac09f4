"""Authentication primitives: password hashing, random tokens and the authenticated ``Principal``.

Key contracts: passwords are hashed with ``hashlib.scrypt`` (salted, memory-hard, parameters stored with the
hash); login tokens, session cookies and API keys are 256-bit random strings of which only the SHA-256 is stored.
"""

from rivulet.security.passwords import hash_password, verify_password
from rivulet.security.principal import Principal
from rivulet.security.tokens import (
    API_KEY_PREFIX,
    APP_TOKEN_PREFIX,
    TOKEN_PREFIX,
    hash_token,
    new_api_key,
    new_app_token,
    new_token,
)

__all__ = (
    "API_KEY_PREFIX",
    "APP_TOKEN_PREFIX",
    "TOKEN_PREFIX",
    "Principal",
    "hash_password",
    "hash_token",
    "new_api_key",
    "new_app_token",
    "new_token",
    "verify_password",
)
