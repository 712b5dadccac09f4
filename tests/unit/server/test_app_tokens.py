"""Share tokens (``rva_…``) through ``Authenticator``: an ``app_token`` principal for a live token, nothing after
revocation (once the ``auth`` notice clears the cache), nothing without an app store."""

from __future__ import annotations

from rivulet.server.auth import Authenticator
from rivulet.storage.memory import MemoryAuthStore
from rivulet.storage.memory_apps import MemoryAppStore


async def test_a_share_token_resolves_to_its_app_until_revoked() -> None:
    apps = MemoryAppStore()
    app = await apps.create_app(slug="helpdesk", flow_id="f1", title="Helpdesk")
    token, secret = await apps.create_token(app.id, name="website", rate_limit_per_minute=5)
    auth = Authenticator(MemoryAuthStore(), apps=apps)

    principal = await auth.authenticate(secret)
    assert principal is not None
    assert (principal.kind, principal.app_id, principal.key_id, principal.key_name) == (
        "app_token",
        app.id,
        token.id,
        "website",
    )
    assert principal.rate_limit_per_minute == 5
    assert not principal.is_user
    assert not principal.may_call("anything")
    assert principal.label == "app-link:website"

    await apps.revoke_token(app.id, token.id)
    auth.invalidate()  # what the ``auth`` change notice runs on every replica
    assert await auth.authenticate(secret) is None
    assert await auth.authenticate(secret.replace("rva_", "rva_x")) is None


async def test_without_an_app_store_share_tokens_are_unknown() -> None:
    apps = MemoryAppStore()
    app = await apps.create_app(slug="helpdesk", flow_id="f1", title="Helpdesk")
    _, secret = await apps.create_token(app.id, name="website")
    assert await Authenticator(MemoryAuthStore()).authenticate(secret) is None
