"""The app factory: ``create_app(settings, database_url)`` wires routes, services and lifespan."""

from __future__ import annotations

import gc
import sys
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from litestar import Litestar
from litestar._asgi.routing_trie.types import PathParameterSentinel
from litestar.di import Provide
from litestar.middleware import DefineMiddleware

from rivulet.domain.auth import AuthController, UsersController, WorkspacesController
from rivulet.domain.endpoints import GatewayController, PublishingController
from rivulet.domain.flows import FlowsController
from rivulet.domain.health import HealthController
from rivulet.domain.models import ModelsController
from rivulet.domain.operators import OperatorsController
from rivulet.domain.runs import RunsController, run_socket
from rivulet.domain.secrets import SecretsController
from rivulet.domain.templates import TemplatesController
from rivulet.lib.log import get_logger
from rivulet.lib.secrets import SecretBox, load_secret_key
from rivulet.providers.config import model_dirs
from rivulet.providers.service import ModelService
from rivulet.publishing.registry import EndpointRegistry
from rivulet.publishing.schedules import Scheduler
from rivulet.runtime.setup import open_run_service
from rivulet.sdk.models import ConversationStore, ModelRegistry
from rivulet.sdk.net import NetworkPolicy
from rivulet.server.auth import AuthMiddleware
from rivulet.server.core import exception_handlers, provide_services
from rivulet.server.docs import docs_asset, openapi_config
from rivulet.server.fastpath import EndpointFastPath
from rivulet.server.frontend import frontend_router
from rivulet.server.guard import InputGuard
from rivulet.server.inputs import RivuletRequest
from rivulet.server.permissions import declare_generated_permissions, permission_guard
from rivulet.server.services import Services, operator_services
from rivulet.storage.postgres.conversations import PostgresConversationStore
from rivulet.storage.postgres.flows import PostgresFlowStore
from rivulet.storage.postgres.migrate import apply_migrations
from rivulet.storage.postgres.model_configs import PostgresModelStore
from rivulet.storage.postgres.pool import open_pool
from rivulet.storage.postgres.secrets import PostgresSecretStore

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from rivulet.lib.settings import Settings
    from rivulet.runtime.service import RunService

__all__ = ("create_app",)

_log = get_logger("rivulet.server")


async def _bootstrap_admin(services: Services) -> None:
    settings = services.settings
    generated = await services.auth.ensure_admin(settings.admin_user, settings.admin_password)
    if generated is not None:
        _log.warning("created the administrator account with a one-time password", extra={"user": settings.admin_user})
        sys.stderr.write(
            f"\n  Rivulet administrator: user {settings.admin_user!r}, one-time password: {generated}\n"
            "  (shown once; set RIVULET_ADMIN_PASSWORD to choose it instead)\n\n"
        )


async def _start_publishing(services: Services, runs: RunService) -> Scheduler | None:
    services.published = EndpointRegistry(services.endpoints, services.flows, runs.compile_graph)
    services.changes.on("endpoints", services.published.invalidate)
    services.changes.on("auth", services.authenticator.invalidate)
    await services.changes.start()
    services.audit.start()
    await _bootstrap_admin(services)
    if not services.settings.scheduler_enabled:
        return None
    scheduler = Scheduler(services.schedules, runs, poll_s=services.settings.scheduler_poll_s)
    scheduler.start()
    return scheduler


def _lifespan(settings: Settings, database_url: str | None):
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None]:
        if database_url is None:
            yield
            return
        pool = await open_pool(database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max)
        runs: RunService | None = None
        models: ModelService | None = None
        services: Services | None = None
        scheduler: Scheduler | None = None
        try:
            await apply_migrations(pool)
            services = Services(settings=settings, pool=pool, flows=PostgresFlowStore(pool))
            services.secrets = secrets = PostgresSecretStore(
                pool, SecretBox(load_secret_key(settings.secret_key, settings.home))
            )
            shared = operator_services(settings)
            policy = shared.get(NetworkPolicy)
            services.models = models = ModelService(
                PostgresModelStore(pool),
                secrets=secrets.reveal,
                policy=policy if isinstance(policy, NetworkPolicy) else None,
                model_dirs=model_dirs(settings.model_dirs, settings.home),
            )
            shared[ModelRegistry] = models
            shared[ConversationStore] = PostgresConversationStore(pool)
            services.runs = runs = await open_run_service(
                pool=pool,
                flows=services.flows,
                registry=services.registry,
                single_process=not settings.database_url,
                services=shared,
                secrets=secrets.reveal,
            )
            scheduler = await _start_publishing(services, runs)
            app.state["services"] = services
            # everything alive now (modules, registry, compiled templates) lives as long as the process: keep it
            # out of the cyclic garbage collector's full passes, which would otherwise walk it again and again
            # (garbage is collected first, so none of it is kept forever)
            gc.collect()
            gc.freeze()
            yield
        finally:
            if scheduler is not None:
                await scheduler.close()
            if services is not None:
                await services.audit.close()
                await services.changes.close()
            if runs is not None:
                await runs.close()
            if models is not None:
                await models.close()
            await pool.close()

    return lifespan


def create_app(settings: Settings, database_url: str | None) -> Litestar:
    """Build the ASGI app.

    Args:
        settings: Process settings.
        database_url: The PostgreSQL to use; ``None`` builds an app without storage (schema export only).
    """
    app = Litestar(
        route_handlers=[
            HealthController,
            AuthController,
            UsersController,
            WorkspacesController,
            FlowsController,
            OperatorsController,
            RunsController,
            ModelsController,
            SecretsController,
            run_socket,
            TemplatesController,
            PublishingController,
            GatewayController,
            docs_asset,
            frontend_router(Path(settings.frontend_dir)),
        ],
        dependencies={"services": Provide(provide_services, sync_to_thread=False)},
        exception_handlers=exception_handlers(),
        middleware=[DefineMiddleware(AuthMiddleware)],
        guards=[permission_guard],
        lifespan=[_lifespan(settings, database_url)],
        openapi_config=openapi_config(),
        request_class=RivuletRequest,
        request_max_body_size=settings.max_request_body_bytes,
        logging_config=None,
        debug=False,
    )
    _route_asgi_path_parameters(app)
    declare_generated_permissions(app, "/api/docs")
    # endpoint calls with header credentials skip the router and middleware (authenticated the same way)
    app.asgi_handler = EndpointFastPath(app.asgi_handler, (route.path for route in app.routes))
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
