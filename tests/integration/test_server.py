"""The real app over real HTTP on loopback."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from tests.conftest import LiveServer


async def test_health_reports_database_and_pgvector(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        response = await client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["pgvector"].count(".") == 2
    assert body["postgres"].startswith("18")


async def test_unknown_api_route_is_a_problem_document(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        response = await client.get("/api/does-not-exist")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 404
    assert "Traceback" not in response.text


async def test_openapi_docs_are_served(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        page = await client.get("/api/docs")
        spec = await client.get("/api/docs/openapi.json")
    assert page.status_code == 200
    assert spec.status_code == 200
    assert "/api/health" in spec.json()["paths"]


async def test_spa_fallback_without_a_build(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        root = await client.get("/")
        deep = await client.get("/flows/123")
    assert root.status_code == 200
    assert "make run" in root.text
    assert deep.status_code == 200
