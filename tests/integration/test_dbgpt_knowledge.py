"""DB-GPT's own knowledge flows, imported over HTTP, run on real PostgreSQL with the local default models.

The RAG chat template (``rag_chat_awel_flow_template.json``: ``HOKnowledgeOperator`` over the space ``k_cmd2`` →
``HOStreamingLLMOperator`` with DB-GPT's RAG prompt) answers from that space once it holds a document, and its
citations hold the chunk with the fact asked about. SmolLM2-135M's prose is not reliable, so the test asserts on
the retrieved and cited chunk, never on the wording. DB-GPT's embedding ingestion template stores the documents a
request carries in the space its Chroma store names, creating that space on the first run (as DB-GPT's Chroma
does) and splitting by the chunk manager's sizes.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from rivulet.knowledge.chunkers import chunk_parts
from rivulet.knowledge.ingest import IngestSource
from rivulet.knowledge.tokens import count_tokens
from rivulet.sdk.knowledge import ChunkingConfig
from rivulet.sdk.ports import Document

if TYPE_CHECKING:
    import httpx

    from tests.conftest import LiveServer

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dbgpt"
FACT = "The Corvo Island lighthouse keeper, Amelia Okonkwo, paints the tower in violet and lime stripes every spring."
DOCUMENT = "\n\n".join(
    (
        "# Island notes",
        (
            "Ferries to the western islands leave the harbour at seven in the morning and return before sunset. "
            "Tickets are sold at the kiosk next to the fish market; bicycles travel free of charge."
        ),
        FACT + " She has kept the light burning for twenty-two winters and logs every passing ship.",
        (
            "The island bakery opens at dawn. Its sweet bread is baked in a wood-fired oven and sells out by noon, "
            "so visitors are advised to come early or to order a loaf the evening before."
        ),
    )
)
HARBOUR_LOG = "\n\n".join(
    f"Harbour log, day {day}: {day + 2} fishing boats came in before noon, the ferry carried {10 * day} "
    f"passengers and the wind blew from the {('north', 'east', 'south', 'west')[day % 4]} all afternoon."
    for day in range(1, 21)
)
"""Enough text that DB-GPT's chunk size (128 tokens) and the space's (200) cut it differently."""
SMALL_CHUNKS = {"strategy": "recursive", "chunk_size": 48, "chunk_overlap": 0}
"""One paragraph a chunk: the citations must single out the one with the fact."""
QUESTION = "Who is the keeper of the Corvo Island lighthouse and how is the tower painted?"


def _export(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


async def _import(client: httpx.AsyncClient, name: str) -> dict[str, Any]:
    response = await client.post("/api/templates/import-dbgpt", json={"export": _export(name)})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert [d for d in body["diagnostics"] if d["severity"] == "error"] == []
    saved = (await client.get(f"/api/flows/{body['flow_id']}")).json()
    assert saved["validation"]["ok"], saved["validation"]
    return body


async def _run(client: httpx.AsyncClient, flow_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
    started = await client.post(f"/api/flows/{flow_id}/runs", json={"inputs": inputs})
    assert started.status_code in (200, 201, 202), started.text
    run_id = started.json()["id"]
    while True:  # the test's timeout bounds the wait
        body: dict[str, Any] = (await client.get(f"/api/runs/{run_id}")).json()
        if body["run"]["status"] not in ("queued", "running"):
            return body["run"]
        await asyncio.sleep(0.05)


async def _create_space(client: httpx.AsyncClient, name: str) -> None:
    created = await client.post("/api/knowledge/spaces", json={"name": name, "chunking": SMALL_CHUNKS})
    assert created.status_code == 201, created.text


async def _upload(client: httpx.AsyncClient, space: str, name: str, text: str) -> None:
    started = await client.post(
        f"/api/knowledge/spaces/{space}/documents", files=[("files", (name, text.encode(), "text/markdown"))]
    )
    assert started.status_code == 202, started.text
    job = started.json()
    while job["status"] == "running":
        await asyncio.sleep(0.1)
        job = (await client.get(f"/api/knowledge/jobs/{job['id']}")).json()
    assert job["status"] == "done", job
    assert [item["status"] for item in job["report"]["items"]] == ["added"], job


async def test_imported_dbgpt_rag_chat_answers_from_its_space_with_citations(live_server: LiveServer) -> None:
    async with live_server.client(timeout=120) as client:
        body = await _import(client, "rag_chat_awel_flow_template.json")
        nodes = {n["operator"]: n for n in body["document"]["nodes"] if n["operator"] != "core.output"}
        assert set(nodes) == {"trigger.http", "rag.retrieve", "rag.answer"}
        space = nodes["rag.retrieve"]["params"]["space"]
        assert space == "k_cmd2"  # the knowledge space the DB-GPT flow names

        await _create_space(client, space)
        await _upload(client, space, "islands.md", DOCUMENT)
        search = await client.post(f"/api/knowledge/spaces/{space}/search", json={"query": FACT, "mode": "vector"})
        hits = search.json()["hits"]
        assert len(hits) >= 3, hits  # a chunk per paragraph
        fact_chunk = next(hit for hit in hits if "Amelia Okonkwo" in hit["text"])

        run = await _run(client, body["flow_id"], {"user_input": QUESTION})
        assert run["status"] == "succeeded", run
        outputs = run["outputs"]
        assert isinstance(outputs["answer"], str)
        assert outputs["answer"].strip()
        citations = outputs["citations"]
        assert citations, outputs
        cited = {c["id"]: c for c in citations}
        assert fact_chunk["chunk_id"] in cited, [c["text"][:80] for c in citations]
        assert "violet and lime stripes" in cited[fact_chunk["chunk_id"]]["text"]
        # DB-GPT's threshold (0.3, a cosine similarity) applies: every passage given is that close to the question
        assert all(c["score"] >= 0.3 for c in citations)


async def test_imported_dbgpt_rag_chat_fails_located_while_its_space_is_missing(live_server: LiveServer) -> None:
    async with live_server.client(timeout=120) as client:
        body = await _import(client, "rag_chat_awel_flow_template.json")
        run = await _run(client, body["flow_id"], {"user_input": QUESTION})
        assert run["status"] == "failed", run
        assert "k_cmd2" in json.dumps(run)


async def test_imported_dbgpt_embedding_ingestion_creates_its_space_and_splits_by_dbgpt_sizes(
    live_server: LiveServer,
) -> None:
    async with live_server.client(timeout=120) as client:
        body = await _import(client, "embedded_knowledge_process_flow.json")
        ingest = next(n for n in body["document"]["nodes"] if n["operator"] == "rag.ingest")
        space = ingest["params"]["space"]
        assert space == "dbgpt_collection"  # ChromaStore's collection, DB-GPT's default name
        # DB-GPT's ChunkManager default (512/50 characters) in tokens; the strategy stays the space's
        assert (ingest["params"]["chunk_size"], ingest["params"]["chunk_overlap"]) == (128, 13)
        assert (await client.get(f"/api/knowledge/spaces/{space}")).status_code == 404
        text = DOCUMENT + "\n\n" + HARBOUR_LOG
        documents = [{"id": "islands.md", "text": text}]
        run = await _run(client, body["flow_id"], {"documents": documents})  # no space yet: the run creates it
        assert run["status"] == "succeeded", run
        report = run["outputs"]["report"]
        assert [(i["name"], i["status"]) for i in report["items"]] == [("islands.md", "added")]
        created = (await client.get(f"/api/knowledge/spaces/{space}")).json()
        assert (created["embedding_model"], created["chunking"]["chunk_size"]) == ("default-embedding", 200)

        # the stored chunks are the 128/13-token ones, not those of the space's own 200/30
        parts = IngestSource.of_documents([Document(id="islands.md", text=text)])[0].parts
        expected = [d.text for d in chunk_parts(parts, ChunkingConfig(chunk_size=128, chunk_overlap=13))]
        assert len(expected) != len(chunk_parts(parts, ChunkingConfig()))
        listed = (await client.get(f"/api/knowledge/spaces/{space}/documents")).json()["items"]
        assert [(d["name"], d["chunk_count"]) for d in listed] == [("islands.md", len(expected))]
        every = await client.post(
            f"/api/knowledge/spaces/{space}/search",
            json={"query": "harbour island", "mode": "vector", "top_k": 50, "filters": {"source": "islands.md"}},
        )
        stored = [hit["text"] for hit in every.json()["hits"]]
        assert sorted(stored) == sorted(expected)
        assert max(count_tokens(t) for t in stored) <= 128

        search = await client.post(f"/api/knowledge/spaces/{space}/search", json={"query": QUESTION, "top_k": 1})
        assert "Amelia Okonkwo" in search.json()["hits"][0]["text"]
        # the same request again: an unchanged document is a no-op
        again = await _run(client, body["flow_id"], {"documents": documents})
        assert [i["status"] for i in again["outputs"]["report"]["items"]] == ["unchanged"]
