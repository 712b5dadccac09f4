"""Chat-data settings of the DB-GPT converter, as pure functions: Text2SQL params, the answer's join template.

DB-GPT's chat-data flow (``chat-data-awel-flow-template.json``) asks in three nodes what Rivulet's ``sql.generate``
does in one: ``HODatasourceRetrieverOperator`` links the schema and writes a prompt asking for JSON
(``{"thoughts", "sql", "display_type"}``), a higher-order LLM answers it and ``SQLOutputParser`` parses the JSON;
``HODatasourceExecutorOperator`` then runs the SQL, unchecked, once. ``sql.generate`` links the schema, prompts,
guards the SQL (read-only, real columns) and runs it, sending failures back to the model with their error, so the
four nodes become that one node: its ``table`` is what the executor handed on.

The executor hands on two texts, a GPT-Vis chart view of the rows and a markdown table; ``ReportAnalystOperator``
reads the markdown and ``StringJoinOperator`` joins the view with the analysis. In Rivulet the rows stay a
``Table``: the analysis reads it (``chart.summarize``), the join renders it as a markdown table (``core.template``),
and the chart the model picked (``display_type``) is drawn by ``chart.recommend`` from the columns instead.

Example:
    >>> print(join_template([("input_strings", False), ("input_strings_1", False)], " | "))
    {{ input_strings }} | {{ input_strings_1 }}
"""

from __future__ import annotations

from typing import Any

__all__ = (
    "DEFAULT_MAX_RESULTS",
    "DEFAULT_SEPARATOR",
    "MAX_JOIN_INPUTS",
    "analyst_notes",
    "join_template",
    "join_variable",
    "markdown_table",
    "text2sql_params",
)

DEFAULT_MAX_RESULTS = 50
"""``HODatasourceRetrieverOperator``'s ``max_num_results``: DB-GPT asks the model for at most this many rows."""
DEFAULT_SEPARATOR = "\n\n"
"""``StringJoinOperator``'s separator."""
MAX_JOIN_INPUTS = 32
"""The most inputs of a ``StringJoinOperator`` carried (each becomes a template variable)."""
_MAX_ROWS = 1_000_000
"""``sql.generate``'s largest ``max_rows``."""


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and value >= 1:
        return int(value)
    if isinstance(value, str):
        try:
            number = int(float(value.strip()))
        except ValueError:
            return None
        return number if number >= 1 else None
    return None


def _set(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def text2sql_params(retriever: dict[str, Any], explicit: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``sql.generate`` params from a ``HODatasourceRetrieverOperator``'s, and notes for the report.

    Args:
        retriever: The retriever's parameter values (DB-GPT's defaults filled in).
        explicit: Only the values the export sets.

    ``max_num_results`` (DB-GPT asks the model to stay under it) becomes ``max_rows`` (the guard's row limit). A
    custom prompt template, display types or response format are DB-GPT prompt text for a JSON answer: not carried.
    """
    params: dict[str, Any] = {}
    notes: list[str] = []
    limit = _positive_int(retriever.get("max_num_results"))
    if limit is not None:
        params["max_rows"] = min(limit, _MAX_ROWS)
        notes.append(f"max_num_results {limit} → max_rows {params['max_rows']} (the guard adds the row limit)")
    carried_not = [k for k in ("prompt_template", "display_type", "response_format") if _set(explicit.get(k))]
    if carried_not:
        notes.append(
            f"{', '.join(carried_not)} not carried: sql.generate writes its own prompt (linked schema, examples, "
            "dialect) and asks for SQL, not DB-GPT's JSON answer"
        )
    return params, notes


def analyst_notes(explicit: dict[str, Any]) -> list[str]:
    """Notes for a ``ReportAnalystOperator`` mapped to ``chart.summarize``."""
    notes = ["analyses the rows themselves (DB-GPT: the markdown table) with chart.summarize's prompt"]
    if _set(explicit.get("prompt_template")):
        notes.append("its prompt template is not carried: chart.summarize asks for a short narrative of the numbers")
    return notes


def join_variable(index: int) -> str:
    """The template variable of a ``StringJoinOperator``'s input ``index`` (DB-GPT's dynamic input names)."""
    return "input_strings" if index == 0 else f"input_strings_{index}"


def markdown_table(variable: str) -> str:
    """A Jinja2 block rendering the ``Table`` in ``variable`` as a markdown table (what DB-GPT's executor shows)."""
    v = variable
    return (
        f"| {{{{ {v}.columns | join(' | ') }}}} |\n"
        f"|{{% for c in {v}.columns %}} --- |{{% endfor %}}"
        f"{{% for row in {v}.rows %}}\n| {{{{ row | join(' | ') }}}} |{{% endfor %}}"
        f"{{% if {v}.truncated %}}\n(more rows not shown){{% endif %}}"
    )


def join_template(variables: list[tuple[str, bool]], separator: Any) -> str:
    """A ``core.template`` joining the variables in order (a ``Table`` one as a markdown table) with ``separator``."""
    sep = separator if isinstance(separator, str) else DEFAULT_SEPARATOR
    sep = sep.replace("{", "{{ '{' }}")
    parts = [markdown_table(name) if table else f"{{{{ {name} }}}}" for name, table in variables]
    return sep.join(parts)
