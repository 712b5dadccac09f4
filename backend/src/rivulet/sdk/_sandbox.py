"""The bounded Jinja2 sandbox (internal): bounded sizes for every value a template builds, bounded render time.

Sizes. Each operation that can make a value much larger than its operands is checked *before* it runs: ``**`` and
``*`` on integers (result bits), ``*`` and ``+`` on strings and sequences, ``%`` and ``str.format`` (field widths
and precisions), ``~``, ``range``, the string methods and filters that pad or repeat (``center``, ``ljust``,
``replace``, ``join``, ``indent``, ``batch``...). Containers are measured by *weight* (the characters and items
their text form would take), so ``[s] * n`` or ``[x, x, x]`` chains cannot build a value whose ``str`` is huge.
``**``, ``*``, ``+`` and ``%`` are intercepted binary operators, which also stops Jinja's optimizer from folding
them at compile time (``{{ 10 ** 10000000 }}`` costs nothing to compile and is refused when rendered).

Time. A render runs under ``limits(deadline)``: the deadline (``time.monotonic()``) is checked by every sandbox
hook (attribute and item access, calls, intercepted operators, filters), on every loop iteration and for every
piece of output, so a template stops within microseconds of its deadline wherever it spends its time. The checks
are cooperative: no exception is injected into a thread from outside, and a thread is never left running a
template after its deadline.
"""

from __future__ import annotations

import contextlib
import functools
import marshal
import math
import re
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, ClassVar, cast

from jinja2 import Environment, Template, nodes
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace, generate_lorem_ipsum
from jinja2.visitor import NodeTransformer

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterable, Iterator, MutableMapping
    from types import CodeType

    from jinja2.compiler import Frame

__all__ = (
    "MAX_INT_BITS",
    "MAX_ITERATIONS",
    "MAX_RANGE",
    "MAX_SIZE",
    "LimitedEnvironment",
    "TemplateLimitError",
    "TemplateTimeoutError",
    "limits",
)

MAX_INT_BITS = 65_536
"""The largest integer ``**`` and ``*`` may produce, in bits (about 19,700 digits)."""
MAX_SIZE = 8_000_000
"""The most characters (strings) or weight (containers: characters plus items) one value a template builds may
have; also the most characters one render may output."""
MAX_RANGE = 100_000
"""The most items ``range()`` may produce."""
INLINE_COMPILE_CHARS = 64_000
"""Generated Python source longer than this is compiled to bytecode by a child interpreter: ``compile()`` holds
the GIL from start to end (0.6 s for the 2.3 MB a 189 kB template generates), so no worker thread keeps that
from the event loop. Shorter source compiles in a few ms in the calling thread."""
_CHILD_COMPILE = (
    "import marshal,sys;"
    "sys.stdout.buffer.write(marshal.dumps(compile(sys.stdin.buffer.read().decode(),sys.argv[1],'exec')))"
)
MAX_ITERATIONS = 10_000_000
"""The most loop iterations one render may run (all loops together)."""
_MAX_TOJSON_INDENT = 32


class TemplateLimitError(SecurityError):
    """A template tried to build a value past a size limit (a ``TemplateError``)."""


class TemplateTimeoutError(SecurityError):
    """A template ran past its deadline (a ``TemplateError``)."""


_PAUSE_EVERY_S = 0.001
_PAUSE_S = 0.0001


class _State:
    __slots__ = ("check_at", "deadline", "iterations", "limit_s", "pause", "weights")

    def __init__(self, deadline: float | None, *, pause: bool) -> None:
        now = time.monotonic()
        self.deadline = math.inf if deadline is None else deadline
        self.limit_s = max(self.deadline - now, 0.0)
        self.pause = pause
        self.check_at = min(self.deadline, now + _PAUSE_EVERY_S) if pause else self.deadline
        """When ``checkpoint`` has something to do next (the deadline, or a pause)."""
        self.iterations = 0
        self.weights: dict[int, tuple[Any, int]] = {}
        """Weight of each container measured so far, by id (the container is kept alive, so ids are not reused;
        the sandbox cannot mutate a list, dict or tuple, so a weight never goes stale)."""

    def checkpoint(self) -> None:
        """Raise past the deadline; in a worker thread, let the event loop's thread run (see ``limits``)."""
        now = time.monotonic()
        if now > self.deadline:
            raise TemplateTimeoutError(f"template ran past its time limit ({self.limit_s:.3g} s)")
        if self.pause:
            time.sleep(_PAUSE_S)
            self.check_at = min(self.deadline, time.monotonic() + _PAUSE_EVERY_S)


