import { useState } from "react";
import { useLogout, useMe } from "../api/auth";
import { navigate } from "../routes/router";
import { PasswordDialog } from "./password-dialog";
import { LOGIN_PATH } from "./redirect";

const ROLE_TITLES = { admin: "Administrator", editor: "Editor", viewer: "Viewer" } as const;

/** The signed-in user's name (its role as the tooltip) and a logout button (top bar). */
export function UserMenu() {
  const { data: me } = useMe();
  const logout = useLogout();
  const [changing, setChanging] = useState(false);
  if (!me) return null;
  return (
    <div className="user-menu">
      <span
        className="user-menu__name"
        title={ROLE_TITLES[me.role ?? (me.is_admin ? "admin" : "editor")]}
      >
        {me.username}
      </span>
      {me.kind === "api_key" ? null : (
        <button type="button" className="button button--ghost" onClick={() => setChanging(true)}>
          Password
        </button>
      )}
      {changing ? <PasswordDialog onClose={() => setChanging(false)} /> : null}
      <button
        type="button"
        className="button button--ghost"
        onClick={() =>
          logout.mutate(undefined, { onSuccess: () => navigate(LOGIN_PATH, { replace: true }) })
        }
      >
        Log out
      </button>
    </div>
  );
}
