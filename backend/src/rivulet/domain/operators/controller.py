"""The operator catalog API: what the editor's palette, nodes and params forms are rendered from."""

from __future__ import annotations

import asyncio
import functools
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from msgspec import Meta

from rivulet.lib.exceptions import NotFoundError, ValidationError
from rivulet.registry.catalog import OperatorCatalog, OperatorPorts, OperatorRead, build_catalog, resolve_ports
from rivulet.registry.registry import OperatorRegistry
from rivulet.security.permissions import Permission, requires
from rivulet.server.deps import Injected

__all__ = ("OperatorsController", "PortsAnswer", "PortsBatch", "PortsBatchItem", "PortsRequest")

_READ = requires(Permission.FLOWS_READ)


class PortsRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Params of a node whose ports are wanted."""

    params: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])
    version: Annotated[int, Meta(ge=1)] | None = None
    """Operator version; the latest when omitted."""


class PortsBatchItem(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One node whose ports are wanted (``POST /api/operators/ports``)."""

    operator: Annotated[str, Meta(min_length=1, max_length=200)]
    params: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])
    version: Annotated[int, Meta(ge=1)] | None = None


class PortsBatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Several nodes' params at once (opening a flow with many dynamic-port nodes)."""

    nodes: Annotated[list[PortsBatchItem], Meta(max_length=2000)]


class PortsAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """The ports of one node of a batch, or why there are none (the batch itself still succeeds)."""

    ports: OperatorPorts | None = None
    error: str | None = None


@functools.lru_cache(maxsize=4)
def _catalog(registry: OperatorRegistry) -> OperatorCatalog:
    return build_catalog(registry)


def _validate_params(operator: Any, params: dict[str, Any]) -> Any:
    try:
        return msgspec.convert(params, operator.params_type)
    except msgspec.ValidationError as exc:
        message = str(exc)
        location = message.rsplit(" - at `", 1)[1].rstrip("`") if " - at `" in message else "$"
        path = "$.params" + location[1:]
        raise ValidationError(
            f"invalid params for {operator.spec.id}: {message}", extra={"errors": [{"path": path, "message": message}]}
        ) from exc


def _answer_ports(registry: OperatorRegistry, nodes: list[PortsBatchItem]) -> list[PortsAnswer]:
    answers: list[PortsAnswer] = []
    for item in nodes:
        try:
            operator = registry.get(item.operator, item.version)
            answers.append(PortsAnswer(ports=resolve_ports(operator, _validate_params(operator, item.params))))
        except (NotFoundError, ValidationError) as exc:
            answers.append(PortsAnswer(error=exc.detail))
    return answers


class OperatorsController(Controller):
    path = "/api/operators"
    tags = ["operators"]

    @get(
        "/",
        summary="Operator catalog",
        description="Every operator with params schema, ports and type rules.",
        opt=_READ,
    )
    async def list_operators(self, registry: Injected[OperatorRegistry]) -> OperatorCatalog:
        return _catalog(registry)

    @get(
        "/{operator_id:str}",
        summary="One operator",
        description="404 names close matches for an unknown id.",
        opt=_READ,
    )
    async def get_operator(
        self,
        registry: Injected[OperatorRegistry],
        operator_id: FromPath[str],
        version: Annotated[int | None, QueryParameter(ge=1, required=False, description="Latest when omitted")] = None,
    ) -> OperatorRead:
        registry.get(operator_id, version)  # raises UnknownOperatorError (404) with suggestions
        catalog = _catalog(registry)
        wanted = version or registry.versions(operator_id)[-1]
        return next(op for op in catalog.operators if op.id == operator_id and op.version == wanted)

    @post(
        "/ports",
        status_code=200,
        summary="Ports for many nodes",
        description="The ports of each node (operator, version, params), in order: what `POST "
        "/api/operators/{operator_id}/ports` answers for one, or the error it would give (unknown operator, "
        "invalid params) without failing the others. The editor asks once for every dynamic-port node of a flow "
        "it opens.",
        opt=_READ,
    )
    async def many_ports(self, registry: Injected[OperatorRegistry], data: JSONBody[PortsBatch]) -> list[PortsAnswer]:
        # up to 2000 nodes (templates parsed for their variables) in a 10 MiB body: off the event loop
        return await asyncio.to_thread(_answer_ports, registry, data.nodes)

    @post(
        "/{operator_id:str}/ports",
        status_code=200,
        summary="Ports for params",
        description="The input and output ports of a node with these params (for operators with dynamic ports).",
        opt=_READ,
    )
    async def operator_ports(
        self, registry: Injected[OperatorRegistry], operator_id: FromPath[str], data: JSONBody[PortsRequest]
    ) -> OperatorPorts:
        operator = registry.get(operator_id, data.version)
        params = _validate_params(operator, data.params)
        return resolve_ports(operator, params)
