"""Chat apps: a flow served as a chat at ``/apps/{slug}``, with conversations, memory, streaming and feedback.

``AppService`` is the logic behind ``/api/apps`` (management) and ``/api/chat/{slug}`` (chatting); the HTTP layer
(``rivulet.domain.apps``) checks who may do what and shapes the answers.

A message is one run of the app's flow version (trigger ``"app"``) with the run inputs
``{message_input: text, session_input: "app:{app_id}:{conversation_id}"}``: the flow's memory
(``llm.conversation_memory``) keeps each conversation apart. The transcript the app shows is kept separately
(``AppStore`` messages): the user's message, then the assistant's, first ``running`` and, once the run ended,
``complete`` (its answer text and extras: tables, charts, citations) or ``failed``/``cancelled``. The answer is
finished by a task of its own, so a client that goes away mid-stream still leaves a complete transcript.

Graphs are compiled once per (flow, version) and process; an app that follows the latest version compiles the
new one when the flow is saved (the version number is the cache key).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from rivulet.compiler.graph import CompiledGraph
from rivulet.lib.exceptions import (
    ConflictError,
    MalformedRequestError,
    NotFoundError,
    RateLimitedError,
    ValidationError,
)
from rivulet.lib.log import get_logger
from rivulet.lib.redact import redact
from rivulet.publishing.limits import RateLimiter
from rivulet.records.events import NodeChunk, RunFinished
from rivulet.runtime.service import RunRequest
from rivulet.sdk.ports import ChartSpec, Chunk, Message, SQLQuery, Table
from rivulet.sdk.triggers import HttpTriggerParams
from rivulet.security.permissions import flow_access
from rivulet.storage.base import AppFeedback, AppMessage, AppMessageStatus, AppRecord, ConversationRecord

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Sequence

    from rivulet.compiler.flow import FlowDocument
    from rivulet.runtime.executor import RunResult
    from rivulet.runtime.service import RunService
    from rivulet.sdk.models import ConversationStore
    from rivulet.security import Principal
    from rivulet.storage.base import AppStore, FlowStore

__all__ = (
    "MESSAGE_INPUT_NAMES",
    "SESSION_INPUT_NAMES",
    "AppGraph",
    "AppInput",
    "AppService",
    "ChatTurn",
    "FeedbackItem",
    "answer_of",
    "detect_message_input",
    "detect_session_input",
    "memory_session",
    "run_inputs",
    "subject_of",
    "token_ports",
)

_log = get_logger(__name__)

MESSAGE_INPUT_NAMES = ("message", "question", "query", "user_input", "input", "prompt", "text")
"""Run inputs taken for the user's message, in this order, when an app does not name one."""
SESSION_INPUT_NAMES = ("session_id", "conversation_id", "conversation_uid")
"""Run inputs taken for the conversation's memory session when an app does not name one."""
USER_MESSAGES_PER_MINUTE = 60
"""Messages a signed-in user may send per minute (share links: their token's own limit)."""
MAX_MESSAGE_CHARS = 32_000
TITLE_CHARS = 60
_VISITOR = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
_ANSWER_KEYS = ("answer", "text", "content", "output")
_MAX_CITATIONS = 20
_MAX_CACHED_GRAPHS = 256


class AppInput(msgspec.Struct, frozen=True, kw_only=True):
    """A run input the flow reads: a ``core.input`` node's name or a ``trigger.http`` field."""

    name: str
    type: str = "Text"
    required: bool = True
    default: Any = None
    node_id: str = ""
    source: Literal["core.input", "trigger.http"] = "core.input"


class FeedbackItem(msgspec.Struct, frozen=True, kw_only=True):
    """A rated answer with the question it answered."""

    message: AppMessage
    conversation_id: str
    run_id: str | None
    feedback: AppFeedback | None
    comment: str
    created_at: datetime
    question: str


@dataclass(frozen=True, slots=True)
class AppGraph:
    """A compiled flow version and what a chat needs to know about it."""

    graph: CompiledGraph
    inputs: tuple[AppInput, ...]
    ports: frozenset[tuple[str, str]]
    """``(node id, port)`` whose ``node_chunk`` items are the answer's tokens."""


