"""``/api/apps``: chat apps on flows (management) and ``/api/chat/{slug}``: chatting with them.

Management follows the app's flow: whoever may read the flow reads its apps and their feedback, whoever may
write it creates, changes and deletes them and their share links (404 for a flow the caller cannot reach, 403
for a reader's write). Chat routes are open to every signed-in user and to the app's own share token
(``rva_…``, with the ``X-Rivulet-Visitor`` header naming the visitor); another app's token, a disabled or
deleted app, and another subject's conversation or message all answer 404, like a missing one. A message
answers as Server-Sent Events (``start``, ``token``…, ``done`` or ``error``; docs/apps.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from rivulet.compiler.diagnostics import CompileError
from rivulet.domain.access import check_flow, principal_of, require_flow
from rivulet.domain.apps.deps import AppsDeps
from rivulet.domain.apps.schemas import (
    AppCreate,
    AppRead,
    AppTokenCreate,
    AppTokenCreated,
    AppUpdate,
    ChatAppInfo,
    ConversationCreate,
    ConversationRename,
    FeedbackUpdate,
    MessageCreate,
    StopResult,
)
from rivulet.lib.exceptions import AppError, NotFoundError
from rivulet.publishing.apps import FeedbackItem, subject_of
from rivulet.records.events import encoder
from rivulet.security.permissions import Permission, flow_access, requires
from rivulet.server.deps import Injected
from rivulet.storage.base import AppMessage, AppTokenRead, ConversationRecord

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from rivulet.publishing.apps import ChatTurn
    from rivulet.security import Principal
    from rivulet.storage.base import AppRecord, FlowSummary

__all__ = ("AppsController", "ChatController")

_READ = requires(Permission.FLOWS_READ)
_WRITE = requires(Permission.FLOWS_WRITE)
_CHAT = requires(Permission.APP_CHAT)
VISITOR_HEADER = "x-rivulet-visitor"


async def _read(deps: AppsDeps, app: AppRecord, flow_name: str | None = None) -> AppRead:
    """The app as the API shows it: its flow's name and whether the flow can take a message now."""
    if flow_name is None:
        try:
            flow_name = (await deps.flows.get(app.flow_id)).summary.name
        except NotFoundError:
            flow_name = ""
    try:
        compiled = await deps.apps.graph(app.flow_id, app.flow_version)
    except CompileError as exc:
        return AppRead.of(app, flow_name=flow_name, inputs=[], problems=[f"the flow does not compile: {exc.detail}"])
    except AppError as exc:
        return AppRead.of(app, flow_name=flow_name, inputs=[], problems=[exc.detail])
    return AppRead.of(
        app, flow_name=flow_name, inputs=list(compiled.inputs), problems=deps.apps.problems(app, compiled)
    )


async def _managed(deps: AppsDeps, request: Request[Any, Any, Any], app_id: str, need: str) -> AppRecord:
    """The app, when the caller may ``need`` (read/write) its flow: else 404 (403 for a reader's write)."""
    principal = principal_of(request)
    app = await deps.apps.apps.get_app(app_id)
    try:
        summary = (await deps.flows.get(app.flow_id)).summary
        check_flow(principal, summary, "write" if need == "write" else "read")
    except NotFoundError:
        raise NotFoundError(f"app {app_id!r} not found", extra={"app_id": app_id}) from None
    return app


