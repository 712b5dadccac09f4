"""Secret redaction: known secret values and credential-looking text are replaced before text leaves the process.

Every secret value revealed in this process (``PostgresSecretStore.reveal``: model API keys, ``ctx.secret``) is
registered with the process's ``Redactor`` (``secret_redactor()``). Text that may carry one — provider errors,
stored model-call errors, run and node error messages, error responses, log lines — passes through
``redact(text)``, which replaces:

- every registered value, and its base64 (standard and url-safe, at any alignment, so ``Basic`` credentials
  are caught too), URL-encoded and JSON-escaped forms;
- the value of ``Authorization``, ``Proxy-Authorization``, ``X-API-Key``, ``Api-Key``, ``Cookie`` headers and of
  ``Bearer``/``Basic`` credentials wherever they appear (a server echoing the request headers);
- ``token``, ``key``, ``api_key``, ``access_token``, ``password``, ``secret``... query values (``?token=…``);
- Rivulet's own login tokens, API keys and chat app share tokens (``rvt_…``, ``rvk_…``, ``rva_…``).

Values shorter than ``MIN_SECRET_LENGTH`` are not registered (they would mangle ordinary words).

Example:
    >>> r = Redactor()
    >>> r.add("s3cr3t-value")
    >>> r.redact("upstream said: key s3cr3t-value, header Authorization: Bearer abcdefgh1234")
    'upstream said: key [REDACTED], header Authorization: [REDACTED]'
"""

from __future__ import annotations

import base64
import json
import re
import threading
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = ("MIN_SECRET_LENGTH", "REDACTED", "Redactor", "redact", "redact_value", "secret_redactor")

REDACTED = "[REDACTED]"
MIN_SECRET_LENGTH = 6
_MAX_VALUES = 10_000
_MIN_ENCODED = 8

_HEADER = re.compile(
    r"""(?ix)
    (?P<name>\b(?:proxy-authorization|authorization|x-api-key|api-key|x-auth-token|set-cookie|cookie)\b)
    (?P<sep>["']?\s*[:=]\s*["']?)
    (?P<value>(?:(?:bearer|basic|token)\s+)?(?!(?:bearer|basic|token)\b)[^\s"',;{}\[\]\\<>]{4,})
    """
)
_SCHEME = re.compile(r"(?i)\b(?P<scheme>bearer|basic)(?P<sp>\s+)(?P<value>[A-Za-z0-9._~+/=-]{8,})")
_QUERY = re.compile(
    r"(?i)(?P<lead>[?&;]|%26|%3F)(?P<name>token|access_token|refresh_token|id_token|api_key|apikey|api-key|key|"
    r"secret|client_secret|password|passwd|auth|sig|signature)(?P<eq>=|%3D)(?P<value>[^&\s\"'#<>;\[\]]+)"
)
_OWN_TOKEN = re.compile(r"\b(?P<prefix>rv[tka]_)[A-Za-z0-9_-]{16,}")


def _b64_cores(raw: bytes) -> set[str]:
    """The base64 text that every encoding of a byte string containing ``raw`` carries, at each alignment."""
    cores: set[str] = set()
    for offset in range(3):
        padded = b"\0" * offset + raw
        full = len(padded) // 3 * 4  # characters of complete 3-byte groups (the rest depends on what follows)
        start = 4 if offset else 0  # the first group mixes in what precedes the value
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            core = encode(padded).decode()[start:full]
            if len(core) >= _MIN_ENCODED:
                cores.add(core)
    return cores


_B64_EDGE = "[A-Za-z0-9+/_-]"


def _forms(value: str) -> set[str]:
    """Patterns for the value and the encodings it may travel in.

    A base64 form also takes the characters of the partial groups around it (they carry a few bits of the value).
    """
    plain = {value, quote(value, safe=""), quote(value), quote_plus(value), json.dumps(value)[1:-1]}
    patterns = {re.escape(form) for form in plain if len(form) >= MIN_SECRET_LENGTH}
    patterns |= {
        f"{_B64_EDGE}{{0,4}}{re.escape(core)}{_B64_EDGE}{{0,3}}={{0,2}}" for core in _b64_cores(value.encode())
    }
    return patterns


class Redactor:
    """Known secret values plus generic credential patterns; thread-safe, bounded."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._forms: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, value: str) -> None:
        """Register a secret value (ignored when shorter than ``MIN_SECRET_LENGTH``)."""
        if len(value) < MIN_SECRET_LENGTH or value in self._values:
            return
        with self._lock:
            if len(self._values) >= _MAX_VALUES:  # bounded: the oldest registrations go, recent ones stay
                self._values.clear()
                self._forms.clear()
            self._values.add(value)
            self._forms |= _forms(value)
            ordered = sorted(self._forms, key=len, reverse=True)  # the longest form wins where they overlap
            self._pattern = re.compile("|".join(ordered))

    def __contains__(self, value: object) -> bool:
        return value in self._values

    def redact(self, text: str) -> str:
        """``text`` with every known secret (in any registered form) and credential-looking value replaced."""
        if not text:
            return text
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(REDACTED, text)
        text = _HEADER.sub(lambda m: f"{m['name']}{m['sep']}{REDACTED}", text)
        text = _SCHEME.sub(lambda m: f"{m['scheme']}{m['sp']}{REDACTED}", text)
        text = _QUERY.sub(lambda m: f"{m['lead']}{m['name']}{m['eq']}{REDACTED}", text)
        return _OWN_TOKEN.sub(lambda m: f"{m['prefix']}{REDACTED}", text)

    def redact_value(self, value: Any) -> Any:
        """``redact`` applied to every string inside a JSON-like value (dicts, lists, tuples)."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            items: dict[Any, Any] = value  # pyright: ignore[reportUnknownVariableType]
            return {k: self.redact_value(v) for k, v in items.items()}
        if isinstance(value, (list, tuple)):
            seq: list[Any] | tuple[Any, ...] = value  # pyright: ignore[reportUnknownVariableType]
            return [self.redact_value(v) for v in seq]
        return value


_PROCESS = Redactor()


def secret_redactor() -> Redactor:
    """The process's redactor (log lines are redacted with it, so there is one per process)."""
    return _PROCESS


def redact(text: str) -> str:
    """``secret_redactor().redact(text)``."""
    return _PROCESS.redact(text)


def redact_value(value: Any) -> Any:
    """``secret_redactor().redact_value(value)``."""
    return _PROCESS.redact_value(value)
