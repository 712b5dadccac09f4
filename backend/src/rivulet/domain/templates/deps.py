"""What the templates API uses, handed to its handlers as one dependency (``deps``)."""

from __future__ import annotations

from dataclasses import dataclass

from rivulet.lib.settings import Settings
from rivulet.providers.service import ModelService
from rivulet.registry.registry import OperatorRegistry
from rivulet.storage.base import FlowStore
from rivulet.templates.sources import TemplateSources

__all__ = ("TemplatesDeps",)


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplatesDeps:
    """Template sources, the flow store imports write to, the operators, the models (DB-GPT import), the limits."""

    templates: TemplateSources
    flows: FlowStore
    registry: OperatorRegistry
    models: ModelService
    settings: Settings