@dataclass(slots=True, kw_only=True)
class ChatTurn:
    """One message being answered: the transcript rows, the run, and the task that finishes the answer."""

    app: AppRecord
    conversation: ConversationRecord
    user_message: AppMessage
    assistant_message: AppMessage
    run_id: str
    ports: frozenset[tuple[str, str]]
    finished: asyncio.Task[AppMessage]


def memory_session(app_id: str, conversation_id: str) -> str:
    """The memory session of a conversation (what the flow's ``session_input`` receives)."""
    return f"app:{app_id}:{conversation_id}"


def subject_of(principal: Principal, visitor: str | None) -> str:
    """Whose conversations: ``user:{id}`` for a signed-in user, ``token:{token id}:{visitor hash}`` for a share link.

    Raises:
        MalformedRequestError: A share link without a valid ``X-Rivulet-Visitor`` (16-128 of ``[A-Za-z0-9_-]``).
    """
    if principal.kind == "app_token":
        if visitor is None or not _VISITOR.match(visitor):
            raise MalformedRequestError(
                "a share link needs the X-Rivulet-Visitor header: 16 to 128 characters of A-Z, a-z, 0-9, _ and -",
                extra={"header": "X-Rivulet-Visitor"},
            )
        return f"token:{principal.key_id}:{hashlib.sha256(visitor.encode()).hexdigest()[:32]}"
    return f"user:{principal.user_id}"


def run_inputs(graph: CompiledGraph) -> tuple[AppInput, ...]:
    """The run inputs a graph reads (``core.input`` names and ``trigger.http`` fields), in the graph's order."""
    found: dict[str, AppInput] = {}
    for node_id in graph.input_nodes:  # the compiler's core.input and trigger nodes, in order
        node = graph.nodes[node_id]
        if node.disabled:
            continue
        if node.spec.id == "core.input":
            params = node.params
            name = str(getattr(params, "name", ""))
            if name and name not in found:
                found[name] = AppInput(
                    name=name,
                    type=str(getattr(params, "type", "Text")),
                    required=bool(getattr(params, "required", True)),
                    default=getattr(params, "default", None),
                    node_id=node_id,
                )
        elif isinstance(node.params, HttpTriggerParams):
            for body_field in node.params.fields:
                if body_field.name not in found:
                    found[body_field.name] = AppInput(
                        name=body_field.name,
                        type=body_field.type,
                        required=body_field.required,
                        default=body_field.default,
                        node_id=node_id,
                        source="trigger.http",
                    )
    return tuple(found.values())


def _names(inputs: Sequence[AppInput]) -> str:
    return ", ".join(f"{i.name} ({i.type})" for i in inputs) or "none"


def detect_message_input(inputs: Sequence[AppInput], wanted: str | None = None) -> str:
    """The run input for the user's message.

    ``wanted`` when the flow reads it, else the first of ``MESSAGE_INPUT_NAMES`` it reads, else its single ``Text``
    input.

    Raises:
        ValidationError: ``wanted`` is not read by the flow, or nothing fits (the message names what was found).
    """
    names = {i.name for i in inputs}
    if wanted is not None:
        if wanted not in names:
            raise ValidationError(
                f"message_input {wanted!r} is not a run input of the flow; its inputs: {_names(inputs)}",
                extra={"errors": [{"path": "$.message_input", "message": "not a run input of the flow"}]},
            )
        return wanted
    for name in MESSAGE_INPUT_NAMES:
        if name in names:
            return name
    texts = [i.name for i in inputs if i.type == "Text" and i.name not in SESSION_INPUT_NAMES]
    if len(texts) == 1:
        return texts[0]
    raise ValidationError(
        "cannot tell which run input receives the user's message: name it with message_input; "
        f"the flow's inputs: {_names(inputs)}",
        extra={"errors": [{"path": "$.message_input", "message": "no message input found"}]},
    )


