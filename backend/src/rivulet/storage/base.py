"""Storage contracts: every store's Protocol and the data it keeps, in one place.

Each store is a Protocol here with a memory implementation (``rivulet.storage.memory``) and a PostgreSQL one
(``rivulet.storage.postgres``), and one conformance suite (``tests/integration/test_storage_conformance.py``)
runs against both. Callers (publishing, domain controllers, the runtime, the app wiring) depend on these
Protocols; only the composition root (``rivulet.app``) names an implementation.

Two Protocols are defined lower down and re-exported here, because a lower layer uses them: ``ModelStore`` (the
model service in ``rivulet.providers``) and ``ConversationStore`` (operators look it up through ``rivulet.sdk``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol

import msgspec

from rivulet.compiler.flow import FlowDocument
from rivulet.providers.store import ModelCallRecord, ModelStore
from rivulet.sdk.data import DatasourceInfo, DatasourceKind, ReportChart, SchemaInfo, Text2SQLExample, dialect_of
from rivulet.sdk.knowledge import DEFAULT_SPACE_LANGUAGE, ChunkingConfig, SpaceInfo
from rivulet.sdk.models import ConversationStore
from rivulet.sdk.ports import Chunk
from rivulet.security.permissions import Role

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from rivulet.records.events import ErrorInfo, Event, RunStatus
    from rivulet.records.runs import FinishedRun, NodeRunRecord, RunQuery, RunRecord
    from rivulet.sdk.triggers import ScheduleTriggerParams
    from rivulet.security import Principal

__all__ = (
    "CALL_OUTCOMES",
    "ApiKeyRead",
    "AppFeedback",
    "AppMessage",
    "AppRecord",
    "AppStore",
    "AppTokenRead",
    "AuthStore",
    "CallOutcome",
    "CallRecord",
    "ChangeNotifier",
    "ChunkHit",
    "ChunkRow",
    "ConversationRecord",
    "ConversationStore",
    "DatasourceRecord",
    "DatasourceStore",
    "DocumentRecord",
    "DocumentStatus",
    "DueFire",
    "EndpointRecord",
    "EndpointStats",
    "EndpointStore",
    "EvaluationItem",
    "EvaluationMetric",
    "EvaluationRecord",
    "EvaluationStatus",
    "EvaluationStore",
    "FireRecord",
    "FlowRecord",
    "FlowScope",
    "FlowStore",
    "FlowSummary",
    "FlowVersionInfo",
    "FlowVersionRecord",
    "GraphEdge",
    "KnowledgeStore",
    "ModelCallRecord",
    "ModelStore",
    "NextFire",
    "OutcomeStats",
    "ReportChart",
    "ReportRecord",
    "ReportStore",
    "RunStore",
    "ScheduleRecord",
    "ScheduleStore",
    "SecretInfo",
    "SecretStore",
    "SpaceRecord",
    "UserRead",
    "WorkspaceMember",
    "WorkspaceRead",
    "call_outcome",
)


class FlowSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A row of the flow list."""

    id: str
    name: str
    description: str
    version: int
    """The latest version number."""
    tags: list[str]
    node_count: int
    created_at: datetime
    updated_at: datetime
    owner_id: str | None = None
    """The user who owns the flow (``None``: nobody; only administrators reach it)."""
    workspace_id: str | None = None
    """The shared workspace whose members may reach the flow."""


class FlowScope(msgspec.Struct, frozen=True, kw_only=True):
    """Which flows a non-administrator may see: their own and those of their workspaces."""

    user_id: str
    workspace_ids: tuple[str, ...] = ()


class FlowRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A flow with its latest document."""

    summary: FlowSummary
    document: FlowDocument


class FlowVersionInfo(msgspec.Struct, frozen=True, kw_only=True):
    """One immutable saved version."""

    flow_id: str
    version: int
    message: str
    created_at: datetime


class FlowVersionRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A saved version with its document."""

    info: FlowVersionInfo
    document: FlowDocument


class FlowStore(Protocol):
    """Flows and their immutable versions. Every save appends a version; nothing is overwritten."""

    async def create(
        self, document: FlowDocument, *, message: str = "", owner_id: str | None = None, workspace_id: str | None = None
    ) -> FlowRecord:
        """Store a new flow as version 1, owned by ``owner_id``; a fresh id is assigned when ``document.id`` is empty.

        Raises:
            ConflictError: ``document.id`` is already taken.
        """
        ...

    async def get(self, flow_id: str) -> FlowRecord:
        """The latest version. Raises ``NotFoundError``."""
        ...

    async def list(
        self, *, search: str | None = None, limit: int = 50, offset: int = 0, scope: FlowScope | None = None
    ) -> list[FlowSummary]:
        """Flows ordered by last update (newest first), optionally filtered by a case-insensitive name match.

        With ``scope``, only the flows it covers (owned by the user or in one of the workspaces).
        """
        ...

    async def summaries(self, flow_ids: Collection[str]) -> list[FlowSummary]:
        """The summaries of these flows (ids of missing flows are skipped), in no particular order."""
        ...

    async def set_workspace(self, flow_id: str, workspace_id: str | None) -> FlowSummary:
        """Share a flow with a workspace (``None``: unshare). Raises ``NotFoundError``."""
        ...

    async def save(
        self, flow_id: str, document: FlowDocument, *, base_version: int | None = None, message: str = ""
    ) -> FlowRecord:
        """Append a new version.

        Args:
            flow_id: The flow to update.
            document: The new content (its ``id``/``version`` are overwritten by the store).
            base_version: When given, the save fails with ``ConflictError`` unless it is the latest version
                (optimistic concurrency for editors).
            message: A commit-style note for the version list.
        """
        ...

    async def write_many(
        self,
        creates: Sequence[FlowDocument],
        updates: Sequence[tuple[str, FlowDocument]] = (),
        *,
        message: str = "",
        owner_id: str | None = None,
    ) -> list[FlowRecord]:
        """Create flows (owned by ``owner_id``) and append versions to others, all or nothing (one transaction).

        Returns the records of ``creates`` then ``updates``, in order.

        Raises:
            ConflictError: A create's id is taken (nothing is written).
            NotFoundError: An update's flow does not exist (nothing is written).
        """
        ...

    async def delete(self, flow_id: str) -> None:
        """Delete a flow and all its versions. Raises ``NotFoundError``."""
        ...

    async def list_versions(self, flow_id: str) -> list[FlowVersionInfo]:
        """Versions newest first. Raises ``NotFoundError``."""
        ...

    async def get_version(self, flow_id: str, version: int) -> FlowVersionRecord:
        """One version. Raises ``NotFoundError``."""
        ...


