import { type DragEvent, type FormEvent, useId, useRef, useState } from "react";
import {
  type AskResult,
  ask,
  askHistory,
  type Datasource,
  useSchema,
  useUploadSpreadsheets,
} from "../api/datasources";
import { PageHeader } from "../components/page-header";
import { Link } from "../routes/router";
import { datasourcePath } from "./data-page";
import { ModelPicker } from "./model-picker";
import { AskAnswer } from "./result-view";
import "./data.css";

const ACCEPT = ".xlsx,.csv,.tsv,.parquet,.json,.jsonl";

interface Turn {
  readonly id: number;
  readonly question: string;
  readonly model: string;
  readonly result?: AskResult;
  readonly error?: string;
}

function SpreadsheetDrop({
  onFiles,
  busy,
  again,
}: {
  readonly onFiles: (files: File[]) => void;
  readonly busy: boolean;
  readonly again: boolean;
}) {
  const inputId = useId();
  const [dragging, setDragging] = useState(false);
  const send = (files: FileList | null) => {
    if (files?.length && !busy) onFiles([...files]);
  };
  const onDragOver = (event: DragEvent<HTMLElement>) => {
    event.preventDefault();
    event.dataTransfer.dropEffect = busy ? "none" : "copy";
    setDragging(true);
  };
  return (
    <section
      className={`upload-zone${dragging ? " upload-zone--over" : ""}${busy ? " upload-zone--busy" : ""}`}
      aria-label="Drop a spreadsheet"
      data-testid="spreadsheet-zone"
      onDragOver={onDragOver}
      onDragEnter={onDragOver}
      onDragLeave={() => setDragging(false)}
      onDrop={(event) => {
        event.preventDefault();
        setDragging(false);
        send(event.dataTransfer.files);
      }}
    >
      <p className="upload-zone__title">
        {busy ? "Uploading…" : again ? "Drop another file to add it" : "Drop a spreadsheet here"}
      </p>
      <p className="muted">xlsx (one table per sheet), csv, tsv, parquet, json</p>
      <label htmlFor={inputId} className="button button--ghost upload-zone__pick">
        Choose a file
      </label>
      <input
        id={inputId}
        type="file"
        className="upload-zone__input"
        aria-label="Choose a spreadsheet"
        accept={ACCEPT}
        disabled={busy}
        onChange={(event) => {
          send(event.target.files);
          event.target.value = "";
        }}
      />
    </section>
  );
}

function SheetTables({ source }: { readonly source: Datasource }) {
  const { data: schema } = useSchema(source.name);
  return (
    <p className="muted chat__tables" role="status" aria-label="Uploaded tables">
      <Link to={datasourcePath(source.name)} className="spaces__link">
        {source.name}
      </Link>
      {schema
        ? `: ${(schema.tables ?? [])
            .map((table) =>
              table.row_count === null || table.row_count === undefined
                ? table.name
                : `${table.name} (${table.row_count} rows)`,
            )
            .join(", ")}`
        : ""}
    </p>
  );
}

function TurnView({ turn }: { readonly turn: Turn }) {
  return (
    <li className="chat__turn" aria-label={turn.question}>
      <p className="chat__question">{turn.question}</p>
      <div className="chat__answer">
        {turn.result ? (
          <AskAnswer answer={turn.result} label={`Answer to ${turn.question}`} />
        ) : null}
        {turn.error ? (
          <div className="data-refusal data-refusal--error" role="alert">
            {turn.error}
          </div>
        ) : null}
        {!turn.result && !turn.error ? (
          <p className="muted" aria-busy="true">
            Thinking with {turn.model}…
          </p>
        ) : null}
      </div>
    </li>
  );
}

/**
 * ChatExcel: upload a spreadsheet, then ask questions; each answer shows its SQL, rows and a chart.
 * Each question is sent with the earlier turns (question and SQL), so follow-ups can refer to them.
 */
export function ChatExcelPage() {
  const upload = useUploadSpreadsheets();
  const [source, setSource] = useState<Datasource | null>(null);
  const [turns, setTurns] = useState<readonly Turn[]>([]);
  const [question, setQuestion] = useState("");
  const [model, setModel] = useState("default");
  const next = useRef(0);
  const asking = turns.some((turn) => !turn.result && !turn.error);

  const onFiles = (files: File[]) =>
    upload.mutate({ files, name: source?.name }, { onSuccess: (created) => setSource(created) });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const text = question.trim();
    if (!source || !text || asking) return;
    next.current += 1;
    const id = next.current;
    const update = (patch: Partial<Turn>) =>
      setTurns((current) => current.map((turn) => (turn.id === id ? { ...turn, ...patch } : turn)));
    const history = askHistory(
      turns.map((turn) => ({ question: turn.question, answer: turn.result })),
    );
    setTurns((current) => [...current, { id, question: text, model }]);
    setQuestion("");
    ask(source.name, { question: text, model, history }).then(
      (result) => update({ result }),
      (reason: unknown) =>
        update({ error: reason instanceof Error ? reason.message : String(reason) }),
    );
  };

  return (
    <div className="page">
      <nav className="breadcrumbs" aria-label="Breadcrumbs">
        <Link to="/data">Data</Link> / <span aria-current="page">Chat with a spreadsheet</span>
      </nav>
      <PageHeader
        title="Chat with a spreadsheet"
        description="Upload an Excel or CSV file and ask questions in words: the model writes SQL over its sheets."
      />
      <div className="space-page">
        <section className="card" aria-labelledby="sheet-title">
          <h2 id="sheet-title" className="card__title">
            Spreadsheet
          </h2>
          <SpreadsheetDrop onFiles={onFiles} busy={upload.isPending} again={source !== null} />
          {upload.error ? <p role="alert">{upload.error.message}</p> : null}
          {source ? <SheetTables source={source} /> : null}
        </section>
        {source ? (
          <section className="card chat" aria-labelledby="chat-title">
            <h2 id="chat-title" className="card__title">
              Questions
            </h2>
            {turns.length > 0 ? (
              <ol className="chat__turns" aria-label="Conversation">
                {turns.map((turn) => (
                  <TurnView key={turn.id} turn={turn} />
                ))}
              </ol>
            ) : (
              <p className="muted">Ask about the sheets, e.g. “total amount per region”.</p>
            )}
            <form className="data-ask" onSubmit={submit} aria-label="Ask the spreadsheet">
              <input
                type="text"
                className="field__input data-ask__question"
                aria-label="Question"
                placeholder="Which region sold the most?"
                value={question}
                onChange={(event) => setQuestion(event.target.value)}
              />
              <ModelPicker value={model} onChange={setModel} />
              <button
                type="submit"
                className="button button--primary"
                disabled={asking || !question.trim()}
              >
                {asking ? "Asking…" : "Ask"}
              </button>
            </form>
          </section>
        ) : null}
      </div>
    </div>
  );
}

export default ChatExcelPage;
