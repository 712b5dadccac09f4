"""``/api/templates``: the gallery (list, search, show), import (packages and DB-GPT flows), export, sources."""

from __future__ import annotations

import asyncio
import base64
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter

from rivulet.compiler import analyze_flow
from rivulet.domain.access import OwnedFlows, principal_of, require_flow
from rivulet.domain.templates.deps import TemplatesDeps
from rivulet.domain.templates.schemas import (
    DbgptImportCreate,
    DbgptImportRead,
    TemplateExportCreate,
    TemplateExportRead,
    TemplateFlow,
    TemplateImportCreate,
    TemplateList,
    TemplateRead,
    TemplateSourceCreate,
    TemplateSourceList,
)
from rivulet.lib.exceptions import ValidationError
from rivulet.security.permissions import Permission, requires
from rivulet.server.deps import Injected
from rivulet.templates.dbgpt import convert_dbgpt_flow
from rivulet.templates.export import export_flow
from rivulet.templates.importer import ImportReport, import_package
from rivulet.templates.index import matches
from rivulet.templates.package import TemplatePackage, package_archive, read_package_bytes, sha256_hex

if TYPE_CHECKING:
    from rivulet.templates.sources import TemplateSources

__all__ = ("TemplatesController",)

_READ = requires(Permission.FLOWS_READ)
_WRITE = requires(Permission.FLOWS_WRITE)
_ADMIN = requires(Permission.ADMIN)


class TemplatesController(Controller):
    path = "/api/templates"
    tags = ["templates"]

    @get("/", summary="Templates of every configured source, filtered by text and tag", opt=_READ)
    async def list_templates(
        self,
        deps: Injected[TemplatesDeps],
        q: Annotated[str | None, QueryParameter(description="Words matched against name, title, summary, tags")] = None,
        tag: Annotated[str | None, QueryParameter(description="Only packages with this tag")] = None,
    ) -> TemplateList:
        everything = await deps.templates.catalog().list()
        items = [i for i in everything if matches(i, q, tag)]
        return TemplateList(items=items, tags=sorted({t for i in everything for t in i.tags}))

    @get("/sources", summary="Configured template sources, in search order", opt=_READ)
    async def list_sources(self, deps: Injected[TemplatesDeps]) -> TemplateSourceList:
        return TemplateSourceList(items=deps.templates.list())

    @post("/sources", summary="Add a template source (directory, file:// or https:// index URL)", opt=_ADMIN)
    async def add_source(
        self, deps: Injected[TemplatesDeps], data: JSONBody[TemplateSourceCreate]
    ) -> TemplateSourceList:
        sources = deps.templates
        sources.add(data.location)
        return TemplateSourceList(items=sources.list())

    @delete("/sources", summary="Remove a source added through the API", status_code=200, opt=_ADMIN)
    async def remove_source(
        self, deps: Injected[TemplatesDeps], location: Annotated[str, QueryParameter(description="The source")]
    ) -> TemplateSourceList:
        sources = deps.templates
        sources.remove(location)
        return TemplateSourceList(items=sources.list())

    @get("/{name:str}", summary="A template's manifest and flows (latest version unless version is given)", opt=_READ)
    async def show(
        self,
        deps: Injected[TemplatesDeps],
        name: FromPath[str],
        version: Annotated[str | None, QueryParameter()] = None,
    ) -> TemplateRead:
        package = await deps.templates.catalog().open(name, version)
        return TemplateRead(
            manifest=package.manifest,
            flows=[TemplateFlow(file=f, document=d) for f, d in package.flows.items()],
            data_files=sorted(package.data),
        )

    @post("/import", summary="Validate and import a template (runs nothing; all flows or none are written)", opt=_WRITE)
    async def import_template(
        self,
        deps: Injected[TemplatesDeps],
        request: Request[Any, Any, Any],
        data: JSONBody[TemplateImportCreate],
    ) -> ImportReport:
        package = await _package(deps.templates, data)
        return await import_package(
            package,
            store=OwnedFlows(deps.flows, principal_of(request)),
            registry=deps.registry,
            variables=data.variables,
            on_conflict=data.on_conflict,
        )

    @post(
        "/import-dbgpt",
        summary="Convert a DB-GPT AWEL flow export; report what was mapped (201 saved, 200 with save: false)",
        status_code=201,
        responses={200: ResponseSpec(DbgptImportRead, description="Converted only (save: false): nothing created")},
        opt=_WRITE,
    )
    async def import_dbgpt(
        self,
        *,
        deps: Injected[TemplatesDeps],
        request: Request[Any, Any, Any],
        data: JSONBody[DbgptImportCreate],
    ) -> Response[DbgptImportRead]:
        chat_models = [m.name for m in await deps.models.list_models() if m.kind == "chat"]
        limits = deps.settings
        result = await asyncio.to_thread(  # conversion and compiling are CPU work: off the event loop
            convert_dbgpt_flow,
            data.export,
            deps.registry,
            models=chat_models,
            max_nodes=limits.max_flow_nodes,
            max_edges=limits.max_flow_edges,
        )
        analysis = await asyncio.to_thread(analyze_flow, result.document, deps.registry)
        flow_id = None
        if data.save:
            owned = OwnedFlows(deps.flows, principal_of(request))
            flow_id = (await owned.create(result.document, message="imported from DB-GPT")).summary.id
        body = DbgptImportRead(
            flow_id=flow_id,
            document=result.document,
            nodes=result.nodes,
            dropped_edges=result.dropped_edges,
            diagnostics=analysis.diagnostics,
        )
        return Response(body, status_code=201 if data.save else 200)

    @post("/export", summary="Export a flow as a template package archive", status_code=200, opt=_READ)
    async def export(
        self, deps: Injected[TemplatesDeps], request: Request[Any, Any, Any], data: JSONBody[TemplateExportCreate]
    ) -> TemplateExportRead:
        document = (await require_flow(deps.flows, principal_of(request), data.flow_id, "read")).document
        try:
            package = export_flow(
                document,
                name=data.name,
                version=data.version,
                title=data.title,
                description=data.description,
                author=data.author,
                license=data.license,
            )
        except msgspec.ValidationError as exc:
            raise ValidationError(f"cannot export: {exc}") from exc
        archive = package_archive(package, data.format)
        return TemplateExportRead(
            manifest=package.manifest,
            sha256=sha256_hex(archive),
            archive_base64=base64.b64encode(archive).decode(),
            filename=f"{data.name}-{data.version}.{data.format}",
        )


async def _package(sources: TemplateSources, data: TemplateImportCreate) -> TemplatePackage:
    if data.url is not None:
        if not data.url.startswith("https://"):
            # file:// would let API callers probe the server's files; local archives go through a source
            raise ValidationError(
                "importing by url takes an https:// URL; add local directories or indexes as template sources",
                extra={"errors": [{"path": "$.url", "message": "https only"}]},
            )
        if data.sha256 is None:
            raise ValidationError(
                "importing by url needs the archive's sha256",
                extra={"errors": [{"path": "$.sha256", "message": "required with url"}]},
            )
        raw = await sources.fetcher.fetch(data.url)
        return read_package_bytes(raw, origin=data.url, expected_sha256=data.sha256)
    if data.name is None:
        raise ValidationError(
            "give a template name (or a url and sha256)", extra={"errors": [{"path": "$.name", "message": "required"}]}
        )
    return await sources.catalog().open(data.name, data.version)