class RunStore(Protocol):
    """Run history: runs, per-node states and the append-only event log (``run_events``)."""

    async def create_run(self, run: RunRecord) -> None:
        """Insert a new run. Raises ``ConflictError`` when the id exists."""
        ...

    async def get_run(self, run_id: str) -> RunRecord:
        """One run. Raises ``NotFoundError``."""
        ...

    async def list_runs(self, query: RunQuery) -> list[RunRecord]:
        """Runs matching ``query``, newest first."""
        ...

    async def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus,
        outputs: dict[str, Any] | None = None,
        error: ErrorInfo | None = None,
        started_at: datetime | None = None,
        finished_at: datetime | None = None,
    ) -> None:
        """Set the status and, where given, the other fields (``None`` leaves a field unchanged)."""
        ...

    async def save_node_runs(self, run_id: str, nodes: Sequence[NodeRunRecord]) -> None:
        """Insert or replace node states of a run."""
        ...

    async def list_node_runs(self, run_id: str) -> list[NodeRunRecord]:
        """Node states of a run, ordered by node id."""
        ...

    async def append_events(self, events: Sequence[Event]) -> None:
        """Persist events (any runs, any order); an event already stored (same run and seq) is ignored."""
        ...

    async def record_runs(self, runs: Sequence[FinishedRun]) -> None:
        """Insert finished runs (never stored before) with their node states and events, in one transaction."""
        ...

    async def list_events(self, run_id: str, *, after_seq: int = 0, limit: int | None = None) -> list[Event]:
        """Stored events of a run with ``seq > after_seq`` in seq order."""
        ...

    async def last_event(self, run_id: str) -> Event | None:
        """The stored event with the highest seq, or ``None``."""
        ...

    async def heartbeat(self, owner: str, run_ids: Sequence[str]) -> None:
        """Record that ``owner`` is still executing these runs."""
        ...

    async def interrupt_orphans(self, *, owner: str, stale_after_s: float, reason: str) -> list[str]:
        """Mark runs orphaned by a dead process as ``interrupted``; returns their ids.

        A ``queued``/``running`` run is orphaned when its owner is not ``owner`` and it had no heartbeat for
        ``stale_after_s``. Every stored event is kept and a final ``run_finished`` is appended.
        """
        ...


# -- published endpoints ------------------------------------------------------------------------------------------


class EndpointRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A published flow version."""

    slug: str
    method: str
    flow_id: str
    flow_version: int
    trigger_node_id: str
    concurrency_limit: int | None = None
    """At most this many calls run at once per replica (429 beyond)."""
    published_by: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


CallOutcome = Literal["ok", "error", "accepted", "stream"]
"""``ok``: a 200 JSON answer; ``error``: 4xx/5xx; ``accepted``: 202 (``?wait=false``); ``stream``: an SSE answer."""

CALL_OUTCOMES: tuple[CallOutcome, ...] = ("ok", "error", "accepted", "stream")


class CallRecord(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One audited call of an endpoint."""

    slug: str
    caller: str
    """``user:<name>`` or ``key:<name>``."""
    status: int
    duration_ms: float
    api_key_id: str | None = None
    user_id: str | None = None
    run_id: str | None = None
    created_at: datetime | None = None
    id: int | None = None
    """The audit row's id (set when read back)."""
    outcome: CallOutcome | None = None
    """What the call answered (``None`` on rows written before outcomes were kept: read as ``call_outcome``)."""


def call_outcome(call: CallRecord) -> CallOutcome:
    """The call's outcome (derived from its status for rows that have none)."""
    if call.outcome is not None:
        return call.outcome
    return "error" if call.status >= 400 else "accepted" if call.status == 202 else "ok"


class OutcomeStats(msgspec.Struct, frozen=True, kw_only=True):
    """Call statistics of one outcome of an endpoint: durations of like calls only."""

    outcome: CallOutcome
    calls: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None


