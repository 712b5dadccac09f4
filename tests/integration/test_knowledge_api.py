"""``/api/knowledge`` over real HTTP: multipart uploads streamed to disk, ingestion jobs with the real local embedding
model (``default-embedding``) on real PostgreSQL, search, Server-Sent Events, upload limits and permissions."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from rivulet.lib.settings import Settings, load_settings
from tests.conftest import ADMIN_PASSWORD, ADMIN_USER, alogin_token

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from tests.conftest import LiveServer

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]

FILE_LIMIT = 64 * 1024
TOTAL_LIMIT = 256 * 1024
PASSWORD = "correct horse battery"

FILES: dict[str, tuple[bytes, str]] = {
    "passwords.txt": (
        (
            b"Forgotten your password? Open Settings, choose Security and press 'Reset password'. "
            b"A reset link arrives by e-mail within a minute and stays valid for one hour."
        ),
        "text/plain",
    ),
    "garden.md": (
        (
            b"# Gardening\n\n## Tomatoes\n\nTomatoes need full sun, rich soil and deep watering twice a week. "
            b"Pinch out the side shoots so the plant puts its strength into the fruit.\n"
        ),
        "text/markdown",
    ),
    "volcano.html": (
        (
            b"<html><head><title>Volcanoes</title></head><body><h1>Volcanoes</h1><p>Magma rises through cracks in "
            b"the crust; when the pressure is too high the volcano erupts lava, ash and gas.</p></body></html>"
        ),
        "text/html",
    ),
    "planets.csv": (b"planet,moons,type\nMars,2,rocky\nJupiter,95,gas giant\nSaturn,146,gas giant\n", "text/csv"),
    "pancakes.json": (
        json.dumps(
            {"recipe": "pancakes", "ingredients": ["flour", "eggs", "milk"], "steps": "Whisk, then fry in butter."}
        ).encode(),
        "application/json",
    ),
}


@pytest.fixture
def test_settings(tmp_path: Path) -> Settings:
    """The shared settings with small upload limits (so that the 413s need only small bodies)."""
    return load_settings(
        environ={},
        home=str(tmp_path / "home"),
        frontend_dir=str(tmp_path / "no-frontend"),
        admin_user=ADMIN_USER,
        admin_password=ADMIN_PASSWORD,
        max_upload_file_bytes=FILE_LIMIT,
        max_upload_bytes=TOTAL_LIMIT,
    )


@pytest.fixture
async def client(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with live_server.client(timeout=120) as c:
        yield c


def _parts(files: dict[str, tuple[bytes, str]]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (name, data, media)) for name, (data, media) in files.items()]


async def _upload(client: httpx.AsyncClient, space: str, files: dict[str, tuple[bytes, str]]) -> httpx.Response:
    return await client.post(f"/api/knowledge/spaces/{space}/documents", files=_parts(files))


async def _finished(client: httpx.AsyncClient, job: dict[str, Any]) -> dict[str, Any]:
    """Poll the job until it ends (the test's timeout bounds the wait)."""
    while job["status"] == "running":
        await asyncio.sleep(0.1)
        answer = await client.get(f"/api/knowledge/jobs/{job['id']}")
        assert answer.status_code == 200, answer.text
        job = answer.json()
    return job


async def _ingested(client: httpx.AsyncClient, space: str, files: dict[str, tuple[bytes, str]]) -> dict[str, Any]:
    started = await _upload(client, space, files)
    assert started.status_code == 202, started.text
    job = await _finished(client, started.json())
    assert job["status"] == "done", job
    return job


def _statuses(job: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["status"] for item in job["report"]["items"]}


async def _create_space(client: httpx.AsyncClient, name: str, **extra: Any) -> dict[str, Any]:
    created = await client.post("/api/knowledge/spaces", json={"name": name, **extra})
    assert created.status_code == 201, created.text
    space: dict[str, Any] = created.json()
    return space


async def test_upload_every_format_search_and_reingest(client: httpx.AsyncClient) -> None:
    space = await _create_space(client, "handbook", description="what we know")
    assert (space["embedding_model"], space["document_count"], space["chunking"]["strategy"]) == (
        "default-embedding",
        0,
        "recursive",
    )
    assert (await client.post("/api/knowledge/spaces", json={"name": "handbook"})).status_code == 409

    started = await _upload(client, "handbook", FILES)
    assert started.status_code == 202, started.text
    assert started.json()["documents"] == list(FILES)
    assert started.json()["progress"]["documents_total"] == len(FILES)
    job = await _finished(client, started.json())
    assert job["status"] == "done", job
    assert _statuses(job) == dict.fromkeys(FILES, "added")
    assert all(item["chunks"] >= 1 for item in job["report"]["items"])
    assert job["progress"]["documents_done"] == len(FILES)

    documents = (await client.get("/api/knowledge/spaces/handbook/documents")).json()["items"]
    assert sorted(d["name"] for d in documents) == sorted(FILES)
    assert all(d["status"] == "ready" and d["chunk_count"] >= 1 and d["error"] is None for d in documents), documents
    read = (await client.get(f"/api/knowledge/spaces/{space['id']}")).json()
    assert read["document_count"] == len(FILES)
    assert read["chunk_count"] == sum(d["chunk_count"] for d in documents)
    assert read["dimensions"] == 384

    search = await client.post(
        "/api/knowledge/spaces/handbook/search", json={"query": "how can I reset my password?", "top_k": 3}
    )
    assert search.status_code == 200, search.text
    result = search.json()
    assert (result["space"], result["mode"]) == ("handbook", "hybrid")
    top = result["hits"][0]
    assert (top["document"], top["source"]) == ("passwords.txt", "passwords.txt")
    assert "Reset password" in top["text"]
    assert "vector" in top["retrievers"]
    assert top["retrievers"]["vector"]["rank"] >= 1
    assert top["metadata"]["retrievers"] == top["retrievers"]
    assert result["timings"]["total_ms"] > 0

    vector = await client.post(
        "/api/knowledge/spaces/handbook/search", json={"query": "magma and lava eruptions", "mode": "vector"}
    )
    assert vector.json()["hits"][0]["document"] == "volcano.html"
    keyword = await client.post(
        "/api/knowledge/spaces/handbook/search", json={"query": "Jupiter moons", "mode": "keyword", "top_k": 1}
    )
    assert [(h["document"], list(h["retrievers"])) for h in keyword.json()["hits"]] == [("planets.csv", ["keyword"])]

    # the same file again: nothing to do; a changed one is replaced
    again = await _ingested(client, "handbook", {"passwords.txt": FILES["passwords.txt"]})
    assert _statuses(again) == {"passwords.txt": "unchanged"}
    changed = await _ingested(client, "handbook", {"passwords.txt": (b"Passwords are reset by an administrator.", "")})
    assert _statuses(changed) == {"passwords.txt": "replaced"}

    jobs = (await client.get("/api/knowledge/jobs", params={"space": "handbook"})).json()["items"]
    assert [j["id"] for j in jobs][:2] == [changed["id"], again["id"]]


async def test_a_corrupt_file_fails_alone(client: httpx.AsyncClient) -> None:
    await _create_space(client, "mixed")
    files = {
        "broken.pdf": (
            b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\nthis is not a real pdf body\n%%EOF",
            "application/pdf",
        ),
        "good.txt": (b"The quarterly report is due on the first Monday of April.", "text/plain"),
    }
    job = await _ingested(client, "mixed", files)
    items = {item["name"]: item for item in job["report"]["items"]}
    assert items["good.txt"]["status"] == "added"
    assert items["broken.pdf"]["status"] == "failed"
    assert items["broken.pdf"]["error"]
    documents = {d["name"]: d for d in (await client.get("/api/knowledge/spaces/mixed/documents")).json()["items"]}
    assert documents["good.txt"]["status"] == "ready"
    assert (documents["broken.pdf"]["status"], documents["broken.pdf"]["error"]) == (
        "failed",
        items["broken.pdf"]["error"],
    )
    failed = (await client.get("/api/knowledge/spaces/mixed/documents", params={"status": "failed"})).json()["items"]
    assert [d["name"] for d in failed] == ["broken.pdf"]


async def test_upload_limits_and_malformed_uploads(client: httpx.AsyncClient) -> None:
    await _create_space(client, "limits")
    big = await _upload(
        client, "limits", {"small.txt": (b"fine", "text/plain"), "big.txt": (b"x" * (FILE_LIMIT + 1), "")}
    )
    assert big.status_code == 413, big.text
    problem = big.json()
    assert problem["code"] == "upload_too_large"
    assert "'big.txt'" in problem["detail"]
    assert "RIVULET_MAX_UPLOAD_FILE_BYTES" in problem["detail"]
    assert problem["errors"][0] == {
        "path": "files[1]",
        "file": "big.txt",
        "message": problem["detail"],
        "limit": FILE_LIMIT,
        "setting": "max_upload_file_bytes",
    }
    many = {f"part{i}.txt": (b"y" * (FILE_LIMIT - 10), "text/plain") for i in range(5)}
    total = await _upload(client, "limits", many)
    assert total.status_code == 413, total.text
    assert (total.json()["errors"][0]["setting"], total.json()["errors"][0]["file"]) == (
        "max_upload_bytes",
        "part4.txt",
    )
    # nothing of a refused upload was kept
    assert (await client.get("/api/knowledge/spaces/limits/documents")).json()["items"] == []
    assert (await client.get("/api/knowledge/jobs", params={"space": "limits"})).json()["items"] == []

    not_multipart = await client.post("/api/knowledge/spaces/limits/documents", json={"files": []})
    assert (not_multipart.status_code, not_multipart.json()["code"]) == (415, "unsupported_media_type")
    no_file = await client.post("/api/knowledge/spaces/limits/documents", data={"note": "hi"}, files={"x": ("", b"")})
    assert no_file.status_code == 422, no_file.text
    duplicate = await client.post(
        "/api/knowledge/spaces/limits/documents",
        files=[("files", ("a.txt", b"1", "text/plain")), ("files", ("dir/../a.txt", b"2", "text/plain"))],
    )
    assert duplicate.status_code == 422, duplicate.text
    assert duplicate.json()["errors"][0]["path"] == "files[1]"
    truncated = await client.post(
        "/api/knowledge/spaces/limits/documents",
        content=b'--b\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\n\r\nunfinished',
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert (truncated.status_code, truncated.json()["code"]) == (400, "malformed_request")
    missing = await _upload(client, "no-such-space", {"a.txt": (b"a", "text/plain")})
    assert missing.status_code == 404


async def test_text_and_urls_ingest_as_jobs(client: httpx.AsyncClient) -> None:
    await _create_space(client, "notes")
    text = await client.post(
        "/api/knowledge/spaces/notes/documents/text",
        json={
            "name": "standup",
            "text": "The standup meeting starts at nine every weekday.",
            "metadata": {"team": "a"},
        },
    )
    assert text.status_code == 202, text.text
    job = await _finished(client, text.json())
    assert (job["kind"], _statuses(job)) == ("text", {"standup": "added"})
    # private addresses are refused by the outbound network guard: the URL fails, the job does not
    urls = await client.post("/api/knowledge/spaces/notes/documents/urls", json={"urls": ["http://127.0.0.1:9/page"]})
    assert urls.status_code == 202, urls.text
    job = await _finished(client, urls.json())
    assert job["status"] == "done", job
    [item] = job["report"]["items"]
    assert (item["name"], item["status"]) == ("http://127.0.0.1:9/page", "failed")
    assert item["error"]
    bad = await client.post("/api/knowledge/spaces/notes/documents/urls", json={"urls": ["file:///etc/passwd"]})
    assert bad.status_code == 422


async def test_events_stream_progress_until_done(client: httpx.AsyncClient) -> None:
    await _create_space(client, "streamed")
    files = {
        f"note{i}.txt": (f"Note {i}: the ferry leaves pier {i} at {i} o'clock.".encode(), "text/plain")
        for i in range(6)
    }
    started = await _upload(client, "streamed", files)
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    events: list[tuple[str, Any]] = []
    async with client.stream("GET", f"/api/knowledge/jobs/{job_id}/events") as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        event = "message"
        async for line in stream.aiter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: "):
                events.append((event, json.loads(line.removeprefix("data: "))))
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "done", kinds
    assert set(kinds[:-1]) <= {"progress"}, kinds
    done = [progress["documents_done"] for kind, progress in events if kind == "progress"]
    assert done == sorted(done)
    assert all(p["documents_done"] <= p["documents_total"] for kind, p in events if kind == "progress")
    final = events[-1][1]
    assert (final["id"], final["status"]) == (job_id, "done")
    assert final["progress"]["documents_done"] == len(files)
    assert _statuses(final) == dict.fromkeys(files, "added")
    # a finished job's stream is its last event alone
    async with client.stream("GET", f"/api/knowledge/jobs/{job_id}/events") as again:
        lines = [line async for line in again.aiter_lines() if line.startswith("event: ")]
    assert lines == ["event: done"]
    assert (await client.get("/api/knowledge/jobs/nope/events")).status_code == 404


async def test_roles_and_ownership(live_server: LiveServer, client: httpx.AsyncClient) -> None:
    for name, role in (("ann", "editor"), ("vic", "viewer")):
        created = await client.post("/api/users", json={"username": name, "password": PASSWORD, "role": role})
        assert created.status_code == 201, created.text
    await _create_space(client, "admins")
    await _ingested(client, "admins", {"faq.txt": (b"Lunch is served at noon in the canteen.", "text/plain")})
    doc_id = (await client.get("/api/knowledge/spaces/admins/documents")).json()["items"][0]["id"]

    headers = {"Authorization": f"Bearer {await alogin_token(live_server.url, 'vic', PASSWORD)}"}
    async with httpx.AsyncClient(base_url=live_server.url, headers=headers, timeout=120) as vic:
        assert (await vic.get("/api/knowledge/spaces")).status_code == 200
        hits = await vic.post("/api/knowledge/spaces/admins/search", json={"query": "when is lunch"})
        assert hits.status_code == 200
        assert hits.json()["hits"][0]["document"] == "faq.txt"
        refused = await _upload(vic, "admins", {"x.txt": (b"x", "text/plain")})
        assert (refused.status_code, refused.json()["required_permission"]) == (403, "knowledge:write")
        assert (await vic.delete(f"/api/knowledge/spaces/admins/documents/{doc_id}")).status_code == 403
        assert (await vic.post("/api/knowledge/spaces", json={"name": "vic's"})).status_code == 403
        assert (await vic.delete("/api/knowledge/spaces/admins")).status_code == 403

    headers = {"Authorization": f"Bearer {await alogin_token(live_server.url, 'ann', PASSWORD)}"}
    async with httpx.AsyncClient(base_url=live_server.url, headers=headers, timeout=120) as ann:
        await _ingested(ann, "admins", {"more.txt": (b"Dinner is at seven.", "text/plain")})  # editors add documents
        refused = await ann.delete("/api/knowledge/spaces/admins")  # but only the owner (or an admin) deletes it
        assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
        assert (await ann.patch("/api/knowledge/spaces/admins", json={"description": "mine"})).status_code == 403
        own = await _create_space(ann, "ann's notes")
        patched = await ann.patch(f"/api/knowledge/spaces/{own['id']}", json={"chunking": {"chunk_size": 120}})
        assert patched.status_code == 200, patched.text
        assert patched.json()["chunking"]["chunk_size"] == 120
        bad = await ann.patch(f"/api/knowledge/spaces/{own['id']}", json={"chunking": {"chunk_size": 10}})
        assert bad.status_code == 422
        assert (await ann.delete(f"/api/knowledge/spaces/{own['id']}")).status_code == 204

    assert (await client.delete(f"/api/knowledge/spaces/admins/documents/{doc_id}")).status_code == 204
    names = [d["name"] for d in (await client.get("/api/knowledge/spaces/admins/documents")).json()["items"]]
    assert names == ["more.txt"]
    assert (await client.delete("/api/knowledge/spaces/admins")).status_code == 204
    assert (await client.get("/api/knowledge/spaces/admins")).status_code == 404
