"""The importer on the memory store (the PostgreSQL store runs the same through the API tests)."""

from __future__ import annotations

import msgspec
import pytest

from rivulet.compiler import compile_flow
from rivulet.lib.exceptions import ConflictError
from rivulet.registry.loader import default_registry
from rivulet.storage.memory import MemoryFlowStore
from rivulet.templates.export import export_flow
from rivulet.templates.importer import TemplateImportError, import_package, prepare_flows
from rivulet.templates.package import TemplateVariable, load_package
from rivulet.templates.sources import BUILTIN_TEMPLATES


def _router():
    return load_package(BUILTIN_TEMPLATES / "ticket-router")


def test_variables_are_typed_substituted_and_provenance_recorded() -> None:
    flows = prepare_flows(_router(), default_registry(), {"urgent_level": "7"})
    (flow,) = flows.values()
    route = next(n for n in flow.nodes if n.id == "route")
    assert route.params["conditions"][0]["expression"] == "value.priority >= 7"
    assert flow.metadata.template == "ticket-router@1.0.0"
    assert "router" in flow.metadata.tags
    compile_flow(flow, default_registry())


def test_every_variable_problem_is_reported_at_once() -> None:
    package = load_package(BUILTIN_TEMPLATES / "http-fetch-extract")
    with pytest.raises(TemplateImportError) as caught:
        prepare_flows(package, default_registry(), {"json_path": 3, "api_urll": "x"})
    codes = {(p.code, p.path) for p in caught.value.problems}
    assert codes == {
        ("unknown_template_variable", "variables.api_urll"),
        ("missing_variable", "variables.api_url"),
        ("invalid_variable", "variables.json_path"),
    }
    assert str(caught.value.detail).startswith("cannot import http-fetch-extract@1.0.0: unknown variable 'api_urll'")


def test_secret_variables_become_flow_secrets_and_are_never_substituted() -> None:
    package = _router()
    secret = TemplateVariable(name="api_key", secret=True, description="for the API")
    manifest = msgspec.structs.replace(package.manifest, variables=[*package.manifest.variables, secret])
    (flow,) = prepare_flows(msgspec.structs.replace(package, manifest=manifest), default_registry()).values()
    assert [(v.name, v.type) for v in flow.variables] == [("api_key", "secret")]


def test_undeclared_placeholder_is_located() -> None:
    package = _router()
    manifest = msgspec.structs.replace(package.manifest, variables=[])
    with pytest.raises(TemplateImportError) as caught:
        prepare_flows(msgspec.structs.replace(package, manifest=manifest), default_registry())
    (problem,) = caught.value.problems
    assert (problem.code, problem.node_id, problem.got) == ("undeclared_placeholder", "route", "${urgent_level}")


async def test_conflicts_ask_skip_upgrade_new() -> None:
    store = MemoryFlowStore()
    registry = default_registry()
    first = await import_package(_router(), store=store, registry=registry)
    with pytest.raises(ConflictError, match="choose on_conflict"):
        await import_package(_router(), store=store, registry=registry)
    skipped = await import_package(_router(), store=store, registry=registry, on_conflict="skip")
    assert skipped.flows[0].action == "skipped"
    upgraded = await import_package(_router(), store=store, registry=registry, on_conflict="upgrade")
    assert (upgraded.flows[0].flow_id, upgraded.flows[0].version) == (first.flows[0].flow_id, 2)
    copies = [await import_package(_router(), store=store, registry=registry, on_conflict="new") for _ in range(2)]
    assert [c.flows[0].name for c in copies] == ["Route support tickets (2)", "Route support tickets (3)"]
    assert len(await store.list()) == 3


async def test_export_then_import_roundtrip() -> None:
    store = MemoryFlowStore()
    registry = default_registry()
    report = await import_package(_router(), store=store, registry=registry)
    document = (await store.get(report.flows[0].flow_id or "")).document
    package = export_flow(document, name="my-router", version="0.1.0")
    assert package.manifest.flows == ["flows/main.json"]
    assert package.flows["flows/main.json"].metadata.template is None
    again = await import_package(package, store=store, registry=registry, on_conflict="new")
    assert again.template == "my-router@0.1.0"
