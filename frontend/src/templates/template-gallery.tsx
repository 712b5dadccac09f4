import { useState } from "react";
import { useTemplateList } from "../api/templates";
import { TemplateDetail } from "./template-detail";
import "./template-gallery.css";

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
            <button
              type="button"
              onClick={() => setSelected(item.name)}
              aria-pressed={selected === item.name}
            >
              <strong>{item.title}</strong> <span>{item.version}</span>
              <small>{item.summary}</small>
            </button>
          </li>
        ))}
      </ul>
      {selected && <TemplateDetail key={selected} name={selected} />}
    </div>
  );
}
