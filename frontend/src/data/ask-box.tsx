import { type FormEvent, useState } from "react";
import { useAsk } from "../api/datasources";
import { ModelPicker } from "./model-picker";
import { AskAnswer, QueryError } from "./result-view";

/** Ask a question in words: the model writes the SQL (repaired when it fails), then rows + chart. */
export function AskBox({ datasource }: { readonly datasource: string }) {
  const ask = useAsk(datasource);
  const [question, setQuestion] = useState("");
  const [model, setModel] = useState("default");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (question.trim() && !ask.isPending) ask.mutate({ question: question.trim(), model });
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
      {ask.error ? <QueryError error={ask.error} /> : null}
      {ask.data && !ask.error ? <AskAnswer answer={ask.data} /> : null}
    </section>
  );
}
