"""HTTP DTOs of the templates resource."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from rivulet.compiler.diagnostics import Diagnostic
from rivulet.compiler.flow import FlowDocument
from rivulet.templates.dbgpt import DbgptNodeReport
from rivulet.templates.importer import ConflictPolicy
from rivulet.templates.index import TemplateListing
from rivulet.templates.package import TemplateManifest
from rivulet.templates.sources import TemplateSource

__all__ = (
    "DbgptImportCreate",
    "DbgptImportRead",
    "TemplateExportCreate",
    "TemplateExportRead",
    "TemplateFlow",
    "TemplateImportCreate",
    "TemplateList",
    "TemplateRead",
    "TemplateSourceCreate",
    "TemplateSourceList",
)


class TemplateList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[TemplateListing]
    tags: list[str]
    """Every tag of the listed packages (for the gallery's filter)."""


class TemplateFlow(msgspec.Struct, frozen=True, kw_only=True):
    file: str
    document: FlowDocument


class TemplateRead(msgspec.Struct, frozen=True, kw_only=True):
    """A package's manifest and flows (for previews)."""

    manifest: TemplateManifest
    flows: list[TemplateFlow]
    data_files: list[str]


class TemplateImportCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Import a package by name from the configured sources, or an archive by URL (with its sha256)."""

    name: str | None = None
    version: str | None = None
    url: str | None = None
    """``https://`` URL of a package archive (instead of ``name``); fetched through the network guard."""
    sha256: Annotated[str, Meta(pattern=r"^[0-9a-fA-F]{64}$")] | None = None
    """Required with ``url``."""
    variables: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])
    on_conflict: ConflictPolicy = "ask"


class DbgptImportCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A DB-GPT AWEL flow export (either shape) to convert; ``save`` stores the result as a new flow."""

    export: dict[str, Any]
    save: bool = True


class DbgptImportRead(msgspec.Struct, frozen=True, kw_only=True):
    flow_id: str | None
    document: FlowDocument
    nodes: list[DbgptNodeReport]
    dropped_edges: list[str]
    diagnostics: list[Diagnostic]
    """The compiler's verdict on the converted flow."""


class TemplateExportCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    flow_id: str
    name: Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
    version: str = "1.0.0"
    title: str | None = None
    description: str | None = None
    author: str = ""
    license: str = ""
    format: Literal["tar.gz", "zip"] = "tar.gz"


class TemplateExportRead(msgspec.Struct, frozen=True, kw_only=True):
    manifest: TemplateManifest
    sha256: str
    archive_base64: str
    filename: str


class TemplateSourceCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    location: str


class TemplateSourceList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[TemplateSource]
