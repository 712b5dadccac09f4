import { Fragment, type ReactNode } from "react";

/** One block of a narrative: a paragraph, a bullet list or a heading (markdown-lite). */
export type NarrativeBlock =
  | { readonly kind: "p"; readonly text: string }
  | { readonly kind: "ul"; readonly items: readonly string[] }
  | { readonly kind: "h"; readonly text: string };

const BULLET = /^\s*(?:[-*•]|\d+[.)])\s+/;
const HEADING = /^#{1,6}\s+/;

/** Splits a narrative into blocks, as the HTML export does (`rivulet.data.reports.markdown_blocks`). */
export function narrativeBlocks(text: string): NarrativeBlock[] {
  const blocks: NarrativeBlock[] = [];
  let paragraph: string[] = [];
  let items: string[] = [];
  const flush = () => {
    if (paragraph.length) blocks.push({ kind: "p", text: paragraph.join(" ") });
    if (items.length) blocks.push({ kind: "ul", items });
    paragraph = [];
    items = [];
  };
  for (const raw of text.replace(/\r\n/g, "\n").split("\n")) {
    const line = raw.trim();
    if (!line) flush();
    else if (HEADING.test(line)) {
      flush();
      blocks.push({ kind: "h", text: line.replace(HEADING, "") });
    } else if (BULLET.test(line)) {
      if (paragraph.length) flush();
      items.push(line.replace(BULLET, ""));
    } else if (items.length) {
      items[items.length - 1] = `${items[items.length - 1]} ${line}`;
    } else paragraph.push(line);
  }
  flush();
  return blocks;
}

const INLINE = /(\*\*[^*]+?\*\*|`[^`]+`)/g;

/** `**bold**` and `` `code` `` inside a line; everything else stays text (React escapes it). */
function inline(text: string): ReactNode[] {
  return text.split(INLINE).map((part, index) => {
    const key = `${index}:${part}`;
    if (part.startsWith("**") && part.endsWith("**") && part.length > 4)
      return <strong key={key}>{part.slice(2, -2)}</strong>;
    if (part.startsWith("`") && part.endsWith("`") && part.length > 2)
      return <code key={key}>{part.slice(1, -1)}</code>;
    return <Fragment key={key}>{part}</Fragment>;
  });
}

/** A report's narrative: paragraphs, bullet lists, headings, bold and code. */
export function Narrative({ text }: { readonly text: string }) {
  const blocks = narrativeBlocks(text);
  if (!blocks.length) return null;
  return (
    <div className="narrative" data-testid="narrative">
      {blocks.map((block, index) => {
        const key = `${index}:${block.kind}`;
        if (block.kind === "h") return <h3 key={key}>{inline(block.text)}</h3>;
        if (block.kind === "ul")
          return (
            <ul key={key}>
              {block.items.map((item, at) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: items are positional.
                <li key={at}>{inline(item)}</li>
              ))}
            </ul>
          );
        return <p key={key}>{inline(block.text)}</p>;
      })}
    </div>
  );
}
