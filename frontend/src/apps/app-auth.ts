/**
 * Who the chat page speaks as. A share link (`/apps/<slug>#t=rva_…`) carries an app token in the
 * fragment, which browsers never send to servers; the page moves it to localStorage and takes it out
 * of the address bar, so it is not left in history, bookmarks or screenshots. Requests then carry
 * `Authorization: Bearer <token>` and `X-Rivulet-Visitor` (a random id kept per browser, which keeps
 * one visitor's conversations apart from another's on the same link). Without a token the session
 * cookie speaks.
 */

const TOKEN_PREFIX = "rva_";
const VISITOR_KEY = "rivulet.app-visitor";
export const tokenKey = (slug: string) => `rivulet.app-token.${slug}`;

/** Storage can be missing or refuse (an iframe with third-party storage blocked): keep going in memory. */
const fallback = new Map<string, string>();

function read(key: string): string | null {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return fallback.get(key) ?? null;
  }
}

function write(key: string, value: string | null): void {
  try {
    if (value === null) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, value);
  } catch {
    if (value === null) fallback.delete(key);
    else fallback.set(key, value);
  }
}

/** The token in a fragment such as `#t=rva_…` (other fragment parameters may come along). */
export function fragmentToken(hash: string): string | null {
  const token = new URLSearchParams(hash.replace(/^#/, "")).get("t");
  return token?.startsWith(TOKEN_PREFIX) ? token : null;
}

/**
 * Moves a share link's token from the address to storage and removes the fragment from the URL
 * (path and query stay, e.g. `?embed=1`). Returns the stored token for `slug`, new or earlier.
 */
export function adoptShareToken(slug: string): string | null {
  const token = fragmentToken(window.location.hash);
  if (token) {
    write(tokenKey(slug), token);
    const { pathname, search } = window.location;
    window.history.replaceState(window.history.state, "", pathname + search);
  }
  return storedToken(slug);
}

export const storedToken = (slug: string): string | null => read(tokenKey(slug));

/** Forgets a token the server no longer accepts. */
export const dropToken = (slug: string): void => write(tokenKey(slug), null);

function randomId(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** This browser's visitor id (32 hex characters), made on first use. */
export function visitorId(): string {
  const known = read(VISITOR_KEY);
  if (known && /^[A-Za-z0-9_-]{16,128}$/.test(known)) return known;
  const fresh = randomId();
  write(VISITOR_KEY, fresh);
  return fresh;
}

/** The headers of a chat request: the token when there is one, and always the visitor id. */
export function chatHeaders(token: string | null): Record<string, string> {
  const headers: Record<string, string> = { "X-Rivulet-Visitor": visitorId() };
  if (token) headers.Authorization = `Bearer ${token}`;
  return headers;
}
