import { useState } from "react";
import { useSpaces } from "../api/knowledge";
import { EmptyState } from "../components/empty-state";
import { PageHeader } from "../components/page-header";
import { Link, navigate } from "../routes/router";
import { BookIcon } from "./book-icon";
import { SpaceCreateDialog } from "./space-create-dialog";
import "./knowledge.css";

/** The path of a space's page. */
export const spacePath = (name: string) => `/knowledge/${encodeURIComponent(name)}`;

/** Knowledge spaces: their embedding model and how many documents and chunks they hold. */
export function KnowledgePage() {
  const { data: spaces, error, isPending } = useSpaces();
  const [creating, setCreating] = useState(false);
  const newSpace = (
    <button type="button" className="button button--primary" onClick={() => setCreating(true)}>
      New space
    </button>
  );
  return (
    <div className="page">
      <PageHeader
        title="Knowledge"
        description="Document collections that flows search (rag.* operators): upload, inspect, try queries."
        actions={newSpace}
      />
      {creating ? (
        <SpaceCreateDialog
          onClose={() => setCreating(false)}
          onCreated={(space) => navigate(spacePath(space.name))}
        />
      ) : null}
      {error ? <p role="alert">{error.message}</p> : null}
      {isPending ? <p className="muted">Loading spaces…</p> : null}
      {spaces && spaces.length === 0 ? (
        <EmptyState icon={<BookIcon />} title="No knowledge spaces yet">
          <p>Create a space, drop documents into it, and retrieve passages from flows.</p>
        </EmptyState>
      ) : null}
      {spaces && spaces.length > 0 ? (
        <table className="table spaces" aria-label="Knowledge spaces">
          <thead>
            <tr>
              <th>Name</th>
              <th>Embedding model</th>
              <th className="documents__number">Documents</th>
              <th className="documents__number">Chunks</th>
              <th>Description</th>
            </tr>
          </thead>
          <tbody>
            {spaces.map((space) => (
              <tr key={space.id} data-space={space.name}>
                <td>
                  <Link to={spacePath(space.name)} className="spaces__link">
                    {space.name}
                  </Link>
                </td>
                <td>
                  <code>{space.embedding_model}</code>
                </td>
                <td className="documents__number">{space.document_count}</td>
                <td className="documents__number">{space.chunk_count}</td>
                <td className="muted">{space.description}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

export default KnowledgePage;