class _Local(threading.local):
    state: _State | None = None


_LOCAL = _Local()


@contextlib.contextmanager
def limits(deadline: float | None, *, pause: bool = False) -> Generator[None]:
    """Run templates in this thread under a deadline (``time.monotonic()``) and a fresh per-render budget.

    With ``pause`` (a worker thread), the render sleeps 0.1 ms after each millisecond of work: a CPU-bound thread
    otherwise keeps the GIL for up to ``sys.getswitchinterval()`` (5 ms) each time the event loop's thread wants
    it back, which it does several times per request.
    """
    previous = _LOCAL.state
    _LOCAL.state = _State(deadline, pause=pause)
    try:
        yield
    finally:
        _LOCAL.state = previous


def check_time() -> None:
    """Raise ``TemplateTimeoutError`` once the current deadline has passed (and pause, in a worker thread)."""
    state = _LOCAL.state
    if state is not None and time.monotonic() > state.check_at:
        state.checkpoint()


def _too_large(what: str, size: int, limit: int = MAX_SIZE) -> TemplateLimitError:
    return TemplateLimitError(f"{what} would be too large ({size:,} > {limit:,}); templates are limited to {limit:,}")


def weight(value: Any) -> int:
    """About how many characters ``str(value)`` takes (stops counting soon after ``MAX_SIZE``)."""
    state = _LOCAL.state
    return _weight(value, state.weights if state is not None else {}, 0)


def _weight(value: Any, cache: dict[int, tuple[Any, int]], depth: int) -> int:
    if isinstance(value, str | bytes):
        return len(value) + 2  # pyright: ignore[reportUnknownArgumentType]
    if isinstance(value, int):
        return value.bit_length() // 3 + 1
    if isinstance(value, Namespace):  # mutable ({% set ns.x = ... %}): never cached
        return _weight(dict(object.__getattribute__(value, "_Namespace__attrs")), cache, depth)
    if not isinstance(value, list | tuple | dict | set | frozenset):
        return 8
    hit = cache.get(id(value))  # pyright: ignore[reportUnknownArgumentType]
    if hit is not None and hit[0] is value:
        return hit[1]
    if depth > 200:
        raise TemplateLimitError("a value nested more than 200 levels deep is too deep for a template")
    total = 2
    items = cast("Iterable[Any]", value.items() if isinstance(value, dict) else value)  # pyright: ignore[reportUnknownMemberType]
    for item in items:
        total += _weight(item, cache, depth + 1) + 2
        if total > MAX_SIZE:
            break
    cache[id(value)] = (value, total)  # pyright: ignore[reportUnknownArgumentType]
    return total


def _checked(value: Any, what: str) -> Any:
    """``value``, after checking that its weight is within ``MAX_SIZE``."""
    if isinstance(value, str):
        if len(value) > MAX_SIZE:
            raise _too_large(what, len(value))
    elif isinstance(value, list | tuple | dict | Namespace):
        size = weight(value)
        if size > MAX_SIZE:
            raise _too_large(what, size)
    return value  # pyright: ignore[reportUnknownVariableType]


def _sized(value: Any) -> int | None:
    """The number of characters or items of a string or sequence (what ``*`` and ``+`` repeat), else ``None``."""
    return len(value) if isinstance(value, str | bytes | list | tuple) else None  # pyright: ignore[reportUnknownArgumentType]


def _power(left: Any, right: Any) -> Any:
    if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
        bits = (abs(left).bit_length() - 1) * right + 1
        if bits > MAX_INT_BITS:
            raise _too_large(f"{left} ** {right}", bits, MAX_INT_BITS)
    return left**right


