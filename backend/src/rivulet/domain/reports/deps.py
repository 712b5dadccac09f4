"""What the reports API uses, handed to its handlers as one dependency (``deps``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from rivulet.data.reports import ReportService
from rivulet.publishing.limits import RateLimiter

__all__ = ("ReportsDeps",)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportsDeps:
    """The report service and the per-address limit of the public share link route."""

    reports: ReportService
    shared_limiter: RateLimiter = field(default_factory=RateLimiter)
    shared_per_minute: int = 120
    """Share link opens per client address and minute (a public route: unknown tokens count too)."""
