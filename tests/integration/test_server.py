"""The real app over real HTTP on loopback."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.conftest import LiveServer


async def test_health_reports_database_and_pgvector(live_server: LiveServer) -> None:
    async with live_server.client() as client:
        response = await client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["pgvector"].count(".") == 2
    assert body["postgres"].startswith("18")


async def test_unknown_api_route_is_a_problem_document(live_server: LiveServer) -> None:
    async with live_server.client() as client:
        response = await client.get("/api/does-not-exist")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 404
    assert "Traceback" not in response.text


async def test_openapi_docs_are_served(live_server: LiveServer) -> None:
    async with live_server.client() as client:
        page = await client.get("/api/docs")
        spec = await client.get("/api/docs/openapi.json")
    assert page.status_code == 200
    assert spec.status_code == 200
    assert "/api/health" in spec.json()["paths"]


async def test_spa_fallback_without_a_build(live_server: LiveServer) -> None:
    async with live_server.client() as client:
        root = await client.get("/")
        deep = await client.get("/flows/123")
    assert root.status_code == 200
    assert "make run" in root.text
    assert deep.status_code == 200


async def test_built_editor_is_served_with_types_and_spa_fallback(live_server: LiveServer) -> None:
    from pathlib import Path

    dist = Path(live_server.settings.frontend_dir)
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>Rivulet</title><div id=root></div>")
    (dist / "assets" / "app-1234.js").write_text("console.log(1)")
    async with live_server.client() as client:
        index = await client.get("/")
        deep = await client.get("/flows/abc/edit")
        script = await client.get("/assets/app-1234.js")
        escape = await client.get("/..%2F..%2Fetc%2Fpasswd")
    assert index.headers["content-type"].startswith("text/html")
    assert index.headers["cache-control"] == "no-cache"
    assert "inline" in index.headers.get("content-disposition", "inline")
    assert deep.text == index.text
    assert script.headers["content-type"].split(";")[0] in {"text/javascript", "application/javascript"}
    assert "immutable" in script.headers["cache-control"]
    assert "root:" not in escape.text


async def test_only_chat_apps_may_be_framed_by_other_sites(live_server: LiveServer) -> None:
    from pathlib import Path

    dist = Path(live_server.settings.frontend_dir)
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "index.html").write_text("<!doctype html><title>Rivulet</title><div id=root></div>")
    async with live_server.client() as client:
        pages = {path: await client.get(path) for path in ("/", "/flows/abc", "/publishing", "/apps/helper")}
    for path in ("/", "/flows/abc", "/publishing"):
        assert pages[path].headers["x-frame-options"] == "DENY", path
        assert pages[path].headers["content-security-policy"] == "frame-ancestors 'none'", path
    widget = pages["/apps/helper"]
    assert widget.status_code == 200
    assert widget.text == pages["/"].text
    assert "x-frame-options" not in widget.headers
    assert "content-security-policy" not in widget.headers
