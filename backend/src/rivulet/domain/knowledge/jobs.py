"""Ingestion jobs: one asyncio task per upload (or URL list, or text), owned by this process's ``IngestionJobs``.

A job starts at once (the POST answers 202 with it) and records its progress as the service reports it; readers
poll it (``GET /api/knowledge/jobs/{id}``) or follow ``updates()`` (the Server-Sent Events of
``GET .../events``), which yields the job on every change, coalesced, until it ends. Jobs live in the replica that
runs them: a job lost with its replica is gone, but the documents' durable status (``processing``, ``ready``,
``failed`` with its error) is in the database. Finished jobs are kept for an hour (the newest 500 at most); closing
the registry (the app's shutdown) cancels the running ones, and every job's clean-up (deleting the temporary files of
an upload) runs however it ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeAlias

from rivulet.domain.knowledge.schemas import IngestJobRead, JobKind, JobStatus
from rivulet.lib.exceptions import AppError, NotFoundError
from rivulet.lib.ids import random_id
from rivulet.lib.log import get_logger
from rivulet.sdk.knowledge import IngestProgress, IngestReport, ProgressCallback

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from rivulet.storage.base import SpaceRecord

__all__ = ("IngestJob", "IngestWork", "IngestionJobs")

_log = get_logger("rivulet.knowledge")

IngestWork: TypeAlias = Callable[[ProgressCallback], Awaitable[IngestReport]]
"""What a job runs: an ingestion reporting its progress to the callback it is given."""


class IngestJob:
    """One ingestion: its state, and an event replaced on every change (``updates`` waits on it)."""

    def __init__(self, *, space: SpaceRecord, kind: JobKind, documents: Sequence[str]) -> None:
        self.id = f"job_{random_id()}"
        self.space_id = space.id
        self.space = space.name
        self.kind: JobKind = kind
        self.documents = list(documents)
        self.status: JobStatus = "running"
        self.progress = IngestProgress(
            documents_done=0, documents_total=len(self.documents), chunks_done=0, chunks_total=0
        )
        self.report: IngestReport | None = None
        self.error: str | None = None
        self.created_at = datetime.now(UTC)
        self.finished_at: datetime | None = None
        self.version = 1
        self._changed = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def read(self) -> IngestJobRead:
        """The job as the API shows it."""
        return IngestJobRead(
            id=self.id,
            space_id=self.space_id,
            space=self.space,
            kind=self.kind,
            status=self.status,
            documents=self.documents,
            progress=self.progress,
            report=self.report,
            error=self.error,
            created_at=self.created_at,
            finished_at=self.finished_at,
        )

    def _changed_now(self) -> None:
        self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()

    async def on_progress(self, progress: IngestProgress) -> None:
        """The service's progress callback."""
        if self.status == "running":
            self.progress = progress
            self._changed_now()

    def finish(self, report: IngestReport) -> None:
        done = len(report.items)
        self.progress = IngestProgress(
            documents_done=done,
            documents_total=done,
            chunks_done=self.progress.chunks_total,
            chunks_total=self.progress.chunks_total,
        )
        self.report, self.status, self.finished_at = report, "done", datetime.now(UTC)
        self._changed_now()

    def fail(self, error: str) -> None:
        self.error, self.status, self.finished_at = error, "failed", datetime.now(UTC)
        self._changed_now()

    async def updates(self, keepalive_s: float = 15.0) -> AsyncIterator[IngestJobRead | None]:
        """The job now and after each change (changes while the reader is busy are coalesced) until it ends.

        ``None`` is yielded after ``keepalive_s`` without a change (a keep-alive for the connection).
        """
        seen = 0
        while True:
            if self.version != seen:
                seen = self.version
                yield self.read()
                if self.status != "running":
                    return
                continue
            changed = self._changed
            try:
                async with asyncio.timeout(keepalive_s):
                    await changed.wait()
            except TimeoutError:
                yield None


class IngestionJobs:
    """The ingestion jobs of this process."""

    def __init__(self, *, keep_s: float = 3600.0, keep_finished: int = 500) -> None:
        self._jobs: dict[str, IngestJob] = {}
        self._keep = timedelta(seconds=keep_s)
        self._keep_finished = keep_finished
        self._closed = False

    def start(
        self,
        *,
        space: SpaceRecord,
        kind: JobKind,
        documents: Sequence[str],
        work: IngestWork,
        cleanup: Callable[[], Awaitable[None]] | None = None,
    ) -> IngestJob:
        """Run ``work`` as a new job in the background; ``cleanup`` runs after it, however it ends."""
        if self._closed:
            raise AppError("the server is shutting down: no new ingestion is started")
        self._prune()
        job = IngestJob(space=space, kind=kind, documents=documents)
        self._jobs[job.id] = job
        job.task = asyncio.get_running_loop().create_task(_run(job, work, cleanup), name=f"rivulet-ingest-{job.id}")
        return job

    def get(self, job_id: str) -> IngestJob:
        """The job. Raises ``NotFoundError`` (also for a job of another replica, or finished long ago)."""
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFoundError(
                f"ingestion job {job_id!r} not found (jobs are kept by the server that runs them, for an hour; "
                "the documents' status is in GET /api/knowledge/spaces/{space}/documents)",
                extra={"job_id": job_id},
            )
        return job

    def list(self, space_id: str | None = None) -> list[IngestJob]:
        """This process's jobs (of one space), newest first."""
        jobs = [job for job in self._jobs.values() if space_id is None or job.space_id == space_id]
        return sorted(jobs, key=lambda job: job.created_at, reverse=True)

    async def close(self) -> None:
        """Cancel the running jobs and wait for their clean-up."""
        self._closed = True
        tasks = [job.task for job in self._jobs.values() if job.task is not None and not job.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _prune(self) -> None:
        cutoff = datetime.now(UTC) - self._keep
        finished = [job for job in self._jobs.values() if job.finished_at is not None]
        finished.sort(key=lambda job: job.finished_at or cutoff)
        excess = len(finished) - self._keep_finished
        for index, job in enumerate(finished):
            if index < excess or (job.finished_at is not None and job.finished_at < cutoff):
                del self._jobs[job.id]


async def _run(job: IngestJob, work: IngestWork, cleanup: Callable[[], Awaitable[None]] | None) -> None:
    try:
        job.finish(await work(job.on_progress))
    except asyncio.CancelledError:
        job.fail("the server stopped before the ingestion finished (documents not finished are marked processing)")
        raise
    except AppError as exc:
        job.fail(exc.detail)
    except Exception:  # noqa: BLE001 - any failure ends the job with a generic error; the trace goes to the log
        _log.exception("ingestion job failed", extra={"job_id": job.id, "space": job.space})
        job.fail("an internal error occurred; see the server log")
    finally:
        if cleanup is not None:
            await cleanup()
