"""Size limits of flow documents sent to ``/api/flows``, checked before the document is decoded.

A flow document with 100,000 nodes costs hundreds of MB once decoded, compiled and validated, and the process
keeps that memory. ``check_flow_body`` (the ``before_request`` hook of ``FlowsController``) refuses such documents
first: a body over ``max_flow_bytes`` is a 413 without being read further (by its ``Content-Length``), and the nodes,
edges and node params of the rest are counted on a skeleton decode (``msgspec.Raw``: nothing is built for them)
before the full decode runs, each limit answered 422 ``flow_too_large`` naming the place and the setting.
The limits are settings (``RIVULET_MAX_FLOW_BYTES``, ``_NODES``, ``_EDGES``, ``_NODE_PARAMS_BYTES``; docs/security.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import msgspec
from litestar.exceptions import HTTPException

from rivulet.compiler.flow import FlowDocument
from rivulet.lib.exceptions import ValidationError
from rivulet.server.inputs import malformed_json

if TYPE_CHECKING:
    from litestar import Request

    from rivulet.lib.settings import Settings

__all__ = ("FlowTooLargeError", "check_flow_body", "check_flow_shape", "takes_flow_document")

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class FlowTooLargeError(ValidationError):
    """A flow document over one of the size limits; ``extra["errors"]`` names the place, the count and the limit."""

    code: ClassVar[str] = "flow_too_large"


class _NodeShape(msgspec.Struct):
    params: msgspec.Raw = msgspec.field(default_factory=lambda: msgspec.Raw(b"{}"))


class _DocumentShape(msgspec.Struct):
    nodes: list[_NodeShape] | None = None
    edges: list[msgspec.Raw] | None = None


class _BodyShape(_DocumentShape):
    document: _DocumentShape | None = None


_skeleton = msgspec.json.Decoder(_BodyShape)


def _too_large(path: str, what: str, count: int, limit: int, setting: str) -> FlowTooLargeError:
    message = f"{what} is {count}, more than the limit of {limit} (setting RIVULET_{setting.upper()})"
    return FlowTooLargeError(
        f"the flow document is too large: {message} at {path}",
        extra={"errors": [{"path": path, "message": message, "limit": limit, "got": count, "setting": setting}]},
    )


def check_flow_shape(document: _DocumentShape, settings: Settings, path: str) -> None:
    """Raise ``FlowTooLargeError`` for the first limit the document at ``path`` exceeds."""
    nodes = document.nodes or []
    if len(nodes) > settings.max_flow_nodes:
        raise _too_large(f"{path}.nodes", "the number of nodes", len(nodes), settings.max_flow_nodes, "max_flow_nodes")
    edges = document.edges or []
    if len(edges) > settings.max_flow_edges:
        raise _too_large(f"{path}.edges", "the number of edges", len(edges), settings.max_flow_edges, "max_flow_edges")
    for index, node in enumerate(nodes):
        size = len(node.params)
        if size > settings.max_node_params_bytes:
            raise _too_large(
                f"{path}.nodes[{index}].params",
                "the size of the node's params in JSON bytes",
                size,
                settings.max_node_params_bytes,
                "max_node_params_bytes",
            )


def takes_flow_document(data_type: Any) -> bool:
    """Whether a request body of type ``data_type`` is a flow document or holds one in a field."""
    if data_type is FlowDocument:
        return True
    fields = getattr(data_type, "__struct_fields__", ())
    hints = msgspec.structs.fields(data_type) if fields else ()
    return any(field.type is FlowDocument or field.type == FlowDocument | None for field in hints)


_takes_flow: dict[int, bool] = {}


def _handler_takes_flow(request: Request[Any, Any, Any]) -> bool:
    handler = request.route_handler
    known = _takes_flow.get(id(handler))
    if known is None:
        data = handler.parsed_fn_signature.parameters.get("data")
        known = _takes_flow[id(handler)] = data is not None and takes_flow_document(data.annotation)
    return known


async def check_flow_body(request: Request[Any, Any, Any]) -> None:
    """``before_request``: refuse a flow document over the size limits before it is decoded (413 or 422).

    Only handlers whose body is a flow document (or holds one) are checked; any other body passes untouched.
    """
    if request.method not in _BODY_METHODS or not _handler_takes_flow(request):
        return
    services = request.app.state.get("services")
    if services is None:
        return
    settings: Settings = services.settings
    limit = settings.max_flow_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(
            status_code=413, detail=f"the request body ({declared} bytes) exceeds max_flow_bytes ({limit} bytes)"
        )
    body = await request.body()
    if len(body) > limit:
        raise HTTPException(
            status_code=413, detail=f"the request body ({len(body)} bytes) exceeds max_flow_bytes ({limit} bytes)"
        )
    if not body:
        return
    try:
        shape = _skeleton.decode(body)
    except (RecursionError, UnicodeDecodeError) as exc:
        raise malformed_json(exc, what="the request body", body=body) from None
    except msgspec.MsgspecError:
        return  # not the shape of a flow document: the handler's own decoding says what is wrong
    check_flow_shape(shape, settings, "$")
    if shape.document is not None:
        check_flow_shape(shape.document, settings, "$.document")
