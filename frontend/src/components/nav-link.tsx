import type { ReactNode } from "react";
import { Link, usePathname } from "../routes/router";

/** True when `pathname` is `to` or below it; `also` lists extra paths that count (e.g. `/`). */
export function isActivePath(to: string, pathname: string, also: readonly string[] = []): boolean {
  if (also.includes(pathname)) return true;
  return pathname === to || pathname.startsWith(`${to}/`);
}

interface NavLinkProps {
  readonly to: string;
  readonly also?: readonly string[];
  readonly children: ReactNode;
}

export function NavLink({ to, also, children }: NavLinkProps) {
  const active = isActivePath(to, usePathname(), also);
  return (
    <Link
      to={to}
      className={active ? "nav-link nav-link--active" : "nav-link"}
      aria-current={active ? "page" : undefined}
    >
      {children}
    </Link>
  );
}
