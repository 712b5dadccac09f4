from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import pytest

import rivulet_operators
from rivulet.registry import ENTRY_POINT_GROUP, OperatorLoadError, default_registry, load_registry
from rivulet.registry.loader import OperatorSource, validate_operator
from tests.unit.registry import _fakes

if TYPE_CHECKING:
    from pathlib import Path


def _source(*operators: object, name: str = "tests") -> OperatorSource:
    return OperatorSource(name=name, operators=operators)


def _install_pack(root: Path, monkeypatch: pytest.MonkeyPatch, name: str, target: str, body: str) -> None:
    """A real installed distribution (dist-info with entry_points.txt) on sys.path."""
    package = root / name
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent(body))
    dist = root / f"{name}-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{name} = {target}\n")
    monkeypatch.syspath_prepend(str(root))


def test_builtin_registry_loads_every_builtin_operator() -> None:
    registry = load_registry(entry_point_group=None)
    assert set(registry.all()) == set(rivulet_operators.OPERATORS)
    assert all(op.spec.category == op.spec.id.split(".")[0] for op in registry)


def test_default_registry_is_built_once() -> None:
    assert default_registry() is default_registry()


def test_valid_fakes_load() -> None:
    registry = load_registry(sources=[_source(*_fakes.OPERATORS)], entry_point_group=None)
    assert registry.ids() == ("acme.echo",)
    assert "tests: tests.unit.registry._fakes.EchoV2" in registry.entry("acme.echo").source


def test_duplicate_names_both_sources() -> None:
    with pytest.raises(OperatorLoadError) as info:
        load_registry(sources=[_source(_fakes.Echo, name="pack a"), _source(_fakes.EchoAgain, name="pack b")])
    (problem,) = info.value.problems
    assert problem.startswith("duplicate operator acme.echo@1: pack a: ")
    assert "pack b: tests.unit.registry._fakes.EchoAgain" in problem


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        (_fakes.WrongCategory, "id prefix must equal the category 'other'"),
        (_fakes.NoRun, "does not implement run()"),
        (_fakes.BadPort, "output ports: <class 'bytes'> is not a port type"),
        (_fakes.Loose, "must set forbid_unknown_fields=True"),
        (_fakes.HalfDynamic, "dynamic_outputs=True requires overriding output_ports and output_values"),
        (_fakes.Undeclared, "overrides input_ports but does not set dynamic_inputs=True"),
        (_fakes.NotAnOperator, "not an Operator subclass"),
    ],
)
def test_invalid_operators_are_reported(operator: object, expected: str) -> None:
    problems = validate_operator(operator)
    assert any(expected in p for p in problems), problems


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(OperatorLoadError) as info:
        load_registry(sources=[_source(_fakes.NoRun, _fakes.Loose, _fakes.Echo)], entry_point_group=None)
    assert len(info.value.problems) == 2
    assert info.value.extra["problems"] == list(info.value.problems)


def test_builtins_follow_the_module_naming_rule() -> None:
    problems = validate_operator(_fakes.Echo, builtin=True)
    assert problems == ["acme.echo@1 (tests.unit.registry._fakes.Echo): module name must be the id tail 'echo'"]


def test_entry_point_pack_is_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _install_pack(
        tmp_path, monkeypatch, "acme_pack", "acme_pack:OPERATORS",
        "from tests.unit.registry._fakes import Echo, EchoV2\nOPERATORS = (Echo, EchoV2)\n",
    )  # fmt: skip
    registry = load_registry()
    assert registry.get("acme.echo") is _fakes.EchoV2
    assert registry.get("core.constant").spec.id == "core.constant"
    assert registry.entry("acme.echo").source.startswith("entry point 'acme_pack' (acme_pack:OPERATORS)")


def test_entry_point_duplicating_a_builtin_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _install_pack(
        tmp_path, monkeypatch, "dup_pack", "dup_pack:OPERATORS",
        "from rivulet_operators.core.constant import Constant\nOPERATORS = (Constant,)\n",
    )  # fmt: skip
    with pytest.raises(OperatorLoadError, match=r"duplicate operator core.constant@1: builtin rivulet_operators"):
        load_registry()


def test_broken_entry_point_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _install_pack(tmp_path, monkeypatch, "broken_pack", "broken_pack:OPERATORS", "raise RuntimeError('boom')\n")
    with pytest.raises(OperatorLoadError, match=r"entry point 'broken_pack' .*cannot be imported: RuntimeError: boom"):
        load_registry()


def test_entry_point_must_be_a_tuple(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _install_pack(tmp_path, monkeypatch, "odd_pack", "odd_pack:OPERATORS", "OPERATORS = 42\n")
    with pytest.raises(OperatorLoadError, match=r"must be a tuple of Operator classes, got int"):
        load_registry()
