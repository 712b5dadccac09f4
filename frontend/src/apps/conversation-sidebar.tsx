import { type FormEvent, useState } from "react";
import type { Conversation } from "./types";

interface ConversationSidebarProps {
  readonly conversations: readonly Conversation[];
  readonly selected: string | null;
  readonly loading: boolean;
  readonly onSelect: (conversationId: string) => void;
  readonly onNew: () => void;
  readonly onRename: (conversationId: string, title: string) => void;
  readonly onDelete: (conversationId: string) => void;
}

const titleOf = (conversation: Conversation) => conversation.title || "New conversation";

function RenameForm({
  conversation,
  onSave,
  onCancel,
}: {
  readonly conversation: Conversation;
  readonly onSave: (title: string) => void;
  readonly onCancel: () => void;
}) {
  const [title, setTitle] = useState(titleOf(conversation));
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const trimmed = title.trim();
    if (trimmed && trimmed !== conversation.title) onSave(trimmed);
    else onCancel();
  };
  return (
    <form className="app-sidebar__rename" onSubmit={submit}>
      <input
        className="field__input"
        aria-label="Conversation title"
        value={title}
        maxLength={200}
        // biome-ignore lint/a11y/noAutofocus: the user just asked to rename this item
        autoFocus
        onChange={(event) => setTitle(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === "Escape") onCancel();
        }}
      />
      <button type="submit" className="button button--small">
        Save
      </button>
    </form>
  );
}

function ConversationItem({
  conversation,
  active,
  onSelect,
  onRename,
  onDelete,
}: {
  readonly conversation: Conversation;
  readonly active: boolean;
  readonly onSelect: () => void;
  readonly onRename: (title: string) => void;
  readonly onDelete: () => void;
}) {
  const [mode, setMode] = useState<"view" | "rename" | "confirm">("view");
  const title = titleOf(conversation);
  if (mode === "rename") {
    return (
      <li className="app-sidebar__item app-sidebar__item--editing">
        <RenameForm
          conversation={conversation}
          onSave={(value) => {
            onRename(value);
            setMode("view");
          }}
          onCancel={() => setMode("view")}
        />
      </li>
    );
  }
  return (
    <li
      className={active ? "app-sidebar__item app-sidebar__item--active" : "app-sidebar__item"}
      data-testid="conversation-item"
    >
      <button
        type="button"
        className="app-sidebar__open"
        aria-current={active ? "true" : undefined}
        onClick={onSelect}
        title={title}
      >
        {title}
      </button>
      {mode === "confirm" ? (
        <fieldset className="app-sidebar__confirm" aria-label={`Delete “${title}”?`}>
          <button type="button" className="button button--small button--danger" onClick={onDelete}>
            Delete
          </button>
          <button type="button" className="button button--small" onClick={() => setMode("view")}>
            Keep
          </button>
        </fieldset>
      ) : (
        <span className="app-sidebar__actions">
          <button
            type="button"
            className="icon-button"
            aria-label={`Rename “${title}”`}
            title="Rename"
            onClick={() => setMode("rename")}
          >
            ✎
          </button>
          <button
            type="button"
            className="icon-button"
            aria-label={`Delete “${title}”`}
            title="Delete"
            onClick={() => setMode("confirm")}
          >
            ×
          </button>
        </span>
      )}
    </li>
  );
}

/** The caller's conversations with this app, newest first: open, start, rename, delete. */
export function ConversationSidebar(props: ConversationSidebarProps) {
  const sorted = [...props.conversations].sort((a, b) => b.updated_at.localeCompare(a.updated_at));
  return (
    <nav className="app-sidebar" aria-label="Conversations">
      <button
        type="button"
        className="button button--primary app-sidebar__new"
        onClick={props.onNew}
        data-testid="new-conversation"
      >
        + New chat
      </button>
      {props.loading ? <p className="muted">Loading…</p> : null}
      {!props.loading && sorted.length === 0 ? (
        <p className="muted app-sidebar__empty">No conversations yet.</p>
      ) : null}
      <ul className="app-sidebar__list">
        {sorted.map((conversation) => (
          <ConversationItem
            key={conversation.id}
            conversation={conversation}
            active={conversation.id === props.selected}
            onSelect={() => props.onSelect(conversation.id)}
            onRename={(title) => props.onRename(conversation.id, title)}
            onDelete={() => props.onDelete(conversation.id)}
          />
        ))}
      </ul>
    </nav>
  );
}
