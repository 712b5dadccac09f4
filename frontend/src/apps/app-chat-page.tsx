import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useState } from "react";
import { redirectToLogin } from "../auth/redirect";
import { ChatView } from "../chat/chat-view";
import { BrandMark } from "../components/brand-mark";
import { usePathname } from "../routes/router";
import { adoptShareToken, dropToken } from "./app-auth";
import { ChatApiError, ChatClient } from "./chat-client";
import { ConversationSidebar } from "./conversation-sidebar";
import type { AppInfo, Conversation } from "./types";
import { chatKeys, useChatSession } from "./use-chat-session";
import "./apps.css";

/** The slug of an app page path (`/apps/<slug>`). */
export const appSlug = (pathname: string) =>
  decodeURIComponent(pathname.replace(/^\/apps\//, "").split("/")[0] ?? "");

const CONVERSATION_PARAM = "c";

function selectedFromUrl(): string | null {
  return new URLSearchParams(window.location.search).get(CONVERSATION_PARAM);
}

/** Keeps the open conversation in the address (`?c=`), so a reload comes back to it. */
function rememberSelected(conversationId: string | null): void {
  const url = new URL(window.location.href);
  if (conversationId) url.searchParams.set(CONVERSATION_PARAM, conversationId);
  else url.searchParams.delete(CONVERSATION_PARAM);
  window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
}

const isStatus = (error: unknown, status: number) =>
  error instanceof ChatApiError && error.status === status;

function Notice({ title, children }: { readonly title: string; readonly children: string }) {
  return (
    <main className="app-page app-page--notice">
      <div role="alert" className="card app-notice" data-testid="app-notice">
        <h1 className="page-header__title">{title}</h1>
        <p>{children}</p>
      </div>
    </main>
  );
}

/** The page's answer to a 401: a share link that stopped working, or the login page. */
function useUnauthorized(slug: string, token: string | null) {
  const [revoked, setRevoked] = useState(false);
  const onUnauthorized = useCallback(() => {
    if (token) {
      dropToken(slug);
      setRevoked(true);
    } else {
      redirectToLogin();
    }
  }, [slug, token]);
  return { revoked, onUnauthorized };
}

/**
 * A published chat app (`/apps/<slug>`), outside the app shell: with a share link's token anyone
 * may chat; without one, a signed-in user. `?embed=1` (the widget's iframe) drops the sidebar.
 */
export function AppChatPage() {
  const slug = appSlug(usePathname());
  const embed = new URLSearchParams(window.location.search).get("embed") === "1";
  const [token] = useState(() => adoptShareToken(slug));
  const chat = useMemo(() => new ChatClient(slug, token), [slug, token]);
  const { revoked, onUnauthorized } = useUnauthorized(slug, token);
  const info = useQuery({
    queryKey: chatKeys.info(slug),
    queryFn: ({ signal }) => chat.info(signal),
    retry: false,
    staleTime: Number.POSITIVE_INFINITY,
  });
  const unauthorized = isStatus(info.error, 401);
  useEffect(() => {
    if (unauthorized) onUnauthorized();
  }, [unauthorized, onUnauthorized]);

  if (revoked || (unauthorized && token)) {
    return (
      <Notice title="This link was revoked or is no longer valid">
        Ask whoever shared it for a new link.
      </Notice>
    );
  }
  if (info.isPending || unauthorized) {
    return <main className="app-page app-page--notice" aria-busy="true" />;
  }
  if (info.error) {
    return isStatus(info.error, 404) ? (
      <Notice title="This app is not available">
        It does not exist, or its owner turned it off.
      </Notice>
    ) : (
      <Notice title="The app could not be opened">{info.error.message}</Notice>
    );
  }
  return <AppChat chat={chat} info={info.data} embed={embed} onUnauthorized={onUnauthorized} />;
}

interface AppChatProps {
  readonly chat: ChatClient;
  readonly info: AppInfo;
  readonly embed: boolean;
  readonly onUnauthorized: () => void;
}

function useConversations(chat: ChatClient, onUnauthorized: () => void) {
  const queryClient = useQueryClient();
  const key = chatKeys.conversations(chat.slug);
  const list = useQuery({
    queryKey: key,
    queryFn: ({ signal }) => chat.conversations(signal),
    retry: false,
  });
  const unauthorized = isStatus(list.error, 401);
  useEffect(() => {
    if (unauthorized) onUnauthorized();
  }, [unauthorized, onUnauthorized]);
  const onError = (error: Error) => {
    if (isStatus(error, 401)) onUnauthorized();
  };
  const rename = useMutation({
    mutationFn: ({ id, title }: { id: string; title: string }) =>
      chat.renameConversation(id, title),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: key }),
    onError,
  });
  const remove = useMutation({
    mutationFn: (id: string) => chat.deleteConversation(id),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: key }),
    onError,
  });
  const added = (conversation: Conversation) =>
    queryClient.setQueryData<Conversation[]>(key, (old) => [conversation, ...(old ?? [])]);
  return { list, rename, remove, added };
}

