"""Input rules in the operator contract: the compiler reports unmet groups, located, with a stable code.

Built-in operators are checked through the golden fixtures (``tests/fixtures/compiler/check_input_rules``); this
module covers every rule kind with small operators, the registry's refusal of malformed rules, and the audit that
every built-in operator's rules name real ports and params.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import pytest
from msgspec import Meta

from rivulet.compiler import CompileError, DiagnosticCode, analyze_flow, compile_flow
from rivulet.compiler.flow import decode_flow
from rivulet.registry import default_registry
from rivulet.registry.loader import OperatorLoadError, OperatorSource, load_registry, validate_operator
from rivulet.sdk import InputRule, NoInputs, Operator, OperatorSpec, exactly_one_of, mutually_exclusive, requires_one_of
from rivulet.sdk.ports import Text
from rivulet.sdk.rules import param_provided


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    query: str = ""
    tags: list[str] = msgspec.field(default_factory=list[str])


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    query: Annotated[Text | None, Meta(description="The query.")] = None
    question: Text | None = None
    context: Text | None = None


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    text: Text


class Search(Operator[Params, Inputs, Outputs]):
    """SQL from an input or a param, never both; a question or a context, exactly one."""

    spec = OperatorSpec(
        id="acme.search",
        category="acme",
        title="Search",
        input_rules=(
            mutually_exclusive("query", params=("query",), hint="one source of SQL"),
            exactly_one_of("question", "context"),
        ),
    )
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs

    async def run(self, ctx: Any, params: Params, inputs: Inputs) -> Outputs:
        return Outputs(text="")


class Source(Operator[Params, NoInputs, Outputs]):
    spec = OperatorSpec(id="acme.source", category="acme", title="Source")
    params_type = Params
    outputs_type = Outputs

    async def run(self, ctx: Any, params: Params, inputs: NoInputs) -> Outputs:
        return Outputs(text="")


def _registry() -> Any:
    return load_registry(sources=[OperatorSource(name="tests", operators=(Search, Source))], entry_point_group=None)


def _flow(params: dict[str, Any], *ports: str) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [{"id": "s", "operator": "acme.search", "params": params}]
    edges: list[dict[str, Any]] = []
    for index, port in enumerate(ports):
        nodes.append({"id": f"src{index}", "operator": "acme.source"})
        edges.append(
            {"id": f"e{index}", "source": f"src{index}", "source_port": "text", "target": "s", "target_port": port}
        )
    return {"name": "rules", "nodes": nodes, "edges": edges}


def _diagnostics(flow: dict[str, Any]) -> list[tuple[str, str, str | None, str | None]]:
    state = analyze_flow(decode_flow(flow), _registry())
    return [(str(d.code), d.path, d.node_id, d.got) for d in state.diagnostics]


def test_exactly_one_met_and_nothing_else_provided_compiles() -> None:
    graph = compile_flow(decode_flow(_flow({}, "question")), _registry())
    assert "s" in graph.nodes


def test_exactly_one_missing_is_located_at_the_node_and_names_the_ports() -> None:
    with pytest.raises(CompileError) as raised:
        compile_flow(decode_flow(_flow({})), _registry())
    [diagnostic] = raised.value.diagnostics
    assert diagnostic.code == DiagnosticCode.REQUIRED_INPUT_GROUP_MISSING
    assert (diagnostic.node_id, diagnostic.path) == ("s", "$.nodes[0]")
    assert diagnostic.message == "node 's' (acme.search): connect 'question' or 'context' (none is provided)"
    assert diagnostic.choices == ["question", "context"]
    assert diagnostic.expected == "question | context"


def test_exactly_one_with_both_connected_is_reported_at_the_second_edge() -> None:
    assert _diagnostics(_flow({}, "question", "context")) == [
        ("conflicting_inputs", "$.edges[1]", "s", "question, context")
    ]


def test_an_input_and_the_param_standing_in_for_it_conflict_at_the_param() -> None:
    [(code, path, node_id, got)] = _diagnostics(_flow({"query": "select 1"}, "query", "context"))
    assert (code, path, node_id, got) == ("conflicting_inputs", "$.nodes[0].params.query", "s", "query, params.query")
    state = analyze_flow(decode_flow(_flow({"query": "select 1"}, "query", "context")), _registry())
    assert "(one source of SQL)" in state.diagnostics[0].message


def test_a_blank_param_does_not_count_as_provided() -> None:
    assert _diagnostics(_flow({"query": "  "}, "query", "context")) == []


def test_compile_error_carries_every_rule_diagnostic_in_its_problem_extra() -> None:
    with pytest.raises(CompileError) as raised:
        compile_flow(decode_flow(_flow({"query": "x"}, "query")), _registry())
    codes = [d["code"] for d in raised.value.extra["diagnostics"]]
    assert codes == ["conflicting_inputs", "required_input_group_missing"]


@pytest.mark.parametrize(
    ("value", "provided"),
    [
        (None, False),
        (msgspec.UNSET, False),
        ("", False),
        (" \n", False),
        ("x", True),
        ([], False),
        ({}, False),
        (["a"], True),
        (0, True),
        (False, False),
        (True, True),
    ],
)
def test_param_provided(value: Any, provided: bool) -> None:
    assert param_provided(value) is provided


def test_malformed_rules_are_refused_when_declared() -> None:
    with pytest.raises(ValueError, match="two members or more"):
        requires_one_of("prompt")
    with pytest.raises(ValueError, match="twice"):
        requires_one_of("a", "a")
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"kind": "some_of", "inputs": ["a", "b"]}, InputRule)


def _variant(**spec: Any) -> type[Search]:
    return type("Variant", (Search,), {"spec": OperatorSpec(id="acme.variant", category="acme", title="V", **spec)})


def test_the_registry_refuses_rules_naming_unknown_or_required_ports_and_unknown_params() -> None:
    class Required(Inputs, frozen=True, kw_only=True):
        needed: Text

    unknown = _variant(input_rules=(requires_one_of("query", "nope"),))
    param = _variant(input_rules=(requires_one_of("query", params=("missing",)),))
    required = type("Req", (_variant(input_rules=(requires_one_of("query", "needed"),)),), {"inputs_type": Required})
    assert validate_operator(unknown) == [
        (
            "acme.variant@1 (tests.unit.compiler.test_input_rules.Variant): input_rules[0]: no input port 'nope'"
            " (ports: ['context', 'query', 'question'])"
        )
    ]
    assert validate_operator(param)[0].endswith("input_rules[0]: no param 'missing'")
    assert validate_operator(required)[0].endswith(
        "input_rules[0]: input 'needed' is required; a rule groups optional inputs"
    )
    with pytest.raises(OperatorLoadError):
        load_registry(sources=[OperatorSource(name="tests", operators=(unknown,))], entry_point_group=None)


AUDITED = {
    "llm.chat": [("at_least_one", ("messages", "prompt"), ())],
    "llm.embed": [("at_least_one", ("texts", "text"), ())],
    "llm.conversation_memory": [("at_least_one", ("session_id",), ("session_id",))],
    "core.http_request": [("at_least_one", ("url",), ("url",))],
    "core.merge": [("at_least_one", ("in_1", "in_2"), ())],
}
"""Operators whose ``run`` failed for a missing input/param (the audit of issue 16) and the rule they declare."""


@pytest.mark.parametrize("operator_id", sorted(AUDITED))
def test_audited_operators_declare_their_rules_for_default_params(operator_id: str) -> None:
    operator = default_registry().get(operator_id)
    params = msgspec.convert({}, operator.params_type)
    rules = operator.input_rules(params)
    assert [(r.kind, r.inputs, r.params) for r in rules] == AUDITED[operator_id]
    ports = {p.name: p for p in operator.input_ports(params)}
    assert all(name in ports and not ports[name].required for r in rules for name in r.inputs)
