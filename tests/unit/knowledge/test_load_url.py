"""load_url against a real HTTP server on loopback: the network guard, redirects, size limits, format by type."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, ClassVar

import pytest

from rivulet.knowledge.loaders import LoadError, load_url
from rivulet.sdk.net import BlockedAddressError, NetworkPolicy
from tests.unit.knowledge.documents import make_pdf

if TYPE_CHECKING:
    from collections.abc import Iterator

LOOPBACK = NetworkPolicy(allowed_networks=("127.0.0.0/8",))
PAGE = b"<html><head><title>Docs</title></head><body><h1>Docs</h1><p>Hello from loopback.</p></body></html>"


class _Handler(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, dict[str, str], bytes]]] = {}
    hosts: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hosts.append(self.headers.get("host", ""))
        status, headers, body = self.routes.get(self.path, (404, {"content-type": "text/plain"}, b"no such page"))
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class names it so
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    base = f"http://127.0.0.1:{httpd.server_port}"
    _Handler.routes = {
        "/docs/page.html": (200, {"content-type": "text/html; charset=utf-8"}, PAGE),
        "/download?id=7": (200, {"content-type": "application/pdf"}, make_pdf(["Quarterly report."])),
        "/notes.md": (200, {"content-type": "application/octet-stream"}, b"# Notes\n\nPlain notes."),
        "/moved": (302, {"location": "/docs/page.html"}, b""),
        "/moved-twice": (301, {"location": f"{base}/moved"}, b""),
        "/to-ipv6": (302, {"location": f"http://[::1]:{httpd.server_port}/docs/page.html"}, b""),
        "/loop": (302, {"location": "/loop"}, b""),
        "/big.txt": (200, {"content-type": "text/plain"}, b"x" * 50_000),
        "/broken.pdf": (200, {"content-type": "application/pdf"}, b"%PDF-1.7 nothing here"),
    }
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


async def test_private_addresses_are_refused_by_default(server: str) -> None:
    with pytest.raises(BlockedAddressError, match="loopback"):
        await load_url(f"{server}/docs/page.html", NetworkPolicy())


async def test_a_policy_allowing_loopback_loads_and_parses_html(server: str) -> None:
    [part] = await load_url(f"{server}/docs/page.html", LOOPBACK)
    assert part.text == "# Docs\n\nHello from loopback."
    assert part.metadata == {"format": "html", "title": "Docs", "url": f"{server}/docs/page.html"}
    assert _Handler.hosts[-1] == server.removeprefix("http://")  # the name is sent, the checked address dialled


async def test_allow_private_counts_only_where_the_policy_permits_it(server: str) -> None:
    with pytest.raises(BlockedAddressError):
        await load_url(f"{server}/docs/page.html", NetworkPolicy(), allow_private=True)
    permitting = NetworkPolicy(permit_flow_override=True)
    assert await load_url(f"{server}/docs/page.html", permitting, allow_private=True)
    assert await load_url(f"{server}/docs/page.html", NetworkPolicy(allow_private_network=True))


async def test_the_content_type_picks_the_format_when_the_path_has_no_extension(server: str) -> None:
    [part] = await load_url(f"{server}/download?id=7", LOOPBACK)
    assert part.text == "Quarterly report."
    assert part.metadata["page"] == 1
    [notes] = await load_url(f"{server}/notes.md", LOOPBACK)
    assert notes.metadata["format"] == "md"


async def test_redirects_are_followed_and_every_hop_is_checked(server: str) -> None:
    [part] = await load_url(f"{server}/moved-twice", LOOPBACK)
    assert part.metadata["url"] == f"{server}/docs/page.html"
    with pytest.raises(BlockedAddressError, match="::1"):  # allowed: 127.0.0.0/8 only
        await load_url(f"{server}/to-ipv6", LOOPBACK)
    with pytest.raises(LoadError, match="more than 5 redirects") as info:
        await load_url(f"{server}/loop", LOOPBACK)
    assert info.value.reason == "fetch_failed"


async def test_fetch_errors_name_the_url(server: str) -> None:
    with pytest.raises(LoadError, match=r"/missing: HTTP 404$"):
        await load_url(f"{server}/missing", LOOPBACK)
    with pytest.raises(LoadError, match="larger than 10000 bytes") as info:
        await load_url(f"{server}/big.txt", LOOPBACK, max_bytes=10_000)
    assert info.value.reason == "too_large"
    with pytest.raises(LoadError, match=r"broken\.pdf: not a readable pdf file"):
        await load_url(f"{server}/broken.pdf", LOOPBACK)
    with pytest.raises(LoadError, match="only http"):
        await load_url("ftp://127.0.0.1/file.txt", LOOPBACK)
    with pytest.raises(LoadError, match="fetch failed") as refused:
        await load_url("http://127.0.0.1:9/nothing-listens", LOOPBACK, timeout_s=5)
    assert refused.value.extra["name"] == "http://127.0.0.1:9/nothing-listens"
