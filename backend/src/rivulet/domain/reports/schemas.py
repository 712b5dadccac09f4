"""HTTP DTOs of the reports API; a report itself is the store's ``ReportRecord``."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import msgspec
from msgspec import Meta

from rivulet.data.reports import MAX_CHARTS
from rivulet.sdk.data import ReportChart

if TYPE_CHECKING:
    from rivulet.storage.base import ReportRecord

__all__ = ("ReportCreate", "ReportList", "ReportSummary", "ReportUpdate", "ShareLink", "SharedReport")

Title = Annotated[str, Meta(min_length=1, max_length=300)]
Summary = Annotated[str, Meta(max_length=100_000)]
Charts = Annotated[list[ReportChart], Meta(max_length=MAX_CHARTS)]


class ReportCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A report made by hand (runs save theirs through ``chart.report``), owned by the caller."""

    title: Title
    summary: Summary = ""
    charts: Charts = msgspec.field(default_factory=list[ReportChart])
    datasource: Annotated[str, Meta(max_length=200)] | None = None


class ReportUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Change a report's title, summary or charts (what is left out stays)."""

    title: Title | None = None
    summary: Summary | None = None
    charts: Charts | None = None


class ReportSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A row of the report list."""

    id: str
    title: str
    summary: str
    """The first 300 characters of the narrative."""
    chart_count: int
    kinds: list[str]
    """The charts' kinds, in order."""
    datasource: str | None
    flow_id: str | None
    run_id: str | None
    owner_id: str | None
    shared: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: ReportRecord) -> ReportSummary:
        return cls(
            id=record.id,
            title=record.title,
            summary=record.summary[:300],
            chart_count=len(record.charts),
            kinds=[c.chart.kind for c in record.charts],
            datasource=record.datasource,
            flow_id=record.flow_id,
            run_id=record.run_id,
            owner_id=record.owner_id,
            shared=record.shared,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )


class ReportList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[ReportSummary]


class ShareLink(msgspec.Struct, frozen=True, kw_only=True):
    """A new share link: the token is shown only now (only its hash is stored)."""

    token: str
    url: str
    """The public page (``/r/{token}``), relative to the server."""
    api_url: str
    """The report as JSON (``/api/reports/shared/{token}``), no login needed."""


class SharedReport(msgspec.Struct, frozen=True, kw_only=True):
    """A report as a share link shows it (no owner, flow or run ids)."""

    title: str
    summary: str
    charts: list[ReportChart]
    datasource: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: ReportRecord) -> SharedReport:
        return cls(
            title=record.title,
            summary=record.summary,
            charts=record.charts,
            datasource=record.datasource,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )
