import { useEffect, useState } from "react";
import { type AppRead, useApps } from "../api/apps";
import { Link } from "../routes/router";
import { AppForm } from "./app-form";
import { PublishForm } from "./publish-form";
import "./apps.css";

interface PublishDialogProps {
  readonly flowId: string;
  readonly flowName: string;
  readonly onClose: () => void;
}

function FlowApps({ apps }: { readonly apps: readonly AppRead[] }) {
  return (
    <ul className="publish-dialog__apps" aria-label="Chat apps of this flow">
      {apps.map((app) => (
        <li key={app.id}>
          <a href={app.url} target="_blank" rel="noreferrer">
            {app.title}
          </a>{" "}
          <code>{app.url}</code> {app.enabled ? null : <span className="badge">off</span>}
        </li>
      ))}
    </ul>
  );
}

/** The editor's Publish button: serve the open flow as an endpoint and/or as a chat app. */
export function PublishDialog({ flowId, flowName, onClose }: PublishDialogProps) {
  const apps = useApps(flowId);
  const [created, setCreated] = useState<AppRead | null>(null);
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") onClose();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);
  return (
    <div className="dialog-backdrop">
      <div className="dialog publish-dialog" role="dialog" aria-label={`Publish ${flowName}`}>
        <h2 className="dialog__title">Publish “{flowName}”</h2>
        <p className="muted">
          Serve the saved flow as an HTTP endpoint (its HTTP trigger) or as a chat page for people.
          Share links, API keys and statistics live on the{" "}
          <Link to="/publishing" onClick={onClose}>
            Publishing page
          </Link>
          .
        </p>
        <PublishForm flowId={flowId} />
        <section className="card publish-dialog__section" aria-labelledby="publish-app-title">
          <h2 id="publish-app-title" className="card__title">
            Chat app
          </h2>
          {apps.data?.length ? <FlowApps apps={apps.data} /> : null}
          {created ? (
            <div className="publish-result" role="status">
              <p>
                The chat app is live at <code>{created.url}</code> for signed-in users.
              </p>
              <p>
                <a
                  className="button button--primary"
                  href={created.url}
                  target="_blank"
                  rel="noreferrer"
                >
                  Open app
                </a>{" "}
                <Link className="button button--ghost" to="/publishing" onClick={onClose}>
                  Share links and widget
                </Link>
              </p>
            </div>
          ) : (
            <AppForm flowId={flowId} defaultTitle={flowName} onDone={setCreated} />
          )}
        </section>
        <div className="dialog__actions">
          <button type="button" className="button button--ghost" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
