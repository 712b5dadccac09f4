"""Where templates come from.

The built-in ``templates/`` directory, ``template_sources`` from the settings, and sources added through the API
or CLI (kept in ``<home>/template-sources.json``), searched in that order.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from rivulet.lib.exceptions import NotFoundError, ValidationError
from rivulet.templates.fetch import Fetcher
from rivulet.templates.index import TemplateCatalog

if TYPE_CHECKING:
    from rivulet.lib.settings import Settings
    from rivulet.sdk.net import NetworkPolicy

__all__ = ("BUILTIN_TEMPLATES", "TemplateSource", "TemplateSources")

BUILTIN_TEMPLATES = Path(__file__).resolve().parents[4] / "templates"
"""The built-in gallery in a source checkout."""


class TemplateSource(msgspec.Struct, frozen=True, kw_only=True):
    """A configured source."""

    location: str
    """A directory, or a ``file://``/``https://`` URL of an ``index.json``."""
    origin: str
    """``builtin``, ``settings`` or ``user`` (only ``user`` sources can be removed)."""


def _check_location(location: str) -> str:
    location = location.strip()
    if location.startswith(("file://", "https://")):
        return location
    if "://" in location:
        raise ValidationError(
            f"template source {location!r}: only directories, file:// and https:// URLs are supported",
            extra={"errors": [{"path": "$.location", "message": "unsupported scheme"}]},
        )
    path = Path(location).expanduser()
    if not path.is_absolute():
        raise ValidationError(
            f"template source {location!r} must be an absolute directory path",
            extra={"errors": [{"path": "$.location", "message": "not absolute"}]},
        )
    return str(path)


class TemplateSources:
    """The ordered list of sources of one installation, and the catalog over them."""

    def __init__(self, settings: Settings, policy: NetworkPolicy, *, fetcher: Fetcher | None = None) -> None:
        self._settings = settings
        self._file = Path(settings.home).expanduser() / "template-sources.json"
        self.fetcher = fetcher or Fetcher(policy)

    def _user(self) -> list[str]:
        if not self._file.is_file():
            return []
        return msgspec.json.decode(self._file.read_bytes(), type=list[str])

    def list(self) -> list[TemplateSource]:
        configured = [p.strip() for p in self._settings.template_sources.split(",") if p.strip()]
        sources = (
            [TemplateSource(location=str(BUILTIN_TEMPLATES), origin="builtin")]
            if self._settings.builtin_templates
            else []
        )
        sources += [TemplateSource(location=loc, origin="settings") for loc in configured]
        sources += [TemplateSource(location=loc, origin="user") for loc in self._user()]
        return sources

    def add(self, location: str) -> TemplateSource:
        """Add a user source (idempotent). Raises ``ValidationError`` for an unsupported location."""
        checked = _check_location(location)
        current = self._user()
        if checked not in current:
            self._file.parent.mkdir(parents=True, exist_ok=True)
            self._file.write_bytes(msgspec.json.encode([*current, checked]))
        return TemplateSource(location=checked, origin="user")

    def remove(self, location: str) -> None:
        """Remove a user source. Raises ``NotFoundError``."""
        current = self._user()
        if location not in current:
            raise NotFoundError(f"no user template source {location!r}", extra={"location": location})
        self._file.write_bytes(msgspec.json.encode([c for c in current if c != location]))

    def catalog(self) -> TemplateCatalog:
        return TemplateCatalog(
            [("builtin" if s.origin == "builtin" else s.location, s.location) for s in self.list()], self.fetcher
        )
