"""The dependency providers, one per domain: what its handlers name (``deps: Injected[RunsDeps]``), and from where.

Each domain declares the one object its handlers use (``domain/<name>/deps.py``: typed, frozen, nothing optional);
``Providers.fill`` builds them once from the ``Services`` the lifespan opened, and each domain's router hands its
handlers theirs under the name ``deps``. A handler thus resolves exactly one dependency, as fast as the service
locator it replaces (Litestar resolves two or more dependencies of a handler in a task group: about 120 µs more
per request). Three single-purpose handlers take their one service directly: ``secrets``, ``pool`` (health) and
``registry`` (operators).

A provided name must not be a parameter or a top-level request body field (Litestar reports an invalid body field
named like a dependency as a 500, not a 422); ``tests/unit/app/test_providers.py`` checks it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.di import Provide

from rivulet.domain.apps.deps import AppsDeps
from rivulet.domain.auth.deps import AuthDeps
from rivulet.domain.datasources.deps import DatasourcesDeps
from rivulet.domain.endpoints.deps import PublishingDeps
from rivulet.domain.evaluations.deps import EvaluationsDeps
from rivulet.domain.flows.deps import FlowsDeps
from rivulet.domain.knowledge.deps import KnowledgeDeps
from rivulet.domain.knowledge.jobs import IngestionJobs
from rivulet.domain.models.deps import ModelsDeps
from rivulet.domain.reports.deps import ReportsDeps
from rivulet.domain.runs.deps import RunsDeps
from rivulet.domain.templates.deps import TemplatesDeps
from rivulet.server.uploads import UploadLimits

if TYPE_CHECKING:
    from rivulet.app.wiring import Services

__all__ = ("Providers",)


class Providers:
    """The per-domain dependencies of one app, filled when its lifespan has opened the services."""

    def __init__(self) -> None:
        self._provided: dict[str, object] = {}
        self._jobs: IngestionJobs | None = None

    def fill(self, services: Services) -> None:
        """Build every domain's dependency object from ``services`` (before the first request)."""
        self._jobs = IngestionJobs()
        self._provided = {
            "auth": AuthDeps(
                auth=services.auth,
                changes=services.changes,
                settings=services.settings,
                login_throttle=services.login_throttle,
            ),
            "flows": FlowsDeps(flows=services.flows, registry=services.registry, changes=services.changes),
            "runs": RunsDeps(
                runs=services.runs, flows=services.flows, authenticator=services.authenticator, apps=services.app_store
            ),
            "models": ModelsDeps(models=services.models, runs=services.runs, flows=services.flows),
            "templates": TemplatesDeps(
                templates=services.templates,
                flows=services.flows,
                registry=services.registry,
                models=services.models,
                settings=services.settings,
            ),
            "publishing": PublishingDeps(
                publisher=services.publisher,
                endpoints=services.endpoints,
                schedules=services.schedules,
                published=services.published,
                audit=services.audit,
                auth=services.auth,
                changes=services.changes,
                flows=services.flows,
            ),
            "knowledge": KnowledgeDeps(
                knowledge=services.knowledge,
                jobs=self._jobs,
                uploads=UploadLimits.from_settings(services.settings),
            ),
            "datasources": DatasourcesDeps(data=services.data, uploads=UploadLimits.from_settings(services.settings)),
            "reports": ReportsDeps(reports=services.reports),
            "evaluations": EvaluationsDeps(evaluations=services.evaluations, flows=services.flows),
            "apps": AppsDeps(apps=services.apps, flows=services.flows, changes=services.changes),
            "gateway": services.calls,
            "secrets": services.secrets,
            "pool": services.pool,
            "registry": services.registry,
        }

    async def close(self) -> None:
        """Stop what the domains run in the background (ingestion jobs), before the services close."""
        if self._jobs is not None:
            await self._jobs.close()

    def provide(self, domain: str) -> Provide:
        """The provider of ``domain``'s dependency object (no parameters: nothing to parse per request)."""

        def provided() -> object:
            return self._provided[domain]

        return Provide(provided, sync_to_thread=False)

    def app_dependencies(self) -> dict[str, Provide]:
        """The app-wide providers of the handlers that take one service directly."""
        return {name: self.provide(name) for name in ("secrets", "pool", "registry")}

    def router_dependencies(self, domain: str) -> dict[str, Provide]:
        """The ``deps`` provider of one domain's router."""
        return {"deps": self.provide(domain)}
