import { type FormEvent, useState } from "react";
import { ASK_HISTORY_TURNS, type AskResult, askHistory, useAsk } from "../api/datasources";
import { ModelPicker } from "./model-picker";
import { AskAnswer, QueryError } from "./result-view";

interface Asked {
  readonly question: string;
  readonly answer: AskResult;
}

/**
 * Ask a question in words: the model writes the SQL (repaired when it fails), then rows + chart.
 * Follow-ups are sent with the earlier questions and their SQL until "New conversation".
 */
export function AskBox({ datasource }: { readonly datasource: string }) {
  const ask = useAsk(datasource);
  const [question, setQuestion] = useState("");
  const [model, setModel] = useState("default");
  const [asked, setAsked] = useState<readonly Asked[]>([]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const text = question.trim();
    if (!text || ask.isPending) return;
    ask.mutate(
      { question: text, model, history: askHistory(asked) },
      { onSuccess: (answer) => setAsked((current) => [...current, { question: text, answer }]) },
    );
  };
  const restart = () => {
    setAsked([]);
    ask.reset();
  };
  return (
    <section className="card" aria-labelledby="ask-title">
      <h2 id="ask-title" className="card__title">
        Ask
      </h2>
      <form className="data-ask" onSubmit={submit} aria-label="Ask the data source">
        <input
          type="text"
          className="field__input data-ask__question"
          aria-label="Question"
          placeholder="Which products sold best last month?"
          value={question}
          onChange={(event) => setQuestion(event.target.value)}
        />
        <ModelPicker value={model} onChange={setModel} />
        <button
          type="submit"
          className="button button--primary"
          disabled={ask.isPending || !question.trim()}
        >
          {ask.isPending ? "Asking…" : "Ask"}
        </button>
      </form>
      {asked.length > 0 ? (
        <p className="muted data-ask__context" role="status" aria-label="Conversation">
          Follow-up questions see the{" "}
          {asked.length === 1
            ? "last question"
            : `last ${Math.min(asked.length, ASK_HISTORY_TURNS)} questions`}{" "}
          and their SQL.{" "}
          <button type="button" className="button button--ghost button--small" onClick={restart}>
            New conversation
          </button>
        </p>
      ) : null}
      {ask.error ? <QueryError error={ask.error} /> : null}
      {ask.data && !ask.error ? <AskAnswer answer={ask.data} /> : null}
    </section>
  );
}
