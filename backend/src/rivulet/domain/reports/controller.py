"""``/api/reports``: reports (charts + narrative) made by runs or by hand, share links and HTML export.

Every signed-in role lists and reads reports (``data:read``), but only their own (administrators: all); editors
and administrators create reports and update, delete or share their own (``data:query``). Someone else's report
answers 404, like a missing one. ``POST /{id}/share`` makes a link token shown once (only its hash is stored; a
new link replaces the old one), ``DELETE /{id}/share`` revokes it, and ``GET /api/reports/shared/{token}`` opens
the report without a login while the link is live (limited per client address). ``GET /{id}/export.html`` is
the report as one standalone HTML file (docs/data-charts.md).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from rivulet.domain.access import principal_of
from rivulet.domain.reports.deps import ReportsDeps
from rivulet.domain.reports.schemas import (
    ReportCreate,
    ReportList,
    ReportSummary,
    ReportUpdate,
    SharedReport,
    ShareLink,
)
from rivulet.lib.exceptions import NotFoundError, PermissionDeniedError, RateLimitedError
from rivulet.security.permissions import Permission, owns_or_administers, requires
from rivulet.server.auth import PUBLIC
from rivulet.server.deps import Injected
from rivulet.storage.base import ReportRecord

if TYPE_CHECKING:
    from rivulet.security import Principal

__all__ = ("ReportsController",)

_READ = requires(Permission.DATA_READ)
_WRITE = requires(Permission.DATA_QUERY)
_SLUG = re.compile(r"[^A-Za-z0-9._-]+")


def _may_read(principal: Principal, record: ReportRecord) -> bool:
    return principal.is_admin or (record.owner_id is not None and record.owner_id == principal.user_id)


async def _readable(deps: ReportsDeps, request: Request[Any, Any, Any], report_id: str) -> ReportRecord:
    """The report, when the caller owns it or is an administrator (else 404, like a missing one)."""
    record = await deps.reports.get(report_id)
    if not _may_read(principal_of(request), record):
        raise NotFoundError(f"report {report_id!r} not found", extra={"report": report_id})
    return record


async def _managed(deps: ReportsDeps, request: Request[Any, Any, Any], report_id: str) -> ReportRecord:
    """The report, when the caller may change it: its owner (an editor) or an administrator."""
    record = await _readable(deps, request, report_id)
    if not owns_or_administers(principal_of(request), record.owner_id):
        raise PermissionDeniedError(
            f"only the owner of report {report_id!r} (an editor) or an administrator may change it",
            extra={"report": report_id},
        )
    return record


def _filename(title: str) -> str:
    slug = _SLUG.sub("-", title).strip("-.")[:80]
    return f"{slug or 'report'}.html"


class ReportsController(Controller):
    path = "/api/reports"
    tags = ["reports"]

    @get("/", summary="Reports the caller owns (administrators: every report), newest first", opt=_READ)
    async def list_reports(
        self,
        deps: Injected[ReportsDeps],
        request: Request[Any, Any, Any],
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> ReportList:
        principal = principal_of(request)
        if principal.is_admin:
            records = await deps.reports.list(limit=limit)
        elif principal.user_id is None:
            records = []
        else:
            records = await deps.reports.list(owner_id=principal.user_id, limit=limit)
        return ReportList(items=[ReportSummary.of(r) for r in records])

    @post("/", summary="Create a report, owned by the caller", opt=_WRITE)
    async def create_report(
        self, deps: Injected[ReportsDeps], request: Request[Any, Any, Any], data: JSONBody[ReportCreate]
    ) -> ReportRecord:
        return await deps.reports.create(
            title=data.title,
            summary=data.summary,
            charts=data.charts,
            datasource=data.datasource,
            owner_id=principal_of(request).user_id,
        )

    @get(
        "/shared/{token:str}",
        summary="A shared report, by its link token (no login; 404 once the link is revoked)",
        opt=PUBLIC,
    )
    async def shared_report(
        self, deps: Injected[ReportsDeps], request: Request[Any, Any, Any], token: FromPath[str]
    ) -> Response[SharedReport]:
        address = request.client.host if request.client else "unknown"
        wait_s = deps.shared_limiter.acquire(f"shared:{address}", per_minute=deps.shared_per_minute)
        if wait_s > 0:
            raise RateLimitedError("too many shared report requests from this address", retry_after_s=wait_s)
        record = await deps.reports.shared(token)
        return Response(
            SharedReport.of(record),
            headers={"cache-control": "no-cache", "referrer-policy": "no-referrer"},
        )

    @get("/{report_id:str}", summary="One report with its charts, tables and SQL", opt=_READ)
    async def get_report(
        self, deps: Injected[ReportsDeps], request: Request[Any, Any, Any], report_id: FromPath[str]
    ) -> ReportRecord:
        return await _readable(deps, request, report_id)

    @patch("/{report_id:str}", summary="Change a report's title, summary or charts (owner or admin)", opt=_WRITE)
    async def update_report(
        self,
        deps: Injected[ReportsDeps],
        request: Request[Any, Any, Any],
        report_id: FromPath[str],
        data: JSONBody[ReportUpdate],
    ) -> ReportRecord:
        await _managed(deps, request, report_id)
        return await deps.reports.update(report_id, title=data.title, summary=data.summary, charts=data.charts)

    @delete("/{report_id:str}", summary="Delete a report and its share link (owner or admin)", opt=_WRITE)
    async def delete_report(
        self, deps: Injected[ReportsDeps], request: Request[Any, Any, Any], report_id: FromPath[str]
    ) -> None:
        await _managed(deps, request, report_id)
        await deps.reports.delete(report_id)

    @post(
        "/{report_id:str}/share",
        summary="Make a share link (the token is shown once; an older link stops working)",
        opt=_WRITE,
    )
    async def share_report(
        self, deps: Injected[ReportsDeps], request: Request[Any, Any, Any], report_id: FromPath[str]
    ) -> ShareLink:
        await _managed(deps, request, report_id)
        _, token = await deps.reports.share(report_id)
        return ShareLink(token=token, url=f"/r/{token}", api_url=f"/api/reports/shared/{token}")

    @delete("/{report_id:str}/share", summary="Revoke a report's share link", opt=_WRITE)
    async def unshare_report(
        self, deps: Injected[ReportsDeps], request: Request[Any, Any, Any], report_id: FromPath[str]
    ) -> None:
        await _managed(deps, request, report_id)
        await deps.reports.unshare(report_id)

    @get(
        "/{report_id:str}/export.html",
        summary="The report as one standalone HTML file (charts drawn offline, every text escaped)",
        opt=_READ,
        media_type="text/html",
    )
    async def export_report(
        self, deps: Injected[ReportsDeps], request: Request[Any, Any, Any], report_id: FromPath[str]
    ) -> Response[str]:
        record = await _readable(deps, request, report_id)
        return Response(
            deps.reports.render_html(record),
            media_type="text/html; charset=utf-8",
            headers={
                "content-disposition": f'attachment; filename="{_filename(record.title)}"',
            },
        )
