import { ThumbsDown, ThumbsUp } from "lucide-react";
import {
  type FormEvent,
  type KeyboardEvent,
  useCallback,
  useEffect,
  useLayoutEffect,
  useRef,
  useState,
} from "react";
import { ChartView, TableView } from "../editor/output-view";
import { Link } from "../routes/router";
import { CitationScope } from "../runs/citation-scope";
import { CitationsView } from "../runs/citations-view";
import { CopyButton } from "./copy-button";
import { Markdown } from "./markdown";
import type { ChatMessageView, ChatViewProps } from "./types";
import "./chat.css";

/** How close to the bottom (px) still counts as "following" the newest message. */
const STICK_DISTANCE = 48;

function Extras({ message }: { readonly message: ChatMessageView }) {
  const extras = message.extras;
  if (!extras) return null;
  return (
    <>
      {extras.tables?.map((table, index) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: extras are positional and never reordered.
        <div key={`t${index}`} className="chat-extra">
          <TableView table={table} />
        </div>
      ))}
      {extras.charts?.map((chart, index) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: extras are positional and never reordered.
        <figure key={`c${index}`} className="chat-extra chat-extra--chart">
          <ChartView chart={{ ...chart, option: chart.option ?? {} }} />
        </figure>
      ))}
      {extras.citations?.length ? (
        <details className="chat-extra chat-citations">
          <summary>
            {extras.citations.length} {extras.citations.length === 1 ? "source" : "sources"}
          </summary>
          <CitationsView list={{ chunks: extras.citations, truncated: false }} />
        </details>
      ) : null}
      {extras.error ? (
        <div className="chat-error" role="alert">
          {extras.error.node_id ? <code>{extras.error.node_id}</code> : null} {extras.error.message}
        </div>
      ) : null}
    </>
  );
}

function Feedback({
  message,
  onFeedback,
}: {
  readonly message: ChatMessageView;
  readonly onFeedback: NonNullable<ChatViewProps["onFeedback"]>;
}) {
  const rate = (rating: "up" | "down") =>
    onFeedback(message.id, message.feedback === rating ? null : rating);
  return (
    <>
      <button
        type="button"
        className={`chat-icon-button${message.feedback === "up" ? " chat-icon-button--on" : ""}`}
        aria-label="Good answer"
        aria-pressed={message.feedback === "up"}
        title="Good answer"
        data-testid="chat-feedback-up"
        onClick={() => rate("up")}
      >
        <ThumbsUp size={14} aria-hidden="true" />
      </button>
      <button
        type="button"
        className={`chat-icon-button${message.feedback === "down" ? " chat-icon-button--on" : ""}`}
        aria-label="Bad answer"
        aria-pressed={message.feedback === "down"}
        title="Bad answer"
        data-testid="chat-feedback-down"
        onClick={() => rate("down")}
      >
        <ThumbsDown size={14} aria-hidden="true" />
      </button>
    </>
  );
}

const STATUS_NOTE: Partial<Record<ChatMessageView["status"], string>> = {
  cancelled: "Stopped",
  failed: "Failed",
};

function MessageItem({
  message,
  last,
  busy,
  props,
}: {
  readonly message: ChatMessageView;
  readonly last: boolean;
  readonly busy: boolean;
  readonly props: ChatViewProps;
}) {
  const assistant = message.role === "assistant";
  const running = message.status === "running";
  const trace = assistant && message.runId ? (props.traceHref?.(message.runId) ?? null) : null;
  const citations = message.extras?.citations ?? [];
  return (
    <li
      className={`chat-message chat-message--${message.role} chat-message--${message.status}`}
      data-testid="chat-message"
      data-role={message.role}
      data-status={message.status}
      data-message-id={message.id}
      aria-busy={running}
    >
      <div className="chat-message__bubble">
        <span className="chat-sr-only">{assistant ? "Assistant:" : "You:"}</span>
        {assistant ? (
          <CitationScope values={[citations]}>
            {message.content ? (
              <Markdown text={message.content} citations={citations} />
            ) : running ? (
              <span className="chat-typing" role="status" aria-label="Answering">
                <span />
                <span />
                <span />
              </span>
            ) : null}
            <Extras message={message} />
          </CitationScope>
        ) : (
          <div className="chat-message__text">{message.content}</div>
        )}
      </div>
      {running ? null : (
        <div className="chat-message__actions">
          {STATUS_NOTE[message.status] ? (
            <span className="chat-message__note">{STATUS_NOTE[message.status]}</span>
          ) : null}
          {message.content ? (
            <CopyButton text={message.content} label="Copy message" testId="chat-copy" />
          ) : null}
          {assistant && props.onFeedback && message.status === "complete" ? (
            <Feedback message={message} onFeedback={props.onFeedback} />
          ) : null}
          {assistant && last && !busy && props.onRegenerate ? (
            <button
              type="button"
              className="chat-icon-button"
              aria-label="Regenerate the answer"
              title="Regenerate the answer"
              data-testid="chat-regenerate"
              onClick={() => props.onRegenerate?.()}
            >
              Regenerate
            </button>
          ) : null}
          {trace ? (
            <Link to={trace} className="chat-trace-link" data-testid="chat-trace-link">
              Open trace
            </Link>
          ) : null}
          {assistant && message.extras?.duration_ms !== undefined ? (
            <span className="chat-message__note">
              {(message.extras.duration_ms / 1000).toFixed(1)} s
            </span>
          ) : null}
        </div>
      )}
    </li>
  );
}

