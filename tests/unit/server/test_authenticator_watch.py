"""``Authenticator.watch``: watchers hear when their credential stops resolving; bursts of notices are coalesced."""

from __future__ import annotations

import asyncio
from typing import Any

from rivulet.security import Principal
from rivulet.server.auth import Authenticator, same_principal


class _Store:
    """Tokens that resolve to a principal until they are removed; counts lookups."""

    def __init__(self, tokens: dict[str, Principal]) -> None:
        self.tokens = tokens
        self.lookups = 0

    async def principal_for_token(self, secret: str) -> Principal | None:
        self.lookups += 1
        await asyncio.sleep(0.01)  # a database round trip
        return self.tokens.get(secret)

    async def principal_for_key(self, secret: str) -> Principal | None:
        return await self.principal_for_token(secret)


def _authenticator(store: _Store) -> Authenticator:
    store_any: Any = store
    return Authenticator(store_any)


async def test_a_revoked_watch_is_told_and_the_others_are_not() -> None:
    ada = Principal(kind="token", user_id="u1", username="ada")
    store = _Store({"rvt_ada": ada, "rvt_bob": Principal(kind="token", user_id="u2", username="bob")})
    auth = _authenticator(store)
    told: list[str] = []
    auth.watch("rvt_ada", ada, lambda: told.append("ada"))
    auth.watch("rvt_bob", store.tokens["rvt_bob"], lambda: told.append("bob"))
    del store.tokens["rvt_ada"]
    auth.invalidate()
    await asyncio.sleep(0.2)
    assert told == ["ada"]
    auth.invalidate()  # told once: the watch is gone
    await asyncio.sleep(0.2)
    assert told == ["ada"]


async def test_a_changed_principal_counts_as_revoked() -> None:
    before = Principal(kind="token", user_id="u1", username="ada", role="admin")
    store = _Store({"rvt_ada": before})
    auth = _authenticator(store)
    told: list[bool] = []
    auth.watch("rvt_ada", before, lambda: told.append(True))
    store.tokens["rvt_ada"] = Principal(kind="token", user_id="u1", username="ada", role="viewer")
    auth.invalidate()
    await asyncio.sleep(0.2)
    assert told == [True]


async def test_a_burst_of_notices_rechecks_at_most_twice() -> None:
    principal = Principal(kind="token", user_id="u1", username="ada")
    store = _Store({f"rvt_{i}": principal for i in range(5)})
    auth = _authenticator(store)
    unwatch = [auth.watch(f"rvt_{i}", principal, lambda: None) for i in range(5)]
    for _ in range(50):
        auth.invalidate()
    await asyncio.sleep(0.5)
    assert store.lookups <= 2 * 5
    for stop in unwatch:
        stop()
    auth.invalidate()
    await asyncio.sleep(0.1)
    assert store.lookups <= 2 * 5  # nothing watched, nothing re-checked


def test_the_same_principal_with_its_workspaces_in_another_order_is_the_same() -> None:
    one = Principal(kind="token", user_id="u1", role="editor", workspaces=(("w1", "editor"), ("w2", "viewer")))
    other = Principal(kind="token", user_id="u1", role="editor", workspaces=(("w2", "viewer"), ("w1", "editor")))
    assert same_principal(other, one)
    assert not same_principal(None, one)
    assert not same_principal(Principal(kind="token", user_id="u1", role="viewer", workspaces=one.workspaces), one)
