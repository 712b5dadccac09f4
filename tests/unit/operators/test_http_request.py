"""core.http_request against a real HTTP server on 127.0.0.1, and the SSRF guard."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest

from rivulet.lib.exceptions import OperatorError
from rivulet.sdk.net import NetworkPolicy
from rivulet.sdk.ports import HttpResponse
from rivulet_operators.core.http_request import HttpRequestOperator
from tests.unit.operators.conftest import FakeContext, run_operator

if TYPE_CHECKING:
    from collections.abc import Iterator


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:  # silence the test server
        pass

    def _reply(self, status: int, body: bytes, content_type: str = "application/json", **headers: str) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        port = self.server.server_address[1]
        routes: dict[str, tuple[int, bytes, str, dict[str, str]]] = {
            "/json": (200, b'{"ok": true, "items": [1, 2]}', "application/json", {}),
            "/text": (200, "héllo".encode(), "text/plain; charset=utf-8", {}),
            "/fail": (503, b"down for maintenance", "text/plain", {}),
            "/redirect": (302, b"", "text/plain", {"location": "/json"}),
            "/to-private": (302, b"", "text/plain", {"location": f"http://127.0.0.2:{port}/json"}),
            "/loop": (302, b"", "text/plain", {"location": "/loop"}),
            "/big": (200, b"x" * 5000, "text/plain", {}),
            "/host": (200, json.dumps({"host": self.headers["host"]}).encode(), "application/json", {}),
        }
        status, body, content_type, headers = routes.get(self.path, (404, b"no", "text/plain", {}))
        self._reply(status, body, content_type, **headers)

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        payload = {
            "body": self.rfile.read(length).decode(),
            "content_type": self.headers.get("content-type"),
            "x_token": self.headers.get("x-token"),
        }
        self._reply(201, json.dumps(payload).encode())


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _override() -> FakeContext:
    """A deployment that lets a node's ``allow_private_network`` param reach the loopback test server."""
    return FakeContext(services={NetworkPolicy: NetworkPolicy(permit_flow_override=True)})


def _params(url: str, **extra: Any) -> dict[str, Any]:
    return {"url": url, "allow_private_network": True, **extra}


async def test_get_json(server: str) -> None:
    out = await run_operator(HttpRequestOperator, _params(f"{server}/json"), ctx=_override())
    assert out["status"] == 200
    assert out["body"] == {"ok": True, "items": [1, 2]}
    assert isinstance(out["response"], HttpResponse)
    assert out["response"].headers["content-type"] == "application/json"


async def test_text_body_is_decoded(server: str) -> None:
    assert (await run_operator(HttpRequestOperator, _params(f"{server}/text"), ctx=_override()))["body"] == "héllo"


async def test_host_header_keeps_the_name_while_connecting_to_the_checked_address(server: str) -> None:
    port = server.rsplit(":", 1)[1]
    out = await run_operator(HttpRequestOperator, _params(f"http://localhost:{port}/host"), ctx=_override())
    assert out["body"] == {"host": f"localhost:{port}"}


async def test_post_json_body_and_headers_and_url_input(server: str) -> None:
    params = _params("http://unused.invalid/", method="POST", headers={"x-token": "t1"}, body={"q": 1})
    out = await run_operator(HttpRequestOperator, params, {"url": f"{server}/echo", "body": {"q": 2}}, ctx=_override())
    assert out["status"] == 201
    assert out["body"] == {"body": '{"q":2}', "content_type": "application/json", "x_token": "t1"}


async def test_redirect_is_followed(server: str) -> None:
    assert (await run_operator(HttpRequestOperator, _params(f"{server}/redirect"), ctx=_override()))["body"][
        "ok"
    ] is True


async def test_redirect_loop_is_bounded(server: str) -> None:
    with pytest.raises(OperatorError, match="more than 2 redirects"):
        await run_operator(HttpRequestOperator, _params(f"{server}/loop", max_redirects=2), ctx=_override())


async def test_error_status_fails_with_body_preview(server: str) -> None:
    with pytest.raises(OperatorError, match="returned 503: down for maintenance"):
        await run_operator(HttpRequestOperator, _params(f"{server}/fail"), ctx=_override())
    out = await run_operator(
        HttpRequestOperator, _params(f"{server}/fail", fail_on_error_status=False), ctx=_override()
    )
    assert out["status"] == 503


async def test_response_size_is_limited(server: str) -> None:
    with pytest.raises(OperatorError, match="larger than 1000 bytes"):
        await run_operator(HttpRequestOperator, _params(f"{server}/big", max_response_bytes=1000), ctx=_override())


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:9/", "loopback"),
        ("http://localhost:9/", "loopback"),
        ("http://[::1]:9/", "loopback"),
        ("http://10.1.2.3/", "private"),
        ("http://192.168.0.10/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://100.64.0.1/", "non-global"),
    ],
)
async def test_internal_addresses_are_refused_by_default(url: str, reason: str) -> None:
    with pytest.raises(OperatorError, match=f"is a {reason} address") as info:
        await run_operator(HttpRequestOperator, {"url": url})
    assert info.value.operator_id == "core.http_request"


async def test_redirect_to_an_internal_address_is_refused(server: str) -> None:
    ctx = FakeContext(services={NetworkPolicy: NetworkPolicy(allowed_networks=("127.0.0.1/32",))})
    assert (await run_operator(HttpRequestOperator, {"url": f"{server}/json"}, ctx=ctx))["status"] == 200
    with pytest.raises(OperatorError, match=r"'127.0.0.2': 127.0.0.2 is a loopback address"):
        await run_operator(HttpRequestOperator, {"url": f"{server}/to-private"}, ctx=ctx)


async def test_param_override_is_ignored_unless_the_policy_permits_it(server: str) -> None:
    for ctx in (FakeContext(), FakeContext(services={NetworkPolicy: NetworkPolicy(permit_flow_override=False)})):
        with pytest.raises(OperatorError, match="loopback address"):
            await run_operator(HttpRequestOperator, _params(f"{server}/json"), ctx=ctx)


async def test_policy_can_allow_private_networks(server: str) -> None:
    ctx = FakeContext(services={NetworkPolicy: NetworkPolicy(allow_private_network=True)})
    assert (await run_operator(HttpRequestOperator, {"url": f"{server}/json"}, ctx=ctx))["status"] == 200


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "no URL"),
        ({"url": "ftp://example.com/x"}, "must be http"),
        ({"url": "http://no-such-host.invalid/"}, "cannot resolve host"),
    ],
)
async def test_bad_urls_fail_clearly(params: dict[str, Any], message: str) -> None:
    with pytest.raises(OperatorError, match=message):
        await run_operator(HttpRequestOperator, params)


def test_http_request_is_not_cacheable() -> None:
    assert not HttpRequestOperator.spec.cacheable
