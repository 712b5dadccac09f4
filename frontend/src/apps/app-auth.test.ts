import { afterEach, describe, expect, it, vi } from "vitest";
import {
  adoptShareToken,
  chatHeaders,
  dropToken,
  fragmentToken,
  storedToken,
  tokenKey,
  visitorId,
} from "./app-auth";

afterEach(() => window.localStorage.clear());

describe("share tokens", () => {
  it("reads only an app token from the fragment", () => {
    expect(fragmentToken("#t=rva_abc")).toBe("rva_abc");
    expect(fragmentToken("#x=1&t=rva_abc")).toBe("rva_abc");
    expect(fragmentToken("#t=rvk_abc")).toBeNull();
    expect(fragmentToken("")).toBeNull();
  });

  it("moves the token to storage and cleans the URL, keeping path and query", () => {
    window.history.replaceState(null, "", "/apps/support?embed=1#t=rva_secret");
    expect(adoptShareToken("support")).toBe("rva_secret");
    expect(window.localStorage.getItem(tokenKey("support"))).toBe("rva_secret");
    expect(window.location.hash).toBe("");
    expect(window.location.pathname + window.location.search).toBe("/apps/support?embed=1");
    expect(window.location.href).not.toContain("rva_secret");
  });

  it("keeps the stored token on later visits and per app", () => {
    window.history.replaceState(null, "", "/apps/support#t=rva_one");
    adoptShareToken("support");
    window.history.replaceState(null, "", "/apps/support");
    expect(adoptShareToken("support")).toBe("rva_one");
    expect(adoptShareToken("other")).toBeNull();
    dropToken("support");
    expect(storedToken("support")).toBeNull();
  });

  it("a newer link replaces the stored token", () => {
    window.localStorage.setItem(tokenKey("support"), "rva_old");
    window.history.replaceState(null, "", "/apps/support#t=rva_new");
    expect(adoptShareToken("support")).toBe("rva_new");
  });
});

describe("visitor id and headers", () => {
  it("makes one random visitor id and keeps it", () => {
    const first = visitorId();
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(visitorId()).toBe(first);
    expect(window.localStorage.getItem("rivulet.app-visitor")).toBe(first);
  });

  it("replaces a stored visitor id the server would refuse", () => {
    window.localStorage.setItem("rivulet.app-visitor", "short");
    expect(visitorId()).toMatch(/^[0-9a-f]{32}$/);
  });

  it("sends the bearer token only when there is one", () => {
    expect(chatHeaders("rva_x")).toEqual({
      Authorization: "Bearer rva_x",
      "X-Rivulet-Visitor": visitorId(),
    });
    expect(chatHeaders(null)).toEqual({ "X-Rivulet-Visitor": visitorId() });
  });
});

describe("without storage", () => {
  it("keeps the token and visitor id in memory when storage refuses", () => {
    const refuse = () => {
      throw new DOMException("blocked", "SecurityError");
    };
    const storage = window.localStorage;
    const spies = [
      vi.spyOn(storage, "getItem").mockImplementation(refuse),
      vi.spyOn(storage, "setItem").mockImplementation(refuse),
    ];
    window.history.replaceState(null, "", "/apps/embedded#t=rva_mem");
    expect(adoptShareToken("embedded")).toBe("rva_mem");
    expect(window.location.hash).toBe("");
    expect(visitorId()).toBe(visitorId());
    for (const spy of spies) spy.mockRestore();
  });
});
