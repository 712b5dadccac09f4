import { useEffect, useRef, useState } from "react";
import { type ChunkLike, documentNameOf, formatScore, locationOf } from "../knowledge/chunk-meta";
import { RetrieverBadges } from "../knowledge/retriever-badges";
import { useCitationScope } from "./citation-scope";
import type { ChunkList } from "./citations";
import "../knowledge/knowledge.css";
import "./citations.css";

function Citation({ chunk, number }: { readonly chunk: ChunkLike; readonly number: number }) {
  const scope = useCitationScope();
  const [open, setOpen] = useState(false);
  const element = useRef<HTMLDetailsElement>(null);
  const highlighted = scope?.highlighted?.id === chunk.id;
  const seq = highlighted ? scope?.highlighted?.seq : undefined;
  useEffect(() => {
    if (seq === undefined) return;
    setOpen(true);
    // Braces matter: Chromium's scrollIntoView returns a promise, which is no effect cleanup.
    element.current?.scrollIntoView?.({ block: "nearest", behavior: "smooth" });
  }, [seq]);
  const location = locationOf(chunk);
  return (
    <li>
      <details
        ref={element}
        open={open}
        onToggle={(event) => setOpen(event.currentTarget.open)}
        className={`citation${highlighted ? " citation--highlighted" : ""}`}
        data-chunk-id={chunk.id}
        data-testid="citation"
      >
        <summary className="citation__summary">
          <span className="citation__number">[{number}]</span>
          <span className="citation__source">
            {documentNameOf(chunk) || chunk.document_id || "—"}
          </span>
          {location ? <span className="muted">{location}</span> : null}
          {typeof chunk.score === "number" ? (
            <span className="muted">score {formatScore(chunk.score)}</span>
          ) : null}
        </summary>
        <div className="citation__body">
          <RetrieverBadges chunk={chunk} />
          <blockquote className="citation__text">{chunk.text}</blockquote>
          <div className="muted citation__id">
            chunk <code>{chunk.id}</code>
            {chunk.source && chunk.source !== documentNameOf(chunk) ? ` · ${chunk.source}` : ""}
          </div>
        </div>
      </details>
    </li>
  );
}

/** A `List[Chunk]` output: each chunk with its source, page/heading and the passage (expandable). */
export function CitationsView({ list }: { readonly list: ChunkList }) {
  if (!list.chunks.length) return <p className="muted">No passages.</p>;
  const uncited = list.chunks.every((chunk) => chunk.metadata?.cited === false);
  return (
    <div data-testid="citations">
      {uncited ? (
        <p className="muted citations__note">
          The answer cites none of these: they are the passages it was given.
        </p>
      ) : null}
      <ol className="citations" aria-label="Citations">
        {list.chunks.map((chunk, index) => (
          <Citation key={chunk.id} chunk={chunk} number={index + 1} />
        ))}
      </ol>
      {list.truncated ? (
        <p className="muted citations__more">More passages were cut from this preview.</p>
      ) : null}
    </div>
  );
}
