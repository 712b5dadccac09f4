"""The committed ``schemas/`` files are generated from the code; this fails when they drift."""

from __future__ import annotations

from pathlib import Path

import pytest

from rivulet.app.schemas import SCHEMA_EXPORTS, render_schemas

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


@pytest.mark.parametrize("name", sorted(SCHEMA_EXPORTS))
def test_committed_schema_matches_code(name: str) -> None:
    committed = SCHEMAS / name
    assert committed.is_file(), f"schemas/{name} is missing; run `make schemas`"
    assert committed.read_bytes() == render_schemas()[name], f"schemas/{name} drifted; run `make schemas`"
