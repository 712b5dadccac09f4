function isMessage(value: unknown): value is { role: string; content: string } {
  const message = value as { role?: unknown; content?: unknown } | null;
  return (
    typeof message === "object" &&
    message !== null &&
    typeof message.role === "string" &&
    typeof message.content === "string"
  );
}

/**
 * A value preview as one short line of text: strings unquoted, a chat `Message` as `role: content` (a list of
 * them one per line), everything else as JSON.
 */
export function previewText(value: unknown, limit = 200): string {
  let text: string;
  if (typeof value === "string") text = value;
  else if (isMessage(value)) text = `${value.role}: ${value.content}`;
  else if (Array.isArray(value) && value.length > 0 && value.every(isMessage)) {
    text = value.map((message) => `${message.role}: ${message.content}`).join("\n");
  } else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}
