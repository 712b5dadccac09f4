"""Serves the built editor (``frontend/dist``) at ``/`` with a single-page-app fallback.

Pages may not be framed by other sites, except chat apps (``/apps/{slug}``), which are embeddable widgets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar import Response, Router, get
from litestar.params import FromPath
from litestar.response import File

from rivulet.lib.exceptions import NotFoundError
from rivulet.server.auth import PUBLIC

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ("frontend_router",)

_NOT_BUILT = """<!doctype html><html><head><meta charset="utf-8"><title>Rivulet</title></head>
<body style="font-family:system-ui;margin:4rem"><h1>Rivulet</h1>
<p>The editor has not been built. Run <code>make run</code> (or <code>npm --prefix frontend run build</code>).</p>
<p>The API is live: <a href="/api/health">/api/health</a>, <a href="/api/docs">/api/docs</a>.</p></body></html>"""
_RESERVED_ROOTS = frozenset({"api", "f"})


def _frame_headers(path: str) -> dict[str, str]:
    """Who may show a page in a frame: a chat app (``/apps/...``) anywhere (the embeddable widget), else nobody.

    The editor in another site's frame could be clicked through by that site (clickjacking); a chat app is made
    to be embedded, and holds only what its share link opens.
    """
    if path == "apps" or path.startswith("apps/"):
        return {}
    return {"x-frame-options": "DENY", "content-security-policy": "frame-ancestors 'none'"}


def frontend_router(dist: Path) -> Router:
    """A router serving files from ``dist`` and ``index.html`` for every other non-API path."""
    root = dist.resolve()

    def _resolve(path: str) -> Path | None:
        if path.split("/", 1)[0] in _RESERVED_ROOTS:
            raise NotFoundError(f"no route for /{path}")
        candidate = (root / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(root):
            return candidate
        index = root / "index.html"
        return index if index.is_file() else None

    def _serve(path: str) -> Response[str] | File:
        found = _resolve(path.lstrip("/"))
        if found is None:
            return Response(_NOT_BUILT, media_type="text/html")
        immutable = "/assets/" in found.as_posix()
        cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
        headers = {"cache-control": cache}
        if found.suffix == ".html":
            headers.update(_frame_headers(path.lstrip("/")))
        return File(found, filename=found.name, content_disposition_type="inline", headers=headers)

    @get("/", include_in_schema=False, sync_to_thread=False)
    def index() -> Response[str] | File:
        return _serve("")

    @get("/{path:path}", include_in_schema=False, sync_to_thread=False)
    def asset(path: FromPath[str]) -> Response[str] | File:
        return _serve(path)

    return Router(path="/", route_handlers=[index, asset], opt=PUBLIC)
