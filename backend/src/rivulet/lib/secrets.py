"""Secret encryption at rest: AES-256-GCM with a key kept outside the database.

The key comes from the ``secret_key`` setting (``RIVULET_SECRET_KEY``, 32 bytes as url-safe base64) or, when
that is unset, from ``<home>/secret.key``, generated on first use with permissions 0600. Losing the key loses
the secrets (they cannot be decrypted); rotating it means setting every secret again.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from rivulet.lib.exceptions import ConfigError

__all__ = ("KEY_FILE", "SecretBox", "load_secret_key")

KEY_FILE = "secret.key"
_NONCE = 12


def _decode_key(text: str, source: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode())
    except (binascii.Error, ValueError) as exc:
        raise ConfigError(f"{source}: not url-safe base64") from exc
    if len(key) != 32:
        raise ConfigError(f"{source}: the secret key must be 32 bytes (got {len(key)})")
    return key


def load_secret_key(secret_key: str | None, home: str) -> bytes:
    """The encryption key from the setting, or from (or into) ``<home>/secret.key``.

    Raises:
        ConfigError: The configured key is malformed, or the key file is readable by others.
    """
    if secret_key:
        return _decode_key(secret_key, "secret_key")
    path = Path(home).expanduser() / KEY_FILE
    if path.is_file():
        if path.stat().st_mode & 0o077:
            raise ConfigError(f"{path} must be readable by its owner only (chmod 600)")
        return _decode_key(path.read_text(), str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    key = AESGCM.generate_key(bit_length=256)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.urlsafe_b64encode(key).decode())
    return key


class SecretBox:
    """Encrypts and decrypts secret values; the name is bound as associated data (no swapping rows)."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"

    def encrypt(self, name: str, value: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, value.encode(), name.encode())

    def decrypt(self, name: str, blob: bytes) -> str:
        """Raises ``ConfigError`` when the key does not match (the secret was set with another key)."""
        try:
            return self._aead.decrypt(blob[:_NONCE], blob[_NONCE:], name.encode()).decode()
        except InvalidTag:
            raise ConfigError(
                f"secret {name!r} cannot be decrypted with this key; set it again", extra={"secret": name}
            ) from None
