"""A small, safe JSONPath subset (internal); no filters or scripts, by design.

Supported: ``$``, ``.name``, ``['name']``, ``[0]``, ``[-1]``, ``[*]``, ``.*``, ``[start:end]`` and recursive
descent ``..name`` / ``..*``.

Example:
    >>> find(compile_path("$.a[*].b"), {"a": [{"b": 1}, {"b": 2}, {}]})
    [1, 2]
"""

from __future__ import annotations

import functools
import re
from typing import Any, Literal

import msgspec

__all__ = ("Step", "compile_path", "find")


class Step(msgspec.Struct, frozen=True):
    """One path step: a key, an index, a slice, a wildcard; ``deep`` for recursive descent."""

    kind: Literal["key", "index", "slice", "wildcard"]
    key: str = ""
    index: int = 0
    stop: int | None = None
    deep: bool = False


_TOKEN = re.compile(
    r"""(?P<deep>\.\.)?(?:
        \.(?P<name>[A-Za-z_][A-Za-z0-9_-]*)
      | (?<=\.)(?P<name2>[A-Za-z_][A-Za-z0-9_-]*)
      | \.?\*(?P<star>)
      | \[\s*(?:
            (?P<quoted>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
          | (?P<index>-?\d+)
          | (?P<start>-?\d*):(?P<stop>-?\d*)
          | \*(?P<bstar>)
        )\s*\]
    )""",
    re.VERBOSE,
)


def _step(match: re.Match[str]) -> Step:
    deep = match.group("deep") is not None
    name = match.group("name") or match.group("name2")
    if name:
        return Step("key", key=name, deep=deep)
    if match.group("quoted"):
        return Step("key", key=msgspec.json.decode(_json_quoted(match.group("quoted"))), deep=deep)
    if match.group("index"):
        return Step("index", index=int(match.group("index")), deep=deep)
    if match.group("start") is not None and match.group("stop") is not None and ":" in match.group(0):
        start, stop = match.group("start"), match.group("stop")
        return Step("slice", index=int(start or 0), stop=int(stop) if stop else None, deep=deep)
    return Step("wildcard", deep=deep)


def _json_quoted(text: str) -> bytes:
    if text.startswith("'"):
        text = '"' + text[1:-1].replace('"', '\\"').replace("\\'", "'") + '"'
    return text.encode()


@functools.lru_cache(maxsize=512)
def compile_path(path: str) -> tuple[Step, ...]:
    """Parse a path into steps (cached).

    Raises:
        ValueError: Not a supported path; names the position of the problem.
    """
    text = path.strip()
    if not text.startswith("$"):
        raise ValueError(f"JSONPath {path!r} must start with '$'")
    steps: list[Step] = []
    pos = 1
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"JSONPath {path!r}: unsupported syntax at position {pos}: {text[pos : pos + 12]!r}")
        steps.append(_step(match))
        pos = match.end()
    return tuple(steps)


def _children(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return list(value.values())  # pyright: ignore[reportUnknownArgumentType]
    if isinstance(value, list):
        return list(value)  # pyright: ignore[reportUnknownArgumentType]
    return []


def _descendants(value: Any) -> list[Any]:
    found = [value]
    for child in _children(value):
        found.extend(_descendants(child))
    return found


def _apply(step: Step, value: Any) -> list[Any]:
    if step.kind == "wildcard":
        return _children(value)
    if step.kind == "key":
        return [value[step.key]] if isinstance(value, dict) and step.key in value else []
    if not isinstance(value, list):
        return []
    items: list[Any] = value  # pyright: ignore[reportUnknownVariableType]
    if step.kind == "index":
        return [items[step.index]] if -len(items) <= step.index < len(items) else []
    return items[step.index : step.stop]


def find(steps: tuple[Step, ...], value: Any) -> list[Any]:
    """Every match of ``steps`` in ``value`` (Structs are converted to builtins first), in document order."""
    current = [msgspec.to_builtins(value)]
    for step in steps:
        sources = [d for v in current for d in _descendants(v)] if step.deep else current
        current = [match for source in sources for match in _apply(step, source)]
    return current
