"""The bounded sandbox: sizes refused before they are built, a deadline that stops any render, renders off the loop."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from jinja2 import TemplateError

from rivulet.lib.exceptions import OperatorError
from rivulet.sdk import _sandbox, templating
from rivulet.sdk._sandbox import TemplateLimitError, TemplateTimeoutError, limits
from rivulet.sdk.context import node_deadline
from rivulet.sdk.templating import JINJA, compile_template, render_template, template_variables
from rivulet_operators.core import template as core_template
from tests.unit.operators.conftest import FakeContext, run_operator

LOOP_3E8 = "{% for i in range(100000) %}{% for j in range(3000) %}{% endfor %}{% endfor %}done"
"""3 x 10^8 loop steps: minutes of CPU without a deadline."""


def _render(source: str, deadline_s: float = 5.0, **values: Any) -> str:
    with limits(time.monotonic() + deadline_s):
        return JINJA.from_string(source).render(values)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{ 10 ** 10000000 % 7 }}", r"10 \*\* 10000000 would be too large"),
        ("{{ (2 ** 60000) * (2 ** 60000) }}", "the product would be too large"),
        ("{{ 'x' * 100000000 }}", "a str repeated 100,000,000 times would be too large"),
        ("{{ ['x' * 1000000] * 1000000 }}", "a list repeated 1,000,000 times would be too large"),
        ("{% set s = 'x' * 5000000 %}{{ s + s }}", "the sum would be too large"),
        ("{% set s = 'x' * 3000000 %}{{ s ~ s ~ s }}", "the '~' result would be too large"),
        ("{{ '%0999999999d' % 1 }}", "a formatted field would be too large"),
        ("{{ '%.99999999f' % 1.5 }}", "a formatted field would be too large"),
        ("{{ '{:>999999999}'.format(1) }}", "a formatted field would be too large"),
        ("{{ '%d'|format(1) ~ ('%0999999999d'|format(1)) }}", "a formatted field would be too large"),
        ("{{ 'x'.ljust(999999999) }}", r"str.ljust\(\) would be too large"),
        ("{{ ('x' * 10000)|replace('x', 'y' * 10000) }}", "the 'replace' filter's result would be too large"),
        ("{{ ('x' * 10000).replace('x', 'y' * 10000) }}", r"str.replace\(\) would be too large"),
        ("{{ 'x'|center(999999999) }}", "the 'center' filter's size argument would be too large"),
        ("{{ ('a\n' * 1000)|indent(100000) }}", "the 'indent' filter's result would be too large"),
        ("{{ [1]|batch(999999999, 0)|list }}", "the 'batch' filter's size argument would be too large"),
        ("{{ range(1000000)|list|length }}", r"range\(\) would be too large"),
        ("{{ lipsum(100000) }}", r"lipsum\(\) would be too large"),
        (
            "{% set ns = namespace(a='xxxxxxxx') %}{% for i in range(40) %}{% set ns.a = [ns.a, ns.a] %}{% endfor %}",
            "a list literal would be too large",
        ),
        ("{% for i in range(5000) %}{{ 'x' * 5000 }}{% endfor %}", "the template output would be too large"),
        (
            "{% set b %}{% for i in range(5000) %}{{ 'x' * 5000 }}{% endfor %}{% endset %}{{ b|length }}",
            "the template output would be too large",
        ),
    ],
)
def test_values_past_the_limits_are_refused_before_they_are_built(source: str, message: str) -> None:
    started = time.perf_counter()
    with pytest.raises(TemplateLimitError, match=message):
        _render(source)
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ 2 ** 100 }}", str(2**100)),
        ("{{ 3 * 4 }} {{ 'ab' * 2 }} {{ 2 * 'ab' }} {{ [1] * 2 }}", "12 abab abab [1, 1]"),
        ("{{ [1, 2] + [3] }} {{ 'a' + 'b' }} {{ 1 + 2 }}", "[1, 2, 3] ab 3"),
        ("{{ '%05d|%s' % (3, 'x') }} {{ '{:>4}'.format(1) }} {{ '%.2f'|format(1.5) }}", "00003|x    1 1.50"),
        ("{{ 'a' ~ 1 ~ none }}", "a1None"),
        ("{% set x = 'ab' %}{{ [x, x]|join('-') }} {{ {'k': x} }}", "ab-ab {'k': 'ab'}"),
        ("{% for a, b in {'x': 1}.items() %}{{ a }}={{ b }}{% endfor %}", "x=1"),
        ("{% for x in [] %}{{ x }}{% else %}empty{% endfor %}", "empty"),
        ("{% for x in 'abc' %}{{ loop.revindex }}{% endfor %}", "321"),
        ("{{ 'x'|center(5) }}|{{ 'a,b'|replace(',', ';') }}|{{ range(3)|list }}", "  x  |a;b|[0, 1, 2]"),
        ("{% macro m(n) %}{{ n }}{% if n %}{{ m(n - 1) }}{% endif %}{% endmacro %}{{ m(3) }}", "3210"),
        ("{% set b %}{% for i in range(3) %}x{% endfor %}{% endset %}{{ b }}", "xxx"),
        ("{{ ('x' * 4000000)|length }}", "4000000"),
    ],
)
def test_ordinary_templates_render_as_jinja_renders_them(source: str, expected: str) -> None:
    assert _render(source) == expected


def test_the_deadline_stops_a_loop_that_calls_nothing() -> None:
    started = time.perf_counter()
    with pytest.raises(TemplateTimeoutError, match="time limit"):
        _render(LOOP_3E8, deadline_s=0.2)
    assert time.perf_counter() - started < 1.5


def test_the_deadline_stops_exponential_macro_recursion() -> None:
    source = "{% macro m(n) %}{% if n %}{{ m(n - 1) }}{{ m(n - 1) }}{% endif %}{% endmacro %}{{ m(40) }}"
    with pytest.raises(TemplateTimeoutError):
        _render(source, deadline_s=0.2)


def test_a_huge_power_compiles_without_being_computed() -> None:
    started = time.perf_counter()
    assert template_variables("{{ 10 ** 10000000 % 7 }}{{ x }}") == ("x",)
    assert time.perf_counter() - started < 1.0  # jinja folded it at compile time: 14 s before
    with pytest.raises(TemplateError, match="too large"):
        compile_template("{{ 10 ** 10000000 % 7 }}{{ x }}")[0].render(x=1)


def test_compile_errors_are_located_values_errors() -> None:
    with pytest.raises(ValueError, match="nested too deeply"):
        template_variables("{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}")
    with pytest.raises(ValueError, match="No filter named 'nope'"):
        template_variables("{{ x|nope }}")


class _Where:
    def thread(self) -> str:
        return threading.current_thread().name


async def test_a_quick_render_stays_inline_and_a_slow_one_moves_to_a_worker_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ctx = FakeContext()
    with monkeypatch.context() as patch:
        patch.setattr(templating, "INLINE_SLICE_S", 1.0)  # a busy test machine can pause a thread for 2 ms
        quick = await render_template("{{ w.thread() }}", {"w": _Where()}, spec=core_template.SPEC, ctx=ctx)
    assert quick == threading.current_thread().name
    slow_source = "{% for i in range(100000) %}{% for j in range(5) %}{% endfor %}{% endfor %}{{ w.thread() }}"
    slow = await render_template(slow_source, {"w": _Where()}, spec=core_template.SPEC, ctx=ctx)
    assert slow.startswith("rivulet-template")


async def test_the_event_loop_keeps_running_while_a_template_renders() -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    token = node_deadline.set(time.monotonic() + 0.5)
    try:
        with pytest.raises(TimeoutError):
            await render_template(LOOP_3E8, {}, spec=core_template.SPEC, ctx=FakeContext())
    finally:
        node_deadline.reset(token)
        ticker.cancel()
    assert ticks >= 10  # the loop ran ~50 ticks of 10 ms meanwhile (0 when rendering on the loop)


async def test_without_a_node_timeout_a_render_stops_at_the_render_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(templating, "RENDER_TIME_LIMIT_S", 0.2)
    started = time.perf_counter()
    with pytest.raises(OperatorError, match=r"template failed to render: template ran past its time limit"):
        await render_template(LOOP_3E8, {}, spec=core_template.SPEC, ctx=FakeContext())
    assert time.perf_counter() - started < 1.5


async def test_a_long_map_moves_off_the_loop_and_stops_at_the_node_timeout() -> None:
    from rivulet_operators.core.map import MapItems

    items = list(range(100_000))
    small = await run_operator(MapItems, {"expression": "item * 2"}, {"items": items[:3]})
    assert small == {"items": [0, 2, 4]}
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    token = node_deadline.set(time.monotonic() + 0.5)
    started = time.perf_counter()
    try:
        with pytest.raises(TimeoutError):  # 100,000 x a 1,000-item sum: seconds of CPU
            await run_operator(MapItems, {"expression": "range(1000)|sum + item"}, {"items": items})
    finally:
        node_deadline.reset(token)
        ticker.cancel()
    assert time.perf_counter() - started < 1.5
    assert ticks >= 10
    with pytest.raises(OperatorError, match=r"expression failed on item 1: .*would be too large"):
        await run_operator(MapItems, {"expression": "'x' * item"}, {"items": [1, 10**9]})


def test_long_generated_source_compiles_in_a_child_interpreter(monkeypatch: pytest.MonkeyPatch) -> None:
    """compile() holds the GIL throughout (0.6 s for a 189 kB template): long source goes to a child process."""
    children: list[list[str]] = []
    real_run = _sandbox.subprocess.run

    def spy(args: list[str], **kwargs: Any) -> Any:
        children.append(args)
        return real_run(args, **kwargs)

    monkeypatch.setattr(_sandbox.subprocess, "run", spy)
    templating.clear_caches()
    source = "{{ a ~ b }}|\n" * 3_000
    template, names = compile_template(source)
    assert children, "the long template compiled in this process"
    assert names == ("a", "b")
    assert template.render(a="x", b="y") == "xy|\n" * 3_000
    children.clear()
    compile_template("{{ a }} short")
    assert children == []


def test_a_child_that_cannot_run_falls_back_to_compiling_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError("no processes left")

    monkeypatch.setattr(_sandbox.subprocess, "run", broken)
    source = "x = 1\n" * (_sandbox.INLINE_COMPILE_CHARS // 6 + 10)
    namespace: dict[str, Any] = {}
    exec(_sandbox.compile_code(source, "<long>"), namespace)
    assert namespace["x"] == 1
