"""``rivulet.lib.redact``: known secret values in every encoding, credential headers, query secrets, own tokens."""

from __future__ import annotations

import base64
import io
import json
import logging
from urllib.parse import quote, quote_plus

import pytest

from rivulet.lib.log import ConsoleFormatter, JsonFormatter
from rivulet.lib.redact import REDACTED, Redactor, secret_redactor

SECRET = "sk-Pl4nted/secret+value=42"


@pytest.fixture
def redactor() -> Redactor:
    r = Redactor()
    r.add(SECRET)
    return r


@pytest.mark.parametrize(
    "text",
    [
        f"upstream said: {SECRET}!",
        json.dumps({"echo": SECRET}),
        quote(SECRET, safe=""),
        quote(SECRET),
        quote_plus(SECRET),
        base64.b64encode(SECRET.encode()).decode(),
        base64.urlsafe_b64encode(SECRET.encode()).decode(),
        # the secret inside a longer encoded string, at every alignment (e.g. HTTP Basic credentials)
        base64.b64encode(b"Bearer " + SECRET.encode()).decode(),
        base64.b64encode(b"user:" + SECRET.encode()).decode(),
        base64.b64encode(b"ab:" + SECRET.encode() + b" tail").decode(),
        json.dumps({"headers": {"x": base64.urlsafe_b64encode(b"u:" + SECRET.encode()).decode()}}),
    ],
)
def test_a_registered_secret_is_blanked_in_every_encoding(redactor: Redactor, text: str) -> None:
    out = redactor.redact(text)
    assert REDACTED in out
    assert SECRET not in out
    for form in (quote(SECRET, safe=""), base64.b64encode(SECRET.encode()).decode()[:-4]):
        assert form not in out
    # no decodable run of the output carries the secret either
    for offset in range(4):
        chunk = out.replace(REDACTED, "")[offset:]
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                decoded = decode(chunk + "=" * (-len(chunk) % 4))
            except ValueError:
                continue
            assert SECRET.encode() not in decoded


def test_no_bit_of_the_secret_survives_next_to_a_redacted_base64_form(redactor: Redactor) -> None:
    for prefix in (b"Bearer ", b"u:", b"ab:", b""):
        encoded = base64.b64encode(prefix + SECRET.encode()).decode()
        before = redactor.redact(encoded).split(REDACTED)[0]
        decoded = base64.b64decode(before[: len(before) // 4 * 4])
        assert prefix.startswith(decoded), (prefix, before, decoded)
        assert len(before) % 4 == 0  # whole groups only: none mixes in the secret's first bytes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abcdefgh12345678", "Authorization: [REDACTED]"),
        ('{"authorization": "Basic dXNlcjpwYXNz", "x": 1}', '{"authorization": "[REDACTED]", "x": 1}'),
        ("X-API-Key: k-0123456789", "X-API-Key: [REDACTED]"),
        ("got bearer abcdefgh12345678 back", "got bearer [REDACTED] back"),
        (
            '127.0.0.1:5 - "WebSocket /api/ws?token=rvt_abc" [accepted]',
            '127.0.0.1:5 - "WebSocket /api/ws?token=[REDACTED]" [accepted]',
        ),
        ("GET /x?a=1&key=zzz&b=2", "GET /x?a=1&key=[REDACTED]&b=2"),
        ("GET /x?api_key=zzz", "GET /x?api_key=[REDACTED]"),
        ("issued rvt_0123456789abcdefghij to ada", "issued rvt_[REDACTED] to ada"),
    ],
)
def test_credential_shapes_are_blanked_without_knowing_the_value(text: str, expected: str) -> None:
    assert Redactor().redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "send 'Authorization: Bearer <token or API key>'",
        "authentication required: log in",
        "cache key=abc123 hit",
        "model 'remote': http://127.0.0.1:9/v1 answered HTTP 500: model crashed",
        "",
    ],
)
def test_ordinary_text_is_left_alone(redactor: Redactor, text: str) -> None:
    assert redactor.redact(text) == text


def test_short_values_are_not_registered() -> None:
    r = Redactor()
    r.add("abc")
    assert "abc" not in r
    assert r.redact("abc abc") == "abc abc"


def test_nested_values_are_redacted(redactor: Redactor) -> None:
    value = {"detail": f"echo {SECRET}", "attempts": [SECRET, 3], "n": None}
    assert redactor.redact_value(value) == {"detail": f"echo {REDACTED}", "attempts": [REDACTED, 3], "n": None}


@pytest.mark.parametrize("formatter", [ConsoleFormatter(), JsonFormatter()])
def test_log_lines_are_redacted(formatter: logging.Formatter) -> None:
    secret = "log-planted-" + "9f8e7d6c5b4a"
    secret_redactor().add(secret)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("rivulet.test.redact")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("provider said %s", secret, extra={"url": "/api/ws?token=rvt_abcdefghijklmnopqrstuvwxyz"})
        try:
            raise RuntimeError(f"Authorization: Bearer {secret}")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    text = stream.getvalue()
    assert "provider said" in text
    assert secret not in text
    assert "rvt_abcdefghijklmnopqrstuvwxyz" not in text
    assert "token=[REDACTED]" in text
