import { type FormEvent, useState } from "react";
import { useFlowList } from "../api/flows";
import { usePublish } from "../api/publishing";
import { Field, InputField } from "../components/field";
import { sharedNames, shortId } from "../components/flow-label";
import { SnippetTabs } from "./snippet-tabs";

/**
 * Publish a flow version: its HTTP trigger becomes /f/{slug}, its schedule trigger a schedule.
 * With `flowId` (the editor's publish dialog) the flow is fixed and no picker shows.
 */
export function PublishForm({ flowId: fixedFlow }: { readonly flowId?: string } = {}) {
  const flows = useFlowList("");
  const shared = sharedNames(flows.data ?? []);
  const publish = usePublish();
  const [chosenFlow, setFlowId] = useState("");
  const flowId = fixedFlow ?? chosenFlow;
  const [version, setVersion] = useState("");
  const [limit, setLimit] = useState("");

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    publish.mutate({
      flowId,
      version: version ? Number(version) : undefined,
      concurrencyLimit: limit ? Number(limit) : undefined,
    });
  };

  const result = publish.data;
  return (
    <section className="card" aria-labelledby="publish-title">
      <h2 id="publish-title" className="card__title">
        {fixedFlow ? "Endpoint and schedule" : "Publish a flow"}
      </h2>
      <form className="inline-form" onSubmit={submit}>
        {fixedFlow ? null : (
          <Field label="Flow">
            <select
              className="field__input"
              value={flowId}
              onChange={(event) => setFlowId(event.target.value)}
              required
            >
              <option value="">Choose a flow…</option>
              {(flows.data ?? []).map((flow) => (
                <option key={flow.id} value={flow.id}>
                  {shared.has(flow.name.toLowerCase())
                    ? `${flow.name} (v${flow.version} · ${shortId(flow.id)} · updated ${new Date(flow.updated_at).toLocaleDateString()})`
                    : `${flow.name} (v${flow.version})`}
                </option>
              ))}
            </select>
          </Field>
        )}
        <InputField
          label="Version"
          type="number"
          min={1}
          placeholder="latest"
          value={version}
          onValue={setVersion}
        />
        <InputField
          label="Concurrency limit"
          type="number"
          min={1}
          placeholder="none"
          value={limit}
          onValue={setLimit}
        />
        <button
          className="button button--primary"
          type="submit"
          disabled={!flowId || publish.isPending}
        >
          Publish
        </button>
      </form>
      {publish.error ? (
        <p className="form-error" role="alert">
          {publish.error.message}
        </p>
      ) : null}
      {result ? (
        <div className="publish-result" role="status">
          <p>
            Published version {result.version}
            {result.endpoint
              ? ` at ${result.endpoint.endpoint.method} ${result.endpoint.path}`
              : ""}
            {result.schedule ? " with a schedule" : ""}.
          </p>
          {result.endpoint ? <SnippetTabs endpoint={result.endpoint} /> : null}
        </div>
      ) : null}
    </section>
  );
}