class AppsController(Controller):
    path = "/api/apps"
    tags = ["chat apps"]

    @get("/", summary="Chat apps on the flows the caller may read", opt=_READ)
    async def list_apps(
        self,
        deps: Injected[AppsDeps],
        request: Request[Any, Any, Any],
        flow_id: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> list[AppRead]:
        principal = principal_of(request)
        apps = await deps.apps.apps.list_apps(flow_id=flow_id)
        readable: dict[str, FlowSummary] = {
            f.id: f
            for f in await deps.flows.summaries({a.flow_id for a in apps})
            if flow_access(principal, f.owner_id, f.workspace_id) != "none"
        }
        apps = [a for a in apps if a.flow_id in readable]
        return [await _read(deps, app, readable[app.flow_id].name) for app in apps]

    @post(
        "/",
        summary="Publish a flow as a chat app",
        description="The flow version is compiled first (422 `compile_error`, located); `message_input` must be a "
        'run input of the flow (detected when absent), `session_input` too (detected when absent, none with `""`).',
        opt=_WRITE,
    )
    async def create_app(
        self, deps: Injected[AppsDeps], request: Request[Any, Any, Any], data: JSONBody[AppCreate]
    ) -> AppRead:
        principal = principal_of(request)
        flow = await require_flow(deps.flows, principal, data.flow_id, "write")
        app = await deps.apps.create(
            flow_id=data.flow_id,
            slug=data.slug,
            title=data.title,
            description=data.description,
            suggested_questions=data.suggested_questions,
            flow_version=data.flow_version,
            message_input=data.message_input,
            session_input=data.session_input,
            owner_id=principal.user_id,
            workspace_id=flow.summary.workspace_id,
        )
        return await _read(deps, app)

    @get("/{app_id:str}", summary="A chat app", opt=_READ)
    async def get_app(
        self, deps: Injected[AppsDeps], request: Request[Any, Any, Any], app_id: FromPath[str]
    ) -> AppRead:
        return await _read(deps, await _managed(deps, request, app_id, "read"))

    @patch("/{app_id:str}", summary="Change a chat app (title, questions, version, inputs, enabled...)", opt=_WRITE)
    async def update_app(
        self,
        deps: Injected[AppsDeps],
        request: Request[Any, Any, Any],
        app_id: FromPath[str],
        data: JSONBody[AppUpdate],
    ) -> AppRead:
        app = await _managed(deps, request, app_id, "write")
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
        updated = await deps.apps.update(app, changes)
        if "enabled" in changes or "slug" in changes:
            await deps.changes.notify("auth")  # cached share-link principals are re-resolved
        return await _read(deps, updated)

    @delete("/{app_id:str}", summary="Delete a chat app with its links, conversations and feedback", opt=_WRITE)
    async def delete_app(
        self, deps: Injected[AppsDeps], request: Request[Any, Any, Any], app_id: FromPath[str]
    ) -> None:
        app = await _managed(deps, request, app_id, "write")
        await deps.apps.apps.delete_app(app.id)
        await deps.changes.notify("auth")  # its share links stop working on every replica

    @get("/{app_id:str}/tokens", summary="The app's share links (revoked ones included)", opt=_WRITE)
    async def list_tokens(
        self, deps: Injected[AppsDeps], request: Request[Any, Any, Any], app_id: FromPath[str]
    ) -> list[AppTokenRead]:
        app = await _managed(deps, request, app_id, "write")
        return await deps.apps.apps.list_tokens(app.id)

    @post(
        "/{app_id:str}/tokens",
        summary="Create a share link (the secret is shown once)",
        description="`share_url` is `/apps/{slug}#t={secret}`: the fragment never reaches a server or its logs. "
        "`rate_limit_per_minute`: messages per minute through this link (absent: 60, `0`: unlimited).",
        opt=_WRITE,
    )
    async def create_token(
        self,
        deps: Injected[AppsDeps],
        request: Request[Any, Any, Any],
        app_id: FromPath[str],
        data: JSONBody[AppTokenCreate],
    ) -> AppTokenCreated:
        app = await _managed(deps, request, app_id, "write")
        limit = 60 if data.rate_limit_per_minute is None else (data.rate_limit_per_minute or None)
        token, secret = await deps.apps.apps.create_token(
            app.id, name=data.name, rate_limit_per_minute=limit, created_by=principal_of(request).user_id
        )
        return AppTokenCreated(token=token, secret=secret, share_url=f"/apps/{app.slug}#t={secret}")

    @delete(
        "/{app_id:str}/tokens/{token_id:str}",
        summary="Revoke a share link (at once, on every replica)",
        status_code=200,
        opt=_WRITE,
    )
    async def revoke_token(
        self,
        deps: Injected[AppsDeps],
        request: Request[Any, Any, Any],
        app_id: FromPath[str],
        token_id: FromPath[str],
    ) -> AppTokenRead:
        app = await _managed(deps, request, app_id, "write")
        token = await deps.apps.apps.revoke_token(app.id, token_id)
        await deps.changes.notify("auth")
        return token

    @get("/{app_id:str}/feedback", summary="The app's rated answers with their questions, newest first", opt=_READ)
    async def list_feedback(
        self,
        deps: Injected[AppsDeps],
        request: Request[Any, Any, Any],
        app_id: FromPath[str],
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 200,
    ) -> list[FeedbackItem]:
        app = await _managed(deps, request, app_id, "read")
        return await deps.apps.feedback_list(app.id, limit=limit)


async def _caller(deps: AppsDeps, request: Request[Any, Any, Any], slug: str) -> tuple[AppRecord, str, Principal]:
    """The enabled app at ``slug`` for this caller, and the caller's subject (404 / 400 otherwise)."""
    principal = principal_of(request)
    subject = subject_of(principal, request.headers.get(VISITOR_HEADER))
    app = await deps.apps.chat_app(slug, principal)
    return app, subject, principal


async def _conversation(
    deps: AppsDeps, request: Request[Any, Any, Any], slug: str, conversation_id: str
) -> tuple[AppRecord, ConversationRecord, Principal]:
    """The app, this caller's conversation ``conversation_id`` with it (404 for anyone else's), and the caller."""
    app, subject, principal = await _caller(deps, request, slug)
    return app, await deps.apps.conversation(app, subject, conversation_id), principal


async def _events(deps: AppsDeps, turn: ChatTurn) -> AsyncGenerator[ServerSentEventMessage]:
    async for event, payload in deps.apps.stream(turn):
        yield ServerSentEventMessage(data=encoder.encode(payload).decode(), event=event)


def _sse(deps: AppsDeps, turn: ChatTurn) -> ServerSentEvent:
    headers = {"X-Rivulet-Run-Id": turn.run_id, "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return ServerSentEvent(_events(deps, turn), headers=headers)


class ChatController(Controller):
    path = "/api/chat"
    tags = ["chat apps"]

    @get("/{slug:str}", summary="A chat app's page information", opt=_CHAT)
    async def app_info(
        self, deps: Injected[AppsDeps], request: Request[Any, Any, Any], slug: FromPath[str]
    ) -> ChatAppInfo:
        app, _, principal = await _caller(deps, request, slug)
        flow_name: str | None = None
        if principal.is_user:
            try:
                flow_name = (await deps.flows.get(app.flow_id)).summary.name
            except NotFoundError:
                flow_name = None
        return ChatAppInfo(
            slug=app.slug,
            title=app.title,
            description=app.description,
            suggested_questions=list(app.suggested_questions),
            flow_name=flow_name,
        )

    @get("/{slug:str}/conversations", summary="The caller's conversations with the app, latest first", opt=_CHAT)
    async def list_conversations(
        self, deps: Injected[AppsDeps], request: Request[Any, Any, Any], slug: FromPath[str]
    ) -> list[ConversationRecord]:
        app, subject, _ = await _caller(deps, request, slug)
        return await deps.apps.apps.list_conversations(app.id, subject)

    @post("/{slug:str}/conversations", summary="Start a conversation", opt=_CHAT)
    async def create_conversation(
        self,
        deps: Injected[AppsDeps],
        request: Request[Any, Any, Any],
        slug: FromPath[str],
        data: JSONBody[ConversationCreate],
    ) -> ConversationRecord:
        app, subject, principal = await _caller(deps, request, slug)
        deps.apps.admit(principal, "conversations")
        return await deps.apps.apps.create_conversation(app.id, subject, title=data.title)

    @patch("/{slug:str}/conversations/{conversation_id:str}", summary="Rename a conversation", opt=_CHAT)
    async def rename_conversation(
        self,
        deps: Injected[AppsDeps],
        request: Request[Any, Any, Any],
        slug: FromPath[str],
        conversation_id: FromPath[str],
        data: JSONBody[ConversationRename],
    ) -> ConversationRecord:
        _, conversation, _ = await _conversation(deps, request, slug, conversation_id)
        return await deps.apps.apps.rename_conversation(conversation.id, data.title)

    @delete(
        "/{slug:str}/conversations/{conversation_id:str}",
        summary="Delete a conversation with its messages and memory",
        opt=_CHAT,
    )
    async def delete_conversation(
        self,
        deps: Injected[AppsDeps],
        request: Request[Any, Any, Any],
        slug: FromPath[str],
        conversation_id: FromPath[str],
    ) -> None:
        app, conversation, _ = await _conversation(deps, request, slug, conversation_id)
        await deps.apps.delete_conversation(app, conversation)

    @get("/{slug:str}/conversations/{conversation_id:str}/messages", summary="A conversation's messages", opt=_CHAT)
    async def list_messages(
        self,
        deps: Injected[AppsDeps],
        request: Request[Any, Any, Any],
        slug: FromPath[str],
        conversation_id: FromPath[str],
    ) -> list[AppMessage]:
        _, conversation, _ = await _conversation(deps, request, slug, conversation_id)
        return await deps.apps.apps.list_messages(conversation.id)

    @post(
        "/{slug:str}/conversations/{conversation_id:str}/messages",
        summary="Send a message; the answer streams back as Server-Sent Events",
        description="Events: `start` (`user_message`, `assistant_message`, `run_id`), `token` (`data`: a piece of "
        "text) as the answer is generated, then `done` (`message`: the final answer) or `error` (`message` with "
        "`extras.error`). Limited per share link (its `rate_limit_per_minute`) or per user (60 a minute): 429.",
        status_code=200,
        opt=_CHAT,
    )
    async def send_message(
        self,
        deps: Injected[AppsDeps],
        request: Request[Any, Any, Any],
        slug: FromPath[str],
        conversation_id: FromPath[str],
        data: JSONBody[MessageCreate],
    ) -> ServerSentEvent:
        app, conversation, principal = await _conversation(deps, request, slug, conversation_id)
        deps.apps.admit(principal)
        turn = await deps.apps.send(app, conversation, data.content)
        return _sse(deps, turn)

    @post(
        "/{slug:str}/conversations/{conversation_id:str}/regenerate",
        summary="Answer the last message again (the last answer is dropped, from the memory too)",
        description="Server-Sent Events as for a message.",
        status_code=200,
        opt=_CHAT,
    )
    async def regenerate(
        self,
        deps: Injected[AppsDeps],
        request: Request[Any, Any, Any],
        slug: FromPath[str],
        conversation_id: FromPath[str],
    ) -> ServerSentEvent:
        app, conversation, principal = await _conversation(deps, request, slug, conversation_id)
        deps.apps.admit(principal)
        turn = await deps.apps.regenerate(app, conversation)
        return _sse(deps, turn)

    @post(
        "/{slug:str}/conversations/{conversation_id:str}/stop",
        summary="Stop the answer being generated",
        status_code=200,
        opt=_CHAT,
    )
    async def stop(
        self,
        deps: Injected[AppsDeps],
        request: Request[Any, Any, Any],
        slug: FromPath[str],
        conversation_id: FromPath[str],
    ) -> StopResult:
        _, conversation, _ = await _conversation(deps, request, slug, conversation_id)
        return StopResult(stopped=await deps.apps.stop(conversation))

    @put("/{slug:str}/messages/{message_id:str}/feedback", summary="Rate an answer (up, down or null)", opt=_CHAT)
    async def feedback(
        self,
        deps: Injected[AppsDeps],
        request: Request[Any, Any, Any],
        slug: FromPath[str],
        message_id: FromPath[str],
        data: JSONBody[FeedbackUpdate],
    ) -> AppMessage:
        app, subject, _ = await _caller(deps, request, slug)
        message = await deps.apps.message(app, subject, message_id)
        if message.role != "assistant":
            raise NotFoundError(f"answer {message_id!r} not found", extra={"message_id": message_id})
        return await deps.apps.apps.set_feedback(message.id, data.rating, data.comment)
