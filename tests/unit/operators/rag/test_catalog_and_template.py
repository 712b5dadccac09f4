"""The rag category loads into the registry and palette, and the chat-with-documents template compiles."""

from __future__ import annotations

import pytest

from rivulet.registry import load_registry
from rivulet.registry.catalog import build_catalog
from rivulet.registry.loader import validate_operator
from rivulet.templates.importer import prepare_flows
from rivulet.templates.package import load_package
from rivulet.templates.sources import BUILTIN_TEMPLATES
from rivulet_operators import CATEGORIES, OPERATORS, rag

RAG_IDS = [
    "rag.load_url", "rag.chunk", "rag.ingest", "rag.retrieve", "rag.rerank", "rag.context", "rag.answer",
    "rag.graph_extract", "rag.graph_retrieve",
]  # fmt: skip


def test_every_rag_operator_is_valid_and_registered_after_llm() -> None:
    assert [op.spec.id for op in rag.OPERATORS] == RAG_IDS
    for operator in rag.OPERATORS:
        assert validate_operator(operator, builtin=True) == [], operator.spec.id
        assert operator.__module__.rsplit(".", 1)[-1] == operator.spec.id.split(".", 1)[1]
        assert {"rag", "knowledge"} <= set(operator.spec.tags)
    assert [c.__name__.rsplit(".", 1)[-1] for c in CATEGORIES][:3] == ["core", "llm", "rag"]
    assert set(rag.OPERATORS) <= set(OPERATORS)
    registry = load_registry(entry_point_group=None)
    assert all(operator_id in registry for operator_id in RAG_IDS)


def test_the_palette_has_a_retrieval_section_with_space_pickers() -> None:
    catalog = build_catalog(load_registry(entry_point_group=None))
    section = next(c for c in catalog.categories if c.id == "rag")
    assert section.title == "Retrieval"
    retrieve = next(o for o in catalog.operators if o.id == "rag.retrieve")
    assert retrieve.params_schema["properties"]["space"]["ui"] == {"widget": "knowledge_space"}


@pytest.mark.parametrize("space", [None, "handbook"])
def test_chat_with_documents_compiles_with_its_variables(space: str | None) -> None:
    package = load_package(BUILTIN_TEMPLATES / "chat-with-documents")
    variables = {} if space is None else {"space": space}
    flows = prepare_flows(package, load_registry(entry_point_group=None), variables)
    assert list(flows) == ["flows/ask.json", "flows/ingest-text.json", "flows/ingest-url.json"]
    ask = {n.id: n for n in flows["flows/ask.json"].nodes}
    assert ask["retrieve"].params == {"space": space or "docs", "mode": "hybrid", "top_k": 4}
    assert ask["answer"].params["model"] == "default"
    assert {n.params["space"] for f in list(flows.values())[1:] for n in f.nodes if n.operator == "rag.ingest"} == {
        space or "docs"
    }
