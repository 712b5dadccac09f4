"""Build an ``OperatorRegistry`` from the built-in ``OPERATORS`` tuples and the ``rivulet.operators`` entry points.

Built-in operators come from ``rivulet_operators.OPERATORS`` (every category's ``OPERATORS`` tuple). A
third-party pack declares an entry point whose object is a tuple of ``Operator`` classes::

    [project.entry-points."rivulet.operators"]
    acme = "acme_rivulet.operators:OPERATORS"

Every operator is validated on load (id prefix equals the category, Structs, known port types, a ``run``
implementation, a JSON Schema for the params, input rules naming optional ports and existing params); all
problems are reported together in one ``OperatorLoadError``.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any, cast

import msgspec

from rivulet.lib.exceptions import ConfigError
from rivulet.registry.registry import OperatorEntry, OperatorRegistry
from rivulet.sdk.operator import Operator, OperatorSpec

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = (
    "ENTRY_POINT_GROUP",
    "OperatorLoadError",
    "OperatorSource",
    "builtin_sources",
    "default_registry",
    "entry_point_sources",
    "load_registry",
    "validate_operator",
)

ENTRY_POINT_GROUP = "rivulet.operators"


class OperatorLoadError(ConfigError):
    """Operators could not be loaded; ``extra["problems"]`` lists every problem with its source."""

    code = "operator_load_error"

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(
            f"{len(problems)} operator problem(s): " + "; ".join(problems), extra={"problems": list(problems)}
        )
        self.problems = tuple(problems)


@dataclass(frozen=True, slots=True)
class OperatorSource:
    """A named tuple of operator classes (a built-in category or an entry-point pack)."""

    name: str
    """Shown in errors and in the catalog: ``builtin rivulet_operators`` or ``entry point 'acme' (...)``."""
    operators: tuple[Any, ...]
    builtin: bool = False
    """Built-ins also follow the module naming rule (module name == id tail)."""


def builtin_sources() -> tuple[OperatorSource, ...]:
    """The operators shipped in ``rivulet_operators``."""
    import rivulet_operators

    return (OperatorSource(name="builtin rivulet_operators", operators=rivulet_operators.OPERATORS, builtin=True),)


def _load_entry_point(ep: EntryPoint) -> OperatorSource | str:
    name = f"entry point {ep.name!r} ({ep.value})"
    try:
        loaded = ep.load()
    except Exception as exc:  # noqa: BLE001 - a broken third-party pack is reported, whatever it raised
        return f"{name}: cannot be imported: {type(exc).__name__}: {exc}"
    if not isinstance(loaded, tuple | list):
        return f"{name}: must be a tuple of Operator classes, got {type(loaded).__name__}"
    return OperatorSource(name=name, operators=tuple(loaded))  # pyright: ignore[reportUnknownArgumentType]


def entry_point_sources(group: str = ENTRY_POINT_GROUP) -> tuple[list[OperatorSource], list[str]]:
    """Load every entry point of ``group``.

    Returns:
        The sources that loaded and the problems of those that did not.
    """
    sources: list[OperatorSource] = []
    problems: list[str] = []
    for ep in sorted(entry_points(group=group), key=lambda e: e.name):
        result = _load_entry_point(ep)
        if isinstance(result, str):
            problems.append(result)
        else:
            sources.append(result)
    return sources, problems


def _is_struct(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, msgspec.Struct)


def _check_types(cls: type[Operator[Any, Any, Any]], where: str) -> list[str]:
    attrs = ("params_type", "inputs_type", "outputs_type")
    problems = [
        f"{where}: {a} must be a msgspec.Struct subclass" for a in attrs if not _is_struct(getattr(cls, a, None))
    ]
    if problems:
        return problems
    if not cls.params_type.__struct_config__.forbid_unknown_fields:
        problems.append(f"{where}: params_type must set forbid_unknown_fields=True (typos in params are errors)")
    try:
        msgspec.json.schema(cls.params_type)
    except (TypeError, ValueError) as exc:
        problems.append(f"{where}: params_type has no JSON Schema: {exc}")
    for kind, method in (("input", cls.input_ports), ("output", cls.output_ports)):
        if getattr(cls, f"dynamic_{kind}s"):
            continue
        try:
            method(None)
        except (TypeError, ValueError) as exc:
            problems.append(f"{where}: {kind} ports: {exc}")
    return problems


def _overrides(cls: type[Operator[Any, Any, Any]], name: str) -> bool:
    mine: Any = getattr(cls, name)
    base: Any = getattr(Operator, name)
    return getattr(mine, "__func__", mine) is not getattr(base, "__func__", base)


def _check_dynamic(cls: type[Operator[Any, Any, Any]], where: str) -> list[str]:
    problems: list[str] = []
    pairs = (
        ("dynamic_inputs", ("input_ports", "build_inputs")),
        ("dynamic_outputs", ("output_ports", "output_values")),
    )
    for flag, methods in pairs:
        overridden = [m for m in methods if _overrides(cls, m)]
        if getattr(cls, flag) and len(overridden) != len(methods):
            problems.append(f"{where}: {flag}=True requires overriding {' and '.join(methods)}")
        if not getattr(cls, flag) and methods[0] in overridden:
            problems.append(f"{where}: overrides {methods[0]} but does not set {flag}=True")
    return problems


def _check_rules(cls: type[Operator[Any, Any, Any]], where: str) -> list[str]:
    """Static input rules name optional input ports and existing params (dynamic ones are checked per node)."""
    problems: list[str] = []
    fields = set(cls.params_type.__struct_fields__)
    ports = {} if cls.dynamic_inputs else {p.name: p for p in cls.input_ports(None)}
    for index, rule in enumerate(cls.spec.input_rules):
        at = f"{where}: input_rules[{index}]"
        problems.extend(f"{at}: no param {name!r}" for name in rule.params if name not in fields)
        if cls.dynamic_inputs:
            continue
        for name in rule.inputs:
            if name not in ports:
                problems.append(f"{at}: no input port {name!r} (ports: {sorted(ports)})")
            elif ports[name].required:
                problems.append(f"{at}: input {name!r} is required; a rule groups optional inputs")
    return problems


def validate_operator(cls: Any, *, builtin: bool = False) -> list[str]:
    """Check one operator class against the contract.

    Returns:
        Problems, each naming the operator; empty when the class is valid.
    """
    where = getattr(cls, "__qualname__", repr(cls))
    if not (inspect.isclass(cls) and issubclass(cls, Operator)):
        return [f"{where}: not an Operator subclass"]
    return _validate_class(cast("type[Operator[Any, Any, Any]]", cls), builtin=builtin)


def _validate_class(cls: type[Operator[Any, Any, Any]], *, builtin: bool) -> list[str]:
    where = cls.__qualname__
    spec = getattr(cls, "spec", None)
    if not isinstance(spec, OperatorSpec):
        return [f"{where}: spec must be an OperatorSpec"]
    where = f"{spec.id}@{spec.version} ({cls.__module__}.{cls.__qualname__})"
    problems: list[str] = []
    if spec.id.split(".", 1)[0] != spec.category:
        problems.append(f"{where}: id prefix must equal the category {spec.category!r}")
    if builtin and cls.__module__.rsplit(".", 1)[-1] != spec.id.rsplit(".", 1)[-1]:
        problems.append(f"{where}: module name must be the id tail {spec.id.rsplit('.', 1)[-1]!r}")
    if not _overrides(cls, "run"):
        problems.append(f"{where}: does not implement run()")
    problems.extend(_check_types(cls, where))
    problems.extend(_check_dynamic(cls, where))
    if not problems:
        problems.extend(_check_rules(cls, where))
    return problems


def _collect(sources: Iterable[OperatorSource]) -> tuple[list[OperatorEntry], list[str]]:
    entries: dict[tuple[str, int], OperatorEntry] = {}
    problems: list[str] = []
    for source in sources:
        for cls in source.operators:
            found = validate_operator(cls, builtin=source.builtin)
            if found:
                problems.extend(f"{source.name}: {p}" for p in found)
                continue
            entry = OperatorEntry(operator=cls, source=f"{source.name}: {cls.__module__}.{cls.__qualname__}")
            previous = entries.get(entry.key)
            if previous is not None:
                problems.append(
                    f"duplicate operator {entry.key[0]}@{entry.key[1]}: {previous.source} and {entry.source}"
                )
                continue
            entries[entry.key] = entry
    return list(entries.values()), problems


def load_registry(
    *, sources: Sequence[OperatorSource] | None = None, entry_point_group: str | None = ENTRY_POINT_GROUP
) -> OperatorRegistry:
    """Build a registry.

    Args:
        sources: Operator sources to use instead of the built-ins.
        entry_point_group: Also load packs from this entry-point group; ``None`` loads none.

    Returns:
        The registry.

    Raises:
        OperatorLoadError: An operator is invalid, an (id, version) is registered twice, or a pack fails to load.
    """
    all_sources = list(builtin_sources() if sources is None else sources)
    problems: list[str] = []
    if entry_point_group is not None:
        packs, problems = entry_point_sources(entry_point_group)
        all_sources.extend(packs)
    entries, found = _collect(all_sources)
    problems.extend(found)
    if problems:
        raise OperatorLoadError(problems)
    return OperatorRegistry(entries)


@functools.cache
def default_registry() -> OperatorRegistry:
    """The process-wide registry (built-ins and installed packs), built once on first use.

    Raises:
        OperatorLoadError: See ``load_registry``.
    """
    return load_registry()
