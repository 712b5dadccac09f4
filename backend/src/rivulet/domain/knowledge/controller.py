"""``/api/knowledge``: spaces, their documents, ingestion (upload, URLs, text) as background jobs, search playground.

Every signed-in role reads spaces and searches them (``knowledge:read``); editors and administrators create spaces and
add or delete documents (``knowledge:write``); a space's settings and the space itself are changed or deleted by its
owner or an administrator. A space is addressed by its id or its name. Ingestion answers 202 with a job
(``GET /api/knowledge/jobs/{id}``, Server-Sent Events at ``.../events``); docs/knowledge.md has the shapes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, patch, post
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from rivulet.domain.access import principal_of
from rivulet.domain.knowledge.deps import KnowledgeDeps
from rivulet.domain.knowledge.schemas import (
    DocumentList,
    GraphSearchRequest,
    IngestJobList,
    IngestJobRead,
    RetrieverHit,
    SearchHit,
    SearchResult,
    SearchTimings,
    SpaceCreate,
    SpaceList,
    SpaceUpdate,
    TextIngest,
    UrlIngest,
)
from rivulet.knowledge.service import INTERNAL_SPACE_PREFIX
from rivulet.lib.exceptions import AppError, PermissionDeniedError, ValidationError
from rivulet.sdk.knowledge import IngestItem, IngestProgress, IngestReport, SearchRequest
from rivulet.sdk.models import CallOrigin
from rivulet.sdk.ports import Document
from rivulet.security.permissions import Permission, owns_or_administers, requires
from rivulet.server.deps import Injected
from rivulet.server.uploads import stage_upload
from rivulet.storage.base import DocumentRecord, DocumentStatus, SpaceRecord

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from rivulet.domain.knowledge.jobs import IngestJob, IngestWork
    from rivulet.knowledge.service import KnowledgeService
    from rivulet.sdk.knowledge import ProgressCallback
    from rivulet.sdk.ports import Chunk

__all__ = ("KnowledgeController", "KnowledgeDocumentsController")

_READ = requires(Permission.KNOWLEDGE_READ)
_WRITE = requires(Permission.KNOWLEDGE_WRITE)
_API = CallOrigin(kind="api")


async def _managed_space(deps: KnowledgeDeps, request: Request[Any, Any, Any], space: str) -> SpaceRecord:
    """The space, when the caller owns it or is an administrator (else 403)."""
    record = await deps.knowledge.get_space(space)
    if not owns_or_administers(principal_of(request), record.owner_id):
        raise PermissionDeniedError(
            f"only the owner of space {record.name!r} or an administrator may change or delete it",
            extra={"space": record.name},
        )
    return record


def _hit(chunk: Chunk) -> SearchHit:
    metadata = chunk.metadata
    try:
        retrievers = msgspec.convert(metadata.get("retrievers") or {}, dict[str, RetrieverHit])
    except msgspec.ValidationError:
        retrievers = {}
    document = metadata.get("document")
    return SearchHit(
        chunk_id=chunk.id,
        document_id=chunk.document_id,
        document=document if isinstance(document, str) else chunk.document_id,
        source=chunk.source,
        text=chunk.text,
        score=chunk.score,
        retrievers=retrievers,
        metadata=metadata,
    )


def _url_work(knowledge: KnowledgeService, space: SpaceRecord, urls: Sequence[str]) -> IngestWork:
    """Fetch each URL (a failing one is reported, the others are kept), then ingest what was loaded."""

    async def work(progress: ProgressCallback) -> IngestReport:
        loaded: list[Document] = []
        failed: list[IngestItem] = []
        for done, url in enumerate(urls):
            await progress(
                IngestProgress(
                    documents_done=done, documents_total=len(urls), chunks_done=0, chunks_total=0, document=url
                )
            )
            try:
                loaded.extend(await knowledge.load_url(url))
            except AppError as exc:
                failed.append(IngestItem(name=url, status="failed", error=exc.detail))
        if not loaded:
            return IngestReport(space=space.name, items=failed)
        report = await knowledge.ingest(space.id, loaded, on_progress=progress, origin=_API)
        return msgspec.structs.replace(report, items=[*failed, *report.items])

    return work


async def _sse(job: IngestJob) -> AsyncIterator[ServerSentEventMessage]:
    async for state in job.updates():
        if state is None:
            yield ServerSentEventMessage(data=None, comment="keep-alive")
        elif state.status == "running":
            yield ServerSentEventMessage(data=_json(state.progress), event="progress", id=job.version)
        else:
            yield ServerSentEventMessage(data=_json(state), event=state.status, id=job.version)


def _json(value: object) -> str:
    return msgspec.json.encode(value).decode()


class KnowledgeController(Controller):
    path = "/api/knowledge"
    tags = ["knowledge"]

    @get("/spaces", summary="Knowledge spaces, by name, with their document and chunk counts", opt=_READ)
    async def list_spaces(self, deps: Injected[KnowledgeDeps]) -> SpaceList:
        spaces = await deps.knowledge.list_spaces()
        return SpaceList(items=[space for space in spaces if not space.name.startswith(INTERNAL_SPACE_PREFIX)])

    @post("/spaces", summary="Create a knowledge space, owned by the caller", opt=_WRITE)
    async def create_space(
        self, deps: Injected[KnowledgeDeps], request: Request[Any, Any, Any], data: JSONBody[SpaceCreate]
    ) -> SpaceRecord:
        if data.name.startswith(INTERNAL_SPACE_PREFIX):
            message = f"space names starting with {INTERNAL_SPACE_PREFIX!r} are reserved for internal spaces"
            raise ValidationError(message, extra={"errors": [{"path": "$.name", "message": message}]})
        return await deps.knowledge.create_space(
            name=data.name,
            embedding_model=data.embedding_model,
            description=data.description,
            chunking=data.chunking,
            language=data.language,
            owner_id=principal_of(request).user_id,
        )

    @get("/spaces/{space:str}", summary="One space (by id or name) with its counts", opt=_READ)
    async def get_space(self, deps: Injected[KnowledgeDeps], space: FromPath[str]) -> SpaceRecord:
        return await deps.knowledge.get_space(space)

    @patch("/spaces/{space:str}", summary="Change a space's description or chunking (owner or admin)", opt=_WRITE)
    async def update_space(
        self,
        deps: Injected[KnowledgeDeps],
        request: Request[Any, Any, Any],
        space: FromPath[str],
        data: JSONBody[SpaceUpdate],
    ) -> SpaceRecord:
        record = await _managed_space(deps, request, space)
        return await deps.knowledge.update_space(record.id, description=data.description, chunking=data.chunking)

    @delete("/spaces/{space:str}", summary="Delete a space with its documents (owner or admin)", opt=_WRITE)
    async def delete_space(
        self, deps: Injected[KnowledgeDeps], request: Request[Any, Any, Any], space: FromPath[str]
    ) -> None:
        record = await _managed_space(deps, request, space)
        await deps.knowledge.delete_space(record.id)

    @delete("/spaces/{space:str}/documents/{document_id:str}", summary="Delete a document", opt=_WRITE)
    async def delete_document(
        self, deps: Injected[KnowledgeDeps], space: FromPath[str], document_id: FromPath[str]
    ) -> None:
        await deps.knowledge.delete_document(space, document_id)

    @post(
        "/spaces/{space:str}/documents/urls",
        status_code=202,
        summary="Fetch URLs (through the outbound network guard) and ingest them as a background job",
        opt=_WRITE,
    )
    async def ingest_urls(
        self, deps: Injected[KnowledgeDeps], space: FromPath[str], data: JSONBody[UrlIngest]
    ) -> IngestJobRead:
        record = await deps.knowledge.get_space(space)
        work = _url_work(deps.knowledge, record, data.urls)
        return deps.jobs.start(space=record, kind="urls", documents=data.urls, work=work).read()

    @post(
        "/spaces/{space:str}/documents/text",
        status_code=202,
        summary="Ingest a text as one document, as a background job",
        opt=_WRITE,
    )
    async def ingest_text(
        self, deps: Injected[KnowledgeDeps], space: FromPath[str], data: JSONBody[TextIngest]
    ) -> IngestJobRead:
        record = await deps.knowledge.get_space(space)
        document = Document(id=data.name, text=data.text, metadata=data.metadata)

        async def work(progress: ProgressCallback) -> IngestReport:
            return await deps.knowledge.ingest(record.id, [document], on_progress=progress, origin=_API)

        return deps.jobs.start(space=record, kind="text", documents=[data.name], work=work).read()

    @post("/spaces/{space:str}/search", status_code=200, summary="Search a space (the playground)", opt=_READ)
    async def search(
        self, deps: Injected[KnowledgeDeps], space: FromPath[str], data: JSONBody[SearchRequest]
    ) -> SearchResult:
        record = await deps.knowledge.get_space(space)
        started = time.perf_counter()
        chunks = await deps.knowledge.search(record.id, data, origin=_API)
        timings = SearchTimings(total_ms=(time.perf_counter() - started) * 1000)
        hits = [_hit(chunk) for chunk in chunks]
        return SearchResult(space=record.name, query=data.query, mode=data.mode, hits=hits, timings=timings)

    @post(
        "/spaces/{space:str}/graph/search",
        status_code=200,
        summary="Search a space's knowledge graph around the entities the query names, with vector hits",
        opt=_READ,
    )
    async def graph_search(
        self, deps: Injected[KnowledgeDeps], space: FromPath[str], data: JSONBody[GraphSearchRequest]
    ) -> SearchResult:
        record = await deps.knowledge.get_space(space)
        started = time.perf_counter()
        chunks = await deps.knowledge.graph_search(
            record.id, data.query, depth=data.depth, top_k=data.top_k, origin=_API
        )
        timings = SearchTimings(total_ms=(time.perf_counter() - started) * 1000)
        hits = [_hit(chunk) for chunk in chunks]
        return SearchResult(space=record.name, query=data.query, mode="graph", hits=hits, timings=timings)

    @get("/jobs", summary="This server's ingestion jobs (of one space), newest first", opt=_READ)
    async def list_jobs(
        self,
        deps: Injected[KnowledgeDeps],
        space: Annotated[str | None, QueryParameter(required=False, description="a space's id or name")] = None,
    ) -> IngestJobList:
        space_id = (await deps.knowledge.get_space(space)).id if space is not None else None
        return IngestJobList(items=[job.read() for job in deps.jobs.list(space_id)])

    @get("/jobs/{job_id:str}", summary="An ingestion job: status, progress and, once done, its report", opt=_READ)
    async def get_job(self, deps: Injected[KnowledgeDeps], job_id: FromPath[str]) -> IngestJobRead:
        return deps.jobs.get(job_id).read()

    @get(
        "/jobs/{job_id:str}/events",
        summary="An ingestion job's progress as Server-Sent Events, until it ends",
        description="`event: progress` with an `IngestProgress` on each change (coalesced), then one "
        "`event: done` (or `failed`) with the whole `IngestJobRead`; a `: keep-alive` comment every 15 s "
        "without a change. A job that already ended sends only its last event.",
        media_type="text/event-stream",
        opt=_READ,
    )
    async def job_events(self, deps: Injected[KnowledgeDeps], job_id: FromPath[str]) -> ServerSentEvent:
        return ServerSentEvent(_sse(deps.jobs.get(job_id)))


@dataclass
class _MultipartUpload(Operation):
    """The OpenAPI operation of the upload: its body is read by the handler itself (streamed to disk)."""

    def __post_init__(self) -> None:
        files = Schema(type=OpenAPIType.ARRAY, items=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY))
        form = Schema(
            type=OpenAPIType.OBJECT,
            properties={"files": files},
            required=["files"],
            description="One part named `files` per file; its file name (a relative path keeps its folders) is the "
            "document's name in the space.",
        )
        self.request_body = RequestBody(content={"multipart/form-data": OpenAPIMediaType(schema=form)}, required=True)


class KnowledgeDocumentsController(Controller):
    """``/spaces/{space}/documents``: mounted with the upload body limit (``max_upload_bytes`` and the framing).

    The listing shares the path (one route per path: Litestar answers its ``OPTIONS`` once); it takes no body.
    """

    path = "/api/knowledge"
    tags = ["knowledge"]

    @get("/spaces/{space:str}/documents", summary="A space's documents, by name, with their status", opt=_READ)
    async def list_documents(
        self,
        deps: Injected[KnowledgeDeps],
        space: FromPath[str],
        status: Annotated[DocumentStatus | None, QueryParameter(required=False)] = None,
    ) -> DocumentList:
        documents: list[DocumentRecord] = await deps.knowledge.list_documents(space)
        return DocumentList(items=[d for d in documents if status is None or d.status == status])

    @post(
        "/spaces/{space:str}/documents",
        status_code=202,
        summary="Upload files (multipart/form-data, one part named 'files' each) and ingest them as a background job",
        description="Each file is streamed to disk as it arrives, then parsed by its type (txt, md, html, pdf, docx, "
        "csv, xlsx, json); a file over `max_upload_file_bytes` or an upload over `max_upload_bytes` is a 413 "
        "`upload_too_large` naming the file and the limit. A document whose name exists is replaced when its "
        "content changed (`unchanged` otherwise); a file that cannot be read fails alone.",
        operation_class=_MultipartUpload,
        opt=_WRITE,
    )
    async def upload(
        self, deps: Injected[KnowledgeDeps], request: Request[Any, Any, Any], space: FromPath[str]
    ) -> IngestJobRead:
        record = await deps.knowledge.get_space(space)  # 404 before the body is read
        staged = await stage_upload(request, deps.uploads)
        files = staged.files

        async def work(progress: ProgressCallback) -> IngestReport:
            return await deps.knowledge.ingest_files(record.id, files, on_progress=progress, origin=_API)

        try:
            job = deps.jobs.start(
                space=record, kind="upload", documents=[f.name for f in files], work=work, cleanup=staged.remove
            )
        except BaseException:
            await staged.remove()
            raise
        return job.read()