def detect_session_input(inputs: Sequence[AppInput], wanted: str | None = None, *, auto: bool = True) -> str | None:
    """The run input for the memory session: ``wanted`` (checked), or with ``auto`` a usual name the flow reads.

    Raises:
        ValidationError: ``wanted`` is not read by the flow.
    """
    names = {i.name for i in inputs}
    if wanted is not None:
        if wanted not in names:
            raise ValidationError(
                f"session_input {wanted!r} is not a run input of the flow; its inputs: {_names(inputs)}",
                extra={"errors": [{"path": "$.session_input", "message": "not a run input of the flow"}]},
            )
        return wanted
    if not auto:
        return None
    return next((name for name in SESSION_INPUT_NAMES if name in names), None)


def _upstream(graph: CompiledGraph, start: Sequence[str]) -> list[list[str]]:
    """Nodes above ``start``, by distance (one list per step)."""
    seen = set(start)
    levels: list[list[str]] = []
    frontier = list(start)
    while frontier:
        nxt: list[str] = []
        for node_id in frontier:
            for edge_id in graph.nodes[node_id].incoming:
                source = graph.edges[edge_id].source
                if source not in seen:
                    seen.add(source)
                    nxt.append(source)
        if nxt:
            levels.append(nxt)
        frontier = nxt
    return levels


def token_ports(graph: CompiledGraph) -> frozenset[tuple[str, str]]:
    """Whose chunks are the answer's tokens.

    The output nodes fed a ``Stream``, else the nearest ``llm.*`` nodes' ``Stream`` ports above the outputs
    (``llm.chat``'s ``tokens`` when the output takes its ``message``).
    """
    streamed: set[tuple[str, str]] = set()
    for node_id in graph.output_nodes:
        for edge_id in graph.nodes[node_id].incoming:
            edge = graph.edges[edge_id]
            if edge.type.name == "Stream" and edge.coercion is None:
                streamed.add((node_id, edge.target_port))
    if streamed:
        return frozenset(streamed)
    for level in _upstream(graph, graph.output_nodes):
        found = {
            (node_id, port.name)
            for node_id in level
            if graph.nodes[node_id].spec.id.startswith("llm.")
            for port in graph.nodes[node_id].outputs
            if port.type.name == "Stream"
        }
        if found:
            return frozenset(found)
    return frozenset()


def _citation(chunk: Chunk) -> dict[str, Any]:
    text = chunk.text if len(chunk.text) <= 1000 else chunk.text[:1000] + "…"
    return {"id": chunk.id, "source": chunk.source, "text": text, "score": chunk.score}


def _chunks(value: Any) -> list[Chunk] | None:
    if isinstance(value, list) and value and all(isinstance(item, Chunk) for item in value):  # pyright: ignore[reportUnknownVariableType]
        return [item for item in value if isinstance(item, Chunk)]  # pyright: ignore[reportUnknownVariableType]
    return None


def _table_summary(table: Table) -> str:
    rows = len(table.rows)
    columns = ", ".join(f"`{c}`" for c in table.columns[:12]) + (", …" if len(table.columns) > 12 else "")
    more = " (truncated)" if table.truncated else ""
    return f"**{rows} row{'s' if rows != 1 else ''}**{more} · columns {columns}"


class _Answer:
    def __init__(self) -> None:
        self.texts: list[str] = []
        self.tables: list[Table] = []
        self.charts: list[Any] = []
        self.citations: dict[str, dict[str, Any]] = {}

    def add(self, value: Any) -> None:  # noqa: C901, PLR0912 - one case per kind of value
        if value is None:
            return
        if isinstance(value, Message):
            self.texts.append(value.content)
        elif isinstance(value, str):
            self.texts.append(value)
        elif isinstance(value, Table):
            self.tables.append(value)
        elif isinstance(value, ChartSpec):
            self.charts.append(msgspec.to_builtins(value))
        elif isinstance(value, SQLQuery):
            self.texts.append(f"```sql\n{value.sql}\n```")
        elif (chunks := _chunks(value)) is not None:
            self.cite(chunks)
        elif isinstance(value, dict):
            mapping: dict[str, Any] = value  # pyright: ignore[reportUnknownVariableType]
            key = next((k for k in _ANSWER_KEYS if k in mapping), None)
            if key is not None:
                self.add(mapping[key])
                for other, item in mapping.items():
                    if other != key and (isinstance(item, (Table, ChartSpec)) or _chunks(item) is not None):
                        self.add(item)
            else:
                self.texts.append(_fenced(mapping))
        elif isinstance(value, (int, float, bool)):
            self.texts.append(str(value))
        else:
            self.texts.append(_fenced(value))

    def cite(self, chunks: Sequence[Chunk]) -> None:
        for chunk in chunks:
            if len(self.citations) < _MAX_CITATIONS and chunk.id not in self.citations:
                self.citations[chunk.id] = _citation(chunk)


