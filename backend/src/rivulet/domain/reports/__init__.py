"""``/api/reports``: reports (charts + narrative), share links and standalone HTML export."""
