import { useState } from "react";
import { useMe } from "../api/auth";
import { type Datasource, useDeleteDatasource } from "../api/datasources";

/** Admins and the source's owner may test and delete it (the API refuses others). */
export function useCanManage(source: Datasource | undefined): boolean {
  const { data: me } = useMe();
  if (!me || !source) return false;
  return me.is_admin || (me.user_id !== null && me.user_id === source.owner_id);
}

/** Delete, after a confirmation (admins and the owner only). */
export function DeleteDatasourceButton({
  source,
  onDeleted,
}: {
  readonly source: Datasource;
  readonly onDeleted?: () => void;
}) {
  const remove = useDeleteDatasource();
  const [confirming, setConfirming] = useState(false);
  if (!useCanManage(source)) return null;
  if (!confirming) {
    return (
      <button
        type="button"
        className="button button--ghost button--small"
        aria-label={`Delete ${source.name}`}
        onClick={() => setConfirming(true)}
      >
        Delete
      </button>
    );
  }
  return (
    <span className="data-confirm">
      <button
        type="button"
        className="button button--ghost button--small"
        onClick={() => setConfirming(false)}
      >
        Keep it
      </button>
      <button
        type="button"
        className="button button--danger button--small"
        disabled={remove.isPending}
        onClick={() => remove.mutate(source.name, { onSuccess: onDeleted })}
      >
        Delete {source.name}
      </button>
      {remove.error ? <span role="alert">{remove.error.message}</span> : null}
    </span>
  );
}