class EndpointStats(msgspec.Struct, frozen=True, kw_only=True):
    """Call statistics of an endpoint (all recorded calls), and per outcome.

    Durations are from the call's start to its last byte: an SSE call's when its stream ends, a 202's when the
    acceptance is answered (its run goes on). The overall percentiles mix outcomes; read ``by_outcome``.
    """

    calls: int = 0
    errors: int = 0
    """Calls answered with a status ≥ 400."""
    p50_ms: float | None = None
    p95_ms: float | None = None
    last_call_at: datetime | None = None
    by_outcome: list[OutcomeStats] = msgspec.field(default_factory=list["OutcomeStats"])
    """One row per outcome that has calls, in the order ``ok``, ``error``, ``accepted``, ``stream``."""


class EndpointStore(Protocol):
    """Published endpoints (``METHOD /f/{slug}``, at most one per flow) and the audit log of their calls."""

    async def publish(self, record: EndpointRecord) -> EndpointRecord:
        """Publish (or republish) ``record`` as this flow's only endpoint; the stored record (timestamps set).

        Raises:
            ConflictError: The slug is published by another flow.
        """
        ...

    async def unpublish(self, flow_id: str) -> list[str]:
        """Remove the flow's endpoints; returns their slugs (none: an empty list)."""
        ...

    async def get(self, slug: str) -> EndpointRecord | None:
        """The endpoint at ``/f/{slug}``, if published."""
        ...

    async def list(self, flow_id: str | None = None) -> list[EndpointRecord]:
        """Published endpoints ordered by slug (of one flow when ``flow_id`` is given)."""
        ...

    async def record_calls(self, calls: list[CallRecord]) -> None:
        """Append audited calls; those without ``created_at`` are stamped now."""
        ...

    async def calls(self, slug: str, limit: int = 100) -> list[CallRecord]:
        """The latest audited calls of an endpoint, newest first, with their ids."""
        ...

    async def stats(self) -> dict[str, EndpointStats]:
        """Call statistics per slug (slugs without calls are absent)."""
        ...


# -- schedules ----------------------------------------------------------------------------------------------------


class ScheduleRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A published schedule."""

    id: str
    flow_id: str
    flow_version: int
    node_id: str
    cron: str | None
    interval_s: float | None
    timezone: str
    inputs: dict[str, Any]
    missed_policy: Literal["run_once", "skip"]
    enabled: bool
    next_fire_at: datetime | None
    last_fire_at: datetime | None
    created_at: datetime
    updated_at: datetime


class FireRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One fire time of a schedule: ``fired`` (with its run), ``missed`` or ``failed`` (could not start)."""

    schedule_id: str
    fire_at: datetime
    status: Literal["fired", "missed", "failed"]
    run_id: str | None = None
    error: str | None = None


class DueFire(msgspec.Struct, frozen=True, kw_only=True):
    """A fire this replica claimed and must start."""

    schedule: ScheduleRecord
    fire_at: datetime
    run_id: str


NextFire = Callable[[ScheduleRecord, datetime], datetime | None]
"""The first fire time of a schedule strictly after an instant (``None``: never again)."""


class ScheduleStore(Protocol):
    """Published schedules (at most one per flow) and their fires; each fire time is claimed exactly once."""

    async def upsert(
        self,
        flow_id: str,
        flow_version: int,
        node_id: str,
        params: ScheduleTriggerParams,
        next_fire_at: datetime | None,
    ) -> ScheduleRecord:
        """Publish the flow's schedule (replacing any other schedule of the flow; the id stays on republish)."""
        ...

    async def delete_for_flow(self, flow_id: str) -> int:
        """Remove the flow's schedules; returns how many."""
        ...

    async def list(self, flow_id: str | None = None) -> list[ScheduleRecord]:
        """Schedules, next to fire first (never-firing ones last, then by id)."""
        ...

    async def get(self, schedule_id: str) -> ScheduleRecord:
        """One schedule. Raises ``NotFoundError``."""
        ...

    async def set_enabled(self, schedule_id: str, enabled: bool, next_fire_at: datetime | None) -> ScheduleRecord:
        """Enable (firing from ``next_fire_at``) or disable a schedule. Raises ``NotFoundError``."""
        ...

    async def fires(self, schedule_id: str, limit: int = 100) -> list[FireRecord]:
        """The latest fires of a schedule (missed ones included), newest first."""
        ...

    async def claim_due(self, next_after: NextFire, *, limit: int = 20) -> list[DueFire]:
        """Claim every due fire of enabled schedules, record it, advance the schedules; return what to start.

        Due fires are coalesced: only the latest may run (when on time, or the policy is ``run_once``); the others
        are recorded ``missed``. A fire time already recorded is never claimed again (by this or any replica).
        """
        ...

    async def mark_failed(self, schedule_id: str, fire_at: datetime, error: str) -> None:
        """A claimed fire could not start its run (the error is kept, cut to 2,000 characters)."""
        ...

    async def missed_count(self, schedule_id: str) -> int:
        """How many fires of the schedule were missed."""
        ...


# -- secrets ------------------------------------------------------------------------------------------------------


class SecretInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A secret's name and timestamps — never its value."""

    name: str
    created_at: datetime
    updated_at: datetime


class SecretStore(Protocol):
    """Named secrets, encrypted at rest; values are write-only through the API and revealed to the runtime."""

    async def list(self) -> list[SecretInfo]:
        """Every secret by name (never a value)."""
        ...

    async def set(self, name: str, value: str) -> SecretInfo:
        """Create or replace a secret (``created_at`` stays on replace)."""
        ...

    async def delete(self, name: str) -> None:
        """Forget a secret. Raises ``NotFoundError``."""
        ...

    async def reveal(self, name: str) -> str:
        """The decrypted value (``ctx.secret``, model API keys). Raises ``NotFoundError``.

        The value is registered with the process's redactor: from then on it is blanked in errors and logs.
        """
        ...


