import { useState } from "react";
import { type Report, type ShareLink, useRevokeShare, useShareReport } from "../api/reports";

/** The absolute address of a share link (the API answers it relative to the server). */
export const shareUrl = (link: ShareLink) => new URL(link.url, window.location.origin).toString();

interface ShareDialogProps {
  readonly report: Report;
  readonly onClose: () => void;
}

/** Create a share link (shown once, copyable), replace it, or revoke it. */
export function ShareDialog({ report, onClose }: ShareDialogProps) {
  const share = useShareReport(report.id);
  const revoke = useRevokeShare(report.id);
  const [link, setLink] = useState<ShareLink | null>(null);
  const [copied, setCopied] = useState(false);
  const live = link !== null || (report.shared && !revoke.isSuccess);
  const error = share.error ?? revoke.error;

  const create = () => {
    setCopied(false);
    share.mutate(undefined, { onSuccess: setLink });
  };
  const copy = async () => {
    if (!link) return;
    await navigator.clipboard.writeText(shareUrl(link));
    setCopied(true);
  };

  return (
    <div className="dialog-backdrop">
      <div className="dialog share-dialog" role="dialog" aria-label="Share report">
        <h2 className="dialog__title">Share “{report.title}”</h2>
        <p className="muted">
          Anyone with the link can view this report without signing in. The link is shown only once;
          a new link replaces the old one.
        </p>
        {link ? (
          <div className="share-dialog__link">
            <input
              className="field__input"
              readOnly
              aria-label="Share link"
              value={shareUrl(link)}
              onFocus={(event) => event.target.select()}
            />
            <button type="button" className="button button--primary" onClick={copy}>
              {copied ? "Copied" : "Copy"}
            </button>
          </div>
        ) : live ? (
          <p data-testid="share-live">A share link is live.</p>
        ) : (
          <p data-testid="share-none">This report is not shared.</p>
        )}
        {error ? <p role="alert">{error.message}</p> : null}
        <div className="dialog__actions">
          {live ? (
            <button
              type="button"
              className="button button--danger"
              disabled={revoke.isPending}
              onClick={() => revoke.mutate(undefined, { onSuccess: () => setLink(null) })}
            >
              Revoke link
            </button>
          ) : null}
          <button type="button" className="button" disabled={share.isPending} onClick={create}>
            {live ? "Create a new link" : "Create link"}
          </button>
          <button type="button" className="button button--ghost" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
