"""Export a flow as a template package (the inverse of import: provenance and server ids are cleared)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from rivulet.compiler.flow import FlowMetadata
from rivulet.templates.package import OperatorRequirement, TemplateManifest, TemplatePackage, TemplateVariable

if TYPE_CHECKING:
    from rivulet.compiler.flow import FlowDocument

__all__ = ("export_flow",)


def export_flow(
    document: FlowDocument,
    *,
    name: str,
    version: str = "1.0.0",
    title: str | None = None,
    description: str | None = None,
    author: str = "",
    license: str = "",  # noqa: A002
) -> TemplatePackage:
    """A one-flow package whose manifest lists the operators (at least the versions used) and secret variables.

    Raises:
        msgspec.ValidationError: ``name`` or ``version`` is not valid for a manifest.
    """
    used: dict[str, int] = {}
    for node in document.nodes:
        used[node.operator] = min(used.get(node.operator, node.operator_version), node.operator_version)
    secrets = [
        TemplateVariable(name=v.name, type="text", description=v.description, required=v.required, secret=True)
        for v in document.variables
        if v.type == "secret"
    ]
    manifest = msgspec.convert(
        {
            "name": name,
            "version": version,
            "title": title or document.name,
            "description": description if description is not None else document.description,
            "tags": list(document.metadata.tags),
            "author": author,
            "license": license,
            "operators": [OperatorRequirement(id=op, versions=f">={v}") for op, v in sorted(used.items())],
            "variables": secrets,
            "flows": ["flows/main.json"],
        },
        TemplateManifest,
        from_attributes=True,
    )
    clean = msgspec.structs.replace(
        document,
        id="",
        version=0,
        variables=[v for v in document.variables if v.type != "secret"],
        metadata=FlowMetadata(tags=list(document.metadata.tags)),
    )
    return TemplatePackage(manifest=manifest, flows={"flows/main.json": clean})