# -- users, workspaces and credentials ----------------------------------------------------------------------------


class UserRead(msgspec.Struct, frozen=True, kw_only=True):
    """A user account (never its password hash)."""

    id: str
    username: str
    role: Role
    is_admin: bool
    """``role == "admin"`` (kept for older clients)."""
    created_at: datetime


class WorkspaceMember(msgspec.Struct, frozen=True, kw_only=True):
    """A user's membership of a workspace."""

    user_id: str
    username: str
    role: Literal["editor", "viewer"]


class WorkspaceRead(msgspec.Struct, frozen=True, kw_only=True):
    """A shared workspace and its members."""

    id: str
    name: str
    members: list[WorkspaceMember]
    created_at: datetime


class ApiKeyRead(msgspec.Struct, frozen=True, kw_only=True):
    """An API key's metadata; the secret itself is shown once, at creation."""

    id: str
    name: str
    prefix: str
    """The first characters of the key, to recognise it."""
    endpoints: list[str]
    """Slugs it may call; empty means every endpoint."""
    rate_limit_per_minute: int | None
    created_by: str | None
    owner_id: str | None = None
    """The user who owns the key (``None`` for keys made before ownership: administrators manage those)."""
    created_at: datetime
    revoked_at: datetime | None = None


class AuthStore(Protocol):
    """Accounts, workspaces, login tokens and API keys. Secrets are never stored, only their hashes."""

    async def ensure_admin(self, username: str, password: str | None) -> str | None:
        """Create the first administrator when no user exists.

        Returns:
            The generated one-time password when this call created the admin without a configured password,
            else ``None`` (users existed, another replica won the race, or ``password`` was given).
        """
        ...

    async def create_user(self, username: str, password: str, *, role: Role = "editor") -> UserRead:
        """Create an account. Raises ``ConflictError`` when the name is taken."""
        ...

    async def list_users(self) -> list[UserRead]:
        """Every account, by name."""
        ...

    async def set_role(self, user_id: str, role: Role) -> UserRead:
        """Change a user's role. Raises ``NotFoundError``; ``ConflictError`` when it would leave no administrator."""
        ...

    async def delete_user(self, user_id: str) -> None:
        """Delete an account with its sessions, tokens, API keys and memberships (its flows stay).

        Raises ``NotFoundError``; ``ConflictError`` for the last administrator.
        """
        ...

    async def create_workspace(self, name: str) -> WorkspaceRead:
        """A new, empty workspace. Raises ``ConflictError`` when the name is taken."""
        ...

    async def list_workspaces(self, user_id: str | None = None) -> list[WorkspaceRead]:
        """Every workspace by name (members by username), or those ``user_id`` belongs to."""
        ...

    async def get_workspace(self, workspace_id: str) -> WorkspaceRead:
        """One workspace. Raises ``NotFoundError``."""
        ...

    async def delete_workspace(self, workspace_id: str) -> None:
        """Delete a workspace (its flows stay with their owners). Raises ``NotFoundError``."""
        ...

    async def set_member(
        self, workspace_id: str, user_id: str, role: Literal["editor", "viewer"] | None
    ) -> WorkspaceRead:
        """Add, change (``role``) or remove (``None``) a member. Raises ``NotFoundError``."""
        ...

    async def check_password(self, username: str, password: str) -> UserRead | None:
        """The user when ``password`` is right, else ``None`` (same work either way)."""
        ...

    async def issue_token(self, user_id: str, kind: str, ttl: timedelta) -> tuple[str, datetime]:
        """A new session/token secret for ``user_id`` and its expiry."""
        ...

    async def change_password(self, user_id: str, password: str, *, keep_token: str | None) -> int:
        """Set a new password and revoke every session and token of the user except ``keep_token``.

        Returns:
            How many sessions/tokens were revoked.
        """
        ...

    async def revoke_token(self, secret: str) -> None:
        """Forget a session/token (logout); an unknown one is ignored."""
        ...

    async def principal_for_token(self, secret: str) -> Principal | None:
        """The user behind a valid, unexpired login token or session (with their workspace roles)."""
        ...

    async def create_api_key(
        self,
        name: str,
        endpoints: list[str],
        rate_limit_per_minute: int | None,
        created_by: str | None,
        owner_id: str | None = None,
    ) -> tuple[ApiKeyRead, str]:
        """A new API key owned by ``owner_id``: its metadata and the secret (returned once, never stored)."""
        ...

    async def list_api_keys(self, owner_id: str | None = None) -> list[ApiKeyRead]:
        """Every key, or ``owner_id``'s, newest first (revoked ones included, marked)."""
        ...

    async def get_api_key(self, key_id: str) -> ApiKeyRead:
        """One key. Raises ``NotFoundError``."""
        ...

    async def revoke_api_key(self, key_id: str) -> ApiKeyRead:
        """Revoke a key (idempotent: the first revocation time stays). Raises ``NotFoundError``."""
        ...

    async def principal_for_key(self, secret: str) -> Principal | None:
        """The API key behind ``secret`` unless it is unknown or revoked."""
        ...


