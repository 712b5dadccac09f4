"""The dependency providers: what a handler names (``flows: Injected[FlowStore]``) and where it comes from.

One provider per name, each returning one field of the ``Services`` the lifespan built (never ``None``). A handler
asks only for what it uses; adding a store means a field in ``Services``, a provider here and a parameter in the
handlers that need it.

A name must not be a top-level field of a request body (Litestar reports an invalid body field named like one of
the handler's dependencies as a dependency failure: a 500, not a 422). That is why the endpoint store is
``endpoint_store`` (``ApiKeyCreate`` has ``endpoints``); ``tests/unit/app/test_providers.py`` checks every body.
"""

# ruff: noqa: TC001, TC002, TC003 - litestar reads the providers' annotations at runtime

from __future__ import annotations

from collections.abc import Callable

from litestar.datastructures import State
from litestar.di import Provide
from psycopg_pool import AsyncConnectionPool

from rivulet.app.wiring import Services
from rivulet.lib.settings import Settings
from rivulet.providers.service import ModelService
from rivulet.publishing.audit import AuditLog
from rivulet.publishing.limits import LoginThrottle
from rivulet.publishing.registry import EndpointRegistry
from rivulet.publishing.service import Publisher
from rivulet.registry.registry import OperatorRegistry
from rivulet.runtime.service import RunService
from rivulet.server.auth import Authenticator
from rivulet.storage.base import AuthStore, ChangeNotifier, EndpointStore, FlowStore, ScheduleStore, SecretStore
from rivulet.templates.sources import TemplateSources

__all__ = ("dependencies",)


def _services(state: State) -> Services:
    services: Services = state["services"]
    return services


# -- system ---------------------------------------------------------------------------------------------------------


def provide_settings(state: State) -> Settings:
    return _services(state).settings


def provide_pool(state: State) -> AsyncConnectionPool:
    return _services(state).pool


def provide_changes(state: State) -> ChangeNotifier:
    return _services(state).changes


# -- auth -----------------------------------------------------------------------------------------------------------


def provide_auth(state: State) -> AuthStore:
    return _services(state).auth


def provide_authenticator(state: State) -> Authenticator:
    return _services(state).authenticator


def provide_login_throttle(state: State) -> LoginThrottle:
    return _services(state).login_throttle


# -- flows, operators, templates ------------------------------------------------------------------------------------


def provide_flows(state: State) -> FlowStore:
    return _services(state).flows


def provide_registry(state: State) -> OperatorRegistry:
    return _services(state).registry


def provide_templates(state: State) -> TemplateSources:
    return _services(state).template_sources()


# -- runs -----------------------------------------------------------------------------------------------------------


def provide_runs(state: State) -> RunService:
    return _services(state).runs


# -- models and secrets ---------------------------------------------------------------------------------------------


def provide_models(state: State) -> ModelService:
    return _services(state).models


def provide_secrets(state: State) -> SecretStore:
    return _services(state).secrets


# -- publishing -----------------------------------------------------------------------------------------------------


def provide_publisher(state: State) -> Publisher:
    return _services(state).publisher


def provide_endpoints(state: State) -> EndpointStore:
    return _services(state).endpoints


def provide_published(state: State) -> EndpointRegistry:
    return _services(state).published


def provide_schedules(state: State) -> ScheduleStore:
    return _services(state).schedules


def provide_audit(state: State) -> AuditLog:
    return _services(state).audit


_PROVIDERS: dict[str, Callable[[State], object]] = {
    "settings": provide_settings,
    "pool": provide_pool,
    "changes": provide_changes,
    "auth": provide_auth,
    "authenticator": provide_authenticator,
    "login_throttle": provide_login_throttle,
    "flows": provide_flows,
    "registry": provide_registry,
    "templates": provide_templates,
    "runs": provide_runs,
    "models": provide_models,
    "secrets": provide_secrets,
    "publisher": provide_publisher,
    "endpoint_store": provide_endpoints,
    "published": provide_published,
    "schedules": provide_schedules,
    "audit": provide_audit,
}


def dependencies() -> dict[str, Provide]:
    """The app's providers, by the parameter name handlers use."""
    return {name: Provide(provider, sync_to_thread=False) for name, provider in _PROVIDERS.items()}
