import { useEffect, useState } from "react";

/** Writes `text` to the clipboard; `false` when the browser refused (no permission, insecure origin). */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** A small button that copies `text` and says so for a moment. */
export function CopyButton({
  text,
  label,
  testId,
  className = "chat-icon-button",
}: {
  readonly text: string;
  readonly label: string;
  readonly testId?: string;
  readonly className?: string;
}) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  useEffect(() => {
    if (state === "idle") return;
    const timer = setTimeout(() => setState("idle"), 1_500);
    return () => clearTimeout(timer);
  }, [state]);
  return (
    <button
      type="button"
      className={className}
      aria-label={label}
      title={label}
      data-testid={testId}
      data-state={state}
      onClick={() => void copyText(text).then((ok) => setState(ok ? "copied" : "failed"))}
    >
      {state === "copied" ? "Copied" : state === "failed" ? "Copy failed" : "Copy"}
    </button>
  );
}
