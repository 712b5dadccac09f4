"""The process-wide services handed to request handlers by dependency injection."""

from __future__ import annotations

from dataclasses import dataclass, field

from litestar.di import NamedDependency
from psycopg_pool import AsyncConnectionPool

from rivulet.lib.settings import Settings
from rivulet.providers.service import ModelService
from rivulet.publishing.audit import AuditLog
from rivulet.publishing.limits import ConcurrencyLimiter, LoginThrottle, RateLimiter
from rivulet.publishing.registry import EndpointRegistry
from rivulet.registry.loader import default_registry
from rivulet.registry.registry import OperatorRegistry
from rivulet.runtime.service import RunService
from rivulet.sdk.net import NetworkPolicy
from rivulet.server.auth import Authenticator
from rivulet.storage.base import AuthStore, EndpointStore, FlowStore, ScheduleStore, SecretStore
from rivulet.storage.postgres.auth import PostgresAuthStore
from rivulet.storage.postgres.changes import ChangeFeed
from rivulet.storage.postgres.endpoints import PostgresEndpointStore
from rivulet.storage.postgres.schedules import PostgresScheduleStore
from rivulet.templates.sources import TemplateSources

__all__ = ("Services", "ServicesDep", "network_policy", "operator_services")


@dataclass(slots=True)
class Services:
    """Everything a handler may use. Built once in the app lifespan, closed on shutdown."""

    settings: Settings
    pool: AsyncConnectionPool
    flows: FlowStore
    registry: OperatorRegistry = field(default_factory=default_registry)
    runs: RunService | None = None
    """Runs and their events (``None`` in apps built without the runtime)."""
    models: ModelService | None = None
    """Configured models (``/api/models``, ``ctx.service(ModelRegistry)``)."""
    secrets: SecretStore | None = None
    """Encrypted secrets (``/api/secrets``, ``ctx.secret``)."""
    published: EndpointRegistry | None = None
    """Resolves ``/f/{slug}`` (``None`` in apps built without the runtime)."""
    auth: AuthStore = field(init=False)
    """Users, login tokens and API keys."""
    authenticator: Authenticator = field(init=False)
    changes: ChangeFeed = field(init=False)
    """Cross-replica cache invalidation (LISTEN/NOTIFY)."""
    endpoints: EndpointStore = field(init=False)
    schedules: ScheduleStore = field(init=False)
    audit: AuditLog = field(init=False)
    rate_limiter: RateLimiter = field(default_factory=RateLimiter)
    concurrency: ConcurrencyLimiter = field(default_factory=ConcurrencyLimiter)
    login_throttle: LoginThrottle = field(default_factory=LoginThrottle)
    """Failed logins per username and address (per replica)."""
    templates: TemplateSources | None = None
    """Template sources and the marketplace catalog."""

    def __post_init__(self) -> None:
        self.auth = PostgresAuthStore(self.pool)
        self.authenticator = Authenticator(self.auth)
        self.changes = ChangeFeed(self.pool)
        self.endpoints = PostgresEndpointStore(self.pool)
        self.schedules = PostgresScheduleStore(self.pool)
        self.audit = AuditLog(self.endpoints)

    def template_sources(self) -> TemplateSources:
        if self.templates is None:
            self.templates = TemplateSources(self.settings, network_policy(self.settings))
        return self.templates


ServicesDep = NamedDependency[Services]
"""Annotation for handler parameters: ``services: ServicesDep``."""


def network_policy(settings: Settings) -> NetworkPolicy:
    """The outbound network policy of the deployment."""
    allowed = tuple(part.strip() for part in settings.allowed_networks.split(",") if part.strip())
    return NetworkPolicy(
        allow_private_network=settings.allow_private_network,
        allowed_networks=allowed,
        permit_flow_override=settings.permit_flow_network_override,
    )


def operator_services(settings: Settings) -> dict[type, object]:
    """The services operators can look up with ``ctx.service(kind)``, built from the settings."""
    return {NetworkPolicy: network_policy(settings)}
