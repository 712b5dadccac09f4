"""Storage contracts.

Each store is a Protocol with a memory and a PostgreSQL implementation, and one conformance suite
(``tests/integration/test_storage_conformance.py``) runs against both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import msgspec

from rivulet.compiler.flow import FlowDocument

__all__ = ("FlowRecord", "FlowStore", "FlowSummary", "FlowVersionInfo", "FlowVersionRecord")


class FlowSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A row of the flow list."""

    id: str
    name: str
    description: str
    version: int
    """The latest version number."""
    tags: list[str]
    node_count: int
    created_at: datetime
    updated_at: datetime


class FlowRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A flow with its latest document."""

    summary: FlowSummary
    document: FlowDocument


class FlowVersionInfo(msgspec.Struct, frozen=True, kw_only=True):
    """One immutable saved version."""

    flow_id: str
    version: int
    message: str
    created_at: datetime


class FlowVersionRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A saved version with its document."""

    info: FlowVersionInfo
    document: FlowDocument


class FlowStore(Protocol):
    """Flows and their immutable versions. Every save appends a version; nothing is overwritten."""

    async def create(self, document: FlowDocument, *, message: str = "") -> FlowRecord:
        """Store a new flow as version 1; a fresh id is assigned when ``document.id`` is empty.

        Raises:
            ConflictError: ``document.id`` is already taken.
        """
        ...

    async def get(self, flow_id: str) -> FlowRecord:
        """The latest version. Raises ``NotFoundError``."""
        ...

    async def list(self, *, search: str | None = None, limit: int = 50, offset: int = 0) -> list[FlowSummary]:
        """Flows ordered by last update (newest first), optionally filtered by a case-insensitive name match."""
        ...

    async def save(
        self, flow_id: str, document: FlowDocument, *, base_version: int | None = None, message: str = ""
    ) -> FlowRecord:
        """Append a new version.

        Args:
            flow_id: The flow to update.
            document: The new content (its ``id``/``version`` are overwritten by the store).
            base_version: When given, the save fails with ``ConflictError`` unless it is the latest version
                (optimistic concurrency for editors).
            message: A commit-style note for the version list.
        """
        ...

    async def delete(self, flow_id: str) -> None:
        """Delete a flow and all its versions. Raises ``NotFoundError``."""
        ...

    async def list_versions(self, flow_id: str) -> list[FlowVersionInfo]:
        """Versions newest first. Raises ``NotFoundError``."""
        ...

    async def get_version(self, flow_id: str, version: int) -> FlowVersionRecord:
        """One version. Raises ``NotFoundError``."""
        ...
