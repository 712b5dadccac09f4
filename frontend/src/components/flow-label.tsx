/** A flow as lists show it: its name, told apart from same-named flows by a short id. */
export interface FlowRef {
  readonly id: string;
  /** The flow's current name (`null`: the flow was deleted). */
  readonly name?: string | null;
  /** When the flow was last saved (ISO 8601). */
  readonly updatedAt?: string | null;
}

/** The first characters of a flow id: enough to tell a few same-named flows apart. */
export function shortId(id: string): string {
  return id.replace(/-/g, "").slice(0, 6);
}

/** Names that more than one flow of `flows` carries (case-insensitive). */
export function sharedNames(flows: readonly FlowRef[]): ReadonlySet<string> {
  const ids = new Map<string, Set<string>>();
  for (const flow of flows) {
    if (!flow.name) continue;
    const key = flow.name.toLowerCase();
    ids.set(key, (ids.get(key) ?? new Set()).add(flow.id));
  }
  return new Set([...ids].filter(([, found]) => found.size > 1).map(([key]) => key));
}

/** `Summariser · 3f2a1b`: the name, with the short id when `shared` or the flow is gone; id and date on hover. */
export function FlowLabel({
  flow,
  shared = false,
}: {
  readonly flow: FlowRef;
  readonly shared?: ReadonlySet<string> | boolean;
}) {
  const repeated =
    typeof shared === "boolean" ? shared : shared.has((flow.name ?? "").toLowerCase());
  const updated = flow.updatedAt ? ` · updated ${new Date(flow.updatedAt).toLocaleString()}` : "";
  return (
    <span
      className="flow-label"
      data-testid="flow-label"
      data-flow-id={flow.id}
      title={`${flow.name ?? "Deleted flow"} — flow ${flow.id}${updated}`}
    >
      <span className="flow-label__name">{flow.name ?? "Deleted flow"}</span>
      {repeated || !flow.name ? (
        <span className="flow-label__id" data-testid="flow-label-id">
          {" · "}
          {shortId(flow.id)}
        </span>
      ) : null}
    </span>
  );
}
