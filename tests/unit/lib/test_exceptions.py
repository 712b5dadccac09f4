from __future__ import annotations

from rivulet.lib.exceptions import AppError, MissingDependencyError, NotFoundError, OperatorError


def test_hierarchy_and_codes() -> None:
    err = NotFoundError("flow 'x' not found", extra={"flow_id": "x"})
    assert isinstance(err, AppError)
    assert (err.status_code, err.code, err.extra) == (404, "not_found", {"flow_id": "x"})


def test_operator_error_locates_the_node() -> None:
    err = OperatorError("boom", operator_id="core.delay", node_id="n3")
    assert err.extra == {"operator_id": "core.delay", "node_id": "n3"}


def test_missing_dependency_says_how_to_install() -> None:
    err = MissingDependencyError("vllm", extra="vllm")
    assert "pip install 'rivulet[vllm]'" in err.detail
