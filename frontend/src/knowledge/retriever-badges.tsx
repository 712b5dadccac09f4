import { type ChunkLike, formatScore, retrieversOf } from "./chunk-meta";

/** One badge per retriever that found the chunk: its name, the hit's rank and score there. */
export function RetrieverBadges({ chunk }: { readonly chunk: ChunkLike }) {
  const retrievers = retrieversOf(chunk);
  if (!retrievers.length) return null;
  return (
    <ul className="retriever-badges" aria-label="Found by">
      {retrievers.map((hit) => (
        <li
          key={hit.name}
          className={`retriever-badge retriever-badge--${hit.name}`}
          data-retriever={hit.name}
          title={`${hit.name} search: rank ${hit.rank ?? "?"}, score ${formatScore(hit.score)}`}
        >
          <span className="retriever-badge__name">{hit.name}</span>
          {hit.rank !== null ? <span>#{hit.rank}</span> : null}
          {hit.score !== null ? <span>{formatScore(hit.score)}</span> : null}
        </li>
      ))}
    </ul>
  );
}
