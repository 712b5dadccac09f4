"""KnowledgeService end to end: the real local embedding model (all-MiniLM-L6-v2) and the PostgreSQL store.

Three generated files (markdown, text, HTML) are ingested; paraphrased questions must find the passage that answers
them first in vector, keyword and hybrid mode. Re-ingesting is a no-op, a changed file replaces its chunks, and
graph search combines stored facts with vector hits. A headless run (``rivulet run``) can ingest too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from rivulet.app.headless import run_headless
from rivulet.knowledge.ingest import SourceFile
from rivulet.knowledge.service import KnowledgeService
from rivulet.providers import MemoryModelStore, ModelService
from rivulet.records.events import RunFinished
from rivulet.registry import load_registry
from rivulet.sdk.knowledge import ChunkingConfig, SearchMode, SearchRequest
from rivulet.sdk.models import CallOrigin
from rivulet.storage.base import GraphEdge
from rivulet.storage.postgres.knowledge import PostgresKnowledgeStore
from rivulet.templates.importer import prepare_flows
from rivulet.templates.package import load_package
from rivulet.templates.sources import BUILTIN_TEMPLATES

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from psycopg_pool import AsyncConnectionPool

pytestmark = pytest.mark.timeout(300)

HANDBOOK_MD = """# Employee handbook

## Passwords

To reset a forgotten password, open Settings, choose Security and click Reset password. A link to choose a new
password is emailed to you within five minutes.

## Holidays

Every employee receives twenty-five days of paid vacation per calendar year. Unused vacation days expire at the
end of March of the following year.

## Expenses

Travel costs are reimbursed within ten working days after the receipt has been uploaded to the finance portal.
"""

IT_GUIDE_TXT = """IT guide for the Amsterdam office.

The office printer on the second floor jams when thick card stock is used. Put heavy paper in the manual feed tray
instead of the main drawer.

Connect to the company VPN with the WireGuard client before you open internal dashboards from home.

