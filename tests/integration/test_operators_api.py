"""``/api/operators`` served by the real app (lifespan builds ``Services`` with the default registry)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rivulet.registry import default_registry

if TYPE_CHECKING:
    from tests.conftest import LiveServer


async def test_catalog_is_served_by_the_real_app(live_server: LiveServer) -> None:
    async with live_server.client() as client:
        catalog = await client.get("/api/operators")
        ports = await client.post(
            "/api/operators/core.template/ports", json={"params": {"template": "{{ question }} {{ context }}"}}
        )
    assert catalog.status_code == 200
    assert {op["id"] for op in catalog.json()["operators"]} == set(default_registry().ids())
    assert ports.status_code == 200
    assert [p["name"] for p in ports.json()["inputs"]] == ["context", "question"]
