import { useState } from "react";
import { type AppRead, useApps, useDeleteApp, useUpdateApp } from "../api/apps";
import { AppFeedback } from "./app-feedback";
import { AppForm } from "./app-form";
import { AppShareLinks } from "./app-share-links";
import "./apps.css";

type Panel = "closed" | "edit" | "share" | "feedback";

function AppRow({ app }: { readonly app: AppRead }) {
  const [panel, setPanel] = useState<Panel>("closed");
  const [confirming, setConfirming] = useState(false);
  const update = useUpdateApp();
  const remove = useDeleteApp();
  const toggle = (next: Panel) => setPanel(panel === next ? "closed" : next);
  const error = update.error ?? remove.error;
  return (
    <>
      <tr data-testid="app-row">
        <td>
          <strong>{app.title}</strong>
          {app.inputs_ok ? null : (
            <div className="form-error" title={(app.problems ?? []).join("\n")}>
              {(app.problems ?? [])[0] ?? "The flow cannot answer a message as it stands."}
            </div>
          )}
        </td>
        <td>
          <code className="app-list__url">{app.url}</code>
        </td>
        <td>
          {app.flow_name}
          <span className="muted"> {app.flow_version ? `v${app.flow_version}` : "latest"}</span>
        </td>
        <td>
          <label className="app-toggle">
            <input
              type="checkbox"
              checked={app.enabled}
              disabled={update.isPending}
              aria-label={`${app.title} enabled`}
              onChange={(event) =>
                update.mutate({ appId: app.id, body: { enabled: event.target.checked } })
              }
            />
            {app.enabled ? "on" : "off"}
          </label>
        </td>
        <td>
          <div className="table__actions">
            <a
              className="button button--ghost"
              href={app.url}
              target="_blank"
              rel="noreferrer"
              aria-label={`Open ${app.title}`}
            >
              Open app
            </a>
            <button
              type="button"
              className="button button--ghost"
              aria-expanded={panel === "share"}
              onClick={() => toggle("share")}
            >
              Share
            </button>
            <button
              type="button"
              className="button button--ghost"
              aria-expanded={panel === "feedback"}
              onClick={() => toggle("feedback")}
            >
              Feedback
            </button>
            <button
              type="button"
              className="button button--ghost"
              aria-expanded={panel === "edit"}
              onClick={() => toggle("edit")}
            >
              Edit
            </button>
            {confirming ? (
              <>
                <button
                  type="button"
                  className="button button--danger"
                  disabled={remove.isPending}
                  onClick={() => remove.mutate(app.id)}
                  aria-label={`Really delete ${app.title}`}
                >
                  Delete app and chats
                </button>
                <button
                  type="button"
                  className="button button--ghost"
                  onClick={() => setConfirming(false)}
                >
                  Keep
                </button>
              </>
            ) : (
              <button
                type="button"
                className="button button--ghost"
                onClick={() => setConfirming(true)}
                aria-label={`Delete ${app.title}`}
              >
                Delete
              </button>
            )}
          </div>
        </td>
      </tr>
      {error ? (
        <tr>
          <td colSpan={5} className="form-error" role="alert">
            {error.message}
          </td>
        </tr>
      ) : null}
      {panel === "closed" ? null : (
        <tr className="app-details">
          <td colSpan={5}>
            {panel === "edit" ? (
              <AppForm
                app={app}
                onDone={() => setPanel("closed")}
                onCancel={() => setPanel("closed")}
              />
            ) : null}
            {panel === "share" ? <AppShareLinks app={app} /> : null}
            {panel === "feedback" ? <AppFeedback app={app} /> : null}
          </td>
        </tr>
      )}
    </>
  );
}

/** Flows served as chat apps (`/apps/<slug>`): create, edit, switch on/off, share, embed, feedback. */
export function AppList() {
  const { data, error } = useApps();
  const [creating, setCreating] = useState(false);
  return (
    <section className="card" aria-labelledby="apps-title">
      <div className="app-list__header">
        <h2 id="apps-title" className="card__title">
          Chat apps
        </h2>
        <button
          type="button"
          className="button button--primary"
          aria-expanded={creating}
          onClick={() => setCreating(!creating)}
        >
          {creating ? "Close" : "New chat app"}
        </button>
      </div>
      {creating ? (
        <AppForm onDone={() => setCreating(false)} onCancel={() => setCreating(false)} />
      ) : null}
      {error ? <p className="form-error">{error.message}</p> : null}
      {data && data.length === 0 && !creating ? (
        <p className="muted">
          No chat apps yet. A chat app serves a flow that takes a message (and a session for memory)
          as a chat page at /apps/…, to signed-in users or through share links.
        </p>
      ) : null}
      {data && data.length > 0 ? (
        <table className="table" aria-label="Chat apps">
          <thead>
            <tr>
              <th>Title</th>
              <th>Page</th>
              <th>Flow</th>
              <th>Enabled</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.map((app) => (
              <AppRow key={app.id} app={app} />
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
