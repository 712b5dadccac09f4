"""How handlers ask for what the app provides: ``flows: Injected[FlowStore]``, ``runs: Injected[RunService]``.

The composition root (``rivulet.app.providers``) registers one provider per name on the app; a handler names the
parameter and its type, never a service locator. Provided values are not validated per request (they are the
app's own objects, typed by Protocols that ``isinstance`` cannot check).
"""

from __future__ import annotations

from typing import TypeAlias, TypeVar

from litestar.di import NamedDependency
from litestar.params import SkipValidation

__all__ = ("Injected",)

T = TypeVar("T")

Injected: TypeAlias = NamedDependency[SkipValidation[T]]
"""A handler parameter filled by the app's provider of the same name."""