function Composer({
  busy,
  placeholder,
  onSend,
  onStop,
}: {
  readonly busy: boolean;
  readonly placeholder: string;
  readonly onSend: (text: string) => void;
  readonly onStop?: () => void;
}) {
  const [text, setText] = useState("");
  const send = () => {
    const value = text.trim();
    if (!value || busy) return;
    onSend(value);
    setText("");
  };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    send();
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key !== "Enter" || event.shiftKey || event.nativeEvent.isComposing) return;
    event.preventDefault();
    send();
  };
  return (
    <form className="chat-composer" onSubmit={onSubmit}>
      <textarea
        className="chat-composer__input"
        value={text}
        rows={Math.min(6, Math.max(1, text.split("\n").length))}
        placeholder={placeholder}
        aria-label="Message"
        data-testid="chat-input"
        onChange={(event) => setText(event.target.value)}
        onKeyDown={onKeyDown}
      />
      {busy && onStop ? (
        <button
          type="button"
          className="button button--danger"
          onClick={onStop}
          data-testid="chat-stop"
        >
          Stop
        </button>
      ) : (
        <button
          type="submit"
          className="button button--primary"
          disabled={busy || !text.trim()}
          data-testid="chat-send"
        >
          Send
        </button>
      )}
    </form>
  );
}

/** Follows the newest message while the user is at the bottom; leaves them alone when they scrolled up. */
function useStickToBottom(signature: string) {
  const list = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const onScroll = useCallback(() => {
    const element = list.current;
    if (!element) return;
    stick.current =
      element.scrollHeight - element.scrollTop - element.clientHeight <= STICK_DISTANCE;
  }, []);
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs whenever the messages change.
  useLayoutEffect(() => {
    const element = list.current;
    if (element && stick.current) element.scrollTop = element.scrollHeight;
  }, [signature]);
  return { list, onScroll, stick };
}

/** The chat: messages (markdown, tables, charts, citations), actions per message and the composer. */
export function ChatView(props: ChatViewProps) {
  const { messages, busy, suggestedQuestions = [], onSend } = props;
  const last = messages.at(-1);
  const signature = `${messages.length}:${last?.id}:${last?.content.length}:${last?.status}`;
  const { list, onScroll, stick } = useStickToBottom(signature);
  const lastAssistant = [...messages].reverse().find((message) => message.role === "assistant");
  // A message the user sends brings the view back to the bottom.
  const send = (text: string) => {
    stick.current = true;
    onSend(text);
  };
  useEffect(() => {
    if (!messages.length) stick.current = true;
  }, [messages.length, stick]);
  return (
    <section className="chat-view" data-testid="chat-view" aria-label="Chat">
      <div className="chat-view__scroll" ref={list} onScroll={onScroll}>
        {messages.length ? (
          <ol className="chat-view__messages" aria-live="polite" aria-relevant="additions">
            {messages.map((message) => (
              <MessageItem
                key={message.id}
                message={message}
                last={message === lastAssistant && message === last}
                busy={busy}
                props={props}
              />
            ))}
          </ol>
        ) : (
          <div className="chat-view__empty">
            <h2 className="chat-view__empty-title">{props.emptyTitle ?? "Start a conversation"}</h2>
            {props.emptyDescription ? <p className="muted">{props.emptyDescription}</p> : null}
            {suggestedQuestions.length ? (
              <ul className="chat-suggestions" aria-label="Suggested questions">
                {suggestedQuestions.map((question) => (
                  <li key={question}>
                    <button
                      type="button"
                      className="chat-suggestion"
                      data-testid="chat-suggestion"
                      disabled={busy}
                      onClick={() => send(question)}
                    >
                      {question}
                    </button>
                  </li>
                ))}
              </ul>
            ) : null}
          </div>
        )}
      </div>
      <Composer
        busy={busy}
        placeholder={props.placeholder ?? "Ask something…"}
        onSend={send}
        onStop={props.onStop}
      />
    </section>
  );
}
