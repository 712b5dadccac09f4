import { useState } from "react";
import { importTemplate, useTemplate } from "../api/templates";
import { Field, InputField } from "../components/field";
import { navigate } from "../routes/router";
import { FlowPreview } from "./flow-preview";

type Conflict = "ask" | "new" | "upgrade" | "skip";

function parseValue(type: string | undefined, raw: string): unknown {
  if (type === "int" || type === "float") return Number(raw);
  if (type === "bool") return raw === "true";
  if (type === "json") return JSON.parse(raw);
  return raw;
}

/** Preview, variable form and import button for one template. */
export function TemplateDetail({ name }: { readonly name: string }) {
  const { data, error } = useTemplate(name);
  const [values, setValues] = useState<Record<string, string>>({});
  const [conflict, setConflict] = useState<Conflict>("new");
  const [problem, setProblem] = useState<string | null>(null);
  if (error) return <p role="alert">{error.message}</p>;
  if (!data) return <p>Loading…</p>;
  const variables = (data.manifest.variables ?? []).filter((v) => !v.secret);
  const submit = async () => {
    setProblem(null);
    try {
      const given: Record<string, unknown> = {};
      for (const v of variables) {
        const raw = values[v.name];
        if (raw !== undefined && raw !== "") given[v.name] = parseValue(v.type, raw);
      }
      const report = await importTemplate(name, given, conflict);
      const created = report.flows.find((f) => f.flow_id);
      if (created?.flow_id) navigate(`/flows/${created.flow_id}`);
    } catch (err) {
      setProblem(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <section className="template-detail" aria-label={`Template ${data.manifest.title}`}>
      <h2>{data.manifest.title}</h2>
      <p>{data.manifest.description}</p>
      {data.flows.map((f) => (
        <FlowPreview key={f.file} document={f.document} />
      ))}
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        {variables.map((v) => (
          <InputField
            key={v.name}
            label={v.name}
            hint={v.description}
            name={v.name}
            placeholder={v.default == null ? "" : String(v.default)}
            value={values[v.name] ?? ""}
            onValue={(value) => setValues({ ...values, [v.name]: value })}
          />
        ))}
        <Field label="If it exists">
          <select
            className="field__input"
            value={conflict}
            onChange={(event) => setConflict(event.target.value as Conflict)}
          >
            <option value="new">import a copy</option>
            <option value="upgrade">upgrade it</option>
            <option value="skip">skip</option>
            <option value="ask">ask (refuse)</option>
          </select>
        </Field>
        <button type="submit">Import</button>
      </form>
      {problem && <p role="alert">{problem}</p>}
    </section>
  );
}
