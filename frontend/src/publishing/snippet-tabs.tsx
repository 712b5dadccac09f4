import { useState } from "react";
import type { EndpointRead } from "../api/publishing";
import { CopyButton } from "./copy-button";
import { SNIPPET_LANGUAGES, type SnippetLanguage, snippet } from "./snippets";

/** curl / Python / JavaScript calls of an endpoint, each copyable. */
export function SnippetTabs({ endpoint }: { readonly endpoint: EndpointRead }) {
  const [language, setLanguage] = useState<SnippetLanguage>("curl");
  const text = snippet(language, endpoint, window.location.origin);
  return (
    <div className="snippets">
      <div className="snippets__tabs" role="tablist" aria-label={`Call ${endpoint.path}`}>
        {SNIPPET_LANGUAGES.map(({ id, label }) => (
          <button
            key={id}
            type="button"
            role="tab"
            aria-selected={language === id}
            className={language === id ? "snippets__tab snippets__tab--active" : "snippets__tab"}
            onClick={() => setLanguage(id)}
          >
            {label}
          </button>
        ))}
        <CopyButton text={text} />
      </div>
      <pre className="snippets__code" data-language={language}>
        {text}
      </pre>
    </div>
  );
}
