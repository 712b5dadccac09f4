"""``EndpointFastPath``: which calls it serves itself and which go the ordinary way (fake app and authenticator;
the real path over HTTP is in tests/integration/test_publishing.py)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from rivulet.security import Principal
from rivulet.server.fastpath import EndpointFastPath, endpoint_slug, reserved_names

KEY = "rvk_valid"


@pytest.mark.parametrize(
    ("path", "slug"),
    [
        ("/f/greet", "greet"),
        ("/f/a-b_c", "a-b_c"),
        ("/f/", None),
        ("/f/openapi.json", None),
        ("/f/greet/runs/abc", None),
        ("/api/flows", None),
        ("/fx/greet", None),
    ],
)
def test_endpoint_slug(path: str, slug: str | None) -> None:
    assert endpoint_slug(path, frozenset({"openapi.json"})) == slug


def test_literal_f_routes_are_reserved() -> None:
    paths = ["/f/openapi.json", "/f/{slug:str}", "/f/{slug:str}/runs/{run_id:str}", "/api/flows", "/f/a/b"]
    assert reserved_names(paths) == {"openapi.json"}


class _Authenticator:
    async def authenticate(self, secret: str) -> Principal | None:
        return Principal(kind="api_key", key_id="k1", key_name="test") if secret == KEY else None


def _scope(path: str = "/f/greet", *, method: str = "POST", headers: list[tuple[bytes, bytes]] | None = None) -> Any:
    app = SimpleNamespace(state={"services": SimpleNamespace(authenticator=_Authenticator())})
    return {"type": "http", "method": method, "path": path, "headers": headers or [], "app": app, "query_string": b""}


async def _serve(scope: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    taken: list[str] = []

    async def routed(scope: Any, receive: Any, send: Any) -> None:
        taken.append("routed")

    async def call_endpoint(scope: Any, receive: Any, send: Any) -> Any:
        taken.append(f"fast:{scope['path_params']['slug']}:{scope['user'].label}")

        async def answer(scope: Any, receive: Any, send: Any) -> None:
            return None

        return answer

    await EndpointFastPath(routed, ["/f/openapi.json", "/f/{slug:str}"], call_endpoint)(scope, None, None)  # type: ignore[arg-type]
    return taken


async def test_a_call_with_a_valid_key_in_a_header_is_served_directly(monkeypatch: pytest.MonkeyPatch) -> None:
    assert await _serve(_scope(headers=[(b"authorization", f"Bearer {KEY}".encode())]), monkeypatch) == [
        "fast:greet:key:test"
    ]
    assert await _serve(_scope(headers=[(b"x-api-key", KEY.encode())]), monkeypatch) == ["fast:greet:key:test"]


@pytest.mark.parametrize(
    "scope",
    [
        _scope(),  # no credentials: AuthMiddleware answers 401
        _scope(headers=[(b"authorization", b"Bearer rvk_forged")]),  # invalid: 401 from AuthMiddleware
        _scope(headers=[(b"cookie", b"rivulet_session=abc")]),  # a cookie needs the origin check
        _scope(method="OPTIONS", headers=[(b"authorization", f"Bearer {KEY}".encode())]),
        _scope("/f/openapi.json", headers=[(b"authorization", f"Bearer {KEY}".encode())]),
        _scope("/api/flows", headers=[(b"authorization", f"Bearer {KEY}".encode())]),
        {**_scope(headers=[(b"authorization", f"Bearer {KEY}".encode())]), "type": "websocket"},
    ],
    ids=["anonymous", "forged", "cookie", "options", "openapi", "api", "websocket"],
)
async def test_everything_else_goes_the_ordinary_way(scope: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert await _serve(scope, monkeypatch) == ["routed"]
    assert "user" not in scope
