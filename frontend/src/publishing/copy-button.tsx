import { useState } from "react";

/** Copies `text` to the clipboard and says so for a moment. */
export function CopyButton({
  text,
  label = "Copy",
}: {
  readonly text: string;
  readonly label?: string;
}) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    await navigator.clipboard?.writeText(text);
    setCopied(true);
    window.setTimeout(() => setCopied(false), 1500);
  };
  return (
    <button type="button" className="button button--ghost" onClick={() => void copy()}>
      {copied ? "Copied" : label}
    </button>
  );
}
