"""Building the services of a server process: the only place that names the PostgreSQL implementations.

``open_services(settings, pool)`` builds every store, the runtime, the model service and publishing, starts what
runs in the background (change feed, call audit, schedule poller) and closes it all, in reverse order, on exit.
Handlers never see ``Services``: ``rivulet.app.providers`` hands each domain's handlers the part they use.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from psycopg_pool import AsyncConnectionPool

from rivulet.app.run_service import open_run_service
from rivulet.data.reports import ReportService
from rivulet.data.service import DataOptions, DataService
from rivulet.data.specs import DatasourceSpec
from rivulet.domain.endpoints.gateway import EndpointCalls
from rivulet.evaluation.service import EvaluationService
from rivulet.knowledge.service import KnowledgeService, RunKnowledge
from rivulet.lib.exceptions import ConflictError, NotFoundError
from rivulet.lib.log import get_logger
from rivulet.lib.secrets import SecretBox, load_secret_key
from rivulet.lib.settings import Settings
from rivulet.providers.config import model_dirs
from rivulet.providers.service import ModelService
from rivulet.publishing.apps import AppService
from rivulet.publishing.audit import AuditLog
from rivulet.publishing.limits import LoginThrottle
from rivulet.publishing.registry import EndpointRegistry
from rivulet.publishing.schedules import Scheduler
from rivulet.publishing.service import Publisher
from rivulet.registry.loader import default_registry
from rivulet.registry.registry import OperatorRegistry
from rivulet.runtime.service import RunService
from rivulet.sdk.data import Datasources, QueryLimits, Reports
from rivulet.sdk.knowledge import KnowledgeBase
from rivulet.sdk.models import ConversationStore, ModelRegistry
from rivulet.sdk.net import NetworkPolicy
from rivulet.server.auth import Authenticator
from rivulet.storage.base import AppStore, AuthStore, EndpointStore, FlowStore, ScheduleStore, SecretStore
from rivulet.storage.postgres.apps import PostgresAppStore
from rivulet.storage.postgres.auth import PostgresAuthStore
from rivulet.storage.postgres.changes import ChangeFeed
from rivulet.storage.postgres.conversations import PostgresConversationStore
from rivulet.storage.postgres.data import PostgresDatasourceStore, PostgresEvaluationStore, PostgresReportStore
from rivulet.storage.postgres.endpoints import PostgresEndpointStore
from rivulet.storage.postgres.flows import PostgresFlowStore
from rivulet.storage.postgres.knowledge import PostgresKnowledgeStore
from rivulet.storage.postgres.model_configs import PostgresModelStore
from rivulet.storage.postgres.schedules import PostgresScheduleStore
from rivulet.storage.postgres.secrets import PostgresSecretStore
from rivulet.templates.sources import TemplateSources

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from rivulet.records.runs import RunRecord

__all__ = ("Services", "network_policy", "open_services", "operator_services")

_log = get_logger("rivulet.server")


@dataclass(slots=True, kw_only=True)
class Services:
    """What a server process built, all of it present (an app without a database builds none of it)."""

    settings: Settings
    pool: AsyncConnectionPool
    registry: OperatorRegistry
    flows: FlowStore
    runs: RunService
    """Runs and their events."""
    models: ModelService
    """Configured models (``/api/models``, ``ctx.service(ModelRegistry)``)."""
    secrets: SecretStore
    """Encrypted secrets (``/api/secrets``, ``ctx.secret``)."""
    auth: AuthStore
    """Users, workspaces, login tokens and API keys."""
    authenticator: Authenticator
    changes: ChangeFeed
    """Cross-replica cache invalidation (LISTEN/NOTIFY)."""
    endpoints: EndpointStore
    schedules: ScheduleStore
    published: EndpointRegistry
    """Resolves ``/f/{slug}``."""
    publisher: Publisher
    audit: AuditLog
    calls: EndpointCalls
    """What ``/f`` needs (the gateway and its fast path)."""
    templates: TemplateSources
    """Template sources and the marketplace catalog."""
    knowledge: KnowledgeService
    """Knowledge spaces (``/api/knowledge``, ``rivulet kb``, ``ctx.service(KnowledgeBase)``)."""
    reports: ReportService
    """Reports (``/api/reports``, share links, HTML export, ``ctx.service(Reports)``)."""
    data: DataService
    """Data sources (``/api/datasources``, ``rivulet ds``, ``ctx.service(Datasources)``)."""
    evaluations: EvaluationService
    """Evaluations of flows and of Text2SQL on datasets (``/api/evaluations``, ``rivulet eval``)."""
    app_store: AppStore
    """Chat apps, their share tokens, conversations, messages and feedback."""
    apps: AppService
    """Chat apps: answers as runs, transcripts, share links (``/api/apps``, ``/api/chat``)."""
    login_throttle: LoginThrottle = field(default_factory=LoginThrottle)
    """Failed logins per username and address (per replica)."""
    scheduler: Scheduler | None = None
    """The schedule poller (``None`` where the settings turn it off)."""


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


def data_options(settings: Settings) -> DataOptions:
    """Where uploaded data files live and the default query limits, from the settings."""
    home = Path(settings.home).expanduser()
    return DataOptions(
        files_dir=Path(settings.data_files).expanduser() if settings.data_files else home / "datasources",
        limits=QueryLimits(
            max_rows=settings.query_max_rows, max_bytes=settings.query_max_bytes, timeout_s=settings.query_timeout_s
        ),
    )


def _build_sample(home: str) -> Path:
    from rivulet.data.samples import build_sample

    return build_sample(Path(home).expanduser() / "samples" / "shop.sqlite", "sqlite")


async def register_sample(settings: Settings, data: DataService) -> None:
    """Build the sample database and register it as ``shop`` when no data source has that name (never fatal)."""
    if not settings.sample_datasource:
        return
    try:
        path = await asyncio.to_thread(_build_sample, settings.home)
        try:
            await data.get("shop")
        except NotFoundError:
            spec = DatasourceSpec(
                name="shop",
                kind="sqlite",
                path=str(path),
                description="Sample shop: customers, products, orders and payments (2023-2024).",
            )
            try:
                await data.create(spec, owner_id=None)
            except ConflictError:
                return  # another replica registered it first
    except Exception as exc:  # noqa: BLE001 - a server without its sample still serves
        _log.warning("could not register the sample data source 'shop'", extra={"error": str(exc)[:500]})


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _run_record(runs: RunService, run_id: str) -> RunRecord:
    return (await runs.get(run_id)).run


async def _run_flow_owner(runs: RunService, flows: PostgresFlowStore, run_id: str) -> str | None:
    """The owner of a run's flow (``None`` when the run or its flow is gone): whose uploaded data sources it uses."""
    try:
        run = (await runs.get(run_id)).run
        return (await flows.get(run.flow_id)).summary.owner_id
    except NotFoundError:
        return None


