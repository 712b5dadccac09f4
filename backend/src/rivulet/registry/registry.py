"""``OperatorRegistry``: the immutable set of operator classes a process knows, keyed by ``(id, version)``.

A registry is built once by ``rivulet.registry.loader`` (built-in ``OPERATORS`` tuples plus entry-point packs)
and never mutated; there is no global dict that modules register themselves into.

Example:
    >>> from rivulet.registry.loader import default_registry
    >>> default_registry().get("core.constant").spec.id
    'core.constant'
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rivulet.lib.exceptions import NotFoundError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from rivulet.sdk.operator import Operator

__all__ = ("OperatorEntry", "OperatorRegistry", "UnknownOperatorError")

OperatorClass = type["Operator[Any, Any, Any]"]


@dataclass(frozen=True, slots=True)
class OperatorEntry:
    """One registered operator and where it came from."""

    operator: OperatorClass
    source: str
    """``builtin rivulet_operators.core.template`` or ``entry point 'mypack' (mypack.ops:OPERATORS)``."""

    @property
    def key(self) -> tuple[str, int]:
        """``(id, version)``."""
        return (self.operator.spec.id, self.operator.spec.version)


class UnknownOperatorError(NotFoundError):
    """No operator with this id (or this version of it); ``suggestions`` are the closest ids.

    Args:
        operator_id: The id asked for.
        version: The version asked for (``None``: any).
        suggestions: Close matches among the registered ids.
        versions: Registered versions of ``operator_id`` (empty when the id itself is unknown).
    """

    code = "unknown_operator"

    def __init__(
        self, operator_id: str, *, version: int | None, suggestions: tuple[str, ...], versions: tuple[int, ...]
    ) -> None:
        if versions:
            listed = ", ".join(map(str, versions))
            detail = f"operator {operator_id!r} has no version {version}; available versions: {listed}"
        else:
            hint = f"; did you mean {' or '.join(map(repr, suggestions))}?" if suggestions else ""
            detail = f"unknown operator {operator_id!r}{hint}"
        super().__init__(detail, extra={"operator_id": operator_id, "version": version})
        self.extra["suggestions"] = list(suggestions)
        self.extra["versions"] = list(versions)
        self.operator_id = operator_id
        self.version = version
        self.suggestions = suggestions
        self.versions = versions


class OperatorRegistry:
    """Operator classes by ``(id, version)``. Build it with ``rivulet.registry.loader``; it is read-only.

    Args:
        entries: The operators; keys must be unique (the loader checks and names both sources).
    """

    __slots__ = ("_by_id", "_entries")

    def __init__(self, entries: Iterable[OperatorEntry]) -> None:
        ordered = sorted(entries, key=lambda e: e.key)
        self._entries: dict[tuple[str, int], OperatorEntry] = {}
        self._by_id: dict[str, list[OperatorEntry]] = {}
        for entry in ordered:
            if entry.key in self._entries:
                raise ValueError(
                    f"duplicate operator {entry.key}: {self._entries[entry.key].source} and {entry.source}"
                )
            self._entries[entry.key] = entry
            self._by_id.setdefault(entry.key[0], []).append(entry)

    def get(self, operator_id: str, version: int | None = None) -> OperatorClass:
        """The operator class for ``operator_id`` at ``version`` (the latest when ``None``).

        Raises:
            UnknownOperatorError: The id or the version is not registered; says what is.
        """
        return self.entry(operator_id, version).operator

    def entry(self, operator_id: str, version: int | None = None) -> OperatorEntry:
        """Like ``get`` but with the entry's source.

        Raises:
            UnknownOperatorError: The id or the version is not registered.
        """
        versions = self._by_id.get(operator_id)
        if versions is None:
            close = difflib.get_close_matches(operator_id, list(self._by_id), n=3, cutoff=0.6)
            raise UnknownOperatorError(operator_id, version=version, suggestions=tuple(close), versions=())
        if version is None:
            return versions[-1]
        found = self._entries.get((operator_id, version))
        if found is None:
            raise UnknownOperatorError(
                operator_id, version=version, suggestions=(), versions=tuple(e.key[1] for e in versions)
            )
        return found

    def versions(self, operator_id: str) -> tuple[int, ...]:
        """Registered versions of ``operator_id``, ascending (empty when unknown)."""
        return tuple(e.key[1] for e in self._by_id.get(operator_id, ()))

    def all(self) -> tuple[OperatorClass, ...]:
        """Every operator class, sorted by id then version."""
        return tuple(e.operator for e in self._entries.values())

    def latest(self) -> tuple[OperatorClass, ...]:
        """The latest version of each operator, sorted by id (what the palette shows)."""
        return tuple(entries[-1].operator for entries in self._by_id.values())

    def entries(self) -> tuple[OperatorEntry, ...]:
        """Every entry, sorted by id then version."""
        return tuple(self._entries.values())

    def ids(self) -> tuple[str, ...]:
        """Every operator id, sorted."""
        return tuple(self._by_id)

    def __contains__(self, operator_id: object) -> bool:
        return operator_id in self._by_id

    def __iter__(self) -> Iterator[OperatorClass]:
        return iter(self.all())

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"OperatorRegistry({len(self._entries)} operators, {len(self._by_id)} ids)"
