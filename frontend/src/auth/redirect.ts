import { navigate } from "../routes/router";

export const LOGIN_PATH = "/login";

/** Where to go after logging in: `?next=` when it is a local path, else home. */
export function nextPath(search: string): string {
  const next = new URLSearchParams(search).get("next");
  return next?.startsWith("/") && !next.startsWith("//") && next !== LOGIN_PATH ? next : "/";
}

/** Send the user to the login page, remembering where they were. */
export function redirectToLogin(): void {
  const { pathname, search } = window.location;
  if (pathname === LOGIN_PATH) return;
  navigate(`${LOGIN_PATH}?next=${encodeURIComponent(pathname + search)}`, { replace: true });
}
