"""Password hashing with ``hashlib.scrypt`` (RFC 7914) from the standard library.

The stored form is ``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>`` so the cost can be raised later without
invalidating existing hashes. Comparison is constant-time.

Example:
    >>> stored = hash_password("correct horse")
    >>> verify_password("correct horse", stored), verify_password("wrong", stored)
    (True, False)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = ("hash_password", "verify_password")

_N, _R, _P = 2**14, 8, 1
_DKLEN = 32
_MAXMEM = 64 * 1024 * 1024


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def hash_password(password: str) -> str:
    """A salted scrypt hash of ``password`` in the self-describing stored form."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=_DKLEN, maxmem=_MAXMEM)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (``False`` for malformed stored values)."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return False
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, expected = base64.b64decode(parts[4]), base64.b64decode(parts[5])
    except ValueError:
        return False
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=len(expected), maxmem=_MAXMEM)
    return hmac.compare_digest(digest, expected)
