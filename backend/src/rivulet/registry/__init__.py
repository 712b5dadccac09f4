"""The operator registry: which operators exist, where they came from, and the palette catalog.

Key contracts: ``OperatorRegistry.get(id, version=None)`` (latest when ``None``; ``UnknownOperatorError`` with
close matches otherwise), ``load_registry``/``default_registry`` (built-in ``OPERATORS`` tuples plus the
``rivulet.operators`` entry-point group) and ``build_catalog`` (what ``GET /api/operators`` returns).
"""

from rivulet.registry.loader import ENTRY_POINT_GROUP, OperatorLoadError, default_registry, load_registry
from rivulet.registry.registry import OperatorEntry, OperatorRegistry, UnknownOperatorError

__all__ = (
    "ENTRY_POINT_GROUP",
    "OperatorEntry",
    "OperatorLoadError",
    "OperatorRegistry",
    "UnknownOperatorError",
    "default_registry",
    "load_registry",
)
