import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { fetchJob, type IngestJob, jobEventsUrl, knowledgeKeys } from "../api/knowledge";

/** How often the job is polled when its event stream cannot be used. */
export const JOB_POLL_MS = 1_000;

/** A job that will not change any more. */
export function isJobFinished(job: IngestJob): boolean {
  return job.status !== "running";
}

/** A job message from the stream: the whole job, or just its progress. */
function merge(job: IngestJob, message: unknown): IngestJob {
  if (typeof message !== "object" || message === null) return job;
  const body = message as Partial<IngestJob> & Partial<IngestJob["progress"]>;
  if (typeof body.status === "string") return { ...job, ...(body as Partial<IngestJob>) };
  if (typeof body.documents_done === "number") {
    return { ...job, progress: { ...job.progress, ...(body as IngestJob["progress"]) } };
  }
  return job;
}

/**
 * Follows an ingestion job from the 202 answer that started it to its report: live through the
 * job's server-sent events, or by polling `GET /jobs/{id}` when the stream fails. Documents and
 * spaces are refetched whenever a document finishes and once more at the end.
 */
export function useIngestJob(started: IngestJob | null): IngestJob | null {
  const client = useQueryClient();
  const [job, setJob] = useState<IngestJob | null>(started);

  useEffect(() => {
    setJob(started);
    if (!started || isJobFinished(started)) return;
    let current = started;
    let closed = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let source: EventSource | undefined;
    const refresh = () => client.invalidateQueries({ queryKey: knowledgeKeys.all });
    const stop = () => {
      closed = true;
      source?.close();
      clearTimeout(timer);
    };
    const apply = (next: IngestJob) => {
      if (closed) return;
      const documentFinished = next.progress.documents_done !== current.progress.documents_done;
      current = next;
      setJob(next);
      if (isJobFinished(next)) {
        stop();
        void refresh();
      } else if (documentFinished) {
        void refresh();
      }
    };
    const poll = () => {
      if (closed) return;
      fetchJob(started.id)
        .then(apply)
        .catch(() => undefined)
        .finally(() => {
          if (!closed) timer = setTimeout(poll, JOB_POLL_MS);
        });
    };
    if (typeof EventSource === "undefined") {
      poll();
    } else {
      source = new EventSource(jobEventsUrl(started.id));
      const onMessage = (event: MessageEvent<string>) => {
        try {
          apply(merge(current, JSON.parse(event.data)));
        } catch {
          // A comment or keep-alive line: nothing to apply.
        }
      };
      // `progress` carries an IngestProgress; `done` or `failed` the whole job, last.
      for (const name of ["progress", "done", "failed"]) {
        source.addEventListener(name, onMessage as EventListener);
      }
      source.onerror = () => {
        // The stream ended or failed before the job finished: carry on by polling.
        source?.close();
        if (!closed) poll();
      };
    }
    return stop;
  }, [started, client]);

  return job;
}
