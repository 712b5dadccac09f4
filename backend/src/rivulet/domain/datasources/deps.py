"""What the data sources API uses, handed to its handlers as one dependency (``deps``)."""

from __future__ import annotations

from dataclasses import dataclass

from rivulet.data.service import DataService
from rivulet.server.uploads import UploadLimits

__all__ = ("DatasourcesDeps",)


@dataclass(frozen=True, slots=True, kw_only=True)
class DatasourcesDeps:
    """The data service and the upload limits of spreadsheets (from the settings, like knowledge uploads)."""

    data: DataService
    uploads: UploadLimits
