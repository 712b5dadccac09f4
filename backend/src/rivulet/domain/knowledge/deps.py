"""What the knowledge API uses, handed to its handlers as one dependency (``deps``)."""

from __future__ import annotations

from dataclasses import dataclass

from rivulet.domain.knowledge.jobs import IngestionJobs
from rivulet.knowledge.service import KnowledgeService
from rivulet.server.uploads import UploadLimits

__all__ = ("KnowledgeDeps",)


@dataclass(frozen=True, slots=True, kw_only=True)
class KnowledgeDeps:
    """The knowledge service, this process's ingestion jobs and the upload limits (from the settings)."""

    knowledge: KnowledgeService
    jobs: IngestionJobs
    uploads: UploadLimits