async def _bootstrap_admin(settings: Settings, auth: AuthStore) -> None:
    generated = await auth.ensure_admin(settings.admin_user, settings.admin_password)
    if generated is not None:
        _log.warning("created the administrator account with a one-time password", extra={"user": settings.admin_user})
        sys.stderr.write(
            f"\n  Rivulet administrator: user {settings.admin_user!r}, one-time password: {generated}\n"
            "  (shown once; set RIVULET_ADMIN_PASSWORD to choose it instead)\n\n"
        )


def _auth_and_apps(
    pool: AsyncConnectionPool, flows: PostgresFlowStore, runs: RunService, memory: PostgresConversationStore
) -> tuple[PostgresAuthStore, PostgresAppStore, Authenticator, AppService]:
    """Accounts, chat apps and the authenticator that resolves both users' tokens and apps' share tokens."""
    auth = PostgresAuthStore(pool)
    app_store = PostgresAppStore(pool)
    apps = AppService(apps=app_store, flows=flows, runs=runs, memory=memory, compile_graph=runs.compile_graph)
    return auth, app_store, Authenticator(auth, apps=app_store), apps


@contextlib.asynccontextmanager
async def open_services(settings: Settings, pool: AsyncConnectionPool) -> AsyncGenerator[Services]:
    """Build and start the services of a server process on a migrated database; close them on exit."""
    async with contextlib.AsyncExitStack() as stack:
        registry = default_registry()
        flows = PostgresFlowStore(pool)
        secrets = PostgresSecretStore(pool, SecretBox(load_secret_key(settings.secret_key, settings.home)))
        shared = operator_services(settings)
        policy = shared.get(NetworkPolicy)
        models = ModelService(
            PostgresModelStore(pool),
            secrets=secrets.reveal,
            policy=policy if isinstance(policy, NetworkPolicy) else None,
            model_dirs=model_dirs(settings.model_dirs, settings.home),
        )
        stack.push_async_callback(models.close)
        shared[ModelRegistry] = models
        memory = shared[ConversationStore] = PostgresConversationStore(pool)
        knowledge = KnowledgeService(
            PostgresKnowledgeStore(pool), models, policy if isinstance(policy, NetworkPolicy) else None
        )
        shared[KnowledgeBase] = RunKnowledge(knowledge)  # runs never reach a data source's linking index
        data = DataService(PostgresDatasourceStore(pool), secrets, models, knowledge, options=data_options(settings))
        stack.push_async_callback(data.close)
        shared[Datasources] = data
        reports = ReportService(PostgresReportStore(pool), flows=flows)
        shared[Reports] = reports
        runs = await open_run_service(
            pool=pool,
            flows=flows,
            registry=registry,
            single_process=not settings.database_url,
            services=shared,
            secrets=secrets.reveal,
        )
        stack.push_async_callback(runs.close)
        reports.bind_runs(lambda run_id: _run_record(runs, run_id))
        data.bind_run_owner(lambda run_id: _run_flow_owner(runs, flows, run_id))  # runs use their owner's uploads
        evaluations = EvaluationService(PostgresEvaluationStore(pool), runs=runs, flows=flows, models=models, data=data)
        stack.push_async_callback(evaluations.close)
        auth, app_store, authenticator, apps = _auth_and_apps(pool, flows, runs, memory)
        stack.push_async_callback(apps.close)  # before the run service: answers in flight are finished
        changes = ChangeFeed(pool)
        endpoints = PostgresEndpointStore(pool)
        schedules = PostgresScheduleStore(pool)
        audit = AuditLog(endpoints)
        published = EndpointRegistry(endpoints, flows, runs.compile_graph)
        publisher = Publisher(
            flows=flows, endpoints=endpoints, schedules=schedules, changes=changes, compile_graph=runs.compile_graph
        )
        calls = EndpointCalls(runs=runs, published=published, endpoints=endpoints, audit=audit)
        changes.on("endpoints", published.invalidate)
        changes.on("auth", authenticator.invalidate)
        await changes.start()
        stack.push_async_callback(changes.close)
        audit.start()
        stack.push_async_callback(audit.close)
        await _bootstrap_admin(settings, auth)
        sample = asyncio.create_task(register_sample(settings, data))  # in the background: startup stays quick
        stack.push_async_callback(_stop, sample)
        scheduler = None
        if settings.scheduler_enabled:
            scheduler = Scheduler(schedules, runs, poll_s=settings.scheduler_poll_s)
            scheduler.start()
            stack.push_async_callback(scheduler.close)
        yield Services(
            settings=settings,
            pool=pool,
            registry=registry,
            flows=flows,
            runs=runs,
            models=models,
            secrets=secrets,
            auth=auth,
            authenticator=authenticator,
            changes=changes,
            endpoints=endpoints,
            schedules=schedules,
            published=published,
            publisher=publisher,
            audit=audit,
            calls=calls,
            templates=TemplateSources(settings, network_policy(settings)),
            knowledge=knowledge,
            reports=reports,
            data=data,
            evaluations=evaluations,
            app_store=app_store,
            apps=apps,
            scheduler=scheduler,
        )