def _fenced(value: Any) -> str:
    try:
        text = msgspec.json.format(msgspec.json.encode(value), indent=2).decode()
    except (TypeError, msgspec.EncodeError):
        text = str(value)
    return f"```json\n{text[:20_000]}\n```"


def answer_of(graph: CompiledGraph, result: RunResult, chunks: dict[str, list[str]]) -> tuple[str, dict[str, Any]]:
    """The answer's text and extras from a run: its outputs, plus the citations of nodes that output chunks.

    ``chunks`` holds the streamed text of each output node fed a ``Stream`` (its value is an iterator by then).
    """
    answer = _Answer()
    node_of = {str(getattr(graph.nodes[n].params, "name", n)): n for n in graph.output_nodes}
    for name, value in result.outputs.items():
        if hasattr(value, "__aiter__"):
            answer.add("".join(chunks.get(node_of.get(name, name), [])))
        else:
            answer.add(value)
    for node_id, state in result.nodes.items():  # retrieval nodes: List[Chunk] outputs anywhere in the run
        if node_id in graph.output_nodes or state.status != "succeeded" or not state.outputs:
            continue
        for value in state.outputs.values():
            if (found := _chunks(value)) is not None:
                answer.cite(found)
    texts = [t for t in answer.texts if t.strip()]
    if not texts and answer.tables:
        texts = [_table_summary(answer.tables[0])]
    extras: dict[str, Any] = {}
    if answer.tables:
        extras["tables"] = [msgspec.to_builtins(t) for t in answer.tables]
    if answer.charts:
        extras["charts"] = answer.charts
    if answer.citations:
        extras["citations"] = list(answer.citations.values())
    return "\n\n".join(texts), extras


@dataclass(slots=True)
class _Graphs:
    """Compiled graphs by (flow id, version), least recently used out first."""

    items: OrderedDict[tuple[str, int], AppGraph] = field(default_factory=OrderedDict[tuple[str, int], AppGraph])

    def get(self, key: tuple[str, int]) -> AppGraph | None:
        found = self.items.get(key)
        if found is not None:
            self.items.move_to_end(key)
        return found

    def put(self, key: tuple[str, int], value: AppGraph) -> None:
        self.items[key] = value
        while len(self.items) > _MAX_CACHED_GRAPHS:
            self.items.popitem(last=False)


