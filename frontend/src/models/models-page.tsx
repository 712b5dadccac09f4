import { useState } from "react";
import {
  type ModelConfig,
  type ModelProbe,
  useDeleteModel,
  useModels,
  useSaveModel,
  useSetDefaultModel,
  useTestModel,
} from "../api/models";
import { PageHeader } from "../components/page-header";
import { ModelForm, type ModelFormValues } from "./model-form";
import { ModelProbeResult } from "./model-probe-result";
import "./models.css";

type Editing = { readonly mode: "new" } | { readonly mode: "edit"; readonly model: ModelConfig };

function ModelRow({
  model,
  probe,
  testing,
  onTest,
  onEdit,
}: {
  readonly model: ModelConfig;
  readonly probe: ModelProbe | undefined;
  readonly testing: boolean;
  readonly onTest: () => void;
  readonly onEdit: () => void;
}) {
  const setDefault = useSetDefaultModel();
  const remove = useDeleteModel();
  return (
    <>
      <tr data-model={model.name}>
        <th scope="row">
          {model.name}
          {model.is_default && <span className="badge model-table__default">default</span>}
        </th>
        <td>{model.kind}</td>
        <td>{model.provider}</td>
        <td className="model-table__description">
          {model.description || (model.builtin ? "built in" : "")}
        </td>
        <td className="model-table__actions">
          <button type="button" className="button" onClick={onTest} disabled={testing}>
            {testing ? "Testing…" : "Test"}
          </button>
          {!model.is_default && (
            <button
              type="button"
              className="button button--ghost"
              onClick={() => setDefault.mutate(model.name)}
            >
              Set default
            </button>
          )}
          <button type="button" className="button button--ghost" onClick={onEdit}>
            Edit
          </button>
          {!model.builtin && (
            <button
              type="button"
              className="button button--ghost"
              onClick={() => remove.mutate(model.name)}
            >
              Delete
            </button>
          )}
        </td>
      </tr>
      {probe && (
        <tr className="model-table__probe">
          <td colSpan={5}>
            <ModelProbeResult probe={probe} />
          </td>
        </tr>
      )}
    </>
  );
}

/** Configured models: list, add/edit, set default, and test each with one real call. */
export function ModelsPage() {
  const { data: models, error, isPending } = useModels();
  const save = useSaveModel();
  const test = useTestModel();
  const [editing, setEditing] = useState<Editing | null>(null);
  const [probes, setProbes] = useState<Record<string, ModelProbe>>({});
  const [testing, setTesting] = useState<string | null>(null);

  const runTest = (name: string) => {
    setTesting(name);
    test.mutate(name, {
      onSuccess: (probe) => setProbes((current) => ({ ...current, [name]: probe })),
      onSettled: () => setTesting(null),
    });
  };
  const submit = ({ name, body }: ModelFormValues) =>
    save.mutate({ name, body }, { onSuccess: () => setEditing(null) });

  return (
    <div className="page">
      <PageHeader
        title="Models"
        description="Chat and embedding models that flows use by name. The built-in ones run locally, offline."
      />
      <div className="models-toolbar">
        <button
          type="button"
          className="button button--primary"
          onClick={() => {
            save.reset();
            setEditing({ mode: "new" });
          }}
        >
          Add model
        </button>
      </div>
      {editing && (
        <ModelForm
          key={editing.mode === "edit" ? editing.model.name : "new"}
          initial={editing.mode === "edit" ? editing.model : undefined}
          busy={save.isPending}
          error={save.error?.message ?? null}
          onSubmit={submit}
          onCancel={() => setEditing(null)}
        />
      )}
      {error && <p role="alert">{error.message}</p>}
      {isPending && <p>Loading models…</p>}
      {models && (
        <table className="model-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Kind</th>
              <th scope="col">Provider</th>
              <th scope="col">Description</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {models.map((model) => (
              <ModelRow
                key={model.name}
                model={model}
                probe={probes[model.name]}
                testing={testing === model.name}
                onTest={() => runTest(model.name)}
                onEdit={() => {
                  save.reset();
                  setEditing({ mode: "edit", model });
                }}
              />
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
