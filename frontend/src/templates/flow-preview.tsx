import type { Schemas } from "../api/client";

type FlowDocument = Schemas["FlowDocument"];

const NODE_W = 150;
const NODE_H = 40;

/** A read-only SVG of a flow: boxes at the saved positions, lines for edges. */
export function FlowPreview({ document }: { readonly document: FlowDocument }) {
  const nodes = document.nodes ?? [];
  const xs = nodes.map((n) => n.position?.x ?? 0);
  const ys = nodes.map((n) => n.position?.y ?? 0);
  const minX = Math.min(0, ...xs) - 10;
  const minY = Math.min(0, ...ys) - 10;
  const width = Math.max(...xs, 0) - minX + NODE_W + 20;
  const height = Math.max(...ys, 0) - minY + NODE_H + 20;
  const at = new Map(nodes.map((n) => [n.id, n.position ?? { x: 0, y: 0 }]));
  return (
    <svg
      className="flow-preview"
      role="img"
      aria-label={`Preview of ${document.name}`}
      viewBox={`${minX} ${minY} ${width} ${height}`}
      width="100%"
      height="220"
    >
      {(document.edges ?? []).map((e) => {
        const s = at.get(e.source);
        const t = at.get(e.target);
        if (!s || !t) return null;
        return (
          <line
            key={e.id}
            x1={(s.x ?? 0) + NODE_W}
            y1={(s.y ?? 0) + NODE_H / 2}
            x2={t.x ?? 0}
            y2={(t.y ?? 0) + NODE_H / 2}
            stroke="currentColor"
            strokeOpacity={0.5}
          />
        );
      })}
      {nodes.map((n) => (
        <g key={n.id} data-node-id={n.id}>
          <rect
            x={n.position?.x ?? 0}
            y={n.position?.y ?? 0}
            width={NODE_W}
            height={NODE_H}
            rx={6}
            fill="none"
            stroke="currentColor"
          />
          <text
            x={(n.position?.x ?? 0) + 8}
            y={(n.position?.y ?? 0) + 25}
            fontSize={13}
            fill="currentColor"
          >
            {n.label ?? n.operator}
          </text>
        </g>
      ))}
    </svg>
  );
}
