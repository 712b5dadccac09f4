"""``/api/reports``: reports (charts + narrative), share links and standalone HTML export."""

from rivulet.domain.reports.controller import ReportsController

__all__ = ("ReportsController",)
