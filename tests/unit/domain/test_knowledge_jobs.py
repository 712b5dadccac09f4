"""Ingestion jobs (``rivulet.domain.knowledge.jobs``) and upload names, without a server or a database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rivulet.domain.knowledge.jobs import IngestionJobs
from rivulet.lib.exceptions import NotFoundError, ValidationError
from rivulet.sdk.knowledge import IngestItem, IngestProgress, IngestReport, ProgressCallback
from rivulet.server.uploads import document_name
from rivulet.storage.base import SpaceRecord

NOW = datetime.now(UTC)
SPACE = SpaceRecord(id="ks_1", name="handbook", embedding_model="default-embedding", created_at=NOW, updated_at=NOW)


def _progress(done: int) -> IngestProgress:
    return IngestProgress(documents_done=done, documents_total=2, chunks_done=done * 3, chunks_total=6)


async def test_updates_follow_progress_to_the_report_then_end() -> None:
    jobs = IngestionJobs()
    step = asyncio.Event()
    cleaned: list[bool] = []

    async def work(progress: ProgressCallback) -> IngestReport:
        for done in (1, 2):
            await step.wait()
            step.clear()
            await progress(_progress(done))
        await step.wait()
        return IngestReport(space="handbook", items=[IngestItem(name="a", status="added", chunks=3)])

    async def cleanup() -> None:
        cleaned.append(True)

    job = jobs.start(space=SPACE, kind="upload", documents=["a", "b"], work=work, cleanup=cleanup)
    seen: list[tuple[str, int]] = []
    async for state in job.updates(keepalive_s=30):
        assert state is not None
        seen.append((state.status, state.progress.documents_done))
        step.set()
    assert seen == [("running", 0), ("running", 1), ("running", 2), ("done", 1)]
    assert job.read().report is not None
    assert jobs.get(job.id) is job
    assert jobs.list("ks_1") == [job]
    assert jobs.list("other") == []
    await asyncio.sleep(0)
    assert cleaned == [True]


async def test_a_quiet_job_sends_keepalives_and_a_failing_one_says_why() -> None:
    jobs = IngestionJobs()
    release = asyncio.Event()

    async def work(progress: ProgressCallback) -> IngestReport:
        del progress
        await release.wait()
        raise ValidationError("embedding model 'nope' not found")

    job = jobs.start(space=SPACE, kind="text", documents=["t"], work=work)
    states = []
    async for state in job.updates(keepalive_s=0.01):
        states.append(state)
        if state is None:
            release.set()
    assert states[0] is not None
    assert None in states
    final = states[-1]
    assert final is not None
    assert (final.status, final.error) == ("failed", "embedding model 'nope' not found")


async def test_close_cancels_running_jobs_and_cleans_up() -> None:
    jobs = IngestionJobs()
    cleaned: list[bool] = []

    async def forever(progress: ProgressCallback) -> IngestReport:
        await asyncio.Event().wait()
        raise AssertionError(progress)

    async def cleanup() -> None:
        cleaned.append(True)

    job = jobs.start(space=SPACE, kind="upload", documents=["a"], work=forever, cleanup=cleanup)
    await asyncio.sleep(0)
    await jobs.close()
    assert job.status == "failed"
    assert cleaned == [True]
    with pytest.raises(NotFoundError):
        jobs.get("job_missing")


@pytest.mark.parametrize(
    ("sent", "name"),
    [
        ("report.pdf", "report.pdf"),
        ("guide/intro.md", "guide/intro.md"),
        ("C:\\Users\\me\\notes.txt", "C:/Users/me/notes.txt"),
        ("../../etc/passwd", "etc/passwd"),
        ("a/./b/../c.txt", "a/c.txt"),
        ("/abs/x\x00\x1f.txt", "abs/x.txt"),
        ("..", ""),
    ],
)
def test_document_names_of_uploaded_files(sent: str, name: str) -> None:
    assert document_name(sent) == name
    assert not Path(name).is_absolute()
