"""HTTP DTOs of the flows resource (``*Create``/``*Update``/``*Read``)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from rivulet.compiler.diagnostics import Diagnostic
from rivulet.compiler.flow import FlowDocument
from rivulet.storage.base import FlowSummary, FlowVersionInfo

__all__ = (
    "FlowCreate",
    "FlowList",
    "FlowRead",
    "FlowSharing",
    "FlowUpdate",
    "FlowVersionList",
    "FlowVersionRead",
    "ValidationReport",
)


class FlowCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Create a flow from a document (``id``/``version`` are assigned by the server when empty), owned by the caller."""

    document: FlowDocument
    message: Annotated[str, Meta(max_length=500)] = ""
    workspace_id: str | None = None
    """Share it with this workspace at once (the caller must be an editor member)."""


class FlowSharing(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Share a flow with a workspace, or unshare it (``null``)."""

    workspace_id: str | None


class FlowUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Save a new version."""

    document: FlowDocument
    base_version: int | None = None
    """The version the editor started from; a newer saved version makes the save fail with 409."""
    message: Annotated[str, Meta(max_length=500)] = ""


class ValidationReport(msgspec.Struct, frozen=True, kw_only=True):
    """The compiler's verdict: ``ok`` when there is no error (notes and warnings may remain)."""

    ok: bool
    diagnostics: list[Diagnostic]


class FlowRead(msgspec.Struct, frozen=True, kw_only=True):
    """A flow's latest version, with the compiler's verdict on it (drafts that don't compile are allowed)."""

    summary: FlowSummary
    document: FlowDocument
    validation: ValidationReport


class FlowList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[FlowSummary]
    limit: int
    offset: int


class FlowVersionList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[FlowVersionInfo]


class FlowVersionRead(msgspec.Struct, frozen=True, kw_only=True):
    info: FlowVersionInfo
    document: FlowDocument
