"""``openai_compatible`` errors are redacted before they leave the provider: a key configured as a plain header
(not a secret) is blanked too, in every encoding the upstream echoes it in."""

from __future__ import annotations

import base64
import secrets
from urllib.parse import quote

import pytest

from rivulet.lib.exceptions import ModelError
from rivulet.providers import MemoryModelStore, ModelConfig, ModelService
from rivulet.sdk.models import CallOrigin, ChatRequest
from rivulet.sdk.ports import Message
from tests.integration.openai_server import ECHO_MODEL, serve_openai

HELLO = ChatRequest(messages=[Message(role="user", content="Say hello")], temperature=0, max_tokens=16)


async def test_a_key_in_the_configured_headers_is_redacted_from_the_echoed_error() -> None:
    key = f"plain-header-key-{secrets.token_hex(8)}"
    async with serve_openai() as server:
        service = ModelService(MemoryModelStore())
        params = {"base_url": server.url, "model": ECHO_MODEL, "headers": {"Authorization": f"Bearer {key}"}}
        await service.save(
            ModelConfig(name="echo", provider="openai_compatible", params=params, allow_private_network=True)
        )
        try:
            with pytest.raises(ModelError) as caught:
                await service.chat("echo", HELLO, origin=CallOrigin(run_id="r-echo"))
        finally:
            await service.close()
        assert server.headers[-1]["authorization"] == f"Bearer {key}"  # it was sent, and echoed
    [call] = await service.store.list_calls(run_id="r-echo")
    echoed_b64 = base64.b64encode(f"Bearer {key}".encode()).decode()
    for text in (caught.value.detail, str(caught.value.extra), call.error or ""):
        assert "upstream rejected the request" in text
        assert key not in text
        assert echoed_b64[12:-4] not in text
        assert quote(key, safe="") not in text
