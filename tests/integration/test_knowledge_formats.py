"""Every document format, end to end: generated files → loaders → chunks → all-MiniLM-L6-v2 → PostgreSQL → search.

Each file states one distinctive fact; a paraphrased question about it must find that file's chunk first (hybrid
search), carrying where in the file it came from (pdf page, xlsx sheet, docx/html/markdown heading path). A corrupt
file in the same ingestion fails alone, with its reason, and the others are kept.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from rivulet.knowledge.ingest import SourceFile
from rivulet.knowledge.service import KnowledgeService
from rivulet.providers import MemoryModelStore, ModelService
from rivulet.sdk.knowledge import ChunkingConfig, SearchRequest
from rivulet.storage.postgres.knowledge import PostgresKnowledgeStore
from tests.unit.knowledge.documents import make_docx, make_pdf, make_xlsx

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from psycopg_pool import AsyncConnectionPool

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]

FILLER = "This page lists general office information that changes rarely. "


def _files() -> dict[str, bytes]:
    return {
        "notes.txt": b"Team notes.\n\nThe aquarium in the lobby is cleaned every Thursday by an external company.\n",
        "guide.md": (
            b"# Guide\n\n## Bicycles\n\nThe bicycle repair station next to the north entrance has a free pump.\n"
        ),
        "page.html": (
            b"<html><body><h1>Kitchen</h1><h2>Coffee</h2>"
            b"<p>The espresso machine on floor three is descaled on the first Monday of every month.</p>"
            b"</body></html>"
        ),
        "manual.pdf": make_pdf(
            [
                FILLER * 3,
                "The emergency generator in the basement is tested every second Saturday at noon.",
            ]
        ),
        "policy.docx": make_docx(
            [
                ("h1", "Travel policy"),
                ("h2", "Trains"),
                ("p", "Employees may book first class train tickets for journeys longer than four hours."),
            ]
        ),
        "budget.xlsx": make_xlsx(
            {
                "Summary": [["Item", "Note"], ["Office", "general costs"]],
                "Marketing": [["Campaign", "Budget"], ["Podcast sponsorship", "thirty thousand euros"]],
            }
        ),
        "rooms.csv": b"room,capacity,feature\nOrion,12,a ceiling projector for presentations\nLyra,4,quiet booth\n",
        "contacts.json": json.dumps(
            [
                {"team": "security", "contact": "Report lost access badges to the security desk at gate B."},
                {"team": "hr", "contact": "Questions about payslips go to the payroll team."},
            ]
        ).encode(),
        "broken.pdf": b"%PDF-1.7\n this is not a real PDF body at all",
    }


GUIDE = {"heading_path": ["Guide", "Bicycles"]}
COFFEE = {"heading_path": ["Kitchen", "Coffee"]}
TRAINS = {"heading_path": ["Travel policy", "Trains"]}
QUESTIONS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("How often is the lobby aquarium cleaned?", "aquarium", "notes.txt", {}),
    (
        "Where can I pump up my bike tyres?",
        "bicycle repair station",
        "guide.md",
        {"heading_path": ["Guide", "Bicycles"]},
    ),
    (
        "When is the espresso machine descaled?",
        "espresso machine",
        "page.html",
        {"heading_path": ["Kitchen", "Coffee"]},
    ),
    ("When is the emergency generator tested?", "emergency generator", "manual.pdf", {"page": 2}),
    (
        "Can I travel first class by train?",
        "first class train",
        "policy.docx",
        {"heading_path": ["Travel policy", "Trains"]},
    ),
    ("How much money goes to the podcast sponsorship?", "thirty thousand", "budget.xlsx", {"sheet": "Marketing"}),
    ("Which meeting room has a projector?", "projector", "rooms.csv", {}),
    ("I lost my access badge, who do I tell?", "access badges", "contacts.json", {}),
]


@pytest.fixture(scope="module")
async def models() -> AsyncIterator[ModelService]:
    service = ModelService(MemoryModelStore())
    yield service
    await service.close()


async def test_every_format_is_ingested_and_its_fact_found_first(
    pool: AsyncConnectionPool, models: ModelService, tmp_path: Path
) -> None:
    service = KnowledgeService(PostgresKnowledgeStore(pool), models)
    await service.create_space(
        name="formats", chunking=ChunkingConfig(strategy="markdown", chunk_size=64, chunk_overlap=0)
    )
    sources: list[SourceFile] = []
    for name, data in _files().items():
        (tmp_path / name).write_bytes(data)
        sources.append(SourceFile(name=name, path=str(tmp_path / name)))

    report = await service.ingest_files("formats", sources)

    status = {item.name: item.status for item in report.items}
    assert status == {name: ("failed" if name == "broken.pdf" else "added") for name in _files()}
    failed = next(item for item in report.items if item.name == "broken.pdf")
    assert failed.error
    assert "broken.pdf" in failed.error
    documents = {d.name: d for d in await service.list_documents("formats")}
    assert documents["broken.pdf"].status == "failed"
    assert all(d.status == "ready" and d.chunk_count > 0 for n, d in documents.items() if n != "broken.pdf")

    for question, passage, source, where in QUESTIONS:
        hits = await service.search("formats", SearchRequest(query=question, mode="hybrid", top_k=3))
        assert hits, question
        top = hits[0]
        assert top.source == source, (question, [(h.source, h.text[:50]) for h in hits])
        assert passage in top.text.lower() or passage in top.text, (question, top.text)
        for key, value in where.items():
            assert top.metadata.get(key) == value, (question, key, top.metadata)
