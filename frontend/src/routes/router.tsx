import {
  type AnchorHTMLAttributes,
  type ComponentType,
  createContext,
  type MouseEvent,
  useContext,
  useSyncExternalStore,
} from "react";

/**
 * A deliberately tiny history router: `pathname` is the state, `navigate` pushes it, and the
 * backend answers every non-API path with `index.html` so deep links load the app.
 */
const NAVIGATE_EVENT = "rivulet:navigate";

function subscribe(onChange: () => void): () => void {
  window.addEventListener("popstate", onChange);
  window.addEventListener(NAVIGATE_EVENT, onChange);
  return () => {
    window.removeEventListener("popstate", onChange);
    window.removeEventListener(NAVIGATE_EVENT, onChange);
  };
}

export function usePathname(): string {
  return useSyncExternalStore(
    subscribe,
    () => window.location.pathname,
    () => "/",
  );
}

/** Asked before an in-app navigation leaves the page; `false` keeps the user where they are. */
let navigationGuard: (() => boolean) | null = null;

/** Installs (or, with `null`, removes) the guard, e.g. the editor's unsaved-changes prompt. */
export function setNavigationGuard(guard: (() => boolean) | null): void {
  navigationGuard = guard;
}

export function navigate(to: string, options: { replace?: boolean; force?: boolean } = {}): void {
  if (!options.force && navigationGuard && !navigationGuard()) return;
  if (options.replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

export type RouteParams = Readonly<Record<string, string>>;

/** Matches `/flows/:flowId` style patterns; a trailing slash is ignored. */
export function matchPath(pattern: string, pathname: string): RouteParams | null {
  const split = (path: string) => path.split("/").filter(Boolean);
  const want = split(pattern);
  const got = split(pathname);
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (const [index, segment] of want.entries()) {
    const actual = got[index] ?? "";
    if (segment.startsWith(":")) params[segment.slice(1)] = decodeURIComponent(actual);
    else if (segment !== actual) return null;
  }
  return params;
}

export interface RouteDefinition {
  readonly path: string;
  readonly component: ComponentType;
}

export interface RouteMatch {
  readonly route: RouteDefinition;
  readonly params: RouteParams;
}

export function matchRoutes(
  routes: readonly RouteDefinition[],
  pathname: string,
): RouteMatch | null {
  for (const route of routes) {
    const params = matchPath(route.path, pathname);
    if (params) return { route, params };
  }
  return null;
}

const ParamsContext = createContext<RouteParams>({});

export function useParams(): RouteParams {
  return useContext(ParamsContext);
}

interface RouterOutletProps {
  readonly routes: readonly RouteDefinition[];
  readonly fallback: ComponentType;
}

export function RouterOutlet({ routes, fallback: Fallback }: RouterOutletProps) {
  const match = matchRoutes(routes, usePathname());
  if (!match) return <Fallback />;
  const Page = match.route.component;
  return (
    <ParamsContext.Provider value={match.params}>
      <Page />
    </ParamsContext.Provider>
  );
}

function isPlainLeftClick(event: MouseEvent<HTMLAnchorElement>): boolean {
  return event.button === 0 && !event.metaKey && !event.altKey && !event.ctrlKey && !event.shiftKey;
}

export interface LinkProps extends Omit<AnchorHTMLAttributes<HTMLAnchorElement>, "href"> {
  readonly to: string;
}

export function Link({ to, onClick, target, ...rest }: LinkProps) {
  const handleClick = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || !isPlainLeftClick(event) || (target && target !== "_self")) {
      return;
    }
    event.preventDefault();
    navigate(to);
  };
  return <a href={to} target={target} onClick={handleClick} {...rest} />;
}
