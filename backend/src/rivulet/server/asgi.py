"""The app factory: ``create_app(settings, database_url)`` wires routes, services and lifespan."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from litestar import Litestar
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin

from rivulet import __version__
from rivulet.domain.flows import FlowsController
from rivulet.domain.health import HealthController
from rivulet.domain.models import ModelsController
from rivulet.domain.operators import OperatorsController
from rivulet.domain.runs import RunsController, run_socket
from rivulet.domain.secrets import SecretsController
from rivulet.domain.templates import TemplatesController
from rivulet.lib.secrets import SecretBox, load_secret_key
from rivulet.models.service import ModelService
from rivulet.runtime.setup import open_run_service
from rivulet.sdk.models import ConversationStore, ModelRegistry
from rivulet.sdk.net import NetworkPolicy
from rivulet.server.core import exception_handlers, provide_services
from rivulet.server.frontend import frontend_router
from rivulet.server.services import Services, operator_services
from rivulet.storage.postgres.conversations import PostgresConversationStore
from rivulet.storage.postgres.flows import PostgresFlowStore
from rivulet.storage.postgres.migrate import apply_migrations
from rivulet.storage.postgres.models import PostgresModelStore
from rivulet.storage.postgres.pool import open_pool
from rivulet.storage.postgres.secrets import PostgresSecretStore

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from rivulet.lib.settings import Settings
    from rivulet.runtime.service import RunService

__all__ = ("create_app",)


def _lifespan(settings: Settings, database_url: str | None):
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None]:
        if database_url is None:
            yield
            return
        pool = await open_pool(database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max)
        runs: RunService | None = None
        models: ModelService | None = None
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
            app.state["services"] = services
            yield
        finally:
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
    return Litestar(
        route_handlers=[
            HealthController,
            FlowsController,
            OperatorsController,
            RunsController,
            ModelsController,
            SecretsController,
            run_socket,
            TemplatesController,
            frontend_router(Path(settings.frontend_dir)),
        ],
        dependencies={"services": Provide(provide_services, sync_to_thread=False)},
        exception_handlers=exception_handlers(),
        lifespan=[_lifespan(settings, database_url)],
        openapi_config=OpenAPIConfig(
            title="Rivulet API",
            version=__version__,
            path="/api/docs",
            render_plugins=[ScalarRenderPlugin()],
        ),
        logging_config=None,
        debug=False,
    )
