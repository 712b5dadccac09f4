"""``/api/operators`` through the real controller, error handlers and msgspec encoding (no database needed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from litestar import Litestar
from litestar.di import Provide
from litestar.testing import AsyncTestClient

from rivulet.domain.operators import OperatorsController
from rivulet.registry import default_registry
from rivulet.registry.registry import OperatorRegistry  # noqa: TC001 - litestar reads the provider's annotation
from rivulet.server.core import exception_handlers

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@pytest.fixture
async def client() -> AsyncIterator[AsyncTestClient[Litestar]]:
    registry = default_registry()

    def provide() -> OperatorRegistry:
        return registry

    app = Litestar(
        route_handlers=[OperatorsController],
        dependencies={"registry": Provide(provide, sync_to_thread=False)},
        exception_handlers=exception_handlers(),
    )
    async with AsyncTestClient(app) as test_client:
        yield test_client


async def test_list_returns_operators_categories_and_type_rules(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/api/operators")
    assert response.status_code == 200
    body = response.json()
    assert {op["id"] for op in body["operators"]} == set(default_registry().ids())
    assert body["categories"][0]["id"] == "core"
    assert "Text" in body["types"]["base_types"]
    constant = next(op for op in body["operators"] if op["id"] == "core.constant")
    assert constant["params_schema"]["properties"]["type"]["default"] == "Json"


async def test_get_one_operator(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/api/operators/core.constant")
    assert response.status_code == 200
    assert response.json()["title"] == "Constant"


async def test_unknown_operator_is_a_404_with_suggestions(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/api/operators/core.constnt")
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "unknown_operator"
    assert body["suggestions"][0] == "core.constant"


async def test_unknown_version_lists_versions(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/api/operators/core.constant", params={"version": 9})
    assert response.status_code == 404
    assert response.json()["versions"] == [1]


async def test_ports_for_params(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post(
        "/api/operators/core.constant/ports", json={"params": {"value": [1, 2], "type": "List[Int]"}}
    )
    assert response.status_code == 200
    assert response.json() == {
        "inputs": [],
        "outputs": [{"name": "value", "type": "List[Int]", "required": True, "description": "The value."}],
        "input_rules": [],
    }


async def test_ports_with_invalid_params_is_a_located_422(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post("/api/operators/core.constant/ports", json={"params": {"type": "Int", "valu": 1}})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["errors"][0]["path"] == "$.params"
    assert "valu" in body["detail"]
