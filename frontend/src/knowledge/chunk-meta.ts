/**
 * Reading a chunk's metadata as retrieval writes it: `source` (file name or URL), `metadata.page`,
 * `metadata.heading_path`, `metadata.document` (the document's name) and `metadata.retrievers`
 * (`{vector: {rank, score}, keyword: {...}}`: which retrievers found the hit, and how well).
 *
 * Structural on purpose: run outputs arrive as JSON previews, not as typed API responses.
 */
export interface ChunkLike {
  readonly id: string;
  readonly text: string;
  readonly document_id?: string;
  readonly source?: string;
  readonly score?: number | null;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

export interface RetrieverHit {
  readonly name: string;
  readonly rank: number | null;
  readonly score: number | null;
}

const RETRIEVER_ORDER = ["vector", "keyword", "graph"];

function asNumber(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** The retrievers that found the chunk, in a fixed order (vector, keyword, graph, then others). */
export function retrieversOf(chunk: ChunkLike): RetrieverHit[] {
  const raw = chunk.metadata?.retrievers;
  if (typeof raw !== "object" || raw === null) return [];
  const hits = Object.entries(raw as Record<string, unknown>).map(([name, value]) => {
    const info = (typeof value === "object" && value !== null ? value : {}) as Record<
      string,
      unknown
    >;
    return { name, rank: asNumber(info.rank), score: asNumber(info.score) };
  });
  const order = (name: string) => {
    const index = RETRIEVER_ORDER.indexOf(name);
    return index < 0 ? RETRIEVER_ORDER.length : index;
  };
  return hits.sort((a, b) => order(a.name) - order(b.name) || a.name.localeCompare(b.name));
}

/** The page number (PDFs) or sheet name (spreadsheets), if the loader recorded one. */
export function pageOf(chunk: ChunkLike): string | null {
  const page = chunk.metadata?.page ?? chunk.metadata?.sheet;
  if (typeof page === "number") return String(page);
  return typeof page === "string" && page ? page : null;
}

/** The headings above the chunk, outermost first. */
export function headingPathOf(chunk: ChunkLike): string[] {
  const path = chunk.metadata?.heading_path;
  if (Array.isArray(path)) return path.filter((item): item is string => typeof item === "string");
  return typeof path === "string" && path ? path.split(/\s*[>›]\s*/) : [];
}

/** The document's name in its space, else the chunk's source. */
export function documentNameOf(chunk: ChunkLike): string {
  const name = chunk.metadata?.document;
  return typeof name === "string" && name ? name : (chunk.source ?? "");
}

/** `p. 3 · Setup › Passwords`: where in its document the chunk sits (empty when unknown). */
export function locationOf(chunk: ChunkLike): string {
  const page = pageOf(chunk);
  const headings = headingPathOf(chunk);
  return [page ? `p. ${page}` : "", headings.join(" › ")].filter(Boolean).join(" · ");
}

/** A score for display: 3 decimals, or 3 significant digits for tiny (keyword rank) scores. */
export function formatScore(score: number | null | undefined): string {
  if (score === null || score === undefined) return "—";
  return Math.abs(score) >= 0.001 || score === 0 ? score.toFixed(3) : score.toPrecision(3);
}

/** True for a chunk-shaped object (what `List[Chunk]` ports carry). */
export function isChunk(value: unknown): value is ChunkLike {
  if (typeof value !== "object" || value === null) return false;
  const item = value as Record<string, unknown>;
  return typeof item.id === "string" && typeof item.text === "string";
}