# -- change notices -----------------------------------------------------------------------------------------------


class ChangeNotifier(Protocol):
    """Cross-replica cache invalidation.

    A writer calls ``notify(topic)`` after committing a change; the callbacks registered for the topic then run on
    every replica (this one included).
    """

    def on(self, topic: str, callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever ``topic`` changes."""
        ...

    async def notify(self, topic: str) -> None:
        """Tell every replica that ``topic`` changed."""
        ...


# --- knowledge spaces (RAG) ---------------------------------------------------------------------------------------

DocumentStatus = Literal["processing", "ready", "failed"]


class SpaceRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A knowledge space: an embedding model, a chunking config and documents."""

    id: str
    name: str
    description: str = ""
    embedding_model: str
    dimensions: int | None = None
    """Fixed by the first stored chunks; every embedding in the space has this size."""
    chunking: ChunkingConfig = msgspec.field(default_factory=ChunkingConfig)
    language: str = DEFAULT_SPACE_LANGUAGE
    """PostgreSQL text search configuration of the keyword index (``english``, ``simple``, ...)."""
    owner_id: str | None = None
    workspace_id: str | None = None
    document_count: int = 0
    chunk_count: int = 0
    created_at: datetime
    updated_at: datetime

    def info(self) -> SpaceInfo:
        return SpaceInfo(
            id=self.id,
            name=self.name,
            description=self.description,
            embedding_model=self.embedding_model,
            dimensions=self.dimensions,
            chunking=self.chunking,
            language=self.language,
            document_count=self.document_count,
            chunk_count=self.chunk_count,
        )


class DocumentRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A document of a space (its name is unique in the space); its chunks are replaced as a whole."""

    id: str
    space_id: str
    name: str
    source: str = ""
    """File name or URL it was loaded from."""
    content_hash: str | None = None
    """Hash of the text, chunking and embedding model of the stored chunks (``None`` before the first success)."""
    status: DocumentStatus = "processing"
    error: str | None = None
    chunk_count: int = 0
    size_bytes: int = 0
    metadata: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])
    created_at: datetime
    updated_at: datetime


class ChunkRow(msgspec.Struct, frozen=True, kw_only=True):
    """One chunk to store: text, metadata (page, heading path, offsets) and its embedding."""

    id: str
    ordinal: int
    text: str
    embedding: list[float]
    metadata: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])
    source: str = ""
    """Where the text came from (file name or URL); empty: the document's ``source``."""


class ChunkHit(msgspec.Struct, frozen=True, kw_only=True):
    """A retrieved chunk (``chunk.score``: cosine similarity for vectors, text rank for keywords)."""

    chunk: Chunk
    embedding: list[float] | None = None
    """Set when asked for (``with_embeddings``), e.g. for MMR."""


class GraphEdge(msgspec.Struct, frozen=True, kw_only=True):
    """A stored fact of a space's knowledge graph."""

    subject: str
    predicate: str
    object: str
    chunk_id: str | None = None
    document_id: str | None = None


class KnowledgeStore(Protocol):
    """Knowledge spaces, their documents, chunks (pgvector + full-text) and knowledge graph."""

    async def create_space(
        self,
        *,
        name: str,
        embedding_model: str,
        description: str = "",
        chunking: ChunkingConfig | None = None,
        language: str = DEFAULT_SPACE_LANGUAGE,
        owner_id: str | None = None,
        workspace_id: str | None = None,
    ) -> SpaceRecord:
        """Create a space. Raises ``ConflictError`` (name taken) or ``ValidationError`` (unknown language)."""
        ...

    async def get_space(self, space: str) -> SpaceRecord:
        """A space by id or name. Raises ``NotFoundError``."""
        ...

    async def list_spaces(self) -> list[SpaceRecord]:
        """Every space, by name."""
        ...

    async def update_space(
        self, space_id: str, *, description: str | None = None, chunking: ChunkingConfig | None = None
    ) -> SpaceRecord:
        """Change what may change (new chunking applies to documents ingested later)."""
        ...

    async def set_dimensions(self, space_id: str, dimensions: int) -> SpaceRecord:
        """Fix the space's vector size; ``ValidationError`` if it already holds vectors of another size."""
        ...

    async def delete_space(self, space_id: str) -> None:
        """Delete a space with its documents, chunks and graph. Raises ``NotFoundError``."""
        ...

    async def get_document(self, space_id: str, name: str) -> DocumentRecord | None:
        """The document with this name (or id) in the space."""
        ...

    async def list_documents(self, space_id: str) -> list[DocumentRecord]:
        """The space's documents, by name."""
        ...

    async def begin_document(
        self, space_id: str, *, name: str, source: str = "", size_bytes: int = 0, metadata: dict[str, Any] | None = None
    ) -> DocumentRecord:
        """Create the document, or mark an existing one ``processing`` (its old chunks stay searchable)."""
        ...

    async def replace_document(
        self, space_id: str, document_id: str, *, content_hash: str, chunks: Sequence[ChunkRow]
    ) -> DocumentRecord:
        """In one transaction: drop the document's chunks and graph facts, store ``chunks``, mark it ``ready``."""
        ...

    async def fail_document(self, space_id: str, document_id: str, error: str) -> DocumentRecord:
        """Mark the document ``failed`` with the error (its previous chunks, if any, are kept)."""
        ...

    async def delete_document(self, space_id: str, document_id: str) -> None:
        """Delete a document with its chunks and graph facts. Raises ``NotFoundError``."""
        ...

    async def vector_search(
        self,
        space_id: str,
        vector: Sequence[float],
        *,
        top_k: int,
        filters: dict[str, Any] | None = None,
        exact: bool = False,
        with_embeddings: bool = False,
    ) -> list[ChunkHit]:
        """Nearest chunks by cosine similarity, best first (``exact``: no index, for recall checks)."""
        ...

    async def keyword_search(
        self, space_id: str, query: str, *, top_k: int, filters: dict[str, Any] | None = None
    ) -> list[ChunkHit]:
        """Chunks matching any of the query's terms, best text rank first."""
        ...

    async def get_chunks(self, space_id: str, chunk_ids: Sequence[str]) -> list[Chunk]:
        """Chunks by id (in the order given; unknown ids are left out)."""
        ...

    async def add_graph_edges(self, space_id: str, edges: Sequence[GraphEdge]) -> int:
        """Store facts (duplicates ignored); returns how many were new."""
        ...

    async def find_entities(self, space_id: str, terms: Sequence[str], *, limit: int = 20) -> list[str]:
        """Entity names of the space's graph matching any of the terms (case-insensitive), best match first."""
        ...

    async def neighbourhood(
        self, space_id: str, entities: Sequence[str], *, depth: int = 1, limit: int = 50
    ) -> list[GraphEdge]:
        """Facts within ``depth`` hops of the entities, nearest first."""
        ...


# --- data sources, reports and evaluations ------------------------------------------------------------------------


class DatasourceRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A configured data source.

    ``config`` never holds a credential: a password lives in the secret store under ``secret_name``
    (``SecretStore``), and only the server reads it.
    """

    id: str
    name: str
    kind: DatasourceKind
    description: str = ""
    config: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])
    """Connection settings without credentials.

    Server kinds: ``host``, ``port``, ``database``, ``user``, ``sslmode``, ``options``; sqlite and duckdb:
    ``path``; file: ``files``, a list of ``{"table", "path", "format"}``.
    """
    secret_name: str | None = None
    examples: list[Text2SQLExample] = msgspec.field(default_factory=list[Text2SQLExample])
    """Few-shot question/SQL pairs for Text2SQL."""
    owner_id: str | None = None
    workspace_id: str | None = None
    created_at: datetime
    updated_at: datetime
    schema_refreshed_at: datetime | None = None

    def info(self) -> DatasourceInfo:
        return DatasourceInfo(
            id=self.id, name=self.name, kind=self.kind, dialect=dialect_of(self.kind), description=self.description
        )


class DatasourceStore(Protocol):
    """Data sources and their cached schemas."""

    async def create(
        self,
        *,
        name: str,
        kind: DatasourceKind,
        description: str = "",
        config: dict[str, Any] | None = None,
        secret_name: str | None = None,
        examples: Sequence[Text2SQLExample] = (),
        owner_id: str | None = None,
        workspace_id: str | None = None,
    ) -> DatasourceRecord:
        """Create a data source. Raises ``ConflictError`` when the name is taken."""
        ...

    async def get(self, datasource: str) -> DatasourceRecord:
        """A data source by id or name. Raises ``NotFoundError``."""
        ...

    async def list(self) -> list[DatasourceRecord]:
        """Every data source, by name."""
        ...

    async def update(
        self,
        datasource_id: str,
        *,
        description: str | None = None,
        config: dict[str, Any] | None = None,
        secret_name: str | None = None,
        examples: Sequence[Text2SQLExample] | None = None,
    ) -> DatasourceRecord:
        """Change what is given (``None`` keeps it); a new config drops the cached schema."""
        ...

    async def delete(self, datasource_id: str) -> None:
        """Delete a data source and its cached schema. Raises ``NotFoundError``."""
        ...

    async def set_schema(self, datasource_id: str, schema: SchemaInfo) -> DatasourceRecord:
        """Cache an introspected schema (sets ``schema_refreshed_at``)."""
        ...

    async def get_schema(self, datasource_id: str) -> SchemaInfo | None:
        """The cached schema, or ``None`` before the first introspection."""
        ...


class ReportRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A report (dashboard): charts and a narrative summary (markdown), made by a run or by hand."""

    id: str
    title: str
    summary: str = ""
    charts: list[ReportChart] = msgspec.field(default_factory=list[ReportChart])
    datasource: str | None = None
    flow_id: str | None = None
    run_id: str | None = None
    owner_id: str | None = None
    workspace_id: str | None = None
    shared: bool = False
    """A share link is live (the token itself is only known to whoever created the link)."""
    created_at: datetime
    updated_at: datetime


class ReportStore(Protocol):
    """Reports and their share links (a link's token is stored as a hash)."""

    async def create(
        self,
        *,
        title: str,
        summary: str = "",
        charts: Sequence[ReportChart] = (),
        datasource: str | None = None,
        flow_id: str | None = None,
        run_id: str | None = None,
        owner_id: str | None = None,
        workspace_id: str | None = None,
    ) -> ReportRecord:
        """Store a new report (not shared)."""
        ...

    async def get(self, report_id: str) -> ReportRecord:
        """Raises ``NotFoundError``."""
        ...

    async def list(self, *, owner_id: str | None = None, limit: int = 100) -> list[ReportRecord]:
        """Newest first; ``owner_id`` keeps one owner's reports."""
        ...

    async def update(
        self,
        report_id: str,
        *,
        title: str | None = None,
        summary: str | None = None,
        charts: Sequence[ReportChart] | None = None,
    ) -> ReportRecord:
        """Change what is given (``None`` keeps it). Raises ``NotFoundError``."""
        ...

    async def delete(self, report_id: str) -> None:
        """Raises ``NotFoundError``."""
        ...

    async def set_share_token(self, report_id: str, token_hash: str | None) -> ReportRecord:
        """Store the hash of a new share token (replacing any old one), or revoke sharing with ``None``."""
        ...

    async def get_shared(self, token_hash: str) -> ReportRecord | None:
        """The report a live share token opens."""
        ...


EvaluationMetric = Literal["exact", "contains", "json_match", "sql_execution", "llm_judge"]
EvaluationStatus = Literal["running", "succeeded", "failed"]


class EvaluationItem(msgspec.Struct, frozen=True, kw_only=True):
    """One dataset line, what the flow gave and its score."""

    index: int
    inputs: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])
    expected: Any = None
    output: Any = None
    score: float = 0.0
    """0..1 (1: a match)."""
    passed: bool = False
    error: str | None = None
    details: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])
    """Metric specifics: generated SQL, repairs, the baseline's SQL and result, the judge's reason, the run id."""
    duration_ms: float = 0.0


class EvaluationRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One evaluation run of a flow (or the built-in Text2SQL pipeline) over a dataset."""

    id: str
    name: str = ""
    kind: Literal["flow", "text2sql"] = "flow"
    flow_id: str | None = None
    flow_version: int | None = None
    dataset: str
    """The dataset's file name."""
    dataset_hash: str
    """sha256 of the dataset's bytes (two runs on the same data compare)."""
    metric: EvaluationMetric
    model: str | None = None
    datasource: str | None = None
    status: EvaluationStatus = "running"
    summary: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])
    """``total``, ``passed``, ``score`` (mean), ``errors``; text2sql adds ``baseline_score``, ``baseline_passed``."""
    items: list[EvaluationItem] = msgspec.field(default_factory=list[EvaluationItem])
    error: str | None = None
    owner_id: str | None = None
    created_at: datetime
    finished_at: datetime | None = None


class EvaluationStore(Protocol):
    """Evaluation runs with their per-item results."""

    async def create(
        self,
        *,
        name: str = "",
        kind: Literal["flow", "text2sql"] = "flow",
        flow_id: str | None = None,
        flow_version: int | None = None,
        dataset: str,
        dataset_hash: str,
        metric: EvaluationMetric,
        model: str | None = None,
        datasource: str | None = None,
        owner_id: str | None = None,
    ) -> EvaluationRecord:
        """Start a record (``running``, no items)."""
        ...

    async def add_items(self, evaluation_id: str, items: Sequence[EvaluationItem]) -> None:
        """Append results as they come (an item index stored twice is replaced)."""
        ...

    async def finish(
        self,
        evaluation_id: str,
        *,
        status: EvaluationStatus,
        summary: dict[str, Any],
        error: str | None = None,
    ) -> EvaluationRecord:
        """Close the record with its summary."""
        ...

    async def get(self, evaluation_id: str) -> EvaluationRecord:
        """With its items, by index. Raises ``NotFoundError``."""
        ...

    async def list(self, *, flow_id: str | None = None, limit: int = 100) -> list[EvaluationRecord]:
        """Newest first, without items (``items`` empty); ``flow_id`` keeps one flow's evaluations."""
        ...

    async def delete(self, evaluation_id: str) -> None:
        """Raises ``NotFoundError``."""
        ...


