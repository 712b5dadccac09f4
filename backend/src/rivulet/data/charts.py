"""Chart recommendation for the server (data source API, reports): ``rivulet.sdk.charts`` re-exported.

The rules live in the SDK so the ``chart.*`` operators (which import only ``rivulet.sdk`` and ``rivulet.lib``)
and the server pick the same chart for the same table; docs/data-charts.md has the table of rules.
"""

from rivulet.sdk.charts import CHART_KINDS, ColumnRole, Role, column_roles, json_value, recommend_chart

__all__ = ("CHART_KINDS", "ColumnRole", "Role", "column_roles", "json_value", "recommend_chart")
