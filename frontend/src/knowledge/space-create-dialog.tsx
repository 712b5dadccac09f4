import { type FormEvent, useState } from "react";
import { type ChunkingConfig, type Space, useCreateSpace } from "../api/knowledge";
import { useModels } from "../api/models";
import { Field, InputField } from "../components/field";

type Strategy = NonNullable<ChunkingConfig["strategy"]>;

const STRATEGIES: readonly { value: Strategy; label: string }[] = [
  { value: "recursive", label: "Recursive (paragraphs, lines, sentences, words)" },
  { value: "markdown", label: "Markdown headings (keeps the heading path)" },
  { value: "sentence", label: "Whole sentences" },
  { value: "tokens", label: "Fixed token windows" },
];

const DEFAULT_EMBEDDING = "default-embedding";
/** PostgreSQL text search configurations offered for the keyword index (the server accepts any). */
const LANGUAGES = [
  "english",
  "simple",
  "german",
  "french",
  "spanish",
  "italian",
  "dutch",
  "portuguese",
];

interface SpaceCreateDialogProps {
  readonly onCreated: (space: Space) => void;
  readonly onClose: () => void;
}

/** A new knowledge space: its name, description, embedding model and how documents are chunked. */
export function SpaceCreateDialog({ onCreated, onClose }: SpaceCreateDialogProps) {
  const create = useCreateSpace();
  const { data: models } = useModels();
  const embeddings = (models ?? []).filter((model) => model.kind === "embedding");
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [embeddingModel, setEmbeddingModel] = useState(DEFAULT_EMBEDDING);
  const [strategy, setStrategy] = useState<Strategy>("recursive");
  const [chunkSize, setChunkSize] = useState(200);
  const [overlap, setOverlap] = useState(30);
  const [language, setLanguage] = useState("english");
  const overlapTooLarge = overlap >= chunkSize;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (overlapTooLarge || !name.trim()) return;
    create.mutate(
      {
        name: name.trim(),
        description,
        embedding_model: embeddingModel,
        chunking: { strategy, chunk_size: chunkSize, chunk_overlap: overlap },
        language,
      },
      { onSuccess: onCreated },
    );
  };

  return (
    <div className="dialog-backdrop">
      <form className="dialog" role="dialog" aria-label="New knowledge space" onSubmit={submit}>
        <h2 className="dialog__title">New knowledge space</h2>
        <InputField
          label="Name"
          required
          maxLength={200}
          autoFocus
          value={name}
          onValue={setName}
        />
        <InputField label="Description" value={description} onValue={setDescription} />
        <Field label="Embedding model" hint="Fixed for the space: every chunk is embedded with it.">
          <select
            className="field__input"
            value={embeddingModel}
            onChange={(event) => setEmbeddingModel(event.target.value)}
          >
            {embeddings.some((model) => model.name === embeddingModel) ? null : (
              <option value={embeddingModel}>{embeddingModel}</option>
            )}
            {embeddings.map((model) => (
              <option key={model.name} value={model.name}>
                {model.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Chunking strategy">
          <select
            className="field__input"
            value={strategy}
            onChange={(event) => setStrategy(event.target.value as Strategy)}
          >
            {STRATEGIES.map((option) => (
              <option key={option.value} value={option.value}>
                {option.label}
              </option>
            ))}
          </select>
        </Field>
        <div className="dialog__row">
          <InputField
            label="Chunk size (tokens)"
            type="number"
            min={16}
            max={8192}
            required
            value={chunkSize}
            onValue={(value) => setChunkSize(Number.parseInt(value, 10) || 0)}
          />
          <InputField
            label="Overlap (tokens)"
            type="number"
            min={0}
            max={4096}
            required
            value={overlap}
            onValue={(value) => setOverlap(Number.parseInt(value, 10) || 0)}
          />
        </div>
        <Field
          label="Keyword search language"
          hint="Stemming and stop words of the full-text index; simple keeps words as they are."
        >
          <select
            className="field__input"
            value={language}
            onChange={(event) => setLanguage(event.target.value)}
          >
            {LANGUAGES.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </Field>
        {overlapTooLarge ? (
          <p role="alert">The overlap must be smaller than the chunk size.</p>
        ) : null}
        {create.error ? <p role="alert">{create.error.message}</p> : null}
        <div className="dialog__actions">
          <button type="button" className="button button--ghost" onClick={onClose}>
            Cancel
          </button>
          <button
            type="submit"
            className="button button--primary"
            disabled={create.isPending || overlapTooLarge || !name.trim()}
          >
            {create.isPending ? "Creating…" : "Create space"}
          </button>
        </div>
      </form>
    </div>
  );
}
