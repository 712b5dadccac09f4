"""``/api/templates`` on the live app: gallery, import (runnable flows, refusals, conflicts), sources, export."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import msgspec
import pytest

from rivulet.lib.exceptions import ValidationError
from rivulet.registry.loader import default_registry
from rivulet.sdk.net import BlockedAddressError, NetworkPolicy
from rivulet.templates.fetch import Fetcher
from rivulet.templates.index import TemplateCatalog, build_index
from rivulet.templates.package import load_package, package_archive, sha256_hex
from rivulet.templates.sources import BUILTIN_TEMPLATES
from tests.conftest import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.conftest import LiveServer

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]


def _client(server: LiveServer) -> httpx.AsyncClient:
    """An API client for the live server, logged in where the server requires auth."""
    make = getattr(server, "client", None)
    return make() if callable(make) else httpx.AsyncClient(base_url=server.url)


async def _flow_count(client: httpx.AsyncClient) -> int:
    return len((await client.get("/api/flows", params={"limit": 500})).json()["items"])


async def _run(client: httpx.AsyncClient, flow_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
    run = (await client.post(f"/api/flows/{flow_id}/runs", json={"inputs": inputs})).json()
    for _ in range(500):
        body: dict[str, Any] = (await client.get(f"/api/runs/{run['id']}")).json()
        if body["run"]["status"] not in ("queued", "running"):
            return body["run"]
        await asyncio.sleep(0.02)
    raise AssertionError("run did not finish")


async def test_gallery_lists_searches_and_shows(live_server: LiveServer) -> None:
    async with _client(live_server) as client:
        listing = (await client.get("/api/templates")).json()
        names = {i["name"] for i in listing["items"]}
        assert {"json-reshape", "ticket-router", "http-fetch-extract"} <= names
        assert len(names) >= 6
        assert "core" in listing["tags"]
        found = (await client.get("/api/templates", params={"q": "route tickets"})).json()["items"]
        assert [i["name"] for i in found] == ["ticket-router"]
        tagged = (await client.get("/api/templates", params={"tag": "etl"})).json()["items"]
        assert [i["name"] for i in tagged] == ["json-reshape"]
        shown = (await client.get("/api/templates/json-reshape")).json()
        assert shown["manifest"]["variables"][0]["name"] == "vat_factor"
        assert shown["flows"][0]["document"]["nodes"][0]["id"] == "orders"
        assert shown["data_files"] == ["data/orders.json"]
        missing = await client.get("/api/templates/nope")
        assert missing.status_code == 404


async def test_core_templates_import_and_run(live_server: LiveServer) -> None:
    async with _client(live_server) as client:
        report = (
            await client.post("/api/templates/import", json={"name": "json-reshape", "variables": {"vat_factor": 2}})
        ).json()
        (flow,) = report["flows"]
        assert (report["template"], flow["action"]) == ("json-reshape@1.0.0", "created")
        document = (await client.get(f"/api/flows/{flow['flow_id']}")).json()["document"]
        assert document["metadata"]["template"] == "json-reshape@1.0.0"
        assert "2.0" in document["nodes"][2]["params"]["expression"]
        orders = json.loads((BUILTIN_TEMPLATES / "json-reshape" / "data" / "orders.json").read_text())
        run = await _run(client, flow["flow_id"], {"payload": orders})
        assert run["status"] == "succeeded", run
        assert run["outputs"]["rows"] == [
            {"customer": "Ada Lovelace", "sku": "A-1", "total": 40.0},
            {"customer": "Alan Turing", "sku": "B-7", "total": 11.0},
        ]
        router = (await client.post("/api/templates/import", json={"name": "ticket-router"})).json()
        router_id = router["flows"][0]["flow_id"]
        urgent = await _run(client, router_id, {"ticket": {"priority": 5, "text": "server down"}})
        assert urgent["outputs"] == {"answer": "URGENT (p5): server down"}
        billing = await _run(client, router_id, {"ticket": {"priority": 1, "text": "Invoice is wrong"}})
        assert billing["outputs"] == {"answer": "billing team: Invoice is wrong"}
        general = await _run(client, router_id, {"ticket": {"priority": 1, "text": "hello"}})
        assert general["outputs"] == {"answer": "general queue: hello"}


class _JsonHandler(BaseHTTPRequestHandler):
    routes: dict[str, tuple[str, bytes]] = {}

    def do_GET(self) -> None:
        content_type, body = self.routes.get(self.path, ("text/plain", b"missing"))
        self.send_response(200 if self.path in self.routes else 404)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


def _serve(routes: dict[str, tuple[str, bytes]], context: ssl.SSLContext | None = None) -> Iterator[str]:
    handler = type("Handler", (_JsonHandler,), {"routes": routes})
    server = HTTPServer(("127.0.0.1", free_port()), handler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{'https' if context else 'http'}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def json_api() -> Iterator[str]:
    yield from _serve({"/items": ("application/json", b'{"items": [{"name": "a"}, {"name": "b"}]}')})


@pytest.fixture
def test_settings(test_settings: Any) -> Any:
    """The loopback test servers need the network policy to allow loopback addresses."""
    return msgspec.structs.replace(test_settings, allow_private_network=True)


async def test_http_fetch_template_runs_against_loopback(live_server: LiveServer, json_api: str) -> None:
    async with _client(live_server) as client:
        report = (
            await client.post(
                "/api/templates/import",
                json={
                    "name": "http-fetch-extract",
                    "variables": {"api_url": f"{json_api}/items", "json_path": "$.items[*].name"},
                },
            )
        ).json()
        run = await _run(client, report["flows"][0]["flow_id"], {})
        assert run["status"] == "succeeded", run
        assert run["outputs"] == {"result": ["a", "b"]}


def _archive_source(directory: Path, *, name: str, corrupt: bool = False) -> Path:
    """An index listing the ticket-router archive as ``name`` (with a wrong digest when ``corrupt``)."""
    package = load_package(BUILTIN_TEMPLATES / "ticket-router")
    archive = package_archive(package)
    (directory / f"{name}-1.0.0.tar.gz").write_bytes(archive)
    digest = "0" * 64 if corrupt else sha256_hex(archive)
    manifest = msgspec.structs.replace(package.manifest, name=name)
    index = build_index([(manifest, f"{name}-1.0.0.tar.gz", digest)])
    (directory / "index.json").write_bytes(msgspec.json.encode(index))
    return directory / "index.json"


async def test_wrong_sha256_and_unknown_operator_are_refused_and_nothing_is_written(
    live_server: LiveServer, tmp_path: Path
) -> None:
    (tmp_path / "bad").mkdir()
    index_file = _archive_source(tmp_path / "bad", name="tampered-router", corrupt=True)
    broken = tmp_path / "broken"
    shutil.copytree(BUILTIN_TEMPLATES / "json-reshape", broken)
    flow_file = broken / "flows" / "main.json"
    flow = json.loads(flow_file.read_text())
    flow["nodes"][1]["operator"] = "core.json_pick"
    flow["nodes"][2]["params"]["colour"] = "red"
    flow_file.write_text(json.dumps(flow))
    manifest = json.loads((broken / "manifest.json").read_text())
    manifest["name"] = "broken-reshape"
    manifest["operators"].append({"id": "core.json_pick", "versions": ">=1"})
    (broken / "manifest.json").write_text(json.dumps(manifest))
    async with _client(live_server) as client:
        assert (await client.post("/api/templates/sources", json={"location": index_file.as_uri()})).status_code == 201
        assert (await client.post("/api/templates/sources", json={"location": str(tmp_path)})).status_code == 201
        before = await _flow_count(client)
        bad = await client.post("/api/templates/import", json={"name": "tampered-router"})
        assert bad.status_code == 422
        assert "sha256 mismatch: expected " + "0" * 64 in bad.json()["detail"]
        by_file = await client.post("/api/templates/import", json={"url": index_file.as_uri(), "sha256": "0" * 64})
        assert by_file.status_code == 422
        assert "https://" in by_file.json()["detail"]
        refused = await client.post("/api/templates/import", json={"name": "broken-reshape"})
        assert refused.status_code == 422
        body = refused.json()
        assert body["code"] == "template_invalid"
        problems = body["extra"]["problems"] if "extra" in body else body["problems"]
        missing = next(p for p in problems if p["code"] == "missing_operator")
        assert missing["expected"] == "core.json_pick"
        unknown = next(p for p in problems if p["code"] == "unknown_param")
        assert (unknown["flow"], unknown["node_id"]) == ("flows/main.json", "shape")
        assert "colour" in unknown["path"]
        assert await _flow_count(client) == before


async def test_conflict_policies(live_server: LiveServer) -> None:
    async with _client(live_server) as client:
        first = (await client.post("/api/templates/import", json={"name": "ticket-router"})).json()
        flow_id = first["flows"][0]["flow_id"]
        ask = await client.post("/api/templates/import", json={"name": "ticket-router"})
        assert ask.status_code == 409
        assert "on_conflict" in ask.json()["detail"]
        skipped = (
            await client.post("/api/templates/import", json={"name": "ticket-router", "on_conflict": "skip"})
        ).json()
        assert skipped["flows"][0]["action"] == "skipped"
        upgraded = (
            await client.post("/api/templates/import", json={"name": "ticket-router", "on_conflict": "upgrade"})
        ).json()
        assert (upgraded["flows"][0]["flow_id"], upgraded["flows"][0]["version"]) == (flow_id, 2)
        copy = (await client.post("/api/templates/import", json={"name": "ticket-router", "on_conflict": "new"})).json()
        assert copy["flows"][0]["name"] == "Route support tickets (2)"
        assert copy["flows"][0]["flow_id"] != flow_id
        assert await _flow_count(client) == 2


async def test_sources_dir_file_url_and_export_roundtrip(live_server: LiveServer, tmp_path: Path) -> None:
    async with _client(live_server) as client:
        imported = (await client.post("/api/templates/import", json={"name": "ticket-router"})).json()
        exported = (
            await client.post(
                "/api/templates/export",
                json={"flow_id": imported["flows"][0]["flow_id"], "name": "my-router", "version": "2.0.0"},
            )
        ).json()
        archive = base64.b64decode(exported["archive_base64"])
        assert sha256_hex(archive) == exported["sha256"]
        assert exported["manifest"]["operators"][0] == {"id": "core.branch", "versions": ">=1"}
        market = tmp_path / "market"
        market.mkdir()
        (market / exported["filename"]).write_bytes(archive)
        assert (await client.post("/api/templates/sources", json={"location": str(market)})).status_code == 201
        listed = (await client.get("/api/templates", params={"q": "my-router"})).json()["items"]
        assert listed[0]["source"] == str(market)
        index = build_index(
            [(load_package(market / exported["filename"]).manifest, exported["filename"], exported["sha256"])]
        )
        (tmp_path / "index.json").write_bytes(msgspec.json.encode(index))
        shutil.copy(market / exported["filename"], tmp_path / exported["filename"])
        url = (tmp_path / "index.json").as_uri()
        sources = (await client.post("/api/templates/sources", json={"location": url})).json()["items"]
        assert [s["origin"] for s in sources] == ["builtin", "user", "user"]
        report = (await client.post("/api/templates/import", json={"name": "my-router", "on_conflict": "new"})).json()
        assert report["template"] == "my-router@2.0.0"
        removed = await client.delete("/api/templates/sources", params={"location": url})
        assert removed.status_code == 200
        assert (await client.post("/api/templates/sources", json={"location": "ftp://x"})).status_code == 422


def _self_signed(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client


async def test_https_index_source_goes_through_the_network_guard(tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    package = load_package(BUILTIN_TEMPLATES / "json-reshape")
    archive = package_archive(package, "zip")
    index = build_index([(package.manifest, "pkgs/json-reshape-1.0.0.zip", sha256_hex(archive))])
    routes = {
        "/index.json": ("application/json", msgspec.json.encode(index)),
        "/pkgs/json-reshape-1.0.0.zip": ("application/zip", archive),
    }
    server_ctx, client_ctx = _self_signed(tmp_path)
    served = _serve(routes, server_ctx)
    base = next(served)
    try:
        allowed = TemplateCatalog(
            [("remote", f"{base}/index.json")],
            Fetcher(NetworkPolicy(allowed_networks=("127.0.0.0/8",)), verify=client_ctx),
        )
        assert [i.name for i in await allowed.list()] == ["json-reshape"]
        opened = await allowed.open("json-reshape")
        assert opened.manifest.ref == "json-reshape@1.0.0"
        assert "data/orders.json" in opened.data
        refused = TemplateCatalog([("remote", f"{base}/index.json")], Fetcher(NetworkPolicy(), verify=client_ctx))
        with pytest.raises(BlockedAddressError, match="loopback"):
            await refused.list()
        with pytest.raises(ValidationError, match="only file:// and https://"):
            await Fetcher().fetch(base.replace("https", "http"))
    finally:
        next(served, None)


LLM_RUN_INPUTS: dict[str, dict[str, Any]] = {
    "chat-assistant": {"message": "Say hi in three words.", "session_id": "templates-test"},
    "local-chat": {"question": "Say hi in three words."},
    "prompt-chain-summariser": {"text": "Ada Lovelace wrote the first program for Babbage's Analytical Engine."},
    "structured-extraction": {"text": "Hi, this is Ada (ada@example.com) about the engine drawings."},
    "webhook-summarise": {"text": "The meeting moved to Friday. Bring the Q3 numbers."},
    "scheduled-digest": {},
}


@pytest.mark.parametrize("name", sorted(LLM_RUN_INPUTS))
async def test_llm_and_trigger_templates_import_and_run(name: str, live_server: LiveServer, json_api: str) -> None:
    package = load_package(BUILTIN_TEMPLATES / name)
    registry = default_registry()
    assert [r.id for r in package.manifest.operators if r.id not in registry] == [], f"{name}: operator renamed?"
    variables = {"feed_url": f"{json_api}/items"} if name == "scheduled-digest" else {}
    async with _client(live_server) as client:
        report = await client.post("/api/templates/import", json={"name": name, "variables": variables})
        assert report.status_code == 201, report.text
        flow_id = report.json()["flows"][0]["flow_id"]
        validation = (await client.get(f"/api/flows/{flow_id}")).json()["validation"]
        assert validation["ok"], validation
        run = await _run(client, flow_id, LLM_RUN_INPUTS[name])
        assert run["status"] == "succeeded", run
        assert run["outputs"], run


async def test_dbgpt_import_via_api(live_server: LiveServer) -> None:
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "dbgpt" / "chat_data_flow.json"
    async with _client(live_server) as client:
        response = await client.post("/api/templates/import-dbgpt", json={"export": json.loads(fixture.read_text())})
        assert response.status_code == 201, response.text
        body = response.json()
        assert len(body["nodes"]) == 9
        assert any(n["dbgpt_class"].endswith("CodeMapOperator") and n["status"] == "unmapped" for n in body["nodes"])
        stored = (await client.get(f"/api/flows/{body['flow_id']}")).json()["document"]
        assert stored["metadata"]["source"] == "dbgpt"
