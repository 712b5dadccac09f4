"""Core operators: flow inputs and outputs, constants, templates, control flow and data shaping."""

from rivulet_operators.core import (
    branch,
    constant,
    convert,
    delay,
    http_request,
    input,  # noqa: A004 - the module is named after the operator id core.input
    join,
    json_extract,
    map,  # noqa: A004 - the module is named after the operator id core.map
    merge,
    output,
    stream_text,
    template,
)

__all__ = ("OPERATORS",)

OPERATORS = (
    input.FlowInput,
    output.FlowOutput,
    constant.Constant,
    template.RenderTemplate,
    map.MapItems,
    branch.Branch,
    join.Join,
    merge.Merge,
    json_extract.ExtractJson,
    convert.Convert,
    delay.Delay,
    http_request.HttpRequestOperator,
    stream_text.StreamText,
)
