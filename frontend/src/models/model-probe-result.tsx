import type { ModelProbe } from "../api/models";

function ms(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : `${Math.round(value)} ms`;
}

/** The outcome of "Test": latency, time to first token, tokens and the answer (or the error). */
export function ModelProbeResult({ probe }: { readonly probe: ModelProbe }) {
  if (!probe.ok) {
    return (
      <p role="status" className="model-probe model-probe--error">
        Failed: {probe.error}
      </p>
    );
  }
  return (
    <div role="status" className="model-probe">
      <span className="badge">ok</span> {probe.answered_by ?? probe.model} · latency{" "}
      {ms(probe.latency_ms)}
      {probe.kind === "chat" && (
        <>
          {" "}
          · first token {ms(probe.ttft_ms)} · {probe.prompt_tokens} prompt +{" "}
          {probe.completion_tokens} completion tokens
          {probe.tokens_per_s ? ` · ${probe.tokens_per_s.toFixed(1)} tokens/s` : ""}
        </>
      )}
      <q className="model-probe__output">{probe.output}</q>
    </div>
  );
}
