import { type FormEvent, useState } from "react";
import { type SearchRequest, useSearch } from "../api/knowledge";
import { Field, InputField } from "../components/field";
import { SearchHitView } from "./search-hit";

type Mode = NonNullable<SearchRequest["mode"]>;

const MODES: readonly { value: Mode; label: string }[] = [
  { value: "hybrid", label: "Hybrid (vector + keyword, fused by rank)" },
  { value: "vector", label: "Vector (embedding similarity)" },
  { value: "keyword", label: "Keyword (full-text)" },
];

/** Reciprocal-rank fusion constant of hybrid search (the server's default). */
const DEFAULT_RRF_K = 60;

/** `filters` as typed: an empty box is no filter; anything else must be a JSON object. */
export function parseFilters(text: string): Record<string, unknown> {
  if (!text.trim()) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (reason) {
    throw new Error(`Filters are not JSON: ${reason instanceof Error ? reason.message : reason}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error('Filters must be a JSON object, e.g. {"source": "handbook.md"}');
  }
  return value as Record<string, unknown>;
}

/** Try retrieval on a space: query, mode, top_k, MMR and metadata filters; shows every hit's provenance. */
export function SearchPlayground({ space }: { readonly space: string }) {
  const search = useSearch(space);
  const [query, setQuery] = useState("");
  const [mode, setMode] = useState<Mode>("hybrid");
  const [topK, setTopK] = useState(5);
  const [mmr, setMmr] = useState(false);
  const [mmrLambda, setMmrLambda] = useState(0.5);
  const [rrfK, setRrfK] = useState(DEFAULT_RRF_K);
  const [filters, setFilters] = useState("");
  const [formError, setFormError] = useState<string | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    let parsed: Record<string, unknown>;
    try {
      parsed = parseFilters(filters);
    } catch (reason) {
      setFormError(reason instanceof Error ? reason.message : String(reason));
      return;
    }
    setFormError(null);
    search.mutate({
      query,
      mode,
      top_k: topK,
      filters: parsed,
      mmr,
      mmr_lambda: mmrLambda,
      rrf_k: rrfK,
    });
  };

  const result = search.data ?? null;
  return (
    <section className="card" aria-labelledby="search-title">
      <h2 id="search-title" className="card__title">
        Search playground
      </h2>
      <form className="search-form" onSubmit={submit} aria-label="Search the space">
        <div className="search-form__query">
          <input
            type="search"
            className="field__input"
            aria-label="Query"
            placeholder="Ask something the documents answer…"
            required
            value={query}
            onChange={(event) => setQuery(event.target.value)}
          />
          <button
            type="submit"
            className="button button--primary"
            disabled={search.isPending || !query.trim()}
          >
            {search.isPending ? "Searching…" : "Search"}
          </button>
        </div>
        <div className="search-form__options">
          <Field label="Mode">
            <select
              className="field__input"
              value={mode}
              onChange={(event) => setMode(event.target.value as Mode)}
            >
              {MODES.map((option) => (
                <option key={option.value} value={option.value}>
                  {option.label}
                </option>
              ))}
            </select>
          </Field>
          <InputField
            label="Top k"
            type="number"
            min={1}
            max={500}
            value={topK}
            onValue={(value) => setTopK(Math.max(1, Number.parseInt(value, 10) || 1))}
          />
          {mode === "hybrid" ? (
            <InputField
              label="RRF k"
              title="Reciprocal-rank fusion constant: higher flattens rank differences"
              type="number"
              min={1}
              max={1000}
              value={rrfK}
              onValue={(value) => setRrfK(Math.max(1, Number.parseInt(value, 10) || DEFAULT_RRF_K))}
            />
          ) : null}
          <label className="field field--inline search-form__mmr">
            <input
              type="checkbox"
              className="field__checkbox"
              checked={mmr}
              onChange={(event) => setMmr(event.target.checked)}
            />
            <span className="field__label">MMR (diversify)</span>
          </label>
          {mmr ? (
            <InputField
              label="MMR λ (1 = relevance, 0 = diversity)"
              type="number"
              min={0}
              max={1}
              step={0.1}
              value={mmrLambda}
              onValue={(value) => setMmrLambda(Math.min(1, Math.max(0, Number(value) || 0)))}
            />
          ) : null}
        </div>
        <Field label="Filters (JSON)" hint='Metadata equality, e.g. {"source": "handbook.md"}'>
          <textarea
            className="field__input field__input--code"
            rows={2}
            spellCheck={false}
            value={filters}
            onChange={(event) => setFilters(event.target.value)}
          />
        </Field>
      </form>
      {formError ? <p role="alert">{formError}</p> : null}
      {search.error ? <p role="alert">{search.error.message}</p> : null}
      {result ? (
        <p className="muted search-summary" role="status">
          {result.hits.length} {result.hits.length === 1 ? "hit" : "hits"} ({result.mode}) in{" "}
          {result.timings.total_ms.toFixed(0)} ms
        </p>
      ) : null}
      {result && result.hits.length > 0 ? (
        <ol className="search-hits" aria-label="Search results">
          {result.hits.map((hit, index) => (
            <SearchHitView key={hit.chunk_id} hit={hit} position={index + 1} />
          ))}
        </ol>
      ) : null}
    </section>
  );
}
