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


async def test_ports_of_many_nodes_in_one_request(live_server: LiveServer) -> None:
    nodes = [
        {"operator": "core.template", "params": {"template": "{{ b }} {{ a }}"}},
        {"operator": "core.template", "params": {"template": 7}},
        {"operator": "core.no_such_thing", "params": {}},
        {"operator": "core.template", "version": 1, "params": {"template": "{{ question }}"}},
    ]
    async with live_server.client() as client:
        many = await client.post("/api/operators/ports", json={"nodes": nodes})
        one = await client.post("/api/operators/core.template/ports", json={"params": nodes[0]["params"]})
        too_many = await client.post("/api/operators/ports", json={"nodes": [nodes[0]] * 2001})
    assert many.status_code == 200
    answers = many.json()
    assert len(answers) == 4
    assert answers[0] == {"ports": one.json(), "error": None}
    assert answers[1]["ports"] is None
    assert "invalid params for core.template" in answers[1]["error"]
    assert answers[2]["ports"] is None
    assert "core.no_such_thing" in answers[2]["error"]
    assert [p["name"] for p in answers[3]["ports"]["inputs"]] == ["question"]
    assert too_many.status_code == 422
