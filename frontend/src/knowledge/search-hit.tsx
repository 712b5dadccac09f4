import type { SearchHit } from "../api/knowledge";
import { type ChunkLike, formatScore, locationOf } from "./chunk-meta";
import { RetrieverBadges } from "./retriever-badges";

/** A search hit as the chunk it is (what the citations view and the badges read). */
export function hitAsChunk(hit: SearchHit): ChunkLike {
  return {
    id: hit.chunk_id,
    document_id: hit.document_id,
    text: hit.text,
    source: hit.source,
    score: hit.score,
    metadata: { ...hit.metadata, document: hit.document, retrievers: hit.retrievers },
  };
}

interface SearchHitViewProps {
  readonly hit: SearchHit;
  /** 1-based position in the result list. */
  readonly position: number;
}

/** One search result: position, score, the retrievers that found it, where it is from, the passage. */
export function SearchHitView({ hit, position }: SearchHitViewProps) {
  const chunk = hitAsChunk(hit);
  const location = locationOf(chunk);
  return (
    <li className="search-hit" data-chunk-id={hit.chunk_id} aria-label={`Hit ${position}`}>
      <div className="search-hit__header">
        <span className="search-hit__position">{position}</span>
        <strong className="search-hit__document">{hit.document}</strong>
        {location ? <span className="muted">{location}</span> : null}
        <span className="search-hit__score" title="Score of the final ranking">
          {formatScore(hit.score)}
        </span>
      </div>
      <RetrieverBadges chunk={chunk} />
      <blockquote className="search-hit__text">{hit.text}</blockquote>
      <div className="search-hit__footer muted">
        <code title="Chunk id">{hit.chunk_id}</code>
        {hit.source && hit.source !== hit.document ? <span>{hit.source}</span> : null}
      </div>
    </li>
  );
}
