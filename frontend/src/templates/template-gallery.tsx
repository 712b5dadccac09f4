import { type RefObject, useEffect, useRef, useState } from "react";
import { type TemplateListing, useTemplate, useTemplateList } from "../api/templates";
import { FlowPreview } from "./flow-preview";
import { TemplateDetail } from "./template-detail";
import "./template-gallery.css";

/** True once the element has been on screen (always true where IntersectionObserver is missing). */
function useSeen<T extends Element>(): [RefObject<T | null>, boolean] {
  const ref = useRef<T>(null);
  const [seen, setSeen] = useState(typeof IntersectionObserver === "undefined");
  useEffect(() => {
    const element = ref.current;
    if (seen || !element) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) setSeen(true);
      },
      { rootMargin: "200px" },
    );
    observer.observe(element);
    return () => observer.disconnect();
  }, [seen]);
  return [ref, seen];
}

/**
 * The flow of a gallery card, drawn small. The listing carries no documents, so a card loads its
 * template (the same query the detail panel uses, so opening it costs nothing more) once it is seen.
 */
function CardPreview({ name }: { readonly name: string }) {
  const [ref, seen] = useSeen<HTMLSpanElement>();
  const { data } = useTemplate(seen ? name : "");
  const document = data?.flows[0]?.document;
  return (
    <span className="template-card__preview" ref={ref}>
      {document ? <FlowPreview document={document} thumbnail /> : null}
    </span>
  );
}

function TemplateCard({
  item,
  selected,
  onSelect,
}: {
  readonly item: TemplateListing;
  readonly selected: boolean;
  readonly onSelect: () => void;
}) {
  return (
    <button
      type="button"
      className="template-card"
      onClick={onSelect}
      aria-pressed={selected}
      data-testid={`template-card-${item.name}`}
    >
      <span className="template-card__text">
        <strong>{item.title}</strong> <span>{item.version}</span>
        <small>{item.summary}</small>
      </span>
      <CardPreview name={item.name} />
    </button>
  );
}

/** Search, tag filter, cards; the selected card opens its preview and import form. */
export function TemplateGallery() {
  const [q, setQ] = useState("");
  const [tag, setTag] = useState("");
  const [selected, setSelected] = useState("");
  const { data, error } = useTemplateList(q, tag);
  return (
    <div className="template-gallery">
      <input
        type="search"
        aria-label="Search templates"
        placeholder="Search templates"
        value={q}
        onChange={(event) => setQ(event.target.value)}
      />
      <fieldset className="template-gallery__tags" aria-label="Tags">
        {(data?.tags ?? []).map((t) => (
          <button
            key={t}
            type="button"
            aria-pressed={tag === t}
            onClick={() => setTag(tag === t ? "" : t)}
          >
            {t}
          </button>
        ))}
      </fieldset>
      {error && <p role="alert">{error.message}</p>}
      <ul className="template-gallery__list" aria-label="Templates">
        {(data?.items ?? []).map((item) => (
          <li key={item.name}>
            <TemplateCard
              item={item}
              selected={selected === item.name}
              onSelect={() => setSelected(item.name)}
            />
          </li>
        ))}
      </ul>
      {selected && <TemplateDetail key={selected} name={selected} />}
    </div>
  );
}
