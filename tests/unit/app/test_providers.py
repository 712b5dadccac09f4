"""The app's dependency providers: no provider name can be taken for a parameter or a request body field."""

from __future__ import annotations

from typing import Any

from rivulet.app.asgi import create_app
from rivulet.app.providers import Providers
from rivulet.lib.settings import load_settings


def _request_fields(schema: dict[str, Any]) -> set[str]:
    """The names of every parameter and top-level request body field of the API."""
    components = schema["components"]["schemas"]
    fields: set[str] = set()
    for operations in schema["paths"].values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            fields |= {parameter["name"] for parameter in operation.get("parameters", [])}
            if "requestBody" not in operation:
                continue
            for content in operation["requestBody"]["content"].values():
                body = content["schema"]
                if "$ref" in body:
                    body = components[body["$ref"].rsplit("/", 1)[1]]
                fields |= set(body.get("properties", {}))
    return fields


def test_no_provider_is_named_like_a_request_field() -> None:
    # Litestar reports an invalid body field named like one of the handler's dependencies as a 500, not a 422
    schema = create_app(load_settings(environ={}), None).openapi_schema.to_schema()
    provided = {*Providers().app_dependencies(), *Providers().router_dependencies("runs")}
    assert not provided & _request_fields(schema)
