"""The OpenAPI 3.1 document of every published endpoint (``GET /f/openapi.json``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from rivulet import __version__
from rivulet.sdk.ports import python_type_of

if TYPE_CHECKING:
    from rivulet.compiler.graph import CompiledGraph
    from rivulet.publishing.registry import LiveEndpoint

__all__ = ("endpoints_openapi",)

_REF = "#/components/schemas/{name}"
_PROBLEM = {"$ref": "#/components/schemas/Problem"}


def _output_type(graph: CompiledGraph) -> Any:
    """The Python type of the response: the output node's value, or an object of outputs by name."""
    types: dict[str, Any] = {}
    for node_id in graph.output_nodes:
        node = graph.nodes[node_id]
        edge = graph.edges[node.incoming[0]] if node.incoming else None
        try:
            value_type = python_type_of(edge.type) if edge is not None else Any
        except TypeError:
            value_type = Any
        name = getattr(node.params, "name", node_id)
        types[str(name)] = value_type
    if len(types) == 1:
        return next(iter(types.values()))
    return msgspec.defstruct(f"Outputs_{graph.flow_id.replace('-', '_')}", list(types.items()))


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": _PROBLEM}}}


def _operation(
    live: LiveEndpoint, body_ref: dict[str, Any], body_schema: dict[str, Any], response: dict[str, Any]
) -> dict[str, Any]:
    params = live.params
    operation: dict[str, Any] = {
        "operationId": f"call_{live.record.slug.replace('-', '_')}",
        "summary": live.graph.name or live.record.slug,
        "description": params.description or f"Runs flow {live.record.flow_id} v{live.record.flow_version}.",
        "parameters": [
            {"name": "wait", "in": "query", "required": False, "schema": {"type": "boolean", "default": True}}
        ],
        "responses": {
            "200": response,
            "202": {"description": "`?wait=false`: the run started", "content": {"application/json": {}}},
            "401": _problem("missing or invalid credentials"),
            "403": _problem("the API key is not scoped to this endpoint"),
            "422": _problem("the body does not match; `errors[].field` names the field"),
            "429": _problem("rate or concurrency limit; see Retry-After"),
            "500": _problem("the run failed; `run_id` and `error` locate it"),
        },
    }
    if live.record.method == "GET":
        properties: dict[str, Any] = body_schema.get("properties", {})
        for field in params.fields:
            operation["parameters"].append(
                {
                    "name": field.name,
                    "in": "query",
                    "required": field.required,
                    "description": field.description,
                    "schema": properties.get(field.name, {}),  # a parameter needs a schema to be valid OpenAPI
                }
            )
    else:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body_ref}}}
    return operation


def endpoints_openapi(endpoints: list[LiveEndpoint]) -> dict[str, Any]:
    """The document: one path per endpoint, schemas under ``components``."""
    types: list[Any] = []
    for live in endpoints:
        types.extend([live.body_type, _output_type(live.graph)])
    refs, components = msgspec.json.schema_components(types, ref_template=_REF)
    components["Problem"] = {"type": "object", "properties": {"code": {"type": "string"}, "detail": {"type": "string"}}}
    paths: dict[str, Any] = {}
    for index, live in enumerate(endpoints):
        body_ref, output_schema = refs[2 * index], refs[2 * index + 1]
        if live.streams:
            response = {
                "description": "Server-Sent Events: `token` events (`{node_id, port, data}`) while the run streams, "
                "then one `result` (`{run_id, status, output}`) or `error` event.",
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            }
        else:
            response = {
                "description": "The output node's value",
                "content": {"application/json": {"schema": output_schema}},
            }
        body_schema = components.get(str(body_ref.get("$ref", "")).rsplit("/", 1)[-1], {})
        paths[f"/f/{live.record.slug}"] = {
            live.record.method.lower(): _operation(live, body_ref, body_schema, response)
        }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Rivulet published endpoints", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "An API key (rvk_…)"}},
        },
        "security": [{"bearer": []}],
    }
