import type { MouseEvent } from "react";
import { documentNameOf } from "../knowledge/chunk-meta";
import { useCitationScope } from "./citation-scope";
import { splitCitations } from "./citations";
import "./citations.css";

/**
 * Text output; inside a citation scope its `[chunk-id]` markers become links that open and
 * highlight the cited passage. Without citable chunks it is shown as is.
 */
export function CitedText({ text }: { readonly text: string }) {
  const scope = useCitationScope();
  const parts = splitCitations(text, scope?.chunks ?? []);
  if (!scope || parts.every((part) => typeof part === "string")) {
    return (
      <pre className="output-json" data-testid="output-json">
        {text}
      </pre>
    );
  }
  const numberOf = (id: string) => scope.chunks.findIndex((chunk) => chunk.id === id) + 1;
  const follow = (id: string) => (event: MouseEvent<HTMLAnchorElement>) => {
    event.preventDefault();
    scope.highlight(id);
  };
  return (
    <p className="cited-answer" data-testid="cited-answer">
      {parts.map((part, index) =>
        typeof part === "string" ? (
          part
        ) : (
          // biome-ignore lint/suspicious/noArrayIndexKey: parts are positional and never reordered.
          <span key={index} className="cite-marker">
            {part.ids.map((id) => {
              const chunk = scope.chunks.find((item) => item.id === id);
              const source = chunk ? documentNameOf(chunk) : "";
              return (
                <a
                  key={id}
                  href={`#chunk-${id}`}
                  className="cite-link"
                  title={`${source ? `${source} · ` : ""}chunk ${id}`}
                  aria-label={`Citation ${numberOf(id)}${source ? `: ${source}` : ""}`}
                  data-cites={id}
                  onClick={follow(id)}
                >
                  [{numberOf(id)}]
                </a>
              );
            })}
          </span>
        ),
      )}
    </p>
  );
}
