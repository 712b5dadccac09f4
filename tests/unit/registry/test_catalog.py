from __future__ import annotations

import msgspec

from rivulet.registry import OperatorEntry, OperatorRegistry, default_registry
from rivulet.registry.catalog import KNOWN_CATEGORIES, build_catalog, describe_operator, params_schema, resolve_ports
from rivulet_operators.core.constant import Constant, Params
from tests.unit.registry._fakes import Echo, EchoV2


def _fake_registry() -> OperatorRegistry:
    return OperatorRegistry([OperatorEntry(Echo, "pack"), OperatorEntry(EchoV2, "pack")])


def test_every_builtin_is_described_with_schema_and_ports() -> None:
    catalog = build_catalog(default_registry())
    ids = [op.id for op in catalog.operators]
    assert ids == sorted(ids)
    assert set(ids) == set(default_registry().ids())
    for op in catalog.operators:
        assert op.params_schema["type"] == "object"
        assert op.params_schema["additionalProperties"] is False
        assert op.docs, f"{op.id} has no module docstring"
        assert op.source.startswith("builtin rivulet_operators")


def test_catalog_round_trips_through_json() -> None:
    catalog = build_catalog(default_registry())
    decoded = msgspec.json.decode(msgspec.json.encode(catalog), type=type(catalog))
    assert decoded == catalog
    assert catalog.types["schema"] == "rivulet.types/v1"


def test_older_versions_are_listed_and_marked() -> None:
    catalog = build_catalog(_fake_registry())
    assert [(op.version, op.latest) for op in catalog.operators] == [(1, False), (2, True)]
    (category,) = catalog.categories
    assert (category.id, category.title, category.count) == ("acme", "Acme", 1)


def test_static_ports_have_type_strings() -> None:
    described = describe_operator(Echo)
    assert [(p.name, p.type, p.required) for p in described.outputs] == [("text", "Text", True)]
    assert described.inputs == ()
    assert not described.dynamic_outputs


def test_dynamic_ports_use_default_params_and_resolve_for_given_params() -> None:
    described = describe_operator(Constant)
    assert described.dynamic_outputs
    assert [(p.name, p.type) for p in described.outputs] == [("value", "Json")]
    ports = resolve_ports(Constant, Params(value=["a"], type="List[Text]"))
    assert [(p.name, p.type) for p in ports.outputs] == [("value", "List[Text]")]


def test_params_schema_inlines_the_top_level_ref_and_keeps_meta() -> None:
    schema = params_schema(Constant)
    assert "$ref" not in schema
    assert schema["properties"]["type"]["ui"] == {"widget": "port_type"}
    assert schema["properties"]["type"]["maxLength"] == 200


def test_known_categories_come_first_in_palette_order() -> None:
    catalog = build_catalog(default_registry())
    known = [c.id for c in catalog.categories if c.id in KNOWN_CATEGORIES]
    assert known == [c for c in KNOWN_CATEGORIES if c in known]
    assert catalog.categories[0].id == "core"


def test_input_rules_are_exported_for_default_and_given_params() -> None:
    registry = default_registry()
    chat = describe_operator(registry.get("llm.chat"))
    merge = describe_operator(registry.get("core.merge"))
    assert [(r.kind, r.inputs, r.params) for r in chat.input_rules] == [("at_least_one", ("messages", "prompt"), ())]
    assert [r.inputs for r in merge.input_rules] == [("in_1", "in_2")]
    merge_op = registry.get("core.merge")
    three = resolve_ports(merge_op, msgspec.convert({"count": 3}, merge_op.params_type))
    assert [r.inputs for r in three.input_rules] == [("in_1", "in_2", "in_3")]
    assert describe_operator(Constant).input_rules == ()
