import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import {
  addTemplateSource,
  removeTemplateSource,
  templateKeys,
  useTemplateSources,
} from "../api/templates";

/** Where templates come from: the built-in gallery, settings, and sources added here. */
export function TemplateSources() {
  const client = useQueryClient();
  const { data } = useTemplateSources();
  const [location, setLocation] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const run = async (action: () => Promise<unknown>) => {
    setProblem(null);
    try {
      await action();
      await client.invalidateQueries({ queryKey: templateKeys.all });
    } catch (err) {
      setProblem(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <details className="template-sources">
      <summary>Sources</summary>
      <ul aria-label="Template sources">
        {(data ?? []).map((source) => (
          <li key={`${source.origin}:${source.location}`}>
            <code>{source.location}</code> <small>{source.origin}</small>
            {source.origin === "user" && (
              <button
                type="button"
                aria-label={`Remove ${source.location}`}
                onClick={() => void run(() => removeTemplateSource(source.location))}
              >
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void run(async () => {
            await addTemplateSource(location);
            setLocation("");
          });
        }}
      >
        <input
          aria-label="Source location"
          placeholder="/path/to/templates, file:///…/index.json or https://…/index.json"
          value={location}
          onChange={(event) => setLocation(event.target.value)}
        />
        <button type="submit" disabled={!location.trim()}>
          Add source
        </button>
      </form>
      {problem && <p role="alert">{problem}</p>}
    </details>
  );
}
