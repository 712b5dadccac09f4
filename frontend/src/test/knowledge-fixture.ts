import { vi } from "vitest";
import type { IngestJob, KnowledgeDocument, SearchResult, Space } from "../api/knowledge";

const at = "2025-01-01T12:00:00Z";

export const spaceFixture: Space = {
  id: "sp1",
  name: "handbook",
  description: "Company handbook",
  embedding_model: "default-embedding",
  dimensions: 384,
  chunking: { strategy: "recursive", chunk_size: 200, chunk_overlap: 30 },
  language: "english",
  document_count: 2,
  chunk_count: 7,
  created_at: at,
  updated_at: at,
};

export function documentFixture(overrides: Partial<KnowledgeDocument> = {}): KnowledgeDocument {
  return {
    id: "d1",
    space_id: "sp1",
    name: "passwords.md",
    source: "passwords.md",
    status: "ready",
    chunk_count: 4,
    size_bytes: 2048,
    metadata: {},
    created_at: at,
    updated_at: at,
    ...overrides,
  };
}

export function jobFixture(overrides: Partial<IngestJob> = {}): IngestJob {
  return {
    id: "job1",
    space_id: "sp1",
    space: "handbook",
    kind: "upload",
    status: "running",
    documents: ["a.txt", "b.txt"],
    progress: { documents_done: 0, documents_total: 2, chunks_done: 0, chunks_total: 0 },
    created_at: at,
    ...overrides,
  };
}

export const searchFixture: SearchResult = {
  space: "handbook",
  query: "reset password",
  mode: "hybrid",
  timings: { total_ms: 12.3 },
  hits: [
    {
      chunk_id: "c-pw",
      document_id: "d1",
      document: "passwords.md",
      source: "passwords.md",
      text: "To reset your password, open Settings and choose Reset.",
      score: 0.0325,
      retrievers: { vector: { rank: 1, score: 0.82 }, keyword: { rank: 2, score: 0.31 } },
      metadata: { heading_path: ["Accounts", "Passwords"], page: 3 },
    },
    {
      chunk_id: "c-vpn",
      document_id: "d2",
      document: "vpn.txt",
      source: "vpn.txt",
      text: "The VPN needs a token.",
      score: 0.0161,
      retrievers: { vector: { rank: 2, score: 0.41 } },
      metadata: {},
    },
  ],
};

export type ApiCall = { method: string; path: string; body: unknown; request: Request };
type Handler = (call: ApiCall) => unknown;

/**
 * Replaces `fetch` with one that answers `"METHOD /path"` from `routes` (JSON, 200 unless the
 * handler returns a `Response`), 404 otherwise; returns the calls made.
 */
export function stubApi(routes: Readonly<Record<string, Handler>>) {
  const calls: ApiCall[] = [];
  const fetchMock = vi.fn(async (request: Request) => {
    const path = decodeURIComponent(new URL(request.url).pathname);
    const type = request.headers.get("content-type") ?? "";
    let body: unknown;
    if (type.startsWith("multipart/form-data")) body = await request.formData();
    else if (request.method !== "GET") {
      const text = await request.text();
      body = text ? JSON.parse(text) : undefined;
    }
    const call = { method: request.method, path, body, request };
    calls.push(call);
    const handler = routes[`${request.method} ${path}`];
    if (!handler) return new Response(JSON.stringify({ detail: "not stubbed" }), { status: 404 });
    const answer = handler(call);
    if (answer instanceof Response) return answer;
    return new Response(answer === undefined ? null : JSON.stringify(answer), {
      status: answer === undefined ? 204 : 200,
      headers: { "content-type": "application/json" },
    });
  });
  vi.stubGlobal("fetch", fetchMock);
  return calls;
}

/** An `EventSource` driven by the test: `FakeEventSource.last.emit("progress", {...})`. */
export class FakeEventSource extends EventTarget {
  static instances: FakeEventSource[] = [];
  static get last(): FakeEventSource {
    const source = FakeEventSource.instances.at(-1);
    if (!source) throw new Error("no EventSource was opened");
    return source;
  }
  readonly url: string;
  closed = false;
  onerror: ((event: Event) => void) | null = null;

  constructor(url: string | URL) {
    super();
    this.url = String(url);
    FakeEventSource.instances.push(this);
  }
  emit(type: string, data: unknown): void {
    this.dispatchEvent(new MessageEvent(type, { data: JSON.stringify(data) }));
  }
  fail(): void {
    this.onerror?.(new Event("error"));
  }
  close(): void {
    this.closed = true;
  }
}
