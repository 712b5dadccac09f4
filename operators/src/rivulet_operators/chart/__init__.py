"""Chart operators: turn tables into ECharts charts (by rules or by a model), narratives and stored reports.

Rules live in ``rivulet.sdk.charts`` (shared with the server); reports are stored through
``ctx.service(Reports)`` (``rivulet.sdk.data``) and models reached through ``ctx.service(ModelRegistry)``.
"""

from rivulet_operators.chart import generate, recommend, report, summarize

__all__ = ("OPERATORS",)

OPERATORS = (
    recommend.Recommend,
    generate.Generate,
    summarize.Summarize,
    report.Report,
)
