"""Password hashing, token secrets and principals."""

from __future__ import annotations

import doctest

import pytest

from rivulet.security import (
    API_KEY_PREFIX,
    TOKEN_PREFIX,
    Principal,
    hash_token,
    new_api_key,
    new_token,
    passwords,
    tokens,
)
from rivulet.security.passwords import hash_password, verify_password


@pytest.mark.parametrize("module", [passwords, tokens])
def test_doctests(module: object) -> None:
    assert doctest.testmod(module).failed == 0  # type: ignore[arg-type]


def test_hashes_are_salted_and_verify() -> None:
    first, second = hash_password("s3cret"), hash_password("s3cret")
    assert first != second
    assert first.startswith("scrypt$16384$8$1$")
    assert verify_password("s3cret", first)
    assert verify_password("s3cret", second)
    assert not verify_password("S3cret", first)


@pytest.mark.parametrize(
    "stored", ["", "plain", "scrypt$x$8$1$AA==$AA==", "bcrypt$1$2$3$4$5", "scrypt$16384$8$1$!!$AA=="]
)
def test_malformed_stored_hashes_never_verify(stored: str) -> None:
    assert not verify_password("anything", stored)


def test_secrets_are_prefixed_random_and_hashed() -> None:
    assert new_token().startswith(TOKEN_PREFIX)
    assert new_api_key().startswith(API_KEY_PREFIX)
    assert new_token() != new_token()
    key = new_api_key()
    assert hash_token(key) == hash_token(key)
    assert key not in hash_token(key)


def test_principal_scopes() -> None:
    user = Principal(kind="token", user_id="u", username="ann")
    scoped = Principal(kind="api_key", key_id="k", key_name="ci", endpoints=("a",))
    unscoped = Principal(kind="api_key", key_id="k2", key_name="all")
    assert user.may_call("anything")
    assert scoped.may_call("a")
    assert not scoped.may_call("b")
    assert unscoped.may_call("b")
    assert (user.label, scoped.label) == ("user:ann", "key:ci")
