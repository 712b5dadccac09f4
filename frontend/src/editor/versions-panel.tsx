import { useFlowVersions } from "../api/flows";

/** The flow's saved versions, newest first; restoring one saves it again as the newest. */
export function VersionsPanel({
  flowId,
  current,
  onRestore,
  onClose,
}: {
  readonly flowId: string;
  readonly current: number;
  readonly onRestore: (version: number) => void;
  readonly onClose: () => void;
}) {
  const { data: versions = [], isPending, error } = useFlowVersions(flowId, true);
  return (
    <div className="popover versions-panel" data-testid="versions-panel" role="dialog">
      <header className="popover__header">
        <strong>Version history</strong>
        <button type="button" className="button button--ghost button--small" onClick={onClose}>
          Close
        </button>
      </header>
      {isPending ? <p className="muted">Loading…</p> : null}
      {error ? <p className="field__error">{error.message}</p> : null}
      <ul className="versions-panel__list">
        {[...versions]
          .sort((a, b) => b.version - a.version)
          .map((version) => (
            <li key={version.version} data-testid={`version-${version.version}`}>
              <div>
                <strong>v{version.version}</strong>
                {version.version === current ? <span className="badge">current</span> : null}
                <div className="muted">
                  {new Date(version.created_at).toLocaleString()}
                  {version.message ? ` · ${version.message}` : ""}
                </div>
              </div>
              {version.version === current ? null : (
                <button
                  type="button"
                  className="button button--ghost button--small"
                  onClick={() => onRestore(version.version)}
                  data-testid={`restore-${version.version}`}
                >
                  Restore
                </button>
              )}
            </li>
          ))}
      </ul>
    </div>
  );
}