class AppService:
    """Chat apps over the ``AppStore``: create and check apps, answer messages with runs, keep the transcript.

    Args:
        apps: Apps, tokens, conversations, messages and feedback.
        flows: Where the flow versions come from.
        runs: Starts the runs (trigger ``"app"``) and follows their events.
        memory: The flows' conversation memory (``regenerate`` forgets the last turn there); ``None``: none.
        compile_graph: ``document → CompiledGraph`` (run in a worker thread).
        user_messages_per_minute: The per-user message limit of signed-in users.
    """

    def __init__(
        self,
        *,
        apps: AppStore,
        flows: FlowStore,
        runs: RunService,
        memory: ConversationStore | None,
        compile_graph: Callable[[FlowDocument], CompiledGraph],
        user_messages_per_minute: int = USER_MESSAGES_PER_MINUTE,
    ) -> None:
        self.apps = apps
        self.flows = flows
        self.runs = runs
        self.memory = memory
        self._compile = compile_graph
        self._graphs = _Graphs()
        self.limiter = RateLimiter()
        self.user_messages_per_minute = user_messages_per_minute
        self._active: dict[str, str] = {}
        """Conversation id → the run answering it now (this process)."""
        self._tasks: set[asyncio.Task[AppMessage]] = set()

    # -- graphs -------------------------------------------------------------------------------------------------

    async def graph(self, flow_id: str, version: int | None) -> AppGraph:
        """The compiled flow version (the latest when ``version`` is ``None``).

        Raises:
            NotFoundError: No such flow or version.
            CompileError: It does not compile.
        """
        if version is None:
            record = await self.flows.get(flow_id)
            key = (flow_id, record.summary.version)
            document = record.document
        else:
            key = (flow_id, version)
            document = None
        cached = self._graphs.get(key)
        if cached is not None:
            return cached
        if document is None:
            document = (await self.flows.get_version(flow_id, key[1])).document
        graph = await asyncio.to_thread(self._compile, document)  # big templates: seconds of CPU
        compiled = AppGraph(graph=graph, inputs=run_inputs(graph), ports=token_ports(graph))
        self._graphs.put(key, compiled)
        return compiled

    async def check(
        self,
        flow_id: str,
        version: int | None,
        message_input: str | None,
        session_input: str | None,
        *,
        auto_session: bool,
    ) -> tuple[AppGraph, str, str | None]:
        """Compile the flow version and settle the app's inputs (named ones checked, missing ones detected).

        Raises:
            NotFoundError: No such flow or version.
            CompileError: It does not compile (located diagnostics).
            ValidationError: An input the flow does not read, or no message input could be found.
        """
        compiled = await self.graph(flow_id, version)
        message = detect_message_input(compiled.inputs, message_input)
        session = detect_session_input(compiled.inputs, session_input, auto=auto_session)
        if session == message:
            raise ValidationError(
                f"message_input and session_input are both {message!r}",
                extra={"errors": [{"path": "$.session_input", "message": "the same input as message_input"}]},
            )
        return compiled, message, session

    def problems(self, app: AppRecord, compiled: AppGraph) -> list[str]:
        """Why the app's flow cannot take a chat message as it stands (empty: it can)."""
        names = {i.name for i in compiled.inputs}
        found: list[str] = []
        if app.message_input not in names:
            found.append(f"the flow no longer reads the message input {app.message_input!r}")
        if app.session_input is not None and app.session_input not in names:
            found.append(f"the flow no longer reads the session input {app.session_input!r}")
        found.extend(
            f"the run input {i.name!r} is required and the app cannot provide it"
            for i in compiled.inputs
            if i.required and i.name not in (app.message_input, app.session_input)
        )
        return found

    async def create(
        self,
        *,
        flow_id: str,
        slug: str,
        title: str,
        description: str = "",
        suggested_questions: Sequence[str] = (),
        flow_version: int | None = None,
        message_input: str | None = None,
        session_input: str | None = None,
        owner_id: str | None = None,
        workspace_id: str | None = None,
    ) -> AppRecord:
        """A new app on a flow version that compiles; inputs named are checked, absent ones detected.

        ``session_input``: ``None`` detects it, ``""`` means none.

        Raises:
            NotFoundError: No such flow or version.
            CompileError: The version does not compile.
            ValidationError: Bad inputs.
            ConflictError: The slug is taken.
        """
        _, message, session = await self.check(
            flow_id, flow_version, message_input, session_input or None, auto_session=session_input is None
        )
        return await self.apps.create_app(
            slug=slug,
            flow_id=flow_id,
            title=title,
            flow_version=flow_version,
            description=description,
            suggested_questions=suggested_questions,
            message_input=message,
            session_input=session,
            owner_id=owner_id,
            workspace_id=workspace_id,
        )

    async def update(self, app: AppRecord, changes: dict[str, Any]) -> AppRecord:
        """Change an app; a new version or inputs (or enabling it) compiles and checks it again.

        ``flow_version`` ``0`` follows the latest version; ``session_input`` ``""`` means none.

        Raises:
            NotFoundError, CompileError, ValidationError, ConflictError: As ``create``.
        """
        changes = dict(changes)
        if changes.get("flow_version") == 0:
            changes["flow_version"] = None
        if changes.get("session_input") == "":
            changes["session_input"] = None
        if {"flow_version", "message_input", "session_input"} & changes.keys() or changes.get("enabled") is True:
            version = changes.get("flow_version", app.flow_version)
            message = changes.get("message_input", app.message_input)
            session = changes.get("session_input", app.session_input)
            _, changes["message_input"], changes["session_input"] = await self.check(
                app.flow_id, version, message, session, auto_session=False
            )
        return await self.apps.update_app(app.id, **changes)

    # -- chatting -----------------------------------------------------------------------------------------------

    async def chat_app(self, slug: str, principal: Principal) -> AppRecord:
        """The app at ``slug`` for this caller (a share link only for its own app).

        A disabled app is open only to the users who may edit its flow (to try it before enabling it).

        Raises:
            NotFoundError: No such app, a disabled one, or another app's share link.
        """
        try:
            app = await self.apps.get_app_by_slug(slug)
        except NotFoundError:
            app = None
        if app is not None and not app.enabled and not await self._may_edit_flow(app, principal):
            app = None
        if app is None or (principal.kind == "app_token" and principal.app_id != app.id):
            raise NotFoundError(f"no chat app at /apps/{slug}", extra={"slug": slug})
        return app

    async def _may_edit_flow(self, app: AppRecord, principal: Principal) -> bool:
        if not principal.is_user:
            return False
        try:
            summary = (await self.flows.get(app.flow_id)).summary
        except NotFoundError:
            return False
        return flow_access(principal, summary.owner_id, summary.workspace_id) == "write"

    async def conversation(self, app: AppRecord, subject: str, conversation_id: str) -> ConversationRecord:
        """A conversation of this subject with this app. Raises ``NotFoundError`` (also for anyone else's)."""
        try:
            found = await self.apps.get_conversation(conversation_id)
        except NotFoundError:
            found = None
        if found is None or found.app_id != app.id or found.subject != subject:
            raise NotFoundError(
                f"conversation {conversation_id!r} not found", extra={"conversation_id": conversation_id}
            )
        return found

    async def message(self, app: AppRecord, subject: str, message_id: str) -> AppMessage:
        """A message of one of this subject's conversations with this app. Raises ``NotFoundError``."""
        try:
            found = await self.apps.get_message(message_id)
            await self.conversation(app, subject, found.conversation_id)
        except NotFoundError:
            raise NotFoundError(f"message {message_id!r} not found", extra={"message_id": message_id}) from None
        return found

    def admit(self, principal: Principal, what: Literal["messages", "conversations"] = "messages") -> None:
        """Count a message (or a new conversation) against the caller's limit: the share link's, or the per-user one.

        Messages and new conversations are counted apart, each at the same rate.

        Raises:
            RateLimitedError: Over the limit (``retry_after_s`` says when the next one may go).
        """
        if principal.kind == "app_token":
            per_minute, key, who = principal.rate_limit_per_minute, f"app-token:{principal.key_id}", "share link"
        else:
            per_minute, key, who = self.user_messages_per_minute, f"app-user:{principal.user_id}", "user"
        if per_minute is None:
            return
        wait_s = self.limiter.acquire(f"{key}:{what}", per_minute=per_minute)
        if wait_s > 0:
            raise RateLimitedError(
                f"rate limit of {per_minute} {what} per minute reached for this {who}", retry_after_s=wait_s
            )

    def _busy(self, conversation: ConversationRecord) -> None:
        if conversation.id in self._active:
            raise ConflictError(
                "this conversation is still answering a message: stop it or wait for the answer",
                extra={"conversation_id": conversation.id, "run_id": self._active[conversation.id]},
            )

    async def send(self, app: AppRecord, conversation: ConversationRecord, content: str) -> ChatTurn:
        """Record the user's message and start answering it (the answer finishes by itself; follow ``stream``).

        Raises:
            ValidationError: An empty or too long message.
            ConflictError: The conversation is still answering the previous message.
            NotFoundError, CompileError: The app's flow version is gone or does not compile.
        """
        text = content.strip()
        if not text or len(content) > MAX_MESSAGE_CHARS:
            raise ValidationError(
                f"a message has 1 to {MAX_MESSAGE_CHARS} characters",
                extra={"errors": [{"path": "$.content", "message": "empty or too long"}]},
            )
        self._busy(conversation)
        compiled = await self.graph(app.flow_id, app.flow_version)
        user = await self.apps.add_message(conversation.id, role="user", content=content)
        if not conversation.title:
            conversation = await self.apps.rename_conversation(conversation.id, _title(text))
        return await self._answer(app, conversation, compiled, user)

    async def regenerate(self, app: AppRecord, conversation: ConversationRecord) -> ChatTurn:
        """Drop the last answer (transcript and memory) and answer the last user message again.

        Raises:
            ConflictError: Still answering, or no user message to answer.
        """
        self._busy(conversation)
        messages = await self.apps.list_messages(conversation.id)
        last_user = next((m for m in reversed(messages) if m.role == "user"), None)
        if last_user is None:
            raise ConflictError("nothing to regenerate: the conversation has no message yet")
        compiled = await self.graph(app.flow_id, app.flow_version)
        for message in messages[messages.index(last_user) + 1 :]:
            await self.apps.delete_message(message.id)
        if app.session_input is not None and self.memory is not None:
            await self.memory.drop_last_turn(memory_session(app.id, conversation.id))
        return await self._answer(app, conversation, compiled, last_user)

    async def _answer(
        self, app: AppRecord, conversation: ConversationRecord, compiled: AppGraph, user: AppMessage
    ) -> ChatTurn:
        inputs: dict[str, Any] = {i.name: i.default for i in compiled.inputs if not i.required}
        inputs[app.message_input] = user.content
        if app.session_input is not None:
            inputs[app.session_input] = memory_session(app.id, conversation.id)
        assistant = await self.apps.add_message(conversation.id, role="assistant", status="running")
        started = time.perf_counter()
        try:
            record = await self.runs.start_graph(compiled.graph, RunRequest(inputs=inputs, trigger="app"))
        except Exception as exc:
            error = {"code": getattr(exc, "code", "internal_error"), "message": redact(str(exc))[:2000]}
            await self.apps.update_message(assistant.id, status="failed", extras={"error": error})
            raise
        self._active[conversation.id] = record.id
        assistant = await self.apps.update_message(assistant.id, run_id=record.id)
        task = asyncio.create_task(
            self._finish(app, conversation.id, compiled, assistant, started), name=f"rivulet-app-answer-{record.id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return ChatTurn(
            app=app,
            conversation=conversation,
            user_message=user,
            assistant_message=assistant,
            run_id=record.id,
            ports=compiled.ports,
            finished=task,
        )

    async def _finish(
        self, app: AppRecord, conversation_id: str, compiled: AppGraph, assistant: AppMessage, started: float
    ) -> AppMessage:
        run_id = assistant.run_id or ""
        try:
            try:
                result = await self.runs.wait(run_id)
            except Exception as exc:  # noqa: BLE001 - the answer records the failure instead
                _log.exception("a chat app run could not be followed", extra={"run_id": run_id, "app_id": app.id})
                error = {"code": "internal_error", "message": redact(str(exc))[:2000]}
                extras = {"error": error, "duration_ms": round((time.perf_counter() - started) * 1000, 1)}
                return await self._store(assistant, content="", status="failed", extras=extras)
            chunks = await self._chunks(run_id, compiled)
            content, extras = answer_of(compiled.graph, result, chunks)
            extras["duration_ms"] = round(result.duration_ms, 1)
            status: Literal["complete", "failed", "cancelled"] = "complete"
            if result.status != "succeeded":
                status = "cancelled" if result.status == "cancelled" else "failed"
                if not content:  # what streamed before it stopped
                    content = "".join("".join(parts) for parts in chunks.values())
                if result.error is not None:
                    extras["error"] = {
                        "code": result.error.code,
                        "message": redact(result.error.message),
                        "node_id": result.error.node_id,
                    }
                else:
                    extras["error"] = {"code": result.status, "message": f"the run {result.status}", "node_id": None}
            return await self._store(assistant, content=content, status=status, extras=extras)
        finally:
            if self._active.get(conversation_id) == run_id:
                del self._active[conversation_id]

    async def _store(
        self, assistant: AppMessage, *, content: str, status: AppMessageStatus, extras: dict[str, Any]
    ) -> AppMessage:
        """The finished answer, stored (a conversation or app deleted meanwhile: only returned)."""
        try:
            return await self.apps.update_message(assistant.id, content=content, status=status, extras=extras)
        except NotFoundError:
            return msgspec.structs.replace(assistant, content=content, status=status, extras=extras)

    async def _chunks(self, run_id: str, compiled: AppGraph) -> dict[str, list[str]]:
        """The streamed text of the run by node (output nodes fed a stream, and the token ports)."""
        wanted = {node_id for node_id, _ in compiled.ports} | set(compiled.graph.output_nodes)
        found: dict[str, list[tuple[int, str]]] = {}
        for event in await self.runs.events(run_id):
            if (
                isinstance(event, NodeChunk)
                and event.node_id in wanted
                and isinstance(event.data, str)
                and (event.node_id in compiled.graph.output_nodes or (event.node_id, event.port) in compiled.ports)
            ):
                found.setdefault(event.node_id, []).append((event.index, event.data))
        return {node_id: [text for _, text in sorted(items)] for node_id, items in found.items()}

    async def stream(self, turn: ChatTurn) -> AsyncIterator[tuple[str, Any]]:
        """The answer as ``(event, payload)``: ``start``, ``token``…, then ``done`` or ``error`` (the final message)."""
        yield (
            "start",
            {"user_message": turn.user_message, "assistant_message": turn.assistant_message, "run_id": turn.run_id},
        )
        events = await self.runs.subscribe(turn.run_id, 0)
        try:
            async for event in events:
                if isinstance(event, NodeChunk):
                    if (event.node_id, event.port) in turn.ports and isinstance(event.data, str):
                        yield "token", {"data": event.data}
                elif isinstance(event, RunFinished):
                    break
        finally:
            with contextlib.suppress(Exception):
                await events.aclose()
        message = await asyncio.shield(turn.finished)
        yield ("done" if message.status == "complete" else "error"), {"message": message}

    async def stop(self, conversation: ConversationRecord) -> bool:
        """Cancel the run answering the conversation now; ``False`` when none is (on this replica)."""
        run_id = self._active.get(conversation.id)
        if run_id is None:
            return False
        try:
            await self.runs.cancel(run_id, "stopped in the chat")
        except (ConflictError, NotFoundError):
            return False
        return True

    async def delete_conversation(self, app: AppRecord, conversation: ConversationRecord) -> None:
        """Delete a conversation with its transcript and its memory session."""
        await self.stop(conversation)
        await self.apps.delete_conversation(conversation.id)
        if self.memory is not None:
            await self.memory.clear(memory_session(app.id, conversation.id))

    async def close(self) -> None:
        """Stop the answers still running (shutdown) and wait briefly for their transcripts to be stored."""
        for run_id in list(self._active.values()):
            with contextlib.suppress(ConflictError, NotFoundError):
                await self.runs.cancel(run_id, "the server is shutting down")
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)

    # -- feedback -----------------------------------------------------------------------------------------------

    async def feedback_list(self, app_id: str, *, limit: int = 200) -> list[FeedbackItem]:
        """The app's rated answers, newest first, each with the user message it answered."""
        rated = await self.apps.list_feedback(app_id, limit=limit)
        transcripts: dict[str, list[AppMessage]] = {}
        items: list[FeedbackItem] = []
        for message in rated:
            if message.conversation_id not in transcripts:
                try:
                    transcripts[message.conversation_id] = await self.apps.list_messages(message.conversation_id)
                except NotFoundError:
                    transcripts[message.conversation_id] = []
            transcript = transcripts[message.conversation_id]
            question = ""
            ids = [m.id for m in transcript]
            if message.id in ids:
                question = next(
                    (m.content for m in reversed(transcript[: ids.index(message.id)]) if m.role == "user"), ""
                )
            items.append(
                FeedbackItem(
                    message=message,
                    conversation_id=message.conversation_id,
                    run_id=message.run_id,
                    feedback=message.feedback,
                    comment=message.feedback_comment,
                    created_at=message.created_at,
                    question=question,
                )
            )
        return items


def _title(text: str) -> str:
    line = " ".join(text.split())
    return line[:TITLE_CHARS]
