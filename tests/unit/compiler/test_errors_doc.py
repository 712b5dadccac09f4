from __future__ import annotations

from pathlib import Path

import pytest

from rivulet.compiler.diagnostics import DiagnosticCode
from rivulet.templates.importer import ImportProblemCode

DOC = (Path(__file__).resolve().parents[3] / "docs" / "errors.md").read_text()


@pytest.mark.parametrize("code", list(DiagnosticCode))
def test_every_diagnostic_code_is_documented(code: DiagnosticCode) -> None:
    assert f"| `{code.value}` |" in DOC


@pytest.mark.parametrize("code", list(ImportProblemCode))
def test_every_import_problem_code_is_documented(code: ImportProblemCode) -> None:
    assert f"| `{code.value}` |" in DOC
