import { type KnowledgeDocument, useDeleteDocument } from "../api/knowledge";
import { formatBytes } from "./format";

const STATUS_CLASS: Record<string, string> = {
  processing: "status-badge--running",
  ready: "status-badge--succeeded",
  failed: "status-badge--failed",
};

function DocumentRow({
  space,
  document,
}: {
  readonly space: string;
  readonly document: KnowledgeDocument;
}) {
  const remove = useDeleteDocument(space);
  return (
    <tr data-document={document.name}>
      <td>
        <div className="documents__name">{document.name}</div>
        {document.source && document.source !== document.name ? (
          <div className="muted documents__source">{document.source}</div>
        ) : null}
        {document.status === "failed" && document.error ? (
          <div className="documents__error" role="note">
            {document.error}
          </div>
        ) : null}
      </td>
      <td>
        <span className={`status-badge ${STATUS_CLASS[document.status] ?? ""}`}>
          {document.status}
        </span>
      </td>
      <td className="documents__number">{document.chunk_count}</td>
      <td className="documents__number">{formatBytes(document.size_bytes)}</td>
      <td className="muted">{new Date(document.updated_at).toLocaleString()}</td>
      <td className="table__actions">
        <button
          type="button"
          className="button button--ghost button--small"
          aria-label={`Delete ${document.name}`}
          disabled={remove.isPending}
          onClick={() => remove.mutate(document.id)}
        >
          Delete
        </button>
      </td>
    </tr>
  );
}

/** A space's documents: status (processing, ready, failed with its error), chunks and size. */
export function DocumentsTable({
  space,
  documents,
}: {
  readonly space: string;
  readonly documents: readonly KnowledgeDocument[];
}) {
  if (!documents.length) {
    return <p className="muted">No documents yet: drop some files above.</p>;
  }
  return (
    <table className="table documents" aria-label="Documents">
      <thead>
        <tr>
          <th>Name</th>
          <th>Status</th>
          <th className="documents__number">Chunks</th>
          <th className="documents__number">Size</th>
          <th>Updated</th>
          <th>
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {documents.map((document) => (
          <DocumentRow key={document.id} space={space} document={document} />
        ))}
      </tbody>
    </table>
  );
}
