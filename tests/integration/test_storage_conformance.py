"""One behavioural suite per store Protocol (``rivulet.storage.base``), run against memory and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import msgspec
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from rivulet.compiler.flow import Edge, FlowDocument, FlowMetadata, Node, Position
from rivulet.lib.exceptions import ConflictError, NotFoundError
from rivulet.lib.redact import redact
from rivulet.lib.secrets import SecretBox
from rivulet.providers.config import ModelConfig
from rivulet.sdk.ports import Message
from rivulet.sdk.triggers import ScheduleTriggerParams
from rivulet.storage.base import CallRecord, EndpointRecord, ModelCallRecord
from rivulet.storage.memory import (
    MemoryAuthStore,
    MemoryChangeNotifier,
    MemoryConversationStore,
    MemoryEndpointStore,
    MemoryFlowStore,
    MemoryModelStore,
    MemoryScheduleStore,
    MemorySecretStore,
)
from rivulet.storage.postgres.auth import PostgresAuthStore
from rivulet.storage.postgres.changes import ChangeFeed
from rivulet.storage.postgres.conversations import PostgresConversationStore
from rivulet.storage.postgres.endpoints import PostgresEndpointStore
from rivulet.storage.postgres.flows import PostgresFlowStore
from rivulet.storage.postgres.model_configs import PostgresModelStore
from rivulet.storage.postgres.schedules import PostgresScheduleStore
from rivulet.storage.postgres.secrets import PostgresSecretStore

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

    from rivulet.storage.base import (
        AuthStore,
        ChangeNotifier,
        ConversationStore,
        EndpointStore,
        FlowStore,
        ModelStore,
        ScheduleRecord,
        ScheduleStore,
        SecretStore,
    )


@pytest.fixture(params=["memory", "postgres"])
async def store(request: pytest.FixtureRequest, pool: AsyncConnectionPool) -> FlowStore:
    return MemoryFlowStore() if request.param == "memory" else PostgresFlowStore(pool)


def make_doc(name: str = "demo", nodes: int = 2, tags: tuple[str, ...] = ("rag",)) -> FlowDocument:
    ns = [
        Node(id=f"n{i}", operator="core.constant", params={"value": i}, position=Position(x=i * 10, y=0))
        for i in range(nodes)
    ]
    es = [
        Edge(id=f"e{i}", source=f"n{i}", source_port="value", target=f"n{i + 1}", target_port="value")
        for i in range(nodes - 1)
    ]
    return FlowDocument(name=name, nodes=ns, edges=es, metadata=FlowMetadata(tags=list(tags)))


async def test_create_assigns_id_and_version_one(store: FlowStore) -> None:
    record = await store.create(make_doc(), message="first")
    assert record.summary.id
    assert record.summary.version == 1
    assert record.document.id == record.summary.id
    assert record.document.version == 1
    assert record.summary.node_count == 2
    assert record.summary.tags == ["rag"]
    assert [n.params for n in record.document.nodes] == [{"value": 0}, {"value": 1}]


async def test_create_with_explicit_id_and_conflict(store: FlowStore) -> None:
    doc = msgspec.structs.replace(make_doc(), id="fixed-id")
    assert (await store.create(doc)).summary.id == "fixed-id"
    with pytest.raises(ConflictError):
        await store.create(doc)


async def test_save_appends_versions_and_keeps_old_ones(store: FlowStore) -> None:
    created = await store.create(make_doc(nodes=1))
    fid = created.summary.id
    saved = await store.save(fid, make_doc(name="renamed", nodes=3), message="grow")
    assert saved.summary.version == 2
    assert saved.summary.name == "renamed"
    versions = await store.list_versions(fid)
    assert [v.version for v in versions] == [2, 1]
    assert versions[0].message == "grow"
    first = await store.get_version(fid, 1)
    assert len(first.document.nodes) == 1
    assert (await store.get(fid)).document.name == "renamed"


async def test_optimistic_concurrency(store: FlowStore) -> None:
    fid = (await store.create(make_doc())).summary.id
    await store.save(fid, make_doc(name="a"), base_version=1)
    with pytest.raises(ConflictError) as info:
        await store.save(fid, make_doc(name="b"), base_version=1)
    assert info.value.extra["latest_version"] == 2
    assert (await store.get(fid)).document.name == "a"


async def test_not_found_everywhere(store: FlowStore) -> None:
    for call in (
        store.get("missing"),
        store.save("missing", make_doc()),
        store.delete("missing"),
        store.list_versions("missing"),
        store.get_version("missing", 1),
    ):
        with pytest.raises(NotFoundError):
            await call
    fid = (await store.create(make_doc())).summary.id
    with pytest.raises(NotFoundError):
        await store.get_version(fid, 9)


async def test_list_orders_by_update_and_filters(store: FlowStore) -> None:
    a = (await store.create(make_doc(name="Alpha report"))).summary.id
    b = (await store.create(make_doc(name="beta_test"))).summary.id
    await store.save(a, make_doc(name="Alpha report"))
    assert [s.id for s in await store.list()] == [a, b]
    assert [s.id for s in await store.list(search="ALPHA")] == [a]
    assert [s.id for s in await store.list(search="a_t")] == [b]  # underscore is literal, not a wildcard
    assert [s.id for s in await store.list(search="%")] == []
    assert [s.id for s in await store.list(limit=1, offset=1)] == [b]


async def test_delete_removes_versions(store: FlowStore) -> None:
    fid = (await store.create(make_doc())).summary.id
    await store.delete(fid)
    with pytest.raises(NotFoundError):
        await store.get(fid)
    with pytest.raises(NotFoundError):
        await store.list_versions(fid)
    assert await store.list() == []


async def test_document_round_trips_exactly(store: FlowStore) -> None:
    doc = make_doc(nodes=4)
    record = await store.create(doc)
    expected = msgspec.structs.replace(doc, id=record.summary.id, version=1)
    assert record.document == expected
    assert (await store.get_version(record.summary.id, 1)).document == expected


async def test_write_many_is_all_or_nothing(store: FlowStore) -> None:
    existing = await store.create(make_doc("old"))
    records = await store.write_many(
        [make_doc("a"), make_doc("b")], [(existing.summary.id, make_doc("old v2"))], message="batch"
    )
    assert [r.summary.name for r in records] == ["a", "b", "old v2"]
    assert records[2].summary.version == 2
    assert (await store.list_versions(records[0].summary.id))[0].message == "batch"
    taken = msgspec.structs.replace(make_doc("dup"), id=existing.summary.id)
    with pytest.raises(ConflictError):
        await store.write_many([make_doc("c"), taken])
    with pytest.raises(NotFoundError):
        await store.write_many([make_doc("d")], [("ghost", make_doc("e"))])
    assert sorted(s.name for s in await store.list()) == ["a", "b", "old v2"]


# -- every other store: the same suite against memory and PostgreSQL ----------------------------------------------


@pytest.fixture(params=["memory", "postgres"])
async def endpoints(request: pytest.FixtureRequest, pool: AsyncConnectionPool) -> EndpointStore:
    return MemoryEndpointStore() if request.param == "memory" else PostgresEndpointStore(pool)


@pytest.fixture(params=["memory", "postgres"])
async def schedules(request: pytest.FixtureRequest, pool: AsyncConnectionPool) -> ScheduleStore:
    return MemoryScheduleStore() if request.param == "memory" else PostgresScheduleStore(pool)


@pytest.fixture(params=["memory", "postgres"])
async def secret_store(request: pytest.FixtureRequest, pool: AsyncConnectionPool) -> SecretStore:
    if request.param == "memory":
        return MemorySecretStore()
    return PostgresSecretStore(pool, SecretBox(AESGCM.generate_key(bit_length=256)))


@pytest.fixture(params=["memory", "postgres"])
async def auth(request: pytest.FixtureRequest, pool: AsyncConnectionPool) -> AuthStore:
    return MemoryAuthStore() if request.param == "memory" else PostgresAuthStore(pool)


@pytest.fixture(params=["memory", "postgres"])
async def model_store(request: pytest.FixtureRequest, pool: AsyncConnectionPool) -> ModelStore:
    return MemoryModelStore() if request.param == "memory" else PostgresModelStore(pool)


@pytest.fixture(params=["memory", "postgres"])
async def conversations(request: pytest.FixtureRequest, pool: AsyncConnectionPool) -> ConversationStore:
    return MemoryConversationStore() if request.param == "memory" else PostgresConversationStore(pool)


def endpoint(slug: str, flow_id: str, version: int = 1) -> EndpointRecord:
    return EndpointRecord(slug=slug, method="POST", flow_id=flow_id, flow_version=version, trigger_node_id="in")


async def test_endpoint_publish_republish_and_slug_conflict(endpoints: EndpointStore) -> None:
    first = await endpoints.publish(endpoint("ask", "f1"))
    assert first.created_at is not None
    assert first.updated_at is not None
    again = await endpoints.publish(msgspec.structs.replace(endpoint("ask", "f1", 2), concurrency_limit=3))
    assert (again.flow_version, again.concurrency_limit, again.created_at) == (2, 3, first.created_at)
    with pytest.raises(ConflictError) as info:
        await endpoints.publish(endpoint("ask", "f2"))
    assert info.value.extra["flow_id"] == "f1"
    moved = await endpoints.publish(endpoint("answer", "f1", 3))  # a flow has one endpoint: the old slug goes
    assert [e.slug for e in await endpoints.list()] == ["answer"]
    assert await endpoints.get("ask") is None
    assert await endpoints.get("answer") == moved


async def test_endpoint_list_order_filter_and_unpublish(endpoints: EndpointStore) -> None:
    for slug, flow_id in (("zeta", "f1"), ("alpha", "f2"), ("mid", "f3")):
        await endpoints.publish(endpoint(slug, flow_id))
    assert [e.slug for e in await endpoints.list()] == ["alpha", "mid", "zeta"]
    assert [e.slug for e in await endpoints.list("f3")] == ["mid"]
    assert await endpoints.unpublish("f3") == ["mid"]
    assert await endpoints.unpublish("f3") == []
    assert await endpoints.get("mid") is None


async def test_endpoint_calls_newest_first_and_stats(endpoints: EndpointStore) -> None:
    stamped = datetime(2026, 1, 1, tzinfo=UTC)
    await endpoints.record_calls([])
    await endpoints.record_calls(
        [
            CallRecord(slug="ask", caller="user:ada", status=200, duration_ms=10.0, created_at=stamped),
            CallRecord(slug="ask", caller="key:ci", status=500, duration_ms=30.0, api_key_id="k1", run_id="r1"),
            CallRecord(slug="other", caller="user:ada", status=404, duration_ms=5.0),
        ]
    )
    calls = await endpoints.calls("ask")
    assert [c.caller for c in calls] == ["key:ci", "user:ada"]
    assert calls[0].id is not None
    assert calls[1].id is not None
    assert calls[0].id > calls[1].id
    assert calls[1].created_at == stamped
    assert calls[0].created_at is not None
    assert calls[0].created_at > stamped
    assert (calls[0].api_key_id, calls[0].run_id) == ("k1", "r1")
    assert [c.caller for c in await endpoints.calls("ask", limit=1)] == ["key:ci"]
    stats = await endpoints.stats()
    assert set(stats) == {"ask", "other"}
    assert (stats["ask"].calls, stats["ask"].errors, stats["ask"].p50_ms) == (2, 1, 20.0)
    assert stats["ask"].p95_ms == pytest.approx(29.0)
    assert stats["ask"].last_call_at == calls[0].created_at
    assert (stats["other"].calls, stats["other"].errors) == (1, 1)


def every(seconds: float, **extra: Any) -> ScheduleTriggerParams:
    return ScheduleTriggerParams(interval_s=seconds, **extra)


def _after(record: ScheduleRecord, instant: datetime) -> datetime | None:
    assert record.interval_s is not None
    return instant + timedelta(seconds=record.interval_s)


async def test_schedule_upsert_keeps_id_and_one_per_flow(schedules: ScheduleStore) -> None:
    when = datetime.now(UTC) + timedelta(hours=1)
    first = await schedules.upsert("f1", 1, "tick", every(60, inputs={"a": 1}), when)
    assert (first.enabled, first.next_fire_at, first.inputs, first.missed_policy) == (True, when, {"a": 1}, "run_once")
    again = await schedules.upsert("f1", 2, "tick", every(30, missed_policy="skip"), None)
    assert (again.id, again.flow_version, again.interval_s, again.missed_policy) == (first.id, 2, 30, "skip")
    other = await schedules.upsert("f1", 3, "tock", every(60), when)  # another node replaces the flow's schedule
    assert [s.id for s in await schedules.list("f1")] == [other.id]
    with pytest.raises(NotFoundError):
        await schedules.get(first.id)
    assert await schedules.delete_for_flow("f1") == 1
    assert await schedules.delete_for_flow("f1") == 0
    assert await schedules.list() == []


async def test_schedule_list_order_enable_and_not_found(schedules: ScheduleStore) -> None:
    now = datetime.now(UTC)
    late = await schedules.upsert("f1", 1, "n", every(60), now + timedelta(hours=2))
    never = await schedules.upsert("f2", 1, "n", every(60), None)
    soon = await schedules.upsert("f3", 1, "n", every(60), now + timedelta(hours=1))
    assert [s.id for s in await schedules.list()] == [soon.id, late.id, never.id]
    off = await schedules.set_enabled(soon.id, False, None)
    assert (off.enabled, off.next_fire_at) == (False, None)
    assert (await schedules.get(soon.id)).enabled is False
    for call in (schedules.get("ghost"), schedules.set_enabled("ghost", True, now)):
        with pytest.raises(NotFoundError):
            await call


async def test_schedule_claim_due_fires_once_and_coalesces(schedules: ScheduleStore) -> None:
    now = datetime.now(UTC)
    behind = await schedules.upsert("f1", 1, "n", every(60), now - timedelta(seconds=150))  # 3 due: 2 missed
    skipped = await schedules.upsert("f2", 1, "n", every(3600, missed_policy="skip"), now - timedelta(seconds=2000))
    off = await schedules.upsert("f3", 1, "n", every(60), now - timedelta(seconds=5))
    await schedules.set_enabled(off.id, False, now - timedelta(seconds=5))
    await schedules.upsert("f4", 1, "n", every(60), now + timedelta(hours=1))
    claimed = await schedules.claim_due(_after)
    assert [(c.schedule.id, c.fire_at) for c in claimed] == [(behind.id, behind.next_fire_at + timedelta(seconds=120))]  # type: ignore[operator]
    assert claimed[0].run_id
    assert await schedules.claim_due(_after) == []  # nothing is claimed twice
    fires = await schedules.fires(behind.id)
    assert [f.status for f in fires] == ["fired", "missed", "missed"]
    assert fires[0].run_id == claimed[0].run_id
    assert [f.status for f in await schedules.fires(behind.id, limit=1)] == ["fired"]
    assert await schedules.missed_count(behind.id) == 2
    assert [f.status for f in await schedules.fires(skipped.id)] == ["missed"]  # late and policy skip: no run
    assert await schedules.fires(off.id) == []
    advanced = await schedules.get(behind.id)
    assert advanced.last_fire_at == claimed[0].fire_at
    assert advanced.next_fire_at is not None
    assert advanced.next_fire_at > now
    await schedules.mark_failed(behind.id, claimed[0].fire_at, "x" * 3000)
    failed = (await schedules.fires(behind.id))[0]
    assert (failed.status, len(failed.error or "")) == ("failed", 2000)
    await schedules.delete_for_flow("f1")
    assert await schedules.fires(behind.id) == []


async def test_secrets_set_list_reveal_delete(secret_store: SecretStore) -> None:
    first = await secret_store.set("b_token", "one")
    await secret_store.set("a_key", "alpha")
    replaced = await secret_store.set("b_token", "second-value-9f3k")
    assert replaced.created_at == first.created_at
    assert replaced.updated_at >= first.updated_at
    assert [s.name for s in await secret_store.list()] == ["a_key", "b_token"]
    assert await secret_store.reveal("b_token") == "second-value-9f3k"
    assert "second-value-9f3k" not in redact("the value second-value-9f3k leaked")  # revealed: redacted from now on
    await secret_store.delete("a_key")
    for call in (secret_store.delete("a_key"), secret_store.reveal("a_key")):
        with pytest.raises(NotFoundError):
            await call
    assert [s.name for s in await secret_store.list()] == ["b_token"]


async def test_auth_users_roles_and_the_last_admin(auth: AuthStore) -> None:
    generated = await auth.ensure_admin("root", None)
    assert generated
    assert await auth.ensure_admin("other", "pw") is None  # users exist: nothing is created
    assert await auth.check_password("root", generated) is not None
    bob = await auth.create_user("bob", "bob-password", role="viewer")
    assert (bob.role, bob.is_admin) == ("viewer", False)
    with pytest.raises(ConflictError):
        await auth.create_user("bob", "again")
    assert [u.username for u in await auth.list_users()] == ["bob", "root"]
    assert await auth.check_password("bob", "wrong") is None
    assert await auth.check_password("nobody", "bob-password") is None
    root = next(u for u in await auth.list_users() if u.username == "root")
    with pytest.raises(ConflictError):
        await auth.set_role(root.id, "editor")
    with pytest.raises(ConflictError):
        await auth.delete_user(root.id)
    promoted = await auth.set_role(bob.id, "admin")
    assert (promoted.role, promoted.is_admin) == ("admin", True)
    assert (await auth.set_role(root.id, "editor")).role == "editor"
    for call in (auth.set_role("ghost", "viewer"), auth.delete_user("ghost")):
        with pytest.raises(NotFoundError):
            await call
    await auth.delete_user(root.id)
    assert [u.username for u in await auth.list_users()] == ["bob"]


async def test_auth_workspaces_and_members(auth: AuthStore) -> None:
    await auth.ensure_admin("root", "root-password")  # every change keeps an administrator
    ada = await auth.create_user("ada", "pw-ada")
    bob = await auth.create_user("bob", "pw-bob")
    team = await auth.create_workspace("team")
    lab = await auth.create_workspace("lab")
    with pytest.raises(ConflictError):
        await auth.create_workspace("team")
    await auth.set_member(team.id, bob.id, "viewer")
    updated = await auth.set_member(team.id, ada.id, "editor")
    assert [(m.username, m.role) for m in updated.members] == [("ada", "editor"), ("bob", "viewer")]
    assert [w.name for w in await auth.list_workspaces()] == ["lab", "team"]
    assert [w.name for w in await auth.list_workspaces(bob.id)] == ["team"]
    assert (await auth.set_member(team.id, bob.id, None)).members == updated.members[:1]
    for call in (
        auth.set_member(team.id, "ghost", "viewer"),
        auth.set_member("ghost", ada.id, "viewer"),
        auth.get_workspace("ghost"),
        auth.delete_workspace("ghost"),
    ):
        with pytest.raises(NotFoundError):
            await call
    await auth.delete_workspace(lab.id)
    await auth.delete_user(ada.id)  # memberships go with the user
    assert [(w.name, w.members) for w in await auth.list_workspaces()] == [("team", [])]


async def test_auth_tokens_expiry_password_change_and_logout(auth: AuthStore) -> None:
    await auth.ensure_admin("root", "root-password")  # every change keeps an administrator
    ada = await auth.create_user("ada", "pw-ada", role="editor")
    team = await auth.create_workspace("team")
    await auth.set_member(team.id, ada.id, "viewer")
    session, expires = await auth.issue_token(ada.id, "session", timedelta(hours=1))
    assert expires > datetime.now(UTC)
    principal = await auth.principal_for_token(session)
    assert principal is not None
    assert (principal.kind, principal.user_id, principal.username, principal.role) == (
        "session",
        ada.id,
        "ada",
        "editor",
    )
    assert principal.workspaces == ((team.id, "viewer"),)
    token, _ = await auth.issue_token(ada.id, "token", timedelta(hours=1))
    assert (await auth.principal_for_token(token)).kind == "token"  # type: ignore[union-attr]
    expired, _ = await auth.issue_token(ada.id, "session", timedelta(seconds=-1))
    assert await auth.principal_for_token(expired) is None
    assert await auth.principal_for_token("not-a-token") is None
    assert await auth.change_password(ada.id, "new-password", keep_token=session) == 2
    assert await auth.principal_for_token(token) is None
    assert await auth.principal_for_token(session) is not None
    assert await auth.check_password("ada", "new-password") is not None
    assert await auth.check_password("ada", "pw-ada") is None
    await auth.revoke_token(session)
    await auth.revoke_token(session)  # idempotent
    assert await auth.principal_for_token(session) is None


async def test_auth_api_keys_scope_ownership_and_revocation(auth: AuthStore) -> None:
    await auth.ensure_admin("root", "root-password")  # every change keeps an administrator
    ada = await auth.create_user("ada", "pw-ada")
    bob = await auth.create_user("bob", "pw-bob")
    key, secret = await auth.create_api_key("ci", ["ask"], 60, "ada", ada.id)
    assert secret.startswith(key.prefix)
    assert (key.endpoints, key.rate_limit_per_minute, key.owner_id, key.revoked_at) == (["ask"], 60, ada.id, None)
    other, other_secret = await auth.create_api_key("bob's", [], None, "bob", bob.id)
    assert [k.id for k in await auth.list_api_keys()] == [other.id, key.id]  # newest first
    assert [k.id for k in await auth.list_api_keys(ada.id)] == [key.id]
    principal = await auth.principal_for_key(secret)
    assert principal is not None
    assert (principal.kind, principal.key_id, principal.key_name) == ("api_key", key.id, "ci")
    assert (principal.endpoints, principal.rate_limit_per_minute, principal.key_owner_id) == (("ask",), 60, ada.id)
    assert await auth.principal_for_key("rk_wrong") is None
    revoked = await auth.revoke_api_key(key.id)
    assert revoked.revoked_at is not None
    assert (await auth.revoke_api_key(key.id)).revoked_at == revoked.revoked_at  # idempotent
    assert await auth.principal_for_key(secret) is None
    assert (await auth.get_api_key(key.id)).revoked_at == revoked.revoked_at
    for call in (auth.get_api_key("ghost"), auth.revoke_api_key("ghost")):
        with pytest.raises(NotFoundError):
            await call
    await auth.delete_user(bob.id)  # a user's keys go with them
    assert await auth.principal_for_key(other_secret) is None
    assert [k.id for k in await auth.list_api_keys()] == [key.id]


async def test_models_put_default_per_kind_and_delete(model_store: ModelStore) -> None:
    first = await model_store.put_model(ModelConfig(name="a", provider="openai_compatible", is_default=True))
    assert first.created_at is not None
    await model_store.put_model(ModelConfig(name="e", provider="openai_compatible", kind="embedding", is_default=True))
    second = await model_store.put_model(ModelConfig(name="b", provider="openai_compatible", is_default=True))
    assert [(m.name, m.is_default) for m in await model_store.list_models()] == [("a", False), ("b", True), ("e", True)]
    replaced = await model_store.put_model(ModelConfig(name="b", provider="openai_compatible", description="new"))
    assert (replaced.description, replaced.created_at, replaced.builtin) == ("new", second.created_at, False)
    assert await model_store.get_model("missing") is None
    assert await model_store.delete_model("a") is True
    assert await model_store.delete_model("a") is False
    assert [m.name for m in await model_store.list_models()] == ["b", "e"]


async def test_model_calls_newest_first_and_filtered(model_store: ModelStore) -> None:
    for run_id, model in (("r1", "a"), ("r1", "b"), ("r2", "a")):
        await model_store.record_call(
            ModelCallRecord(model=model, provider="p", operation="chat", status="ok", run_id=run_id, prompt_tokens=3)
        )
    await model_store.record_call(
        ModelCallRecord(model="a", provider="p", operation="chat", status="error", error="bad key sk-abcdefghijklmnop")
    )
    calls = await model_store.list_calls()
    assert [(c.run_id, c.model) for c in calls] == [(None, "a"), ("r2", "a"), ("r1", "b"), ("r1", "a")]
    assert all(c.id is not None and c.created_at is not None for c in calls)
    assert [c.model for c in await model_store.list_calls(run_id="r1")] == ["b", "a"]
    assert [c.run_id for c in await model_store.list_calls(model="a", limit=2)] == [None, "r2"]


async def test_conversations_keep_order_limit_and_clear(conversations: ConversationStore) -> None:
    await conversations.append("s1", [Message(role="user", content="one"), Message(role="assistant", content="two")])
    await conversations.append("s1", [])
    await conversations.append("s2", [Message(role="user", content="other")])
    await conversations.append("s1", [Message(role="tool", content="three", name="calc", tool_call_id="c1")])
    history = await conversations.history("s1", 2)
    assert [(m.role, m.content) for m in history] == [("assistant", "two"), ("tool", "three")]
    assert (history[1].name, history[1].tool_call_id) == ("calc", "c1")
    assert len(await conversations.history("s1", 10)) == 3
    await conversations.clear("s1")
    assert await conversations.history("s1", 10) == []
    assert [m.content for m in await conversations.history("s2", 10)] == ["other"]


@pytest.fixture(params=["memory", "postgres"])
async def notifier(request: pytest.FixtureRequest, pool: AsyncConnectionPool) -> ChangeNotifier:
    return MemoryChangeNotifier() if request.param == "memory" else ChangeFeed(pool)


async def test_change_notice_runs_the_topic_callbacks_in_order(notifier: ChangeNotifier) -> None:
    seen: list[str] = []
    notifier.on("endpoints", lambda: seen.append("first"))
    notifier.on("endpoints", lambda: seen.append("second"))
    notifier.on("auth", lambda: seen.append("auth"))
    await notifier.notify("endpoints")
    assert seen == ["first", "second"]
    await notifier.notify("nobody-listens")
    assert seen == ["first", "second"]
