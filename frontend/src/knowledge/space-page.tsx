import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import {
  documentsQueryOptions,
  fetchRunningJob,
  type IngestJob,
  type Space,
  useDeleteSpace,
  useSpace,
} from "../api/knowledge";
import { PageHeader } from "../components/page-header";
import { Link, navigate, useParams } from "../routes/router";
import { DocumentsTable } from "./documents-table";
import { IngestProgressView } from "./ingest-progress";
import { SearchPlayground } from "./search-playground";
import { UploadZone } from "./upload-zone";
import { isJobFinished, useIngestJob } from "./use-ingest-job";
import "./knowledge.css";

/** While a document is still processing, the list is refreshed this often. */
const PROCESSING_REFETCH_MS = 2_000;

function SpaceFacts({ space }: { readonly space: Space }) {
  const chunking = space.chunking;
  const rows: [string, string][] = [
    [
      "Embedding model",
      `${space.embedding_model}${space.dimensions ? ` (${space.dimensions} d)` : ""}`,
    ],
    [
      "Chunking",
      chunking
        ? `${chunking.strategy}, ${chunking.chunk_size} tokens, overlap ${chunking.chunk_overlap}`
        : "—",
    ],
    ["Keyword language", space.language ?? "—"],
    ["Contents", `${space.document_count} documents, ${space.chunk_count} chunks`],
  ];
  return (
    <dl className="facts space-facts">
      {rows.map(([term, value]) => (
        <div key={term} className="facts__row">
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function DeleteSpaceButton({ space }: { readonly space: Space }) {
  const remove = useDeleteSpace();
  const [confirming, setConfirming] = useState(false);
  if (!confirming) {
    return (
      <button type="button" className="button button--ghost" onClick={() => setConfirming(true)}>
        Delete space
      </button>
    );
  }
  return (
    <>
      <button type="button" className="button button--ghost" onClick={() => setConfirming(false)}>
        Keep it
      </button>
      <button
        type="button"
        className="button button--danger"
        disabled={remove.isPending}
        onClick={() => remove.mutate(space.id, { onSuccess: () => navigate("/knowledge") })}
      >
        Delete {space.name} and its documents
      </button>
    </>
  );
}

function DocumentsCard({ space }: { readonly space: Space }) {
  const [started, setStarted] = useState<IngestJob | null>(null);
  const job = useIngestJob(started);
  // An ingestion still running (started before a reload, or elsewhere) is followed from the start.
  useEffect(() => {
    const controller = new AbortController();
    fetchRunningJob(space.id, controller.signal)
      .then((running) => {
        if (running) setStarted((current) => current ?? running);
      })
      .catch(() => undefined);
    return () => controller.abort();
  }, [space.id]);
  const { data: documents, error } = useQuery({
    ...documentsQueryOptions(space.id),
    refetchInterval: (query) =>
      query.state.data?.some((document) => document.status === "processing")
        ? PROCESSING_REFETCH_MS
        : false,
  });
  return (
    <section className="card" aria-labelledby="documents-title">
      <h2 id="documents-title" className="card__title">
        Documents
      </h2>
      <UploadZone space={space.id} onJob={setStarted} busy={job !== null && !isJobFinished(job)} />
      {job ? <IngestProgressView job={job} /> : null}
      {error ? <p role="alert">{error.message}</p> : null}
      {documents ? <DocumentsTable space={space.id} documents={documents} /> : null}
    </section>
  );
}

/** One knowledge space: its settings, documents (upload, status, delete) and a search playground. */
export function SpacePage() {
  const name = useParams().space ?? "";
  const { data: space, error, isPending } = useSpace(name);
  return (
    <div className="page">
      <nav className="breadcrumbs" aria-label="Breadcrumbs">
        <Link to="/knowledge">Knowledge</Link> / <span aria-current="page">{name}</span>
      </nav>
      <PageHeader
        title={space?.name ?? name}
        description={space?.description || undefined}
        actions={space ? <DeleteSpaceButton space={space} /> : undefined}
      />
      {error ? <p role="alert">{error.message}</p> : null}
      {isPending ? <p className="muted">Loading the space…</p> : null}
      {space ? (
        <div className="space-page">
          <SpaceFacts space={space} />
          <DocumentsCard space={space} />
          <SearchPlayground space={space.id} />
        </div>
      ) : null}
    </div>
  );
}

export default SpacePage;
