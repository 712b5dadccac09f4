"""``/api/models``: configured models (CRUD, default), "test this model", health and the call log."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from rivulet.domain.access import principal_of, require_run
from rivulet.domain.models.deps import ModelsDeps
from rivulet.domain.models.schemas import ModelCallList, ModelCreate, ModelList, ModelUpdate
from rivulet.lib.exceptions import ConflictError, PermissionDeniedError
from rivulet.providers.config import ModelConfig
from rivulet.providers.probe import ModelProbe, probe_model
from rivulet.security.permissions import Permission, requires
from rivulet.server.deps import Injected

__all__ = ("ModelsController",)

_MODELS_READ = requires(Permission.MODELS_READ)
_ADMIN = requires(Permission.ADMIN)


class ModelsController(Controller):
    path = "/api/models"
    tags = ["models"]

    @get("/", summary="Built-in and configured models (defaults marked)", opt=_MODELS_READ)
    async def list_models(self, deps: Injected[ModelsDeps]) -> ModelList:
        return ModelList(items=await deps.models.list_models())

    @post("/", summary="Add a model", description="409 when a stored model of that name exists.", opt=_ADMIN)
    async def create(self, deps: Injected[ModelsDeps], data: JSONBody[ModelCreate]) -> ModelConfig:
        if await deps.models.store.get_model(data.name) is not None:
            raise ConflictError(f"model {data.name!r} already exists", extra={"model": data.name})
        update = msgspec.convert({k: v for k, v in msgspec.structs.asdict(data).items() if k != "name"}, ModelUpdate)
        return await deps.models.save(update.to_config(data.name))

    @get(
        "/calls",
        summary="Model calls, newest first (tokens, latency, time to first token)",
        description="Administrators see every call; others only the calls of a run they may read (`run_id`).",
        opt=_MODELS_READ,
    )
    async def list_calls(
        self,
        deps: Injected[ModelsDeps],
        request: Request[Any, Any, Any],
        *,
        run_id: Annotated[str | None, QueryParameter(required=False, description="calls made by this run")] = None,
        model: Annotated[str | None, QueryParameter(required=False)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> ModelCallList:
        principal = principal_of(request)
        if not principal.is_admin:
            if run_id is None:
                raise PermissionDeniedError("only administrators list every model call; pass the run_id of your run")
            await require_run(deps.flows, principal, (await deps.runs.get(run_id)).run, "read")
        calls = await deps.models.store.list_calls(run_id=run_id, model=model, limit=limit)
        return ModelCallList(
            items=calls,
            prompt_tokens=sum(c.prompt_tokens for c in calls),
            completion_tokens=sum(c.completion_tokens for c in calls),
            latency_ms=sum(c.latency_ms for c in calls),
        )

    @get("/{name:str}", summary="One model (default/default-embedding resolve to the default model)", opt=_MODELS_READ)
    async def get_model(self, deps: Injected[ModelsDeps], name: FromPath[str]) -> ModelConfig:
        return await deps.models.get(name)

    @put("/{name:str}", summary="Create or replace a model", opt=_ADMIN)
    async def put_model(
        self, deps: Injected[ModelsDeps], name: FromPath[str], data: JSONBody[ModelUpdate]
    ) -> ModelConfig:
        return await deps.models.save(data.to_config(name))

    @delete("/{name:str}", summary="Delete a stored model (a built-in of that name comes back)", opt=_ADMIN)
    async def delete_model(self, deps: Injected[ModelsDeps], name: FromPath[str]) -> None:
        await deps.models.delete(name)

    @post("/{name:str}/default", summary="Make this the default model of its kind", status_code=200, opt=_ADMIN)
    async def set_default(self, deps: Injected[ModelsDeps], name: FromPath[str]) -> ModelConfig:
        return await deps.models.set_default(name)

    @post(
        "/{name:str}/test",
        summary="Test this model",
        description="One short real call: the answer (or vector size), latency, time to first token and tokens. "
        "A failing model answers 200 with `ok: false` and the error.",
        status_code=200,
        opt=_ADMIN,
    )
    async def test_model(self, deps: Injected[ModelsDeps], name: FromPath[str]) -> ModelProbe:
        return await probe_model(deps.models, name)

    @get("/{name:str}/health", summary="Health check: a one-token call", opt=_ADMIN)
    async def health(self, deps: Injected[ModelsDeps], name: FromPath[str]) -> ModelProbe:
        return await probe_model(deps.models, name, max_tokens=1)
