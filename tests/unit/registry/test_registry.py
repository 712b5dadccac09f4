from __future__ import annotations

import pytest

from rivulet.lib.exceptions import NotFoundError
from rivulet.registry import OperatorEntry, OperatorRegistry, UnknownOperatorError
from tests.unit.registry._fakes import Echo, EchoAgain, EchoV2


def _registry() -> OperatorRegistry:
    return OperatorRegistry([OperatorEntry(EchoV2, "test"), OperatorEntry(Echo, "test")])


def test_get_returns_latest_version_when_none_given() -> None:
    registry = _registry()
    assert registry.get("acme.echo") is EchoV2
    assert registry.get("acme.echo", 1) is Echo
    assert registry.versions("acme.echo") == (1, 2)


def test_all_is_sorted_by_id_then_version() -> None:
    registry = _registry()
    assert registry.all() == (Echo, EchoV2)
    assert registry.latest() == (EchoV2,)
    assert len(registry) == 2
    assert "acme.echo" in registry
    assert "acme.nope" not in registry


def test_unknown_id_suggests_close_matches() -> None:
    with pytest.raises(UnknownOperatorError) as info:
        _registry().get("acme.ecko")
    error = info.value
    assert isinstance(error, NotFoundError)
    assert error.code == "unknown_operator"
    assert error.suggestions == ("acme.echo",)
    assert "did you mean 'acme.echo'" in error.detail
    assert error.extra["suggestions"] == ["acme.echo"]


def test_unknown_id_without_close_match_has_no_hint() -> None:
    with pytest.raises(UnknownOperatorError) as info:
        _registry().get("zzz.qqq")
    assert info.value.suggestions == ()
    assert info.value.detail == "unknown operator 'zzz.qqq'"


def test_unknown_version_lists_available_versions() -> None:
    with pytest.raises(UnknownOperatorError, match=r"no version 7; available versions: 1, 2") as info:
        _registry().get("acme.echo", 7)
    assert info.value.versions == (1, 2)


def test_duplicate_key_is_rejected_naming_both_sources() -> None:
    with pytest.raises(ValueError, match=r"duplicate operator .*: first and second"):
        OperatorRegistry([OperatorEntry(Echo, "first"), OperatorEntry(EchoAgain, "second")])