# -- chat apps ----------------------------------------------------------------------------------------------------

AppFeedback = Literal["up", "down"]
AppMessageStatus = Literal["running", "complete", "failed", "cancelled"]


class AppRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A flow published as a chat web app at ``/apps/{slug}``."""

    id: str
    slug: str
    """``[a-z0-9][a-z0-9-]*``, unique among apps."""
    flow_id: str
    flow_version: int | None = None
    """The version chats run (``None``: the flow's latest version at each message)."""
    title: str
    description: str = ""
    suggested_questions: list[str] = msgspec.field(default_factory=list[str])
    message_input: str = "message"
    """The run input that receives the user's message."""
    session_input: str | None = "session_id"
    """The run input that receives the conversation's memory session (``None``: the flow keeps no memory)."""
    enabled: bool = True
    """A disabled app answers 404 to everyone but the people who may edit its flow."""
    owner_id: str | None = None
    workspace_id: str | None = None
    created_at: datetime
    updated_at: datetime


class AppTokenRead(msgspec.Struct, frozen=True, kw_only=True):
    """A share link's token (scoped to one app); the secret is shown once, at creation."""

    id: str
    app_id: str
    name: str
    prefix: str
    """The first characters of the secret, to recognise it."""
    rate_limit_per_minute: int | None = 60
    """Messages per minute the link may send (``None``: unlimited)."""
    created_by: str | None = None
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class ConversationRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One conversation of one user (or one share-link visitor) with an app."""

    id: str
    """128 random bits (hex): the memory session is ``app:{app_id}:{id}``, so it cannot be guessed."""
    app_id: str
    subject: str
    """Whose conversation: ``user:{user_id}`` or ``token:{token_id}:{visitor hash}``."""
    title: str = ""
    message_count: int = 0
    created_at: datetime
    updated_at: datetime


class AppMessage(msgspec.Struct, frozen=True, kw_only=True):
    """One message of a conversation (the transcript the app shows; the flow's memory is kept separately)."""

    id: str
    conversation_id: str
    role: Literal["user", "assistant"]
    content: str = ""
    status: AppMessageStatus = "complete"
    run_id: str | None = None
    """The run that produced an assistant message (its trace)."""
    extras: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])
    """What the answer carried besides text: ``tables`` (``Table``), ``charts`` (``ChartSpec``), ``citations``
    (``{id, source, text, score}``), ``error`` (``{code, message, node_id}``), ``duration_ms``."""
    feedback: AppFeedback | None = None
    feedback_comment: str = ""
    created_at: datetime


