"""``/api/reports`` over real HTTP on real PostgreSQL: CRUD, ownership per role, share links opened without a login
(and 404 once revoked), the standalone HTML export with every text escaped."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

from rivulet.lib.settings import Settings, load_settings
from tests.conftest import ADMIN_PASSWORD, ADMIN_USER, alogin_token

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from tests.conftest import LiveServer

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]

PASSWORD = "correct horse battery"
HOSTILE = "</script><script>alert(1)</script>"

CHART = {
    "title": "Revenue by region",
    "chart": {
        "title": "Revenue by region",
        "kind": "bar",
        "option": {
            "xAxis": {"type": "category", "data": ["north", "south"]},
            "yAxis": {"type": "value"},
            "series": [{"type": "bar", "name": "revenue", "data": [10, 4]}],
        },
    },
    "table": {"columns": ["region", "revenue"], "rows": [["north", 10], ["south", 4]], "types": ["text", "integer"]},
    "sql": "SELECT region, SUM(total) AS revenue FROM orders GROUP BY region",
}


@pytest.fixture
def test_settings(tmp_path: Path) -> Settings:
    return load_settings(
        environ={},
        home=str(tmp_path / "home"),
        frontend_dir=str(tmp_path / "no-frontend"),
        admin_user=ADMIN_USER,
        admin_password=ADMIN_PASSWORD,
        sample_datasource=False,
    )


@pytest.fixture
async def users(live_server: LiveServer) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """Clients of the administrator, two editors (ann, bob) and a viewer (vic)."""
    clients: dict[str, httpx.AsyncClient] = {"admin": live_server.client(timeout=30)}
    admin = clients["admin"]
    for name, role in (("ann", "editor"), ("bob", "editor"), ("vic", "viewer")):
        created = await admin.post("/api/users", json={"username": name, "password": PASSWORD, "role": role})
        assert created.status_code == 201, created.text
        token = await alogin_token(live_server.url, name, PASSWORD)
        clients[name] = httpx.AsyncClient(
            base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
    try:
        yield clients
    finally:
        for client in clients.values():
            await client.aclose()


async def _create(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/reports", json={"title": "Sales", "summary": "North leads.", "charts": [CHART], **body}
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_crud_of_ones_own_report(users: dict[str, httpx.AsyncClient]) -> None:
    ann = users["ann"]
    created = await _create(ann, datasource="shop")
    assert created["title"] == "Sales"
    assert created["shared"] is False
    assert created["datasource"] == "shop"
    assert created["charts"][0]["table"]["rows"] == [["north", 10], ["south", 4]]
    report_id = created["id"]

    listed = (await ann.get("/api/reports")).json()["items"]
    assert [(r["id"], r["chart_count"], r["kinds"]) for r in listed] == [(report_id, 1, ["bar"])]

    fetched = await ann.get(f"/api/reports/{report_id}")
    assert fetched.status_code == 200
    assert fetched.json()["charts"][0]["sql"] == CHART["sql"]

    patched = await ann.patch(f"/api/reports/{report_id}", json={"title": "Sales 2024", "summary": "- north\n- south"})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["title"], patched.json()["summary"]) == ("Sales 2024", "- north\n- south")
    assert patched.json()["charts"] == created["charts"]  # left out: unchanged

    bad = await ann.patch(f"/api/reports/{report_id}", json={"owner_id": "someone"})
    assert bad.status_code == 422, bad.text  # unknown fields are refused

    assert (await ann.delete(f"/api/reports/{report_id}")).status_code == 204
    assert (await ann.get(f"/api/reports/{report_id}")).status_code == 404
    assert (await ann.get("/api/reports")).json()["items"] == []


async def test_ownership_per_role(users: dict[str, httpx.AsyncClient]) -> None:
    admin, ann, bob, vic = users["admin"], users["ann"], users["bob"], users["vic"]
    mine = await _create(ann)
    report_id = mine["id"]

    # another editor and a viewer neither see nor reach it (404, like a missing report)
    for other in (bob, vic):
        assert (await other.get("/api/reports")).json()["items"] == []
        assert (await other.get(f"/api/reports/{report_id}")).status_code == 404
        assert (await other.get(f"/api/reports/{report_id}/export.html")).status_code == 404
    assert (await bob.patch(f"/api/reports/{report_id}", json={"title": "x"})).status_code == 404
    assert (await bob.delete(f"/api/reports/{report_id}")).status_code == 404
    assert (await bob.post(f"/api/reports/{report_id}/share")).status_code == 404

    # a viewer may not create, change or share reports at all (data:query)
    refused = await vic.post("/api/reports", json={"title": "Mine", "charts": []})
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"

    # the administrator sees and manages every report
    assert [r["id"] for r in (await admin.get("/api/reports")).json()["items"]] == [report_id]
    assert (await admin.get(f"/api/reports/{report_id}")).status_code == 200
    renamed = await admin.patch(f"/api/reports/{report_id}", json={"title": "Renamed by admin"})
    assert renamed.status_code == 200
    assert renamed.json()["owner_id"] == mine["owner_id"]
    theirs = await _create(bob)
    assert {r["id"] for r in (await admin.get("/api/reports")).json()["items"]} == {report_id, theirs["id"]}
    assert [r["id"] for r in (await bob.get("/api/reports")).json()["items"]] == [theirs["id"]]
    assert (await admin.delete(f"/api/reports/{theirs['id']}")).status_code == 204


async def test_validation_errors_are_located(users: dict[str, httpx.AsyncClient]) -> None:
    ann = users["ann"]
    empty_title = await ann.post("/api/reports", json={"title": "", "charts": []})
    assert empty_title.status_code == 422
    too_many = await ann.post("/api/reports", json={"title": "t", "charts": [CHART] * 51})
    assert too_many.status_code == 422
    assert "charts" in too_many.text


async def test_share_link_opens_without_login_until_revoked(
    live_server: LiveServer, users: dict[str, httpx.AsyncClient]
) -> None:
    ann = users["ann"]
    report_id = (await _create(ann))["id"]
    shared = await ann.post(f"/api/reports/{report_id}/share")
    assert shared.status_code == 201, shared.text
    link = shared.json()
    token = link["token"]
    assert link["url"] == f"/r/{token}"
    assert link["api_url"] == f"/api/reports/shared/{token}"
    assert (await ann.get(f"/api/reports/{report_id}")).json()["shared"] is True
    assert token not in (await ann.get(f"/api/reports/{report_id}")).text  # the token is shown once only

    async with live_server.anonymous(timeout=30) as anonymous:
        opened = await anonymous.get(link["api_url"])
        assert opened.status_code == 200, opened.text
        body = opened.json()
        assert body["title"] == "Sales"
        assert body["charts"][0]["chart"]["kind"] == "bar"
        assert "owner_id" not in body
        assert "run_id" not in body
        assert opened.headers["cache-control"] == "no-cache"
        # without a token nothing else opens
        assert (await anonymous.get("/api/reports")).status_code == 401
        assert (await anonymous.get(f"/api/reports/{report_id}")).status_code == 401
        assert (await anonymous.get("/api/reports/shared/rvr_guessed")).status_code == 404

        # a new link replaces the old one; revoking closes it
        newer = (await ann.post(f"/api/reports/{report_id}/share")).json()["token"]
        assert (await anonymous.get(f"/api/reports/shared/{token}")).status_code == 404
        assert (await anonymous.get(f"/api/reports/shared/{newer}")).status_code == 200
        assert (await ann.delete(f"/api/reports/{report_id}/share")).status_code == 204
        revoked = await anonymous.get(f"/api/reports/shared/{newer}")
        assert revoked.status_code == 404
        assert revoked.json()["code"] == "not_found"
        assert (await ann.get(f"/api/reports/{report_id}")).json()["shared"] is False


async def test_shared_links_are_rate_limited_per_address(
    live_server: LiveServer, users: dict[str, httpx.AsyncClient]
) -> None:
    async with live_server.anonymous(timeout=30) as anonymous:
        statuses = [(await anonymous.get("/api/reports/shared/rvr_nothing")).status_code for _ in range(130)]
    assert statuses[:120] == [404] * 120
    assert statuses[-1] == 429
    del users


async def test_export_html_is_standalone_and_escapes_every_text(users: dict[str, httpx.AsyncClient]) -> None:
    ann = users["ann"]
    hostile_chart = {
        **CHART,
        "title": HOSTILE,
        "table": {"columns": [HOSTILE], "rows": [[HOSTILE], ["<img src=x onerror=alert(2)>"]]},
        "sql": f"SELECT '{HOSTILE}'",
    }
    report = await _create(ann, title=HOSTILE, summary=f"**{HOSTILE}**", charts=[hostile_chart])
    exported = await ann.get(f"/api/reports/{report['id']}/export.html")
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/html")
    disposition = exported.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=")
    assert disposition.endswith('.html"')
    assert "<" not in disposition
    page = exported.text
    assert page.startswith("<!doctype html>")
    assert "<title>&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title>" in page
    assert "<script>alert(1)" not in page
    assert "<img src=x" not in page
    assert "default-src 'none'" in page
    assert "echarts" in page  # the library is inlined
    assert page.count("<script") == 3
