import type { Element, ElementContent } from "hast";
import { type MouseEvent, memo } from "react";
import ReactMarkdown, { type Components } from "react-markdown";
import remarkGfm from "remark-gfm";
import { useCitationScope } from "../runs/citation-scope";
import { splitCitations } from "../runs/citations";
import { CopyButton } from "./copy-button";
import type { Citation } from "./types";
import "./chat.css";

const CITE_PREFIX = "#cite-";

/**
 * The only link targets an answer may carry: http(s), mailto and the citation markers this renderer
 * writes itself. Anything else (`javascript:`, `data:`, `vbscript:`, relative paths) loses its link.
 */
export function safeUrl(url: string): string | null {
  const trimmed = url.trim();
  if (trimmed.startsWith(CITE_PREFIX)) return trimmed;
  try {
    const parsed = new URL(trimmed);
    return ["http:", "https:", "mailto:"].includes(parsed.protocol) ? trimmed : null;
  } catch {
    return null;
  }
}

function textOf(node: ElementContent | Element | undefined): string {
  if (!node) return "";
  if (node.type === "text") return node.value;
  if (node.type === "element") return node.children.map(textOf).join("");
  return "";
}

function CodeBlock({ node, children }: { readonly node?: Element; readonly children?: unknown }) {
  const code = node?.children[0];
  const language =
    code?.type === "element"
      ? ((code.properties.className as string[] | undefined) ?? [])
          .find((name) => name.startsWith("language-"))
          ?.slice("language-".length)
      : undefined;
  return (
    <div className="chat-code">
      <div className="chat-code__bar">
        <span className="chat-code__language">{language ?? "code"}</span>
        <CopyButton
          text={textOf(node).replace(/\n$/, "")}
          label="Copy code"
          testId="chat-code-copy"
        />
      </div>
      <pre>{children as React.ReactNode}</pre>
    </div>
  );
}

function CiteLink({ id, children }: { readonly id: string; readonly children?: unknown }) {
  const scope = useCitationScope();
  const follow = (event: MouseEvent<HTMLAnchorElement>) => {
    event.preventDefault();
    scope?.highlight(id);
  };
  return (
    <a href={`#chunk-${id}`} className="cite-link" data-cites={id} onClick={follow}>
      {children as React.ReactNode}
    </a>
  );
}

const components: Components = {
  a: ({ href, children }) => {
    if (!href) return <span className="chat-link--dropped">{children}</span>;
    if (href.startsWith(CITE_PREFIX)) {
      return (
        <CiteLink id={decodeURIComponent(href.slice(CITE_PREFIX.length))}>{children}</CiteLink>
      );
    }
    return (
      <a href={href} target="_blank" rel="noopener noreferrer nofollow">
        {children}
      </a>
    );
  },
  // Images are not loaded (an answer could point anywhere): a link to them is shown instead.
  img: ({ src, alt }) => {
    const url = typeof src === "string" ? safeUrl(src) : null;
    const label = `image${alt ? `: ${alt}` : ""}`;
    return url && !url.startsWith(CITE_PREFIX) ? (
      <a href={url} target="_blank" rel="noopener noreferrer nofollow">
        [{label}]
      </a>
    ) : (
      <span>[{label}]</span>
    );
  },
  pre: ({ node, children }) => <CodeBlock node={node}>{children}</CodeBlock>,
  table: ({ children }) => (
    <div className="chat-markdown__table">
      <table>{children}</table>
    </div>
  ),
};

/** `[chunk-id]` markers that name one of `citations` become `[n](#cite-id)` links. */
export function linkCitations(text: string, citations: readonly Citation[]): string {
  if (!citations.length) return text;
  const number = (id: string) => citations.findIndex((chunk) => chunk.id === id) + 1;
  return splitCitations(text, citations)
    .map((part) =>
      typeof part === "string"
        ? part
        : part.ids
            .map((id) => `[\\[${number(id)}\\]](${CITE_PREFIX}${encodeURIComponent(id)})`)
            .join(""),
    )
    .join("");
}

/**
 * Markdown (CommonMark + GFM tables, task lists, strikethrough) as React elements. Raw HTML is never
 * rendered (dropped), links keep only http(s)/mailto targets and open with `rel=noopener`.
 */
export const Markdown = memo(function Markdown({
  text,
  citations = [],
}: {
  readonly text: string;
  readonly citations?: readonly Citation[];
}) {
  return (
    <div className="chat-markdown" data-testid="chat-markdown">
      <ReactMarkdown
        remarkPlugins={[remarkGfm]}
        skipHtml
        urlTransform={(url) => safeUrl(url) ?? ""}
        components={components}
      >
        {linkCitations(text, citations)}
      </ReactMarkdown>
    </div>
  );
});
