"""The import layering of docs/architecture.md holds, with no exception listed (``make check`` runs it too)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

from importlinter.cli import lint_imports

if TYPE_CHECKING:
    import pytest

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _contracts() -> list[dict[str, object]]:
    return tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]


def test_no_contract_excuses_an_import() -> None:
    assert [c["id"] for c in _contracts() if "ignore_imports" in c] == []


def test_the_layers_cover_every_top_level_package() -> None:
    (layers,) = (c for c in _contracts() if c["id"] == "layers")
    assert layers["exhaustive"] is True


def test_every_contract_is_kept(capsys: pytest.CaptureFixture[str]) -> None:
    code = lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True)
    assert code == 0, capsys.readouterr().out
