import type { Schemas } from "../api/client";

type FlowDocument = Schemas["FlowDocument"];

const NODE_W = 150;
const NODE_H = 40;

/** Box fills of the thumbnail, by operator category (the part of the id before the dot). */
const CATEGORY_FILL: Readonly<Record<string, string>> = {
  core: "#94a3b8",
  llm: "#8b5cf6",
  rag: "#0ea5e9",
  sql: "#f59e0b",
  chart: "#10b981",
  agent: "#ec4899",
  trigger: "#ef4444",
  io: "#64748b",
};

/**
 * A read-only SVG of a flow: boxes at the saved positions, lines for edges. `thumbnail`: the small
 * decorative version on a gallery card (boxes coloured by category, no labels, hidden from
 * assistive technology: the card's text names the template).
 */
export function FlowPreview({
  document,
  thumbnail = false,
}: {
  readonly document: FlowDocument;
  readonly thumbnail?: boolean;
}) {
  // A thumbnail's boxes have about the size of real nodes, so its layout looks like the canvas.
  const w = thumbnail ? 240 : NODE_W;
  const h = thumbnail ? 110 : NODE_H;
  const nodes = document.nodes ?? [];
  const xs = nodes.map((n) => n.position?.x ?? 0);
  const ys = nodes.map((n) => n.position?.y ?? 0);
  const minX = Math.min(0, ...xs) - 10;
  const minY = Math.min(0, ...ys) - 10;
  const width = Math.max(...xs, 0) - minX + w + 20;
  const height = Math.max(...ys, 0) - minY + h + 20;
  const at = new Map(nodes.map((n) => [n.id, n.position ?? { x: 0, y: 0 }]));
  return (
    <svg
      className={thumbnail ? "flow-preview flow-preview--thumbnail" : "flow-preview"}
      role="img"
      aria-label={`Preview of ${document.name}`}
      aria-hidden={thumbnail || undefined}
      data-testid={thumbnail ? "flow-thumbnail" : undefined}
      viewBox={`${minX} ${minY} ${width} ${height}`}
      width="100%"
      height={thumbnail ? "100%" : "220"}
      preserveAspectRatio="xMidYMid meet"
    >
      {(document.edges ?? []).map((e) => {
        const s = at.get(e.source);
        const t = at.get(e.target);
        if (!s || !t) return null;
        return (
          <line
            key={e.id}
            x1={(s.x ?? 0) + w}
            y1={(s.y ?? 0) + h / 2}
            x2={t.x ?? 0}
            y2={(t.y ?? 0) + h / 2}
            stroke="currentColor"
            strokeOpacity={0.5}
            strokeWidth={thumbnail ? 6 : 1}
          />
        );
      })}
      {nodes.map((n) => (
        <g key={n.id} data-node-id={n.id}>
          <rect
            x={n.position?.x ?? 0}
            y={n.position?.y ?? 0}
            width={w}
            height={h}
            rx={thumbnail ? 12 : 6}
            fill={thumbnail ? (CATEGORY_FILL[n.operator.split(".")[0] ?? ""] ?? "#94a3b8") : "none"}
            stroke={thumbnail ? "none" : "currentColor"}
          />
          {thumbnail ? null : (
            <text
              x={(n.position?.x ?? 0) + 8}
              y={(n.position?.y ?? 0) + 25}
              fontSize={13}
              fill="currentColor"
            >
              {n.label ?? n.operator}
            </text>
          )}
        </g>
      ))}
    </svg>
  );
}
