"""Generated artefacts in ``schemas/``: JSON Schemas of the wire formats and the OpenAPI document.

``rivulet export-schemas`` writes them; a test fails when the committed files drift from the code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from rivulet.compiler.flow import FlowDocument
from rivulet.domain.runs.protocol import protocol_schema
from rivulet.lib.settings import load_settings
from rivulet.records.events import EVENTS_SCHEMA, Event
from rivulet.sdk.ports import type_rules_document
from rivulet.templates.index import INDEX_SCHEMA, MarketplaceIndex
from rivulet.templates.package import MANIFEST_SCHEMA, TemplateManifest

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

__all__ = ("SCHEMA_EXPORTS", "export_schemas", "render_schemas")


def _struct_schema(tp: Any, schema_id: str) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        schema: dict[str, Any] = msgspec.json.schema(tp)
        return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": schema_id, **schema}

    return build


def _openapi() -> dict[str, Any]:
    from rivulet.app.asgi import create_app

    app = create_app(load_settings(environ={}), database_url=None)
    return app.openapi_schema.to_schema()


SCHEMA_EXPORTS: dict[str, Callable[[], dict[str, Any]]] = {
    "flow.v1.schema.json": _struct_schema(FlowDocument, "rivulet.flow/v1"),
    "events.v1.schema.json": _struct_schema(Event, EVENTS_SCHEMA),
    "openapi.json": _openapi,
    "types.json": type_rules_document,
    "template.v1.schema.json": _struct_schema(TemplateManifest, MANIFEST_SCHEMA),
    "template-index.v1.schema.json": _struct_schema(MarketplaceIndex, INDEX_SCHEMA),
    "ws.v1.schema.json": protocol_schema,
}
"""File name in ``schemas/`` → builder. Later subsystems register their formats here."""

_encoder = msgspec.json.Encoder(order="sorted")


def render_schemas() -> dict[str, bytes]:
    """Every export as pretty, key-sorted JSON bytes."""
    return {
        name: msgspec.json.format(_encoder.encode(build()), indent=2) + b"\n" for name, build in SCHEMA_EXPORTS.items()
    }


def export_schemas(directory: Path) -> list[Path]:
    """Write every export into ``directory``; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, content in render_schemas().items():
        path = directory / name
        path.write_bytes(content)
        written.append(path)
    return written
