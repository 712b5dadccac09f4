"""Random ids: 128 bits as 32 hex digits, the same shape as ``uuid.uuid4().hex`` at a fifth of its cost."""

from __future__ import annotations

import os

__all__ = ("random_id",)


def random_id() -> str:
    """A version-4 UUID as 32 lowercase hex digits (what ``uuid.uuid4().hex`` returns)."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # RFC 4122 variant
    return raw.hex()