def _multiply(left: Any, right: Any) -> Any:
    if isinstance(left, int) and isinstance(right, int):
        bits = left.bit_length() + right.bit_length()
        if bits > MAX_INT_BITS:
            raise _too_large("the product", bits, MAX_INT_BITS)
        return left * right
    sequence, times = (left, right) if isinstance(right, int) else (right, left)
    if isinstance(times, int) and _sized(sequence) is not None and times > 0:
        size = (len(sequence) if isinstance(sequence, str | bytes) else weight(sequence)) * times  # pyright: ignore[reportUnknownArgumentType]
        if size > MAX_SIZE:
            raise _too_large(f"a {type(sequence).__name__} repeated {times:,} times", size)
    return left * right


def _add(left: Any, right: Any) -> Any:
    if _sized(left) is not None and _sized(right) is not None:
        size = weight(left) + weight(right)
        if size > MAX_SIZE:
            raise _too_large("the sum", size)
    return left + right


_FORMAT_NUMBER = re.compile(r"\d+")


def _check_format(fmt: str, args: Iterable[Any]) -> None:
    """Refuse field widths or precisions past ``MAX_SIZE``, in the format or given as ``*`` arguments."""
    for match in _FORMAT_NUMBER.finditer(fmt):
        if len(match.group()) > 7 and int(match.group()) > MAX_SIZE:
            raise _too_large("a formatted field", int(match.group()))
    size = len(fmt)
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and arg > MAX_SIZE:
            raise _too_large("a formatted field", arg)
        size += weight(arg)
    if size > MAX_SIZE:
        raise _too_large("the formatted text", size)


def _modulo(left: Any, right: Any) -> Any:
    if isinstance(left, str):
        values = cast(
            "Iterable[Any]",
            right.values() if isinstance(right, dict) else right if isinstance(right, tuple) else (right,),  # pyright: ignore[reportUnknownMemberType]
        )
        _check_format(left, values)
    return left % right


_BINOPS: dict[str, Callable[[Any, Any], Any]] = {"**": _power, "*": _multiply, "+": _add, "%": _modulo}


def _replaced_size(text: str, old: str, new: str, count: int = -1) -> int:
    hits = len(text) + 1 if not old else text.count(old)
    if count >= 0:
        hits = min(hits, count)
    return len(text) + hits * max(len(new) - len(old), 0)


