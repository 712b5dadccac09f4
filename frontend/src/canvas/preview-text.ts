/** A value preview as one short line of text (strings unquoted, everything else as JSON). */
export function previewText(value: unknown, limit = 200): string {
  let text: string;
  if (typeof value === "string") text = value;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}
