import { type ReactNode, useEffect } from "react";
import { useMe } from "../api/auth";
import { usePathname } from "../routes/router";
import { LoginPage } from "./login-page";
import { LOGIN_PATH, redirectToLogin } from "./redirect";

/** Shows the login page at `/login`, and everything else only to a logged-in user. */
export function AuthGate({ children }: { readonly children: ReactNode }) {
  const pathname = usePathname();
  const { data: me, isPending, error } = useMe();
  const anonymous = !isPending && !error && me === null;

  useEffect(() => {
    if (anonymous && pathname !== LOGIN_PATH) redirectToLogin();
  }, [anonymous, pathname]);

  if (pathname === LOGIN_PATH) return <LoginPage />;
  if (isPending || anonymous) return <div className="page page--loading" aria-busy="true" />;
  return <>{children}</>;
}
