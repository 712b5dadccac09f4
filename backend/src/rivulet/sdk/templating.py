"""Jinja2 for operators: one sandboxed environment, and templates whose variables become input ports.

``JINJA`` is the sandbox for every template and expression operators evaluate: no ``_`` attributes, no mutation
of inputs, and an undefined name is an error rather than an empty string. ``template_variables`` lists the
variables a template reads from its context (names it sets or loops over stay local), checked to be usable as
port names; operators with one input port per variable build their ports with ``variable_ports`` and render with
``render_template``.

CPU-heavy templates cannot stall the event loop: the sandbox (``rivulet.sdk._sandbox``) bounds every value a
template builds (``**``, repetition, ``range``, padding, output size...), and a render gets a real deadline, checked
inside the sandbox on every hook, loop iteration and piece of output. ``render_template`` first gives a render a
slice of ``INLINE_SLICE_S`` on the caller's thread; one that needs longer starts over in a worker thread, under
the node's timeout (``rivulet.sdk.context.node_deadline``) or ``RENDER_TIME_LIMIT_S``, whichever ends first.
"""

from __future__ import annotations

import asyncio
import functools
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta, nodes
from jinja2.parser import Parser

from rivulet.lib.exceptions import OperatorError
from rivulet.sdk._sandbox import LimitedEnvironment, TemplateLimitError, TemplateTimeoutError, limits
from rivulet.sdk.context import node_deadline
from rivulet.sdk.operator import PortSpec

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from jinja2 import Template

    from rivulet.sdk.context import RunContext
    from rivulet.sdk.operator import OperatorSpec
    from rivulet.sdk.ports import PortType

__all__ = (
    "COMPILE_TIME_LIMIT_S",
    "INLINE_SLICE_S",
    "JINJA",
    "MAX_VARIABLES",
    "RENDER_TIME_LIMIT_S",
    "TemplateLimitError",
    "TemplateTimeoutError",
    "clear_caches",
    "compile_template",
    "render_template",
    "run_sandboxed",
    "syntax_message",
    "template_variables",
    "uses_chance",
    "variable_ports",
)

JINJA = LimitedEnvironment(autoescape=False, keep_trailing_newline=True, undefined=StrictUndefined)
"""The sandbox for every Jinja2 template and expression in operators: no ``_`` attributes, no mutation of
inputs, bounded value sizes, and an undefined name is an error rather than an empty string."""

RENDER_TIME_LIMIT_S = 10.0
"""The longest a render may take when its node has no shorter timeout."""
COMPILE_TIME_LIMIT_S = 10.0
"""The longest constant folding may take while a template compiles."""
INLINE_SLICE_S = 0.002
"""How long a render may run on the caller's thread (the event loop) before it starts over in a worker thread."""

_EXECUTOR = ThreadPoolExecutor(max_workers=4, thread_name_prefix="rivulet-template")
"""Renders that need more than ``INLINE_SLICE_S``: their own threads, so they never queue behind other work."""

MAX_VARIABLES = 32
"""The most variables (input ports) one template may read."""

T = TypeVar("T")

_PORT_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def syntax_message(exc: TemplateSyntaxError, what: str) -> str:
    """``what`` has a syntax error at line N: message."""
    return f"{what} has a syntax error at line {exc.lineno}: {exc.message}"


_Parts = tuple[tuple[bool, str], ...]
"""A substitution-only template: ``(is_variable, text or name)`` in order."""
_Substitution = tuple[_Parts, frozenset[str]]
"""Its parts and the names it needs."""


def _substitution(ast: nodes.Template) -> _Substitution | None:
    """The parts of a template made only of text and plain ``{{ name }}`` outputs, else ``None``."""
    parts: list[tuple[bool, str]] = []
    for statement in ast.body:
        if not isinstance(statement, nodes.Output):
            return None
        for item in statement.nodes:
            if isinstance(item, nodes.TemplateData):
                parts.append((False, item.data))
            elif isinstance(item, nodes.Name) and item.ctx == "load":
                parts.append((True, item.name))
            else:
                return None
    return tuple(parts), frozenset(name for variable, name in parts if variable)


def compile_template(source: str) -> tuple[Template, tuple[str, ...]]:
    """Compile ``source`` once (cached by source) with the variables it reads, sorted.

    Raises:
        ValueError: A syntax error, with its line.
    """
    template, names, _ = _compile(source)
    return template, names


@functools.lru_cache(maxsize=512)
def _compile(source: str) -> tuple[Template, tuple[str, ...], _Substitution | None]:
    try:
        with limits(time.monotonic() + COMPILE_TIME_LIMIT_S):  # constant folding runs sandboxed filters
            ast = JINJA.parse(source)
            builtins: set[str] = set(JINJA.globals)  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
            names = sorted(meta.find_undeclared_variables(ast) - builtins)
            substitution = _substitution(ast)  # before compiling: jinja's optimizer may rewrite the tree
            template = JINJA.from_string(ast)
    except TemplateSyntaxError as exc:
        raise ValueError(syntax_message(exc, "template")) from exc
    except TemplateError as exc:
        raise ValueError(f"template does not compile: {exc.message or type(exc).__name__}") from exc
    except RecursionError as exc:
        raise ValueError("template is nested too deeply to compile") from exc
    # the sandbox's globals never change: a plain dict spares jinja a ChainMap walk on every render
    template.globals = dict(template.globals)
    return template, tuple(names), substitution


_Prepared: TypeAlias = "tuple[Template, _Substitution | None, bool]"
_PREPARED: dict[str, _Prepared] = {}
_MAX_PREPARED = 512


