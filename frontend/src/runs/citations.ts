import { type ChunkLike, isChunk } from "../knowledge/chunk-meta";

/** A `List[Chunk]` value as the run panel shows it; `truncated`: the preview was cut short. */
export interface ChunkList {
  readonly chunks: readonly ChunkLike[];
  readonly truncated: boolean;
}

/** Most closing braces tried when salvaging a cut preview (previews are a few KB at most). */
const SALVAGE_ATTEMPTS = 400;

/**
 * The whole chunks at the start of a preview cut at its byte budget (`[{"id": …}, {"id": …` + `…`):
 * the longest prefix ending in `}` that parses as a list of chunks.
 */
export function salvageChunks(text: string): ChunkLike[] | null {
  if (!/^\[\s*\{/.test(text)) return null;
  let end = text.length;
  for (let attempt = 0; attempt < SALVAGE_ATTEMPTS; attempt += 1) {
    end = text.lastIndexOf("}", end - 1);
    if (end < 0) return null;
    let value: unknown;
    try {
      value = JSON.parse(`${text.slice(0, end + 1)}]`);
    } catch {
      continue; // Cut inside a string or an object: try the previous brace.
    }
    return Array.isArray(value) && value.length > 0 && value.every(isChunk) ? value : null;
  }
  return null;
}

/**
 * The chunks of a port value, or `null` when it is no chunk list. A list of chunk-shaped objects
 * counts, so does an empty list on a `List[Chunk]` port and a preview string cut mid-list.
 */
export function chunkListOf(value: unknown, type = ""): ChunkList | null {
  if (Array.isArray(value)) {
    if (value.length === 0) return type.includes("Chunk") ? { chunks: [], truncated: false } : null;
    return value.every(isChunk) ? { chunks: value, truncated: false } : null;
  }
  if (typeof value === "string") {
    const chunks = salvageChunks(value);
    return chunks ? { chunks, truncated: true } : null;
  }
  return null;
}

/** Every chunk among `values` (each port value that is a chunk list), the first of each id kept. */
export function chunksAmong(values: readonly unknown[]): ChunkLike[] {
  const seen = new Map<string, ChunkLike>();
  for (const value of values) {
    for (const chunk of chunkListOf(value)?.chunks ?? []) {
      if (!seen.has(chunk.id)) seen.set(chunk.id, chunk);
    }
  }
  return [...seen.values()];
}

/** A `[…]` marker of an answer that names chunks: their ids, in the order cited. */
export interface CitationMarker {
  readonly text: string;
  readonly ids: readonly string[];
}

export type AnswerPart = string | CitationMarker;

const MARKER = /\[([^[\]\n]{1,400})\]/g;
/** What decorates an id inside brackets (`[chunk a]`, `[#a]`, `` [`a`] ``), as rag.answer reads it. */
const DECORATION = /^(?:chunk|passage|source|id)\s*[:#]?\s*|^#/i;

/**
 * The n-th passage the answer was given: rag.answer numbers its citations (`metadata.passage`),
 * and only those numbers count then; chunks without numbers count in list order.
 */
function passageAt(n: number, chunks: readonly ChunkLike[]): string | null {
  const numbered = chunks.some((chunk) => typeof chunk.metadata?.passage === "number");
  const chunk = numbered ? chunks.find((item) => item.metadata?.passage === n) : chunks[n - 1];
  return chunk?.id ?? null;
}

/** The chunk a marker token names: its id, or `n` for the n-th passage when no id is `n`. */
function resolveToken(token: string, chunks: readonly ChunkLike[]): string | null {
  const cleaned = token
    .trim()
    .replace(/^[`'"*]+|[`'"*]+$/g, "")
    .replace(DECORATION, "")
    .trim();
  if (chunks.some((chunk) => chunk.id === cleaned)) return cleaned;
  return /^\d{1,4}$/.test(cleaned) ? passageAt(Number.parseInt(cleaned, 10), chunks) : null;
}

/**
 * Splits an answer into text and citation markers: `[id]`, `[id1, id2]` or `[n]` (the n-th passage
 * given), where every token names a chunk in `chunks`; other brackets stay text. Reads markers the
 * way rag.answer does (rivulet_operators/rag/_common.py `parse_citations`).
 */
export function splitCitations(text: string, chunks: readonly ChunkLike[]): AnswerPart[] {
  if (!chunks.length) return [text];
  const parts: AnswerPart[] = [];
  let last = 0;
  for (const match of text.matchAll(MARKER)) {
    const tokens = (match[1] ?? "").split(/[,;]/);
    const ids = tokens.map((token) => resolveToken(token, chunks));
    if (ids.some((id) => id === null)) continue;
    if (match.index > last) parts.push(text.slice(last, match.index));
    parts.push({ text: match[0], ids: ids as string[] });
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}
