import { type DragEvent, useMemo, useState } from "react";
import { indexCatalog, type OperatorRead, useOperators } from "../api/operators";
import { portColor } from "../canvas/port-colors";
import { NamedIcon, resolveIcon } from "../components/operator-icon";

/** The drag payload type: the operator id travels in the drag data. */
export const OPERATOR_MIME = "application/x-rivulet-operator";

function matches(operator: OperatorRead, query: string): boolean {
  if (!query) return true;
  const haystack = [operator.id, operator.title, operator.description, ...operator.tags]
    .join(" ")
    .toLowerCase();
  return query
    .toLowerCase()
    .split(/\s+/)
    .every((word) => haystack.includes(word));
}

function PaletteItem({
  operator,
  categoryIcon,
  onAdd,
}: {
  readonly operator: OperatorRead;
  readonly categoryIcon: string;
  readonly onAdd: (operator: OperatorRead) => void;
}) {
  const onDragStart = (event: DragEvent<HTMLButtonElement>) => {
    event.dataTransfer.setData(OPERATOR_MIME, operator.id);
    event.dataTransfer.setData("text/plain", operator.id);
    event.dataTransfer.effectAllowed = "copy";
  };
  const ports = [...operator.inputs, ...operator.outputs];
  return (
    <button
      type="button"
      className="palette-item"
      draggable
      onDragStart={onDragStart}
      onDoubleClick={() => onAdd(operator)}
      onKeyDown={(event) => {
        if (event.key === "Enter") onAdd(operator);
      }}
      title={`${operator.description}\n\nDrag onto the canvas, or double-click (Enter) to add.`}
      data-testid={`palette-item-${operator.id}`}
    >
      <span className="palette-item__title">
        <span className="palette-item__icon" data-testid="palette-item-icon">
          <NamedIcon name={resolveIcon(operator.icon, operator.category, categoryIcon)} size={14} />
        </span>
        {operator.title}
      </span>
      <span className="palette-item__ports" aria-hidden="true">
        {ports.slice(0, 6).map((port, index) => (
          <span
            // biome-ignore lint/suspicious/noArrayIndexKey: ports of one operator are stable.
            key={index}
            className="palette-item__dot"
            style={{ background: portColor(port.type) }}
          />
        ))}
      </span>
      <span className="palette-item__description">{operator.description}</span>
    </button>
  );
}

/** The operator palette: the catalog grouped by category, searchable, items drag onto the canvas. */
export function Palette({ onAdd }: { readonly onAdd: (operator: OperatorRead) => void }) {
  const { data: catalog, isPending, error } = useOperators();
  const [query, setQuery] = useState("");
  const groups = useMemo(() => {
    const operators = [...indexCatalog(catalog).values()].filter((op) => matches(op, query));
    return (catalog?.categories ?? [])
      .map((category) => ({
        category,
        operators: operators
          .filter((op) => op.category === category.id)
          .sort((a, b) => a.title.localeCompare(b.title)),
      }))
      .filter((group) => group.operators.length > 0);
  }, [catalog, query]);
  return (
    <aside className="palette" data-testid="palette" aria-label="Operators">
      <input
        type="search"
        className="palette__search"
        placeholder="Search operators…"
        value={query}
        onChange={(event) => setQuery(event.target.value)}
        data-testid="palette-search"
        aria-label="Search operators"
      />
      <div className="palette__groups">
        {isPending ? <p className="muted">Loading operators…</p> : null}
        {error ? <p className="field__error">{error.message}</p> : null}
        {!isPending && !groups.length ? <p className="muted">No operator matches.</p> : null}
        {groups.map(({ category, operators }) => (
          <section key={category.id} className="palette__group">
            <h3 className="palette__heading" title={category.description}>
              <span className="palette__heading-title">
                <NamedIcon name={resolveIcon(null, category.id, category.icon)} size={13} />
                {category.title}
              </span>
              <span className="palette__count">{operators.length}</span>
            </h3>
            {operators.map((operator) => (
              <PaletteItem
                key={operator.id}
                operator={operator}
                categoryIcon={resolveIcon(null, category.id, category.icon)}
                onAdd={onAdd}
              />
            ))}
          </section>
        ))}
      </div>
    </aside>
  );
}