def _prepare(source: str) -> _Prepared:
    template, _, substitution = _compile(source)
    return template, substitution, uses_chance(source)


async def _prepared(source: str) -> _Prepared:
    """The compiled template, its plain substitution and whether it uses chance.

    A template not seen before is parsed and compiled in a worker thread (a big one takes seconds of CPU).
    """
    hit = _PREPARED.get(source)
    if hit is None:
        hit = await asyncio.to_thread(_prepare, source)
        if len(_PREPARED) >= _MAX_PREPARED:
            _PREPARED.clear()
        _PREPARED[source] = hit
    return hit


def clear_caches() -> None:
    """Forget every compiled template (tests: behave as a fresh process)."""
    _PREPARED.clear()
    _compile.cache_clear()
    uses_chance.cache_clear()


def template_variables(source: str) -> tuple[str, ...]:
    """The variables ``source`` reads from its context, sorted (its input port names).

    Raises:
        ValueError: A syntax error (with its line), an invalid port name or too many variables.
    """
    _, names = compile_template(source)
    bad = [n for n in names if not _PORT_NAME.match(n)]
    if bad:
        raise ValueError(f"template variables {bad} cannot be ports; use lower_snake_case names")
    if len(names) > MAX_VARIABLES:
        raise ValueError(f"template reads {len(names)} variables; at most {MAX_VARIABLES} are allowed")
    return names


def variable_ports(source: str, type_of: Callable[[str], PortType]) -> tuple[PortSpec, ...]:
    """One input port per variable of ``source``, typed by ``type_of(name)``.

    Raises:
        ValueError: As ``template_variables``.
    """
    return tuple(
        PortSpec(name=name, type=type_of(name), description=f"Value of {{{{ {name} }}}}.")
        for name in template_variables(source)
    )


async def render_template(source: str, values: Mapping[str, Any], *, spec: OperatorSpec, ctx: RunContext) -> str:
    """Render ``source`` with ``values`` in the sandbox, off the event loop when it takes more than a moment.

    Raises:
        OperatorError: Rendering failed (undefined name or attribute, sandbox violation, a size or time limit...),
            located at the operator ``spec`` and the node running it.
        TimeoutError: The node's timeout ended the render.
    """
    template, substitution, chance = await _prepared(source)
    if chance:
        ctx.nondeterministic()  # its result is not a function of its inputs: never cached
    if substitution is not None and substitution[1] <= values.keys():
        # text and plain {{ name }} only: what jinja renders (str of each value), without a render context
        return "".join([str(values[text]) if variable else text for variable, text in substitution[0]])
    try:
        return await run_sandboxed(functools.partial(template.render, values))
    except TemplateError as exc:
        raise _render_error(exc, spec, ctx) from exc


async def run_sandboxed(work: Callable[[], T]) -> T:
    """Run ``work`` (rendering or evaluating in ``JINJA``, without side effects) under the sandbox's time bound.

    It first runs on the caller's thread for ``INLINE_SLICE_S``; past that it starts over in a worker thread,
    until the node's timeout (``node_deadline``) or ``RENDER_TIME_LIMIT_S``, whichever ends first. ``work`` must
    let ``TemplateTimeoutError`` through.

    Raises:
        TimeoutError: The node's timeout ended it.
        TemplateTimeoutError: ``RENDER_TIME_LIMIT_S`` ended it (a ``TemplateError``).
    """
    node = node_deadline.get()
    deadline = time.monotonic() + RENDER_TIME_LIMIT_S
    if node is not None and node < deadline:
        deadline = node
    try:
        try:
            return _limited(work, min(deadline, time.monotonic() + INLINE_SLICE_S), pause=False)
        except TemplateTimeoutError:
            if time.monotonic() >= deadline:
                raise
        # longer than a slice: start over in a worker thread (no side effects to repeat)
        return await asyncio.get_running_loop().run_in_executor(_EXECUTOR, _limited, work, deadline)
    except TemplateTimeoutError as exc:
        if node is not None and node <= deadline:
            raise TimeoutError from exc  # the node's timeout, reported as such
        raise


def _limited(work: Callable[[], T], deadline: float, *, pause: bool = True) -> T:
    with limits(deadline, pause=pause):
        return work()


_CHANCE = frozenset(("random", "lipsum"))
"""The builtins whose result changes from one render to the next (the ``random`` filter, ``lipsum()``)."""


@functools.lru_cache(maxsize=512)
def uses_chance(source: str, *, expression: bool = False) -> bool:
    """Whether a template (or, with ``expression``, an expression) that compiles may use chance.

    Chance is the ``random`` filter or ``lipsum()``: the result changes from one evaluation to the next. Used
    as a filter, a name, or a filter name in a string (``map('random')``): a string that says ``random`` is enough.
    An operator that evaluates such a source calls ``ctx.nondeterministic()`` (``render_template`` does).
    """
    if expression:
        tree: nodes.Node = Parser(JINJA, source, state="variable").parse_expression()
    else:
        tree = JINJA.parse(source)
    for node in (tree, *tree.find_all((nodes.Filter, nodes.Name, nodes.Const))):
        if not isinstance(node, (nodes.Filter, nodes.Name, nodes.Const)):
            continue
        name = node.name if isinstance(node, (nodes.Filter, nodes.Name)) else node.value
        if isinstance(name, str) and name in _CHANCE:
            return True
    return False


def _render_error(exc: TemplateError, spec: OperatorSpec, ctx: RunContext) -> OperatorError:
    detail = f"template failed to render: {exc.message or type(exc).__name__}"
    return OperatorError(detail, operator_id=spec.id, node_id=ctx.node_id)
