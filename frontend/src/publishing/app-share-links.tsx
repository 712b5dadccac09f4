import { type FormEvent, useState } from "react";
import {
  type AppRead,
  type AppTokenCreated,
  appPageUrl,
  useAppTokens,
  useCreateAppToken,
  useRevokeAppToken,
} from "../api/apps";
import { InputField } from "../components/field";
import { CopyButton } from "./copy-button";

const when = (value: string | null | undefined) =>
  value ? new Date(value).toLocaleString() : "never";

/** The absolute share link (`…/apps/<slug>#t=<secret>`) of a new token. */
export const shareLink = (created: AppTokenCreated, origin = window.location.origin) =>
  new URL(created.share_url, origin).toString();

/** The `<iframe>` that embeds the app on another site (no sidebar; the token rides in the fragment). */
export function widgetSnippet(
  app: Pick<AppRead, "slug" | "title">,
  secret: string | null,
  origin = window.location.origin,
): string {
  const src = `${appPageUrl(app.slug, origin)}?embed=1#t=${secret ?? "<share-link-token>"}`;
  const title = app.title.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  return `<iframe src="${src}" title="${title}" width="400" height="600" style="border:1px solid #e4e4e7;border-radius:12px" allow="clipboard-write"></iframe>`;
}

/** Share links of an app: create (the link is shown once), list, revoke; and the widget snippet. */
export function AppShareLinks({ app }: { readonly app: AppRead }) {
  const tokens = useAppTokens(app.id);
  const create = useCreateAppToken(app.id);
  const revoke = useRevokeAppToken(app.id);
  const [name, setName] = useState("");
  const [rate, setRate] = useState("");
  const created = create.data;

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    create.mutate(
      { name, rate_limit_per_minute: rate === "" ? null : Number(rate) },
      { onSuccess: () => setName("") },
    );
  };
  const snippet = widgetSnippet(app, created?.secret ?? null);
  return (
    <div className="app-details__section">
      <h3 className="app-details__title">Share links</h3>
      <form
        className="inline-form"
        onSubmit={submit}
        aria-label={`New share link for ${app.title}`}
      >
        <InputField label="Link name" value={name} onValue={setName} required maxLength={100} />
        <InputField
          label="Messages per minute"
          type="number"
          min={0}
          placeholder="60 (0 = unlimited)"
          value={rate}
          onValue={setRate}
        />
        <button className="button button--primary" type="submit" disabled={create.isPending}>
          Create link
        </button>
      </form>
      {create.error ? (
        <p className="form-error" role="alert">
          {create.error.message}
        </p>
      ) : null}
      {created ? (
        <div className="secret" role="status" data-testid="share-link-created">
          <p>Copy this link now: it is not shown again. Anyone with it can chat with the app.</p>
          <div className="app-share__link">
            <code className="secret__value" data-testid="share-link-url">
              {shareLink(created)}
            </code>
            <CopyButton text={shareLink(created)} label="Copy link" />
          </div>
        </div>
      ) : null}
      {tokens.error ? <p className="form-error">{tokens.error.message}</p> : null}
      {tokens.data?.length ? (
        <table className="table" aria-label={`Share links of ${app.title}`}>
          <thead>
            <tr>
              <th>Name</th>
              <th>Token</th>
              <th>Rate limit</th>
              <th>Created</th>
              <th>Last used</th>
              <th>Status</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {tokens.data.map((token) => (
              <tr key={token.id}>
                <td>{token.name}</td>
                <td>
                  <code>{token.prefix}…</code>
                </td>
                <td>
                  {token.rate_limit_per_minute ? `${token.rate_limit_per_minute}/min` : "unlimited"}
                </td>
                <td>{when(token.created_at)}</td>
                <td>{when(token.last_used_at)}</td>
                <td>{token.revoked_at ? "revoked" : "active"}</td>
                <td className="table__actions">
                  {token.revoked_at ? null : (
                    <button
                      type="button"
                      className="button button--ghost"
                      onClick={() => revoke.mutate(token.id)}
                      disabled={revoke.isPending}
                      aria-label={`Revoke ${token.name}`}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : tokens.data ? (
        <p className="muted">No share links yet: only signed-in users can open the app.</p>
      ) : null}
      <h3 className="app-details__title">Embed on a site</h3>
      <p className="muted">
        {created
          ? "The widget below carries the link just created."
          : "Create a share link to fill in its token."}
      </p>
      <div className="snippets">
        <div className="snippets__tabs">
          <span className="snippets__tab snippets__tab--active">HTML</span>
          <CopyButton text={snippet} label="Copy snippet" />
        </div>
        <pre className="snippets__code" data-testid="widget-snippet">
          {snippet}
        </pre>
      </div>
    </div>
  );
}
