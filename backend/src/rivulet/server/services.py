"""The process-wide services handed to request handlers by dependency injection."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.di import NamedDependency
from psycopg_pool import AsyncConnectionPool

from rivulet.lib.settings import Settings
from rivulet.storage.base import FlowStore

__all__ = ("Services", "ServicesDep")


@dataclass(slots=True)
class Services:
    """Everything a handler may use. Built once in the app lifespan, closed on shutdown."""

    settings: Settings
    pool: AsyncConnectionPool
    flows: FlowStore


ServicesDep = NamedDependency[Services]
"""Annotation for handler parameters: ``services: ServicesDep``."""