Laptops are replaced every four years. Request a new laptop through the hardware catalogue on the intranet.
"""

FACILITIES_HTML = """<!doctype html>
<html><head><title>Facilities</title></head><body>
<h1>Facilities</h1>
<h2>Parking</h2>
<p>Bicycle parking is in the basement garage, with its entrance on Mill Street. Cars park on level minus two.</p>
<h2>Canteen</h2>
<p>The canteen serves lunch from half past eleven until two o'clock; vegetarian dishes are marked green.</p>
<h2>Fire safety</h2>
<p>In case of fire leave the building by the stairs and gather at the assembly point in the courtyard.</p>
</body></html>
"""

QUESTIONS = [
    ("I forgot my password, how do I get a new one?", "reset a forgotten password", "handbook.md"),
    ("How many vacation days do I get each year?", "twenty-five days", "handbook.md"),
    ("Paper keeps getting stuck in the printer, what should I do?", "printer on the second floor", "it-guide.txt"),
    ("How do I reach internal dashboards when working from home?", "WireGuard", "it-guide.txt"),
    ("When is lunch served in the canteen?", "half past eleven", "facilities.html"),
    ("Where do I park my bicycle?", "Bicycle parking", "facilities.html"),
]
MODES: tuple[SearchMode, ...] = ("vector", "keyword", "hybrid")


@pytest.fixture(scope="module")
async def models() -> AsyncIterator[ModelService]:
    service = ModelService(MemoryModelStore())
    yield service
    await service.close()


def write_files(directory: Path, **overrides: str) -> list[SourceFile]:
    texts = {"handbook.md": HANDBOOK_MD, "it-guide.txt": IT_GUIDE_TXT, "facilities.html": FACILITIES_HTML, **overrides}
    files: list[SourceFile] = []
    for name, text in texts.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        files.append(SourceFile(name=name, path=str(path)))
    return files


@pytest.fixture
async def service(pool: AsyncConnectionPool, models: ModelService, tmp_path: Path) -> KnowledgeService:
    service = KnowledgeService(PostgresKnowledgeStore(pool), models)
    chunking = ChunkingConfig(strategy="markdown", chunk_size=64, chunk_overlap=0)
    await service.create_space(name="company", chunking=chunking)
    report = await service.ingest_files("company", write_files(tmp_path), origin=CallOrigin(run_id="kb-first"))
    assert [(i.name, i.status) for i in report.items] == [
        ("handbook.md", "added"),
        ("it-guide.txt", "added"),
        ("facilities.html", "added"),
    ]
    return service


@pytest.mark.postgres
@pytest.mark.parametrize("mode", MODES)
async def test_a_paraphrased_question_finds_its_passage_first(service: KnowledgeService, mode: SearchMode) -> None:
    for question, passage, source in QUESTIONS:
        hits = await service.search("company", SearchRequest(query=question, mode=mode, top_k=3))
        assert hits, (mode, question)
        top = hits[0]
        assert passage in top.text, (mode, question, [h.text[:60] for h in hits])
        assert top.source == source
        assert top.metadata["document"] == source
        assert mode in top.metadata["retrievers"] or mode == "hybrid"


@pytest.mark.postgres
async def test_chunks_carry_their_place_and_the_space_its_size(service: KnowledgeService) -> None:
    space = await service.space("company")
    assert space.dimensions == 384
    assert space.document_count == 3
    assert space.chunk_count >= 9
    [hit] = await service.search("company", SearchRequest(query="vegetarian lunch canteen", mode="hybrid", top_k=1))
    assert hit.metadata["heading_path"][-1] == "Canteen"
    assert hit.metadata["format"] == "html"
    assert set(hit.metadata["retrievers"]) == {"vector", "keyword"}
    assert hit.metadata["start"] < hit.metadata["end"]


@pytest.mark.postgres
async def test_reingesting_is_a_no_op_and_a_change_replaces_the_chunks(
    service: KnowledgeService, models: ModelService, tmp_path: Path
) -> None:
    again = await service.ingest_files("company", write_files(tmp_path), origin=CallOrigin(run_id="kb-again"))
    assert {i.status for i in again.items} == {"unchanged"}
    assert await models.store.list_calls(run_id="kb-again") == []

    changed = IT_GUIDE_TXT.replace("every four years", "every three years")
    report = await service.ingest_files(
        "company", write_files(tmp_path, **{"it-guide.txt": changed}), origin=CallOrigin(run_id="kb-change")
    )
    assert {i.name: i.status for i in report.items}["it-guide.txt"] == "replaced"
    assert len(await models.store.list_calls(run_id="kb-change")) >= 1
    hits = await service.search("company", SearchRequest(query="how often are laptops replaced", mode="hybrid"))
    assert "every three years" in hits[0].text
    every = await service.search("company", SearchRequest(query="laptops replaced years", mode="keyword", top_k=20))
    assert all("four years" not in hit.text for hit in every)
    documents = {d.name: d for d in await service.list_documents("company")}
    assert documents["it-guide.txt"].status == "ready"


@pytest.mark.postgres
async def test_graph_search_joins_facts_and_passages(service: KnowledgeService) -> None:
    record = await service.get_space("company")
    [canteen] = await service.search("company", SearchRequest(query="canteen lunch", mode="keyword", top_k=1))
    await service.store.add_graph_edges(
        record.id,
        [
            GraphEdge(subject="Canteen", predicate="serves", object="lunch", chunk_id=canteen.id),
            GraphEdge(subject="lunch", predicate="includes", object="vegetarian dishes", chunk_id=canteen.id),
        ],
    )
    hits = await service.graph_search("company", "What does the canteen serve?", depth=2, top_k=5)
    facts = [h for h in hits if "graph" in h.metadata["retrievers"]]
    assert {f.text for f in facts} == {"Canteen serves lunch", "lunch includes vegetarian dishes"}
    assert all(f.source == "facilities.html" for f in facts)
    assert any("vector" in h.metadata["retrievers"] and "half past eleven" in h.text for h in hits)


async def test_a_headless_run_ingests_with_the_real_service() -> None:
    """``rivulet run``'s composition gives rag operators a knowledge service (in memory, spaces made on ingest)."""
    flows = prepare_flows(
        load_package(BUILTIN_TEMPLATES / "chat-with-documents"), load_registry(entry_point_group=None)
    )
    finished = await run_headless(
        flows["flows/ingest-text.json"], {"text": HANDBOOK_MD, "name": "handbook"}, on_event=lambda _: None
    )
    assert isinstance(finished, RunFinished)
    assert finished.status == "succeeded", finished.error
    assert finished.outputs["chunks"] >= 1
    assert finished.outputs["report"]["items"][0]["status"] == "added"
