"""``/api/templates``: the gallery (list, search, show), import (packages and DB-GPT flows), export, sources."""

from __future__ import annotations

import base64
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from rivulet.compiler import analyze_flow
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
from rivulet.server.services import ServicesDep
from rivulet.templates.dbgpt import convert_dbgpt_flow
from rivulet.templates.export import export_flow
from rivulet.templates.importer import ImportReport, import_package
from rivulet.templates.index import matches
from rivulet.templates.package import TemplatePackage, package_archive, read_package_bytes, sha256_hex

__all__ = ("TemplatesController",)


class TemplatesController(Controller):
    path = "/api/templates"
    tags = ["templates"]

    @get("/", summary="Templates of every configured source, filtered by text and tag")
    async def list_templates(
        self,
        services: ServicesDep,
        q: Annotated[str | None, QueryParameter(description="Words matched against name, title, summary, tags")] = None,
        tag: Annotated[str | None, QueryParameter(description="Only packages with this tag")] = None,
    ) -> TemplateList:
        everything = await services.template_sources().catalog().list()
        items = [i for i in everything if matches(i, q, tag)]
        return TemplateList(items=items, tags=sorted({t for i in everything for t in i.tags}))

    @get("/sources", summary="Configured template sources, in search order")
    async def list_sources(self, services: ServicesDep) -> TemplateSourceList:
        return TemplateSourceList(items=services.template_sources().list())

    @post("/sources", summary="Add a template source (directory, file:// or https:// index URL)")
    async def add_source(self, services: ServicesDep, data: JSONBody[TemplateSourceCreate]) -> TemplateSourceList:
        sources = services.template_sources()
        sources.add(data.location)
        return TemplateSourceList(items=sources.list())

    @delete("/sources", summary="Remove a source added through the API", status_code=200)
    async def remove_source(
        self, services: ServicesDep, location: Annotated[str, QueryParameter(description="The source")]
    ) -> TemplateSourceList:
        sources = services.template_sources()
        sources.remove(location)
        return TemplateSourceList(items=sources.list())

    @get("/{name:str}", summary="A template's manifest and flows (latest version unless version is given)")
    async def show(
        self, services: ServicesDep, name: FromPath[str], version: Annotated[str | None, QueryParameter()] = None
    ) -> TemplateRead:
        package = await services.template_sources().catalog().open(name, version)
        return TemplateRead(
            manifest=package.manifest,
            flows=[TemplateFlow(file=f, document=d) for f, d in package.flows.items()],
            data_files=sorted(package.data),
        )

    @post("/import", summary="Validate and import a template (runs nothing; all flows or none are written)")
    async def import_template(self, services: ServicesDep, data: JSONBody[TemplateImportCreate]) -> ImportReport:
        package = await _package(services, data)
        return await import_package(
            package,
            store=services.flows,
            registry=services.registry,
            variables=data.variables,
            on_conflict=data.on_conflict,
        )

    @post("/import-dbgpt", summary="Convert a DB-GPT AWEL flow export; report what was mapped")
    async def import_dbgpt(self, services: ServicesDep, data: JSONBody[DbgptImportCreate]) -> DbgptImportRead:
        result = convert_dbgpt_flow(data.export, services.registry)
        flow_id = None
        if data.save:
            flow_id = (await services.flows.create(result.document, message="imported from DB-GPT")).summary.id
        return DbgptImportRead(
            flow_id=flow_id,
            document=result.document,
            nodes=result.nodes,
            dropped_edges=result.dropped_edges,
            diagnostics=analyze_flow(result.document, services.registry).diagnostics,
        )

    @post("/export", summary="Export a flow as a template package archive", status_code=200)
    async def export(self, services: ServicesDep, data: JSONBody[TemplateExportCreate]) -> TemplateExportRead:
        document = (await services.flows.get(data.flow_id)).document
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


async def _package(services: ServicesDep, data: TemplateImportCreate) -> TemplatePackage:
    sources = services.template_sources()
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
