"""The chat app store (apps, share tokens, conversations, messages, feedback), run against memory and PostgreSQL alike.

Also ``ConversationStore.drop_last_turn`` (a chat app's "regenerate") on both conversation stores, and what only
PostgreSQL does (foreign keys to flows, the ``runs.trigger`` check, only token hashes stored).
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import psycopg
import pytest

from rivulet.compiler.flow import FlowDocument, Node, Position
from rivulet.lib.exceptions import ConflictError, NotFoundError, ValidationError
from rivulet.sdk.ports import Message
from rivulet.security import APP_TOKEN_PREFIX, hash_token
from rivulet.storage.base import AppStore, FlowStore
from rivulet.storage.memory import MemoryConversationStore, MemoryFlowStore
from rivulet.storage.memory_apps import MemoryAppStore
from rivulet.storage.postgres.apps import PostgresAppStore
from rivulet.storage.postgres.conversations import PostgresConversationStore
from rivulet.storage.postgres.flows import PostgresFlowStore

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

    from rivulet.storage.base import AppRecord, ConversationStore


@dataclass
class Stores:
    apps: AppStore
    flows: FlowStore

    async def flow(self, name: str = "chat") -> str:
        node = Node(id="n0", operator="core.constant", params={"value": 1}, position=Position(x=0, y=0))
        return (await self.flows.create(FlowDocument(name=name, nodes=[node]))).summary.id

    async def app(self, slug: str | None = None, *, flow_id: str | None = None, **fields: object) -> AppRecord:
        return await self.apps.create_app(
            slug=slug or unique("app"),
            flow_id=flow_id or await self.flow(),
            title=str(fields.pop("title", "Ask me")),
            **fields,  # type: ignore[arg-type]
        )


@pytest.fixture(params=["memory", "postgres"])
async def stores(request: pytest.FixtureRequest, pool: AsyncConnectionPool) -> Stores:
    if request.param == "memory":
        return Stores(MemoryAppStore(), MemoryFlowStore())
    return Stores(PostgresAppStore(pool), PostgresFlowStore(pool))


@pytest.fixture(params=["memory", "postgres"])
async def conversations(request: pytest.FixtureRequest, pool: AsyncConnectionPool) -> ConversationStore:
    return MemoryConversationStore() if request.param == "memory" else PostgresConversationStore(pool)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# --- apps ---------------------------------------------------------------------------------------------------------


async def test_app_is_created_with_defaults_and_found_by_id_and_slug(stores: Stores) -> None:
    flow_id = await stores.flow()
    app = await stores.apps.create_app(slug="sales-bot", flow_id=flow_id, title="Sales")
    assert (app.slug, app.flow_id, app.title, app.flow_version, app.description) == (
        "sales-bot",
        flow_id,
        "Sales",
        None,
        "",
    )
    assert (app.suggested_questions, app.message_input, app.session_input, app.enabled) == (
        [],
        "message",
        "session_id",
        True,
    )
    assert (app.owner_id, app.workspace_id) == (None, None)
    assert app.created_at == app.updated_at
    assert await stores.apps.get_app(app.id) == app
    assert await stores.apps.get_app_by_slug("sales-bot") == app

    full = await stores.apps.create_app(
        slug="support",
        flow_id=flow_id,
        title="Support",
        flow_version=1,
        description="answers questions",
        suggested_questions=("How do I reset?", "Where is my order?"),
        message_input="question",
        session_input=None,
    )
    assert full.suggested_questions == ["How do I reset?", "Where is my order?"]
    assert (full.flow_version, full.description, full.message_input, full.session_input) == (
        1,
        "answers questions",
        "question",
        None,
    )
    assert await stores.apps.get_app(full.id) == full


async def test_apps_are_listed_by_slug_and_per_flow(stores: Stores) -> None:
    first, second = await stores.flow("one"), await stores.flow("two")
    b = await stores.app("b-app", flow_id=first)
    a = await stores.app("a-app", flow_id=second)
    c = await stores.app("c-app", flow_id=first)
    assert [x.slug for x in await stores.apps.list_apps()] == ["a-app", "b-app", "c-app"]
    assert await stores.apps.list_apps(flow_id=first) == [b, c]
    assert await stores.apps.list_apps(flow_id=second) == [a]
    assert await stores.apps.list_apps(flow_id="no-such-flow") == []


async def test_unknown_app_is_not_found(stores: Stores) -> None:
    apps = stores.apps
    with pytest.raises(NotFoundError, match="nope"):
        await apps.get_app("nope")
    with pytest.raises(NotFoundError, match="no-slug"):
        await apps.get_app_by_slug("no-slug")
    with pytest.raises(NotFoundError):
        await apps.update_app("nope", title="x")
    with pytest.raises(NotFoundError):
        await apps.delete_app("nope")
    with pytest.raises(NotFoundError):
        await apps.create_token("nope", name="x")
    with pytest.raises(NotFoundError):
        await apps.create_conversation("nope", "user:u1")


async def test_slug_taken_is_a_conflict_on_create_and_update(stores: Stores) -> None:
    first = await stores.app("taken")
    other = await stores.app("free")
    with pytest.raises(ConflictError, match="taken"):
        await stores.app("taken")
    with pytest.raises(ConflictError, match="taken"):
        await stores.apps.update_app(other.id, slug="taken")
    assert (await stores.apps.get_app(other.id)).slug == "free"
    # keeping its own slug is no conflict
    assert (await stores.apps.update_app(first.id, slug="taken", title="Again")).title == "Again"
    assert [a.slug for a in await stores.apps.list_apps()] == ["free", "taken"]


async def test_bad_app_fields_are_refused(stores: Stores) -> None:
    flow_id = await stores.flow()
    for slug in ("", "Upper", "-dash", "has space", "a/b", "x" * 65, "é"):
        with pytest.raises(ValidationError, match="slug"):
            await stores.apps.create_app(slug=slug, flow_id=flow_id, title="t")
    with pytest.raises(ValidationError, match="title"):
        await stores.apps.create_app(slug="ok", flow_id=flow_id, title="  ")
    with pytest.raises(ValidationError, match="description"):
        await stores.apps.create_app(slug="ok", flow_id=flow_id, title="t", description="a\x00b")
    with pytest.raises(ValidationError, match="message_input"):
        await stores.apps.create_app(slug="ok", flow_id=flow_id, title="t", message_input="")
    app = await stores.app("ok", flow_id=flow_id)
    with pytest.raises(ValidationError, match="id"):
        await stores.apps.update_app(app.id, id="other")
    with pytest.raises(ValidationError, match="created_at"):
        await stores.apps.update_app(app.id, created_at=None)
    with pytest.raises(ValidationError, match="title"):
        await stores.apps.update_app(app.id, title=None)
    with pytest.raises(ValidationError, match="slug"):
        await stores.apps.update_app(app.id, slug="Not OK")
    with pytest.raises(ValidationError, match="enabled"):
        await stores.apps.update_app(app.id, enabled="yes")
    assert await stores.apps.get_app(app.id) == app
    assert (await stores.app("x" * 64, flow_id=flow_id)).slug == "x" * 64


async def test_update_app_changes_only_what_is_given(stores: Stores) -> None:
    app = await stores.app("editable", suggested_questions=["one?"], flow_version=1)
    updated = await stores.apps.update_app(
        app.id,
        title="New title",
        description="now with a description",
        suggested_questions=("two?", "three?"),
        enabled=False,
        flow_version=None,
        session_input=None,
        message_input="question",
    )
    assert (updated.title, updated.description, updated.suggested_questions) == (
        "New title",
        "now with a description",
        ["two?", "three?"],
    )
    assert (updated.enabled, updated.flow_version, updated.session_input, updated.message_input) == (
        False,
        None,
        None,
        "question",
    )
    assert (updated.id, updated.slug, updated.flow_id, updated.created_at) == (
        app.id,
        app.slug,
        app.flow_id,
        app.created_at,
    )
    assert updated.updated_at > app.updated_at
    assert await stores.apps.get_app(app.id) == updated
    renamed = await stores.apps.update_app(app.id, slug="renamed", session_input="conversation_id", flow_version=2)
    assert (renamed.slug, renamed.session_input, renamed.flow_version, renamed.title) == (
        "renamed",
        "conversation_id",
        2,
        "New title",
    )
    assert await stores.apps.get_app_by_slug("renamed") == renamed
    with pytest.raises(NotFoundError):
        await stores.apps.get_app_by_slug("editable")


async def test_delete_app_takes_its_tokens_conversations_messages_and_feedback(stores: Stores) -> None:
    apps = stores.apps
    app = await stores.app("doomed")
    keep = await stores.app("kept")
    _, secret = await apps.create_token(app.id, name="link")
    _, kept_secret = await apps.create_token(keep.id, name="link")
    conversation = await apps.create_conversation(app.id, "user:u1")
    answer = await apps.add_message(conversation.id, role="assistant", content="hi", run_id="run-doomed")
    await apps.set_feedback(answer.id, "up")
    kept_conversation = await apps.create_conversation(keep.id, "user:u1")
    kept_answer = await apps.add_message(kept_conversation.id, role="assistant", content="hi", run_id="run-kept")
    await apps.set_feedback(kept_answer.id, "down")

    await apps.delete_app(app.id)
    with pytest.raises(NotFoundError):
        await apps.get_app(app.id)
    assert await apps.resolve_token(secret) is None
    assert await apps.list_tokens(app.id) == []
    with pytest.raises(NotFoundError):
        await apps.get_conversation(conversation.id)
    with pytest.raises(NotFoundError):
        await apps.set_feedback(answer.id, None)
    assert await apps.list_conversations(app.id, "user:u1") == []
    assert await apps.list_feedback(app.id) == []
    assert await apps.feedback_for_runs(["run-doomed", "run-kept"]) == {"run-kept": "down"}
    with pytest.raises(NotFoundError):
        await apps.delete_app(app.id)
    # the other app is untouched
    assert await apps.resolve_token(kept_secret) is not None
    assert [m.id for m in await apps.list_messages(kept_conversation.id)] == [kept_answer.id]


# --- share tokens -------------------------------------------------------------------------------------------------


async def test_token_is_created_listed_and_resolved(stores: Stores) -> None:
    apps = stores.apps
    app = await stores.app("tokens")
    token, secret = await apps.create_token(app.id, name="public link", created_by="u1")
    assert secret.startswith(APP_TOKEN_PREFIX)
    assert len(secret) > 40
    assert token.prefix == secret[:8]
    assert (token.app_id, token.name, token.rate_limit_per_minute, token.created_by) == (
        app.id,
        "public link",
        60,
        "u1",
    )
    assert (token.revoked_at, token.last_used_at) == (None, None)
    assert secret not in repr(token)
    unlimited, other_secret = await apps.create_token(app.id, name="partners", rate_limit_per_minute=None)
    assert unlimited.rate_limit_per_minute is None
    assert other_secret != secret
    assert [t.id for t in await apps.list_tokens(app.id)] == [unlimited.id, token.id]

    resolved = await apps.resolve_token(secret)
    assert resolved is not None
    found, found_app = resolved
    assert found_app == app
    assert (found.id, found.name, found.prefix, found.rate_limit_per_minute) == (token.id, token.name, token.prefix, 60)
    assert found.last_used_at is not None
    # marked used: the mark is written at most once a minute, so an immediate second use keeps it
    again = await apps.resolve_token(secret)
    assert again is not None
    assert again[0].last_used_at == found.last_used_at
    listed = {t.id: t for t in await apps.list_tokens(app.id)}
    assert listed[token.id].last_used_at == found.last_used_at
    assert listed[unlimited.id].last_used_at is None

    assert await apps.resolve_token("rva_unknown") is None
    assert await apps.resolve_token("") is None
    assert await apps.resolve_token(secret + "x") is None


async def test_revoke_is_idempotent_and_a_revoked_token_does_not_resolve(stores: Stores) -> None:
    apps = stores.apps
    app = await stores.app("revoking")
    token, secret = await apps.create_token(app.id, name="link")
    _, live_secret = await apps.create_token(app.id, name="live")
    revoked = await apps.revoke_token(app.id, token.id)
    assert revoked.revoked_at is not None
    assert (revoked.id, revoked.name, revoked.prefix) == (token.id, token.name, token.prefix)
    again = await apps.revoke_token(app.id, token.id)
    assert again.revoked_at == revoked.revoked_at
    assert await apps.resolve_token(secret) is None
    assert await apps.resolve_token(live_secret) is not None
    listed = {t.id: t for t in await apps.list_tokens(app.id)}
    assert listed[token.id].revoked_at == revoked.revoked_at


async def test_revoking_another_apps_token_or_an_unknown_one_is_not_found(stores: Stores) -> None:
    apps = stores.apps
    mine, theirs = await stores.app("mine"), await stores.app("theirs")
    their_token, their_secret = await apps.create_token(theirs.id, name="link")
    with pytest.raises(NotFoundError):
        await apps.revoke_token(mine.id, their_token.id)
    with pytest.raises(NotFoundError):
        await apps.revoke_token(mine.id, "no-such-token")
    assert await apps.resolve_token(their_secret) is not None
    assert await apps.list_tokens(mine.id) == []


async def test_bad_token_fields_are_refused(stores: Stores) -> None:
    app = await stores.app("limits")
    with pytest.raises(ValidationError, match="rate_limit"):
        await stores.apps.create_token(app.id, name="x", rate_limit_per_minute=0)
    with pytest.raises(ValidationError, match="name"):
        await stores.apps.create_token(app.id, name="a\x00b")
    assert await stores.apps.list_tokens(app.id) == []


# --- conversations ------------------------------------------------------------------------------------------------


async def test_conversations_are_listed_per_subject_newest_updated_first(stores: Stores) -> None:
    apps = stores.apps
    app, other_app = await stores.app("convs"), await stores.app("other-convs")
    first = await apps.create_conversation(app.id, "user:u1", title="First")
    second = await apps.create_conversation(app.id, "user:u1")
    theirs = await apps.create_conversation(app.id, "token:t1:abc")
    elsewhere = await apps.create_conversation(other_app.id, "user:u1")
    assert (first.app_id, first.subject, first.title, first.message_count) == (app.id, "user:u1", "First", 0)
    assert first.created_at == first.updated_at
    assert len(first.id) == 32
    assert second.title == ""
    assert [c.id for c in await apps.list_conversations(app.id, "user:u1")] == [second.id, first.id]

    # a message moves a conversation to the top
    await apps.add_message(first.id, role="user", content="hello")
    assert [c.id for c in await apps.list_conversations(app.id, "user:u1")] == [first.id, second.id]
    assert [c.id for c in await apps.list_conversations(app.id, "user:u1", limit=1)] == [first.id]
    assert await apps.list_conversations(app.id, "user:u1", limit=0) == []
    assert [c.id for c in await apps.list_conversations(app.id, "token:t1:abc")] == [theirs.id]
    assert [c.id for c in await apps.list_conversations(other_app.id, "user:u1")] == [elsewhere.id]
    assert await apps.list_conversations(app.id, "user:nobody") == []
    listed = await apps.list_conversations(app.id, "user:u1")
    assert listed[0] == await apps.get_conversation(first.id)


async def test_conversation_rename_and_delete(stores: Stores) -> None:
    apps = stores.apps
    app = await stores.app("rename")
    conversation = await apps.create_conversation(app.id, "user:u1")
    message = await apps.add_message(conversation.id, role="user", content="hi")
    renamed = await apps.rename_conversation(conversation.id, "Trip\x00 planning")
    assert renamed.title == "Trip\ufffd planning"
    assert (renamed.message_count, renamed.created_at) == (1, conversation.created_at)
    assert await apps.get_conversation(conversation.id) == renamed
    await apps.delete_conversation(conversation.id)
    with pytest.raises(NotFoundError):
        await apps.get_conversation(conversation.id)
    with pytest.raises(NotFoundError):
        await apps.delete_message(message.id)
    assert await apps.list_messages(conversation.id) == []
    for call in (
        apps.get_conversation("nope"),
        apps.rename_conversation("nope", "x"),
        apps.delete_conversation("nope"),
        apps.delete_conversation(conversation.id),
    ):
        with pytest.raises(NotFoundError):
            await call
    with pytest.raises(ValidationError, match="subject"):
        await apps.create_conversation(app.id, "user:\x00")


# --- messages -----------------------------------------------------------------------------------------------------


async def test_messages_keep_order_and_the_conversation_follows(stores: Stores) -> None:
    apps = stores.apps
    app = await stores.app("messages")
    conversation = await apps.create_conversation(app.id, "user:u1")
    question = await apps.add_message(conversation.id, role="user", content="What is 2+2?")
    assert (question.role, question.content, question.status, question.run_id, question.extras) == (
        "user",
        "What is 2+2?",
        "complete",
        None,
        {},
    )
    assert (question.feedback, question.feedback_comment, question.conversation_id) == (None, "", conversation.id)
    after_one = await apps.get_conversation(conversation.id)
    assert after_one.message_count == 1
    assert after_one.updated_at > conversation.updated_at
    answer = await apps.add_message(conversation.id, role="assistant", status="running", run_id="run-1")
    assert (answer.status, answer.run_id, answer.content) == ("running", "run-1", "")
    after_two = await apps.get_conversation(conversation.id)
    assert after_two.message_count == 2
    assert after_two.updated_at > after_one.updated_at
    assert await apps.list_messages(conversation.id) == [question, answer]

    many = [await apps.add_message(conversation.id, role="user", content=str(i)) for i in range(30)]
    listed = await apps.list_messages(conversation.id)
    assert [m.id for m in listed] == [question.id, answer.id, *(m.id for m in many)]
    # the last ``limit``, oldest first
    assert [m.content for m in await apps.list_messages(conversation.id, limit=3)] == ["27", "28", "29"]
    assert await apps.list_messages(conversation.id, limit=0) == []
    assert (await apps.get_conversation(conversation.id)).message_count == 32

    before_delete = await apps.get_conversation(conversation.id)
    await apps.delete_message(many[0].id)
    after_delete = await apps.get_conversation(conversation.id)
    assert after_delete.message_count == 31
    assert after_delete.updated_at > before_delete.updated_at
    assert many[0].id not in [m.id for m in await apps.list_messages(conversation.id)]
    with pytest.raises(NotFoundError):
        await apps.delete_message(many[0].id)
    assert await apps.list_messages("no-such-conversation") == []


async def test_update_message_changes_only_what_is_given(stores: Stores) -> None:
    apps = stores.apps
    app = await stores.app("updates")
    conversation = await apps.create_conversation(app.id, "user:u1")
    answer = await apps.add_message(conversation.id, role="assistant", status="running")
    streamed = await apps.update_message(answer.id, content="Four", run_id="run-9")
    assert (streamed.content, streamed.status, streamed.run_id, streamed.extras) == ("Four", "running", "run-9", {})
    extras = {
        "tables": [{"columns": ["a"], "rows": [[1, None, "x\x00y"]]}],
        "citations": [{"id": "c1", "source": "doc.pdf", "text": "quote", "score": 0.5}],
        "duration_ms": 12.5,
    }
    done = await apps.update_message(answer.id, status="complete", extras=extras)
    assert (done.content, done.status, done.run_id) == ("Four", "complete", "run-9")
    assert done.extras == extras
    assert done.created_at == answer.created_at
    assert await apps.list_messages(conversation.id) == [done]
    kept = await apps.update_message(answer.id)
    assert kept == done
    assert await apps.get_message(answer.id) == done
    with pytest.raises(NotFoundError):
        await apps.get_message("nope")
    failed = await apps.update_message(answer.id, status="failed", extras={"error": {"code": "x", "message": "m"}})
    assert failed.extras == {"error": {"code": "x", "message": "m"}}
    with pytest.raises(ValidationError, match="status"):
        await apps.update_message(answer.id, status="bogus")  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        await apps.update_message("nope", content="x")
    # updating does not reorder the conversation list
    assert (await apps.get_conversation(conversation.id)).message_count == 1


async def test_message_content_and_extras_round_trip(stores: Stores) -> None:
    apps = stores.apps
    app = await stores.app("roundtrip")
    conversation = await apps.create_conversation(app.id, "user:u1")
    extras = {"charts": [{"title": "t", "option": {"series": [{"data": [1, 2.5]}]}}], "note": "nul\x00here"}
    original = copy.deepcopy(extras)
    message = await apps.add_message(conversation.id, role="assistant", content="a\x00b **md**", extras=extras)
    assert message.content == "a\ufffdb **md**"
    assert message.extras == original
    extras["note"] = "changed"  # the caller's dict is not the stored one
    assert (await apps.list_messages(conversation.id))[0].extras == original
    with pytest.raises(NotFoundError):
        await apps.add_message("nope", role="user", content="x")
    with pytest.raises(ValidationError, match="role"):
        await apps.add_message(conversation.id, role="system", content="x")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="status"):
        await apps.add_message(conversation.id, role="user", status="done")  # type: ignore[arg-type]
    assert (await apps.get_conversation(conversation.id)).message_count == 1


# --- feedback -----------------------------------------------------------------------------------------------------


async def test_feedback_is_set_cleared_and_listed_newest_first(stores: Stores) -> None:
    apps = stores.apps
    app, other = await stores.app("feedback"), await stores.app("feedback-other")
    conversation = await apps.create_conversation(app.id, "user:u1")
    visitor = await apps.create_conversation(app.id, "token:t:v")
    question = await apps.add_message(conversation.id, role="user", content="q")
    first = await apps.add_message(conversation.id, role="assistant", content="a1", run_id="run-1")
    second = await apps.add_message(visitor.id, role="assistant", content="a2", run_id="run-2")
    unrated = await apps.add_message(conversation.id, role="assistant", content="a3", run_id="run-3")
    elsewhere = await apps.add_message(
        (await apps.create_conversation(other.id, "user:u1")).id, role="assistant", content="x", run_id="run-4"
    )
    assert await apps.list_feedback(app.id) == []

    liked = await apps.set_feedback(first.id, "up", "great answer")
    assert (liked.feedback, liked.feedback_comment, liked.content, liked.run_id) == (
        "up",
        "great answer",
        "a1",
        "run-1",
    )
    disliked = await apps.set_feedback(second.id, "down")
    assert (disliked.feedback, disliked.feedback_comment) == ("down", "")
    await apps.set_feedback(elsewhere.id, "down", "wrong")
    assert [m.id for m in await apps.list_feedback(app.id)] == [second.id, first.id]
    assert [m.id for m in await apps.list_feedback(app.id, limit=1)] == [second.id]
    assert [m.id for m in await apps.list_feedback(other.id)] == [elsewhere.id]
    # rating again moves it to the front; the listed message carries the rating
    changed = await apps.set_feedback(first.id, "down", "on second thought")
    listed = await apps.list_feedback(app.id)
    assert [m.id for m in listed] == [first.id, second.id]
    assert listed[0] == changed
    assert (changed.feedback, changed.feedback_comment) == ("down", "on second thought")
    assert (await apps.list_messages(conversation.id))[1] == changed

    cleared = await apps.set_feedback(first.id, None, "ignored")
    assert (cleared.feedback, cleared.feedback_comment) == (None, "")
    assert [m.id for m in await apps.list_feedback(app.id)] == [second.id]

    assert await apps.feedback_for_runs(["run-1", "run-2", "run-3", "run-4", "run-none"]) == {
        "run-2": "down",
        "run-4": "down",
    }
    assert await apps.feedback_for_runs([]) == {}
    assert unrated.feedback is None

    with pytest.raises(ValidationError):
        await apps.set_feedback(question.id, "up")
    with pytest.raises(ValidationError, match="rating"):
        await apps.set_feedback(first.id, "meh")  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        await apps.set_feedback("nope", "up")
    assert await apps.list_feedback("no-such-app") == []


# --- ConversationStore.drop_last_turn -----------------------------------------------------------------------------


async def test_drop_last_turn_removes_the_last_user_message_and_what_followed(
    conversations: ConversationStore,
) -> None:
    turn = [
        Message(role="user", content="first question"),
        Message(role="assistant", content="first answer"),
        Message(role="user", content="second question"),
        Message(role="assistant", content="calling a tool"),
        Message(role="tool", content="42", name="calc", tool_call_id="c1"),
        Message(role="assistant", content="second answer"),
    ]
    await conversations.append("s1", turn)
    await conversations.append("s2", [Message(role="user", content="other session")])
    assert await conversations.drop_last_turn("s1") == 4
    assert [m.content for m in await conversations.history("s1", 10)] == ["first question", "first answer"]
    assert [m.content for m in await conversations.history("s2", 10)] == ["other session"]
    # appending after a drop continues the session in order
    await conversations.append("s1", [Message(role="user", content="again"), Message(role="assistant", content="ok")])
    assert [m.content for m in await conversations.history("s1", 10)] == [
        "first question",
        "first answer",
        "again",
        "ok",
    ]
    assert await conversations.drop_last_turn("s1") == 2
    assert await conversations.drop_last_turn("s1") == 2
    assert await conversations.history("s1", 10) == []
    assert await conversations.drop_last_turn("s1") == 0
    assert await conversations.drop_last_turn("never-seen") == 0


async def test_drop_last_turn_without_a_user_message_drops_nothing(conversations: ConversationStore) -> None:
    await conversations.append(
        "sys", [Message(role="system", content="be brief"), Message(role="assistant", content="hi")]
    )
    assert await conversations.drop_last_turn("sys") == 0
    assert [m.content for m in await conversations.history("sys", 10)] == ["be brief", "hi"]
    await conversations.append("sys", [Message(role="user", content="q")])
    assert await conversations.drop_last_turn("sys") == 1
    assert [m.content for m in await conversations.history("sys", 10)] == ["be brief", "hi"]


# --- PostgreSQL only ----------------------------------------------------------------------------------------------


async def test_postgres_apps_follow_their_flow_and_keep_only_token_hashes(pool: AsyncConnectionPool) -> None:
    stores = Stores(PostgresAppStore(pool), PostgresFlowStore(pool))
    with pytest.raises(NotFoundError):
        await stores.apps.create_app(slug="orphan", flow_id="no-such-flow", title="t")
    app = await stores.app("follows")
    with pytest.raises(NotFoundError):
        await stores.apps.update_app(app.id, flow_id="no-such-flow")
    with pytest.raises(NotFoundError):
        await stores.apps.create_app(slug="ownerless", flow_id=app.flow_id, title="t", owner_id="no-such-user")
    token, secret = await stores.apps.create_token(app.id, name="link")
    conversation = await stores.apps.create_conversation(app.id, "user:u1")
    await stores.apps.add_message(conversation.id, role="user", content="hi")
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT token_hash, prefix FROM app_tokens WHERE id = %s", (token.id,))
        assert await cur.fetchone() == (hash_token(secret), secret[:8])
        cur = await conn.execute("SELECT count(*) FROM app_tokens WHERE app_tokens::text LIKE %s", (f"%{secret}%",))
        assert await cur.fetchone() == (0,)

    await stores.flows.delete(app.flow_id)
    with pytest.raises(NotFoundError):
        await stores.apps.get_app(app.id)
    assert await stores.apps.resolve_token(secret) is None
    with pytest.raises(NotFoundError):
        await stores.apps.get_conversation(conversation.id)
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT count(*) FROM app_messages")
        assert await cur.fetchone() == (0,)


async def test_postgres_runs_accept_the_app_trigger(pool: AsyncConnectionPool) -> None:
    insert = "INSERT INTO runs (id, flow_id, flow_version, status, trigger) VALUES (%s, 'f', 1, 'queued', %s)"
    async with pool.connection() as conn:
        await conn.execute(insert, (uuid.uuid4().hex, "app"))
        for trigger in ("editor", "api", "schedule", "cli"):
            await conn.execute(insert, (uuid.uuid4().hex, trigger))
        with pytest.raises(psycopg.errors.CheckViolation):
            await conn.execute(insert, (uuid.uuid4().hex, "bogus"))