function AppChat({ chat, info, embed, onUnauthorized }: AppChatProps) {
  const [selected, setSelected] = useState<string | null>(selectedFromUrl);
  const conversations = useConversations(chat, onUnauthorized);
  const select = useCallback((conversationId: string | null) => {
    setSelected(conversationId);
    rememberSelected(conversationId);
  }, []);
  const session = useChatSession(chat, selected, {
    onUnauthorized,
    onConversationCreated: (conversation) => {
      conversations.added(conversation);
      select(conversation.id);
    },
  });
  const [sendError, setSendError] = useState<string | null>(null);
  // A conversation that is gone (deleted elsewhere, another visitor's id in the URL) is let go.
  const missing = isStatus(session.error, 404);
  useEffect(() => {
    if (missing) select(null);
  }, [missing, select]);

  const mutationError = conversations.rename.error ?? conversations.remove.error;
  return (
    <div className={embed ? "app-page app-page--embed" : "app-page"} data-testid="app-page">
      <header className="app-page__header">
        {embed ? null : <BrandMark />}
        <div className="app-page__titles">
          <h1 className="app-page__title">{info.title}</h1>
          {info.description ? <p className="app-page__description">{info.description}</p> : null}
        </div>
        {embed ? (
          <button type="button" className="button button--ghost" onClick={() => select(null)}>
            New chat
          </button>
        ) : null}
      </header>
      <div className="app-page__body">
        {embed ? null : (
          <ConversationSidebar
            conversations={conversations.list.data ?? []}
            loading={conversations.list.isPending}
            selected={selected}
            onSelect={select}
            onNew={() => select(null)}
            onRename={(id, title) => conversations.rename.mutate({ id, title })}
            onDelete={(id) => {
              if (id === selected) select(null);
              conversations.remove.mutate(id);
            }}
          />
        )}
        <main className="app-page__chat">
          {sendError || mutationError ? (
            <p className="form-error" role="alert">
              {sendError ?? mutationError?.message}
            </p>
          ) : null}
          {session.loading ? <p className="muted">Loading the conversation…</p> : null}
          <ChatView
            messages={session.messages}
            busy={session.busy}
            suggestedQuestions={info.suggested_questions}
            placeholder={`Message ${info.title}…`}
            emptyTitle={info.title}
            emptyDescription={info.description || "Ask a question to start."}
            onSend={(text) => {
              setSendError(null);
              session.send(text).catch((error: unknown) => {
                setSendError(error instanceof Error ? error.message : String(error));
              });
            }}
            onStop={() => void session.stop().catch(() => undefined)}
            onRegenerate={() => void session.regenerate()}
            onFeedback={(messageId, rating) => void session.feedback(messageId, rating)}
          />
        </main>
      </div>
    </div>
  );
}

export default AppChatPage;
