"""``/api/docs``: the OpenAPI UI, served entirely by this server (it works offline).

Litestar's render plugins load their JavaScript and CSS from a CDN by default, so the page stays blank without
internet access. Swagger UI's files ship in the ``swagger-ui-py`` package (a dependency, pinned in constraints.txt);
``docs_asset`` serves the few the page needs under ``/api/docs/assets/`` and the page references only those.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

from litestar import get
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.params import FromPath
from litestar.response import File

from rivulet import __version__
from rivulet.lib.exceptions import ConfigError, NotFoundError

__all__ = ("ASSETS_PATH", "DOCS_PATH", "docs_asset", "openapi_config")

DOCS_PATH = "/api/docs"
ASSETS_PATH = f"{DOCS_PATH}/assets"

ASSETS: dict[str, str] = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-standalone-preset.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}
"""The files the page uses, by name, with their media types (nothing else of the package is served)."""


@cache
def _static_dir() -> Path:
    spec = importlib.util.find_spec("swagger_ui")  # located, not imported: its handlers import web frameworks
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the swagger-ui-py package (Swagger UI's files for /api/docs) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


@get(f"{ASSETS_PATH}/{{name:str}}", include_in_schema=False, summary="A static file of the OpenAPI UI")
async def docs_asset(name: FromPath[str]) -> File:
    """One of ``ASSETS`` from the installed Swagger UI."""
    media_type = ASSETS.get(name)
    if media_type is None:
        raise NotFoundError(f"no documentation asset named {name!r}", extra={"name": name})
    return File(
        _static_dir() / name,
        media_type=media_type,
        content_disposition_type="inline",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def openapi_config() -> OpenAPIConfig:
    """The OpenAPI document at ``/api/docs/openapi.json`` and Swagger UI at ``/api/docs``, with local assets."""
    return OpenAPIConfig(
        title="Rivulet API",
        version=__version__,
        path=DOCS_PATH,
        render_plugins=[
            SwaggerRenderPlugin(
                js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
                css_url=f"{ASSETS_PATH}/swagger-ui.css",
                standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
                favicon=f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/favicon-32x32.png'>",
                path="/swagger",
            )
        ],
    )