class AppStore(Protocol):
    """Chat apps, their share tokens, conversations, messages and feedback. Token secrets are stored as hashes."""

    async def create_app(
        self,
        *,
        slug: str,
        flow_id: str,
        title: str,
        flow_version: int | None = None,
        description: str = "",
        suggested_questions: Sequence[str] = (),
        message_input: str = "message",
        session_input: str | None = "session_id",
        owner_id: str | None = None,
        workspace_id: str | None = None,
    ) -> AppRecord:
        """A new app. Raises ``ConflictError`` when the slug is taken."""
        ...

    async def get_app(self, app_id: str) -> AppRecord:
        """Raises ``NotFoundError``."""
        ...

    async def get_app_by_slug(self, slug: str) -> AppRecord:
        """Raises ``NotFoundError``."""
        ...

    async def list_apps(self, *, flow_id: str | None = None) -> list[AppRecord]:
        """Every app (or one flow's), by slug."""
        ...

    async def update_app(self, app_id: str, **changes: Any) -> AppRecord:
        """Change the given fields (any of ``AppRecord``'s but ids and times).

        Raises ``NotFoundError``; ``ConflictError`` when the new slug is taken.
        """
        ...

    async def delete_app(self, app_id: str) -> None:
        """Delete an app with its tokens, conversations, messages and feedback. Raises ``NotFoundError``."""
        ...

    async def create_token(
        self, app_id: str, *, name: str, rate_limit_per_minute: int | None = 60, created_by: str | None = None
    ) -> tuple[AppTokenRead, str]:
        """A new share token: its metadata and the secret (``rva_…``, returned once, never stored)."""
        ...

    async def list_tokens(self, app_id: str) -> list[AppTokenRead]:
        """An app's tokens, newest first (revoked ones included, marked)."""
        ...

    async def revoke_token(self, app_id: str, token_id: str) -> AppTokenRead:
        """Revoke (idempotent: the first time stays). Raises ``NotFoundError`` (also for another app's token)."""
        ...

    async def resolve_token(self, secret: str) -> tuple[AppTokenRead, AppRecord] | None:
        """The live token behind ``secret`` and its app (``None``: unknown or revoked); marks it used."""
        ...

    async def create_conversation(self, app_id: str, subject: str, *, title: str = "") -> ConversationRecord:
        """A new, empty conversation."""
        ...

    async def get_conversation(self, conversation_id: str) -> ConversationRecord:
        """Raises ``NotFoundError``."""
        ...

    async def list_conversations(self, app_id: str, subject: str, *, limit: int = 100) -> list[ConversationRecord]:
        """One subject's conversations with an app, the most recently updated first."""
        ...

    async def rename_conversation(self, conversation_id: str, title: str) -> ConversationRecord:
        """Raises ``NotFoundError``."""
        ...

    async def delete_conversation(self, conversation_id: str) -> None:
        """With its messages. Raises ``NotFoundError``."""
        ...

    async def add_message(
        self,
        conversation_id: str,
        *,
        role: Literal["user", "assistant"],
        content: str = "",
        status: AppMessageStatus = "complete",
        run_id: str | None = None,
        extras: dict[str, Any] | None = None,
    ) -> AppMessage:
        """Append a message (the conversation's ``updated_at`` and ``message_count`` follow).

        Raises ``NotFoundError``.
        """
        ...

    async def get_message(self, message_id: str) -> AppMessage:
        """Raises ``NotFoundError``."""
        ...

    async def update_message(
        self,
        message_id: str,
        *,
        content: str | None = None,
        status: AppMessageStatus | None = None,
        run_id: str | None = None,
        extras: dict[str, Any] | None = None,
    ) -> AppMessage:
        """Change what is given (``None`` keeps it). Raises ``NotFoundError``."""
        ...

    async def list_messages(self, conversation_id: str, *, limit: int = 1000) -> list[AppMessage]:
        """Oldest first (the last ``limit``)."""
        ...

    async def delete_message(self, message_id: str) -> None:
        """Raises ``NotFoundError``."""
        ...

    async def set_feedback(self, message_id: str, rating: AppFeedback | None, comment: str = "") -> AppMessage:
        """Rate an assistant message (``None`` clears it). Raises ``NotFoundError``."""
        ...

    async def list_feedback(self, app_id: str, *, limit: int = 200) -> list[AppMessage]:
        """An app's rated assistant messages, newest first."""
        ...

    async def feedback_for_runs(self, run_ids: Sequence[str]) -> dict[str, AppFeedback]:
        """The rating stored with each of these runs (runs without one are left out)."""
        ...