def _check_method(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Pre-check the ``str`` methods whose result can be much larger than the string."""
    owner = getattr(obj, "__self__", None)
    if not isinstance(owner, str):
        return
    name = getattr(obj, "__name__", "")
    ints = [a for a in (*args, *kwargs.values()) if isinstance(a, int)]
    if name in {"center", "ljust", "rjust", "zfill"} and any(a > MAX_SIZE for a in ints):
        raise _too_large(f"str.{name}()", max(ints))
    if name == "expandtabs":
        size = len(owner) + owner.count("\t") * max(ints or [8])
        if size > MAX_SIZE:
            raise _too_large("str.expandtabs()", size)
    elif name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        size = _replaced_size(owner, args[0], args[1], ints[0] if ints else -1)
        if size > MAX_SIZE:
            raise _too_large("str.replace()", size)
    elif name == "join" and args:
        items = args[0]
        size = weight(items) + len(owner) * (len(items) if isinstance(items, list | tuple) else 0)  # pyright: ignore[reportUnknownArgumentType]
        if size > MAX_SIZE:
            raise _too_large("str.join()", size)


def _range(*args: int) -> range:
    result = range(*args)
    if len(result) > MAX_RANGE:
        raise _too_large("range()", len(result), MAX_RANGE)
    return result


def _guard_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` checking the deadline, pre-checking the arguments that set an output size, and checking its result."""

    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        check_time()
        _check_filter(name, [a for a in args if not _is_jinja_internal(a)], kwargs)
        return _checked(func(*args, **kwargs), f"the result of the {name!r} filter")

    return guarded


def _is_jinja_internal(value: Any) -> bool:
    return isinstance(value, Environment | EvalContext | Context)


def _check_filter(name: str, args: list[Any], kwargs: dict[str, Any]) -> None:
    value, rest = (args[0], args[1:]) if args else (None, [])
    ints = [a for a in (*rest, *kwargs.values()) if isinstance(a, int) and not isinstance(a, bool)]
    if name in {"center", "batch", "slice", "wordwrap", "truncate"} and any(a > MAX_SIZE for a in ints):
        raise _too_large(f"the {name!r} filter's size argument", max(ints))
    if name == "indent" and isinstance(value, str):
        width = ints[0] if ints else len(rest[0]) if rest and isinstance(rest[0], str) else 4
        size = len(value) + value.count("\n") * width
        if size > MAX_SIZE:
            raise _too_large("the 'indent' filter's result", size)
    elif name == "tojson" and any(a > _MAX_TOJSON_INDENT for a in ints):
        raise _too_large("the 'tojson' filter's indent", max(ints), _MAX_TOJSON_INDENT)
    elif name == "format" and isinstance(value, str):
        _check_format(value, [*rest, *kwargs.values()])
    elif name == "replace" and isinstance(value, str) and len(rest) >= 2:
        old, new = str(rest[0]), str(rest[1])
        size = _replaced_size(value, old, new, ints[0] if len(rest) > 2 and ints else -1)
        if size > MAX_SIZE:
            raise _too_large("the 'replace' filter's result", size)
    elif name == "join" and value is not None:
        size = weight(value if isinstance(value, list | tuple) else [])
        if size > MAX_SIZE:
            raise _too_large("the 'join' filter's result", size)


def _lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:  # noqa: A002
    if n * max > 100_000:
        raise _too_large("lipsum()", n * max, 100_000)
    return str(generate_lorem_ipsum(n, html, min, max))


def _limited_str(value: Any) -> str:
    """``str`` for template output: strings as they are, other values only when their text is bounded."""
    if type(value) is str:
        return value
    return str(_checked(value, "a value in the output"))


def _limited_join(pieces: Iterable[str]) -> str:
    """``"".join`` for output and captured blocks: checks the deadline per piece and bounds the total length."""
    out: list[str] = []
    size = 0
    state = _LOCAL.state
    for piece in pieces:
        size += len(piece)
        if size > MAX_SIZE:
            raise _too_large("the template output", size)
        if state is not None and time.monotonic() > state.check_at:
            state.checkpoint()
        out.append(piece)
    return "".join(out)


def _limited_iter(iterable: Iterable[Any]) -> Iterator[Any]:
    """A loop's iterable, checking the deadline and the iteration budget every step."""
    state = _LOCAL.state
    if state is None:
        yield from iterable
        return
    for item in iterable:
        state.iterations += 1
        if state.iterations > MAX_ITERATIONS:
            raise TemplateLimitError(f"template ran more than {MAX_ITERATIONS:,} loop iterations")
        if time.monotonic() > state.check_at:
            state.checkpoint()
        yield item


def _limited_concat(*values: Any) -> str:
    """``a ~ b``: the pieces' text, bounded."""
    texts = [_limited_str(v) for v in values]
    size = sum(len(t) for t in texts)
    if size > MAX_SIZE:
        raise _too_large("the '~' result", size)
    return "".join(texts)


def _limited_literal(value: Any) -> Any:
    """A list, tuple or dict literal with a non-constant item: its weight bounded."""
    return _checked(value, f"a {type(value).__name__} literal")


class _Guards(NodeTransformer):
    """Routes loops, ``~`` and container literals through the environment's checks."""

    @staticmethod
    def _wrap(name: str, args: list[nodes.Expr], lineno: int) -> nodes.Call:
        return nodes.Call(nodes.EnvironmentAttribute(name), args, [], None, None, lineno=lineno)

    def visit_For(self, node: nodes.For) -> nodes.Node:  # noqa: N802
        self.generic_visit(node)
        node.iter = self._wrap("limited_iter", [cast("nodes.Expr", node.iter)], node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:  # noqa: N802
        self.generic_visit(node)
        return self._wrap("limited_concat", list(node.nodes), node.lineno)

    def _literal(self, node: nodes.Expr) -> nodes.Node:
        self.generic_visit(node)
        try:
            node.as_const()
        except nodes.Impossible:
            return self._wrap("limited_literal", [node], node.lineno)
        return node

    def visit_List(self, node: nodes.List) -> nodes.Node:  # noqa: N802
        return self._literal(node)

    def visit_Dict(self, node: nodes.Dict) -> nodes.Node:  # noqa: N802
        return self._literal(node)

    def visit_Tuple(self, node: nodes.Tuple) -> nodes.Node:  # noqa: N802
        return self._literal(node) if node.ctx == "load" else node


class _LimitedCodeGenerator(CodeGenerator):
    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:  # noqa: N802
        super().visit_Template(_Guards().visit(node), frame)


class _LimitedTemplate(Template):
    @classmethod
    def _from_namespace(
        cls,
        environment: Any,
        namespace: MutableMapping[str, Any],
        globals: MutableMapping[str, Any],  # noqa: A002
    ) -> Template:
        # the generated module's own names: output goes through str() and captured blocks through concat()
        namespace["str"] = _limited_str
        namespace["concat"] = _limited_join
        return super()._from_namespace(environment, namespace, globals)  # pyright: ignore[reportPrivateUsage]


class LimitedEnvironment(ImmutableSandboxedEnvironment):
    """``ImmutableSandboxedEnvironment`` with bounded value sizes and deadline checks (see the module docstring)."""

    code_generator_class = _LimitedCodeGenerator
    template_class = _LimitedTemplate
    intercepted_binops: ClassVar[frozenset[str]] = frozenset(_BINOPS)  # pyright: ignore[reportIncompatibleVariableOverride]

    limited_iter = staticmethod(_limited_iter)
    limited_concat = staticmethod(_limited_concat)
    limited_literal = staticmethod(_limited_literal)

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.concat = _limited_join  # pyright: ignore[reportAttributeAccessIssue] - Template.render's join
        self.filters = {name: _guard_filter(name, f) for name, f in self.filters.items()}  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType, reportUnknownVariableType]
        self.globals.update(range=_range, lipsum=_lipsum)  # pyright: ignore[reportUnknownMemberType]

    def _compile(self, source: str, filename: str) -> CodeType:
        return compile_code(source, filename)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        check_time()
        return _BINOPS[operator](left, right)

    def getattr(self, obj: Any, attribute: str) -> Any:
        check_time()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        check_time()
        return super().getitem(obj, argument)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fmt: str = value.__self__

        @functools.wraps(wrapped)
        def checked(*args: Any, **kwargs: Any) -> str:
            mapping: Iterable[Any] = args[0].values() if value.__name__ == "format_map" and args else ()
            _check_format(fmt, [*args, *kwargs.values(), *mapping])
            return _checked(wrapped(*args, **kwargs), "the formatted text")

        return checked

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        check_time()
        _check_method(__obj, args, kwargs)
        return _checked(super().call(__context, __obj, *args, **kwargs), "the call's result")


def compile_code(source: str, filename: str) -> CodeType:
    """``compile(source, filename, "exec")``; long source in a child interpreter, which holds no lock of ours.

    The child runs the same interpreter isolated (``-I -S``) and hands back marshalled bytecode; if it cannot run,
    the source compiles here.
    """
    if len(source) > INLINE_COMPILE_CHARS:
        with contextlib.suppress(OSError, subprocess.SubprocessError, UnicodeError, ValueError, EOFError, TypeError):
            child = subprocess.run(  # noqa: S603 - our own interpreter, a fixed program, the source on stdin
                [sys.executable, "-I", "-S", "-c", _CHILD_COMPILE, filename],
                input=source.encode(),
                capture_output=True,
                timeout=60,
                check=True,
            )
            return cast("CodeType", marshal.loads(child.stdout))  # noqa: S302 - bytes our own child just wrote
    return compile(source, filename, "exec")
