"""The app factory: ``create_app(settings, database_url)`` wires routes, dependency providers and the lifespan."""

from __future__ import annotations

import gc
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from litestar import Litestar, Router
from litestar._asgi.routing_trie.types import PathParameterSentinel
from litestar.middleware import DefineMiddleware

from rivulet.app.providers import Providers
from rivulet.app.wiring import open_services
from rivulet.domain.apps import AppsController, ChatController
from rivulet.domain.auth import AuthController, UsersController, WorkspacesController
from rivulet.domain.datasources import DatasourcesController, DatasourceUploadsController
from rivulet.domain.endpoints import GatewayController, PublishingController
from rivulet.domain.endpoints.gateway import CALLS_STATE, call_endpoint
from rivulet.domain.evaluations import EvaluationsController
from rivulet.domain.flows import FlowsController
from rivulet.domain.health import HealthController
from rivulet.domain.knowledge import KnowledgeController, KnowledgeDocumentsController
from rivulet.domain.models import ModelsController
from rivulet.domain.operators import OperatorsController
from rivulet.domain.reports import ReportsController
from rivulet.domain.runs import RunsController, run_socket
from rivulet.domain.secrets import SecretsController
from rivulet.domain.templates import TemplatesController
from rivulet.server.auth import AuthMiddleware
from rivulet.server.core import exception_handlers
from rivulet.server.docs import docs_asset, openapi_config
from rivulet.server.fastpath import EndpointFastPath
from rivulet.server.frontend import frontend_router
from rivulet.server.guard import InputGuard
from rivulet.server.inputs import RivuletRequest
from rivulet.server.permissions import declare_generated_permissions, permission_guard
from rivulet.server.uploads import UploadLimits
from rivulet.storage.postgres.migrate import apply_migrations
from rivulet.storage.postgres.pool import open_pool

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from litestar.types import ControllerRouterHandler

    from rivulet.lib.settings import Settings

__all__ = ("create_app",)


def _domain(
    providers: Providers, domain: str, *handlers: ControllerRouterHandler, max_body_bytes: int | None = None
) -> Router:
    """A domain's handlers with their ``deps`` provider (the paths are the handlers' own).

    ``max_body_bytes`` replaces the app's request body limit for these handlers (the knowledge upload's is larger).
    """
    dependencies = providers.router_dependencies(domain)
    if max_body_bytes is None:
        return Router("/", route_handlers=list(handlers), dependencies=dependencies)
    return Router("/", route_handlers=list(handlers), dependencies=dependencies, request_max_body_size=max_body_bytes)


def _lifespan(settings: Settings, database_url: str | None, providers: Providers):
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None]:
        if database_url is None:
            yield
            return
        pool = await open_pool(database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max)
        try:
            await apply_migrations(pool)
            async with open_services(settings, pool) as services:
                app.state["services"] = services
                app.state[CALLS_STATE] = services.calls
                providers.fill(services)
                # everything alive now (modules, registry, compiled templates) lives as long as the process: keep it
                # out of the cyclic garbage collector's full passes, which would otherwise walk it again and again
                # (garbage is collected first, so none of it is kept forever)
                gc.collect()
                gc.freeze()
                try:
                    yield
                finally:
                    await providers.close()
        finally:
            await pool.close()

    return lifespan


def create_app(settings: Settings, database_url: str | None) -> Litestar:
    """Build the ASGI app.

    Args:
        settings: Process settings.
        database_url: The PostgreSQL to use; ``None`` builds an app without storage (schema export only).
    """
    providers = Providers()
    app = Litestar(
        route_handlers=[
            HealthController,
            _domain(providers, "auth", AuthController, UsersController, WorkspacesController),
            _domain(providers, "flows", FlowsController),
            OperatorsController,
            _domain(providers, "runs", RunsController),
            _domain(providers, "models", ModelsController),
            SecretsController,
            _domain(providers, "runs", run_socket),
            _domain(providers, "templates", TemplatesController),
            _domain(providers, "publishing", PublishingController),
            _domain(providers, "knowledge", KnowledgeController),
            _domain(
                providers,
                "knowledge",
                KnowledgeDocumentsController,
                max_body_bytes=UploadLimits.from_settings(settings).body_bytes,
            ),
            _domain(providers, "datasources", DatasourcesController),
            _domain(
                providers,
                "datasources",
                DatasourceUploadsController,
                max_body_bytes=UploadLimits.from_settings(settings).body_bytes,
            ),
            _domain(providers, "reports", ReportsController),
            _domain(providers, "evaluations", EvaluationsController),
            _domain(providers, "apps", AppsController, ChatController),
            _domain(providers, "gateway", GatewayController),
            docs_asset,
            frontend_router(Path(settings.frontend_dir)),
        ],
        dependencies=providers.app_dependencies(),
        exception_handlers=exception_handlers(),
        middleware=[DefineMiddleware(AuthMiddleware)],
        guards=[permission_guard],
        lifespan=[_lifespan(settings, database_url, providers)],
        openapi_config=openapi_config(),
        request_class=RivuletRequest,
        request_max_body_size=settings.max_request_body_bytes,
        logging_config=None,
        debug=False,
    )
    _route_asgi_path_parameters(app)
    declare_generated_permissions(app, "/api/docs")
    # endpoint calls with header credentials skip the router and middleware (authenticated the same way)
    app.asgi_handler = EndpointFastPath(app.asgi_handler, (route.path for route in app.routes), call_endpoint)
    # outermost: a NUL in a path or an /api query is refused before routing, authentication or any handler
    app.asgi_handler = InputGuard(app.asgi_handler)
    return app


def _route_asgi_path_parameters(app: Litestar) -> None:
    """Let the ASGI route ``/f/{slug}`` (``GatewayController.call``) be reached by every HTTP method.

    Litestar 2.25 stores an ASGI route's path parameter definitions under the key ``"asgi"`` but looks them up
    under the request's method, so a request to an ASGI route with a path parameter fails with a KeyError.
    Copying the definitions under each method's key is what the lookup expects (a test calls the route with
    each method, so a Litestar release that changes this is caught).
    """
    node = app.asgi_router.root_route_map_node.children["f"].children[PathParameterSentinel]
    parameters = node.path_parameters["asgi"]
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"):
        node.path_parameters.setdefault(method, parameters)
